"""Hand-built evidence dicts, shaped as ``Evidence.to_dict()`` writes them, for the pure report tests."""

from __future__ import annotations

from typing import Any

from pytest_azchaos.checks.result import CheckResult
from pytest_azchaos.report.series import zone_buckets

STARTED = 1_800_000_000.0
POD_ZONES = {"echo-a": "us-east-1a", "echo-b": "us-east-1b", "echo-c": "us-east-1c"}


def requests() -> list[dict[str, Any]]:
    """10 s at 6 requests/s round-robin over three pods; zone a's pod fails from t=4 s to t=6 s."""
    rows = []
    for i in range(60):
        t = i / 6
        pod = ("echo-a", "echo-b", "echo-c")[i % 3]
        ok = not (pod == "echo-a" and 4 <= t < 6)
        rows.append({"t": round(t, 4), "latency_ms": 2.0, "ok": ok, "target": "127.200.0.1:80",
                     "status": 200 if ok else None, "error": None if ok else "reset",
                     "detail": "" if ok else "ConnectionResetError", "pod": pod if ok else None,
                     "client_ip": None, "lb_zone": "us-east-1a" if pod == "echo-a" else None})
    return rows


def drain_evidence(**overrides: Any) -> dict[str, Any]:
    """One drain test: AZ-DRAIN failed with 4 failed requests, AZ-RESCHED passed, a prediction."""
    rows = requests()
    drain = CheckResult("AZ-DRAIN", False, "4 of 60 requests failed", ("failure window t=4.000s..5.500s",),
                        {"requests": 60, "failed_requests": 4, "longest_failure_window_s": 1.5})
    resched = CheckResult("AZ-RESCHED", True, "6/6 pods Ready outside us-east-1a after 4.2s",
                          figures={"time_to_recover_s": 4.2, "waited_s": 1.0, "ready": 6, "expected": 6, "skew": 0})
    ev: dict[str, Any] = {
        "test": "suites/test_az_drain.py::test_drain[Cluster]",
        "outcome": "failed",
        "started": STARTED,
        "duration_s": 10.0,
        "phases": [{"name": "drain us-east-1a", "start": 3.5, "end": 7.0, "detail": "", "action": "drain_zone",
                    "arguments": {}, "error": ""}],
        "requests_total": len(rows),
        "failed_requests": [r for r in rows if not r["ok"]],
        "buckets": [{"t": float(s), "requests": 6, "ok": 6, "p50": 0.002, "p99": 0.004, "errors": {}}
                    for s in range(10)],
        "ready_pods_per_zone": [{"t": float(s), "ready": {"us-east-1a": 2 if s < 4 else 0, "us-east-1b": 2,
                                                          "us-east-1c": 2}} for s in range(10)],
        "events": [],
        "checks": [{**drain.to_dict(), "at": STARTED + 8.0}, {**resched.to_dict(), "at": STARTED + 8.5}],
        "notes": [],
        "predictions": [{"fault": "drain us-east-1a", "summary": "expected all 6 replica(s) Ready outside "
                         "us-east-1a by ~4s after the fault, because 2 replica(s) move (us-east-1b: 1, us-east-1c: 1)",
                         "details": [{"pod": "echo-a", "controller": "Deployment", "node": "node-a1",
                                      "zone": "us-east-1a", "outcome": "moves", "reason": "evicted by the drain",
                                      "after_s": 4.0, "to_zone": "us-east-1b"}],
                         "remedy": None, "notes": []}],
        "pod_zones": dict(POD_ZONES),
        "zone_buckets": zone_buckets(rows, POD_ZONES),
    }
    ev.update(overrides)
    return ev
