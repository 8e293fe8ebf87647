"""chaostoolkit experiments as pytest items: ``*.experiment.json|yaml|yml`` files under ``suites/``.

Each file is one item, a ``pytest.Function`` whose body runs the experiment with chaoslib, so it gets
the session's fixtures like any test: the cluster comes from ``azchaos_cluster`` (the embedded one, or
``--azchaos-kubeconfig``). Before the run, the experiment's ``configuration`` gets that cluster's
``kubeconfig_path`` and ``kubernetes_context``, a fresh ``azchaos_run_id``, the session's
``azchaos_allow_context``, ``azchaos_report_dir`` and load-balancer flavour (``azchaos_lb``, ``azchaos_lb_scheme``:
the run's ``--azchaos-lb``, as ``deploy_echo_app`` takes it); ``KUBECONFIG``/``KUBERNETES_CONTEXT`` are set in the
environment for the run too, so chaosk8s activities aim at the same cluster. The experiment's ``runtime``
(hypothesis and rollback strategies) is honoured as ``chaos run`` honours it.

A journal whose status is not ``completed``, that deviated, that has a failed activity, or whose
probes returned one of our checks that did not pass (``"passed": false``) fails the test; the journal
is written to ``<report dir>/journals/`` and attached to the report as a section.
Whatever the run left in its ledger is undone afterwards (the rollbacks should have done it already).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PATTERNS = (".experiment.json", ".experiment.yaml", ".experiment.yml")


def is_experiment(path: Path) -> bool:
    """Files collected as experiments: ``*.experiment.json|yaml|yml`` under a ``suites`` directory."""
    return path.name.endswith(PATTERNS) and "suites" in path.parts


class ExperimentFailed(AssertionError):
    """The experiment's journal says it failed or deviated."""


class ExperimentFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        yield ExperimentItem.from_parent(self, name=self.path.name, callobj=run_experiment_item)


class ExperimentItem(pytest.Function):
    """One experiment file; destructive (runs alone, only against allowed contexts, skipped on dry runs)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.add_marker(pytest.mark.azchaos_destructive)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"chaostoolkit experiment {self.path.name}"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ExperimentFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)  # type: ignore[call-arg]  # pytest's own signature has style


def run_experiment_item(request: pytest.FixtureRequest, azchaos_cluster: Any, azchaos_settings: Any,
                        azchaos_run: Any, azchaos_lb: Any) -> None:
    """The body of an experiment item: load, inject the cluster, run, judge the journal."""
    from chaoslib.experiment import run_experiment
    from chaoslib.loader import load_experiment

    from .context import finish, kubeconfig_env
    from .journal import write_journal

    item = request.node
    experiment = load_experiment(str(item.path))
    run_id = f"{azchaos_run.run_id}-x{abs(hash(item.nodeid)) % 10**5:05d}"
    conf = experiment.setdefault("configuration", {})
    conf.update({"kubeconfig_path": str(azchaos_cluster.kubeconfig), "azchaos_run_id": run_id,
                 "azchaos_allow_context": list(azchaos_settings.allow_contexts),
                 "azchaos_report_dir": str(azchaos_settings.report_dir),
                 "azchaos_profile": azchaos_settings.effective_profile(),
                 "azchaos_lb": azchaos_lb.flavour, "azchaos_lb_scheme": azchaos_lb.scheme})
    if azchaos_cluster.context:
        conf["kubernetes_context"] = azchaos_cluster.context
    strategy, settings = runtime_of(experiment)
    try:
        with kubeconfig_env(azchaos_cluster.kubeconfig, azchaos_cluster.context):
            journal = run_experiment(experiment, settings=settings, strategy=strategy)
    finally:
        leftovers = finish(run_id)
    path = write_journal(Path(azchaos_settings.report_dir), item.nodeid, journal)
    item.add_report_section("call", "chaostoolkit journal", path.read_text())
    item.add_report_section("call", "chaostoolkit journal file", str(path))
    if leftovers:
        item.add_report_section("call", "azchaos undo after the experiment", "\n".join(leftovers))
    problems = judge(journal)
    if problems:
        raise ExperimentFailed(f"experiment {experiment.get('title', item.path.name)!r} failed:\n  - "
                               + "\n  - ".join(problems) + f"\n(journal: {path})")


def runtime_of(experiment: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The hypothesis strategy and the settings an experiment's ``runtime`` asks for, as ``chaos run`` reads
    them (``runtime.hypothesis.strategy``, ``runtime.rollbacks.strategy``; both ``default`` when absent)."""
    from chaoslib.types import Strategy

    runtime = experiment.get("runtime") or {}
    strategy = Strategy.from_string((runtime.get("hypothesis") or {}).get("strategy") or "default")
    rollbacks = (runtime.get("rollbacks") or {}).get("strategy") or "default"
    return strategy, {"runtime": {"rollbacks": {"strategy": rollbacks}}}


def judge(journal: dict[str, Any]) -> list[str]:
    """Why the journal is a failure (empty: it passed)."""
    problems = []
    if journal.get("status") != "completed":
        problems.append(f"status {journal.get('status')!r} (expected 'completed')")
    if journal.get("deviated"):
        problems.append("deviated: the steady-state hypothesis did not hold after the method")
    for part in ("before", "after"):
        steady = (journal.get("steady_states") or {}).get(part) or {}
        for probe in steady.get("probes") or []:
            if not probe.get("tolerance_met", True):
                out = probe.get("output")
                detail = out.get("message") or out.get("summary") if isinstance(out, dict) else out
                problems.append(f"steady state {part}: probe {probe['activity'].get('name')!r} out of tolerance"
                                + (f": {detail}" if detail else ""))
    for section in ("run", "rollbacks"):
        for run in journal.get(section) or []:
            if run.get("status") == "failed":
                problems.append(f"{section}: {run['activity'].get('type')} {run['activity'].get('name')!r} failed: "
                                f"{str(run.get('exception', ['?'])[-1]).strip()}")
            out = run.get("output")
            if isinstance(out, dict) and "check_id" in out and out.get("passed") is False:
                problems.append(f"{section}: probe {run['activity'].get('name')!r}: {out.get('message')}")
    return problems
