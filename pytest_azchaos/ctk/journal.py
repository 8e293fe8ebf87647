"""A chaostoolkit journal of one of our own tests, so teams keep one format for every chaos run.

The journal has the shape ``chaos run`` writes (``chaoslib.run.initialize_run_journal`` plus what the
run adds), built from the test's evidence (``report.evidence.Evidence.to_dict()``):

- ``experiment``: the test as an experiment that ``chaos validate`` accepts. Its ``method`` is the faults
  as our ``ctk.actions`` with their real arguments; its ``rollbacks`` replay the ledger
  (``undo_faults``); its steady-state probes are the checks, each re-checked by rerunning this test.
- ``run`` and ``rollbacks``: each fault with its start, end, duration and status.
- ``steady_states.after``: the checks' verdicts (output: the check, ``tolerance_met``: it passed).
  ``before`` is null: our checks judge the run, not a state before it.
- ``status``/``deviated`` as chaoslib sets them: a failed check deviates a ``completed`` run;
  a test that failed for another reason (a fault raised, an assertion) is ``failed``.
"""

from __future__ import annotations

import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..report.evidence import safe_name

ACTIONS = "pytest_azchaos.ctk.actions"


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _action(name: str, func: str, arguments: dict[str, Any]) -> dict[str, Any]:
    provider: dict[str, Any] = {"type": "python", "module": ACTIONS, "func": func}
    if arguments:
        provider["arguments"] = arguments
    return {"type": "action", "name": name, "provider": provider}


def _check_probe(check: dict[str, Any], nodeid: str) -> dict[str, Any]:
    return {"type": "probe", "name": check["check_id"], "tolerance": 0,
            "provider": {"type": "process", "path": sys.executable, "arguments": ["-m", "pytest", nodeid]}}


def _timed(activity: dict[str, Any], start: float, end: float, status: str, output: Any) -> dict[str, Any]:
    return {"activity": activity, "output": output, "status": status, "start": _iso(start), "end": _iso(end),
            "duration": round(end - start, 3)}


def journal_of(evidence: dict[str, Any], description: str = "") -> dict[str, Any]:
    """The chaostoolkit journal of a test, from its evidence dict (times there are relative to ``started``)."""
    from chaoslib import __version__ as chaoslib_version

    nodeid = evidence["test"]
    t0 = float(evidence["started"])
    end = t0 + float(evidence["duration_s"])
    method, runs, rollbacks, rollback_runs = [], [], [], []
    for p in evidence.get("phases") or []:
        if not p.get("action"):
            continue
        activity = _action(p["name"], p["action"], p.get("arguments") or {})
        status = "failed" if p.get("error") else "succeeded"
        timed = _timed(activity, t0 + p["start"], t0 + p["end"], status, p.get("detail") or None)
        if p.get("error"):
            timed["exception"] = [p["error"] + "\n"]
        if p["action"] in ("undo_faults", "uncordon_zone"):  # the latter: journals of earlier versions
            rollbacks.append(activity)
            rollback_runs.append(timed)
        else:
            method.append(activity)
            runs.append(timed)
    checks = evidence.get("checks") or []
    probes = [_check_probe(c, nodeid) for c in checks]
    after: dict[str, Any] | None = None
    if checks:
        after = {"steady_state_met": all(c["passed"] for c in checks), "probes": []}
        for probe, c in zip(probes, checks, strict=True):
            at = float(c.get("at") or end)
            output = {k: c[k] for k in ("check_id", "passed", "summary", "evidence", "figures")}
            after["probes"].append({**_timed(probe, at, at, "succeeded", output), "tolerance_met": bool(c["passed"])})
    deviated = after is not None and not after["steady_state_met"]
    failed_phase = any(r["status"] == "failed" for r in runs + rollback_runs)
    # chaoslib: a broken steady state deviates a completed run; anything else that failed fails it.
    failed = evidence.get("outcome") == "failed" and (failed_phase or not deviated)
    status = "failed" if failed else "completed"
    experiment: dict[str, Any] = {
        "version": "1.0.0",
        "title": nodeid,
        "description": description.strip() or f"pytest-azchaos test {nodeid}",
        "tags": ["pytest-azchaos", *sorted({c["check_id"] for c in checks})],
        "method": method,
        "rollbacks": rollbacks,
    }
    if probes:
        experiment["steady-state-hypothesis"] = {"title": "the conformance checks hold", "probes": probes}
    return {
        "chaoslib-version": chaoslib_version,
        "platform": platform.platform(),
        "node": platform.node(),
        "experiment": experiment,
        "start": _iso(t0),
        "status": status,
        "deviated": deviated,
        "steady_states": {"before": None, "after": after, "during": []},
        "run": runs,
        "rollbacks": rollback_runs,
        "end": _iso(end),
        "duration": round(end - t0, 3),
    }


def write_journal(report_dir: Path, test_id: str, journal: dict[str, Any]) -> Path:
    """``<report dir>/journals/<test id>.json``: every journal of a run, ours and experiment files' alike."""
    path = Path(report_dir) / "journals" / (safe_name(test_id) + ".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(journal, indent=2, default=str))
    return path
