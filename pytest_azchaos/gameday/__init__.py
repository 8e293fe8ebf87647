"""One fault, every observer: ``azchaos gameday`` and suites that share one fault (``Scenario``)."""

from .scenario import FAULTS, Scenario, ScenarioError, Skipped, Subject

__all__ = ["FAULTS", "Scenario", "ScenarioError", "Skipped", "Subject"]
