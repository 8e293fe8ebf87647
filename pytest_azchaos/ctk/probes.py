"""chaostoolkit probes: our checks, each returning the check as a dict
(``check_id``, ``passed``, ``summary``, ``evidence``, ``figures``).

Put them in the ``steady-state-hypothesis`` with ``passed`` as the tolerance, so a failed check deviates the
experiment under plain ``chaos run`` as under pytest (chaoslib judges tolerances only there, not in the method)::

    "tolerance": {"type": "probe", "name": "check-passed",
                  "provider": {"type": "python", "module": "pytest_azchaos.ctk.probes", "func": "passed",
                               "arguments": {}}}

(``arguments`` must be there: chaoslib puts the probe's output into it as ``value``.) The checks judge what
the method did, so such an experiment runs its hypothesis after the method only:
``"runtime": {"hypothesis": {"strategy": "after-method-only"}}``.
"""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed

from .context import Configuration, Secrets, resolve_zone, run_state

__all__ = ["passed", "rescheduled", "zero_downtime"]


def _as_dict(result: Any) -> dict[str, Any]:
    return {"check_id": result.check_id, "passed": bool(result.passed), "summary": result.summary,
            "evidence": list(result.evidence), "figures": dict(result.figures), "message": result.message()}


def zero_downtime(name: str = "default", budget: float | None = None, max_failed: int | None = None,
                  check_id: str = "AZ-DRAIN", configuration: Configuration = None,
                  secrets: Secrets = None) -> dict[str, Any]:
    """Requests of the traffic ``name`` kept succeeding: failed requests within ``budget`` (a fraction;
    default ``configuration["azchaos_error_budget"]`` or 0) or ``max_failed``. Reads the stopped traffic's
    recording, or the running prober's requests so far."""
    from ..checks.downtime import zero_downtime as check

    state = run_state(configuration, secrets)
    recording = state.recordings.get(name)
    if recording is None and name in state.probers:
        recording = state.probers[name].recording
    if recording is None:
        raise ActivityFailed(f"no traffic named {name!r} in run {state.run_id} (start_traffic first)")
    if budget is None:
        budget = float((configuration or {}).get("azchaos_error_budget") or 0.0)
    namespace = state.apps.get(name, (None, None))[0]
    return _as_dict(check(recording, float(budget), max_failed, check_id=check_id, core=state.cluster.core,
                          namespace=namespace))


def rescheduled(namespace: str, label_selector: str, lost_zone: str, replicas: int, timeout: float = 60.0,
                max_skew: int = 1, configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Wait up to ``timeout`` seconds until ``replicas`` pods matching ``label_selector`` are Ready outside
    ``lost_zone`` (``auto``: the first zone) with zone skew at most ``max_skew``;
    the figure ``time_to_recover_s`` says how long it took."""
    from ..checks.rescheduled import rescheduled as check

    state = run_state(configuration, secrets)
    lost_zone = resolve_zone(state, lost_zone)
    return _as_dict(check(state.cluster.core, namespace, label_selector, lost_zone, int(replicas), float(timeout),
                          max_skew=int(max_skew)))


def passed(value: dict[str, Any] | None = None, **_: Any) -> bool:
    """Tolerance: the check a probe returned passed."""
    return bool(value and value.get("passed") is True)
