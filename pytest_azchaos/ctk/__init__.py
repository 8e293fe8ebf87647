"""pytest-azchaos as a chaostoolkit extension, and chaostoolkit experiments as pytest items.

- ``actions``: ``drain_zone``, ``cordon_zone``, ``undo_faults``, ``kill_pods``, ``zone_outage``
  (``suspend_processes``: which Auto Scaling processes it suspends), ``zone_partition``, ``start_traffic``,
  ``stop_traffic`` (chaoslib's ``python`` provider, module ``pytest_azchaos.ctk.actions``);
- ``probes``: ``zero_downtime``, ``rescheduled`` (each returns the check as a dict) and the tolerance
  ``passed`` (module ``pytest_azchaos.ctk.probes``);
- ``context``: the cluster, settings and run an experiment's activities share (kubeconfig and context read
  from the experiment's ``configuration`` as chaosk8s does);
- ``items``: ``*.experiment.json|yaml`` under ``suites/`` collected as pytest items, run with chaoslib;
- ``journal``: a chaostoolkit-compatible journal of our own runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["discover"]


def discover(discover_system: bool = True) -> Any:
    """chaostoolkit's ``chaos discover pytest-azchaos``: the activities this extension offers."""
    from chaoslib.discovery.discover import discover_actions, discover_probes, initialize_discovery_result

    from .. import __version__

    discovery = initialize_discovery_result("pytest-azchaos", __version__, "kubernetes")
    discovery["activities"].extend(discover_actions("pytest_azchaos.ctk.actions"))
    discovery["activities"].extend(discover_probes("pytest_azchaos.ctk.probes"))
    return discovery
