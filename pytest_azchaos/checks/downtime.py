"""Zero downtime (AZ-DRAIN, AZ-PODKILL, AZ-OUTAGE): requests through the load balancer kept succeeding.

A failure message names every failure window (when, how long, which error classes), the first failed
requests in full, where traffic went before vs. during the fault (per pod, per zone), and, given a
client, the Kubernetes events that explain the loss (Killing, Unhealthy, TaintManagerEviction ...).

Failures that coincide with a stall of our own side (the prober's event loop ran late, or the cluster
reports its emulator's loop ran late) are no evidence about the cluster: when the verdict would turn
on them, the result is inconclusive, naming the stalls.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..traffic.recording import Recording, RequestRecord
from .evidence import describe_events, events_for, explaining, node_events
from .result import CheckResult

#: A stall of our own side this long, overlapping a failed request, makes that failure no evidence.
STALL_MIN_LAG = 0.2


def zero_downtime(
    recording: Recording,
    budget: float = 0.0,
    max_failed: int | None = None,
    during: tuple[float | None, float | None] | None = None,
    *,
    check_id: str = "AZ-DRAIN",
    core: Any = None,
    namespace: str | None = None,
    pod_zones: Mapping[str, str] | None = None,
    nodes: Iterable[str] = (),
    show_failed: int = 10,
) -> CheckResult:
    """Pass when failed requests (in ``during``, recording seconds) stay within the budget.

    ``budget`` is a fraction of the requests in the window; ``max_failed`` an absolute count (wins when
    given). Pass ``core`` and ``namespace`` to have the events of the window in the message, ``pod_zones``
    (pod -> zone) for per-zone shares, ``nodes`` for the nodes' own events (NodeNotReady ...).
    """
    window = recording.between(*during) if during else recording
    records = window.snapshot()
    total = len(records)
    failed = [r for r in records if not r.ok]
    allowed = max_failed if max_failed is not None else math.floor(budget * total + 1e-9)
    windows = window.failure_windows()
    span = _span(during, records)
    figures: dict[str, Any] = {
        "requests": total, "failed_requests": len(failed), "allowed_failures": allowed,
        "failure_ratio": len(failed) / total if total else 0.0, "failure_windows": len(windows),
        "longest_failure_window_s": round(max((w.duration for w in windows), default=0.0), 3),
        "error_classes": window.error_counts(),
    }
    budget_text = (f"max {allowed}" if max_failed is not None else f"{allowed} ({budget:.2%})")
    if total == 0:
        return CheckResult(check_id, False, f"no requests were sent {span}: there is nothing to judge (is the prober "
                           "running?)", (), figures)
    summary = (f"{len(failed)} of {total} requests failed {span} ({len(failed) / total:.2%}); "
               f"allowed {budget_text}")
    passed = len(failed) <= allowed
    stalled = [r for r in failed if window.stalls_during(r, STALL_MIN_LAG)]
    figures["failed_in_own_stalls"] = len(stalled)
    inconclusive = ""
    if not passed and len(failed) - len(stalled) <= allowed:
        stalls = sorted({s for r in stalled for s in window.stalls_during(r, STALL_MIN_LAG)}, key=lambda s: s.start)
        inconclusive = (f"{len(stalled)} of the {len(failed)} failed requests coincide with stalls of our own side "
                        f"({'; '.join(s.describe() for s in stalls[:3])}{' ...' if len(stalls) > 3 else ''}); "
                        f"without them {len(failed) - len(stalled)} failed, within the allowed {allowed}")
    evidence: list[str] = []
    if failed:
        evidence += [f"failure window {w.describe()}" for w in windows]
        evidence += [f"own-side stall: {s.describe()}" for s in window.stalls if s.lag >= STALL_MIN_LAG
                     or s.source.startswith("unknown")]
        evidence += [f"failed request {_describe(r)}" for r in failed[:show_failed]]
        if len(failed) > show_failed:
            evidence.append(f"... and {len(failed) - show_failed} more failed request(s)")
    evidence += _shares(recording, window, during, pod_zones)
    if not passed and not inconclusive and core is not None and namespace:
        since = recording.wall_start + (records[0].due if records else 0.0) if recording.wall_start else None
        events = explaining(events_for(core, namespace, since=since))
        names = list(nodes)
        if names:
            events = sorted(events + node_events(core, names, since), key=lambda e: (e.time is None, e.time))
        evidence += describe_events(events) or [f"no explaining events in namespace {namespace} since the window "
                                                "began"]
    return CheckResult(check_id, passed, summary, tuple(evidence), figures, inconclusive)


def _span(during: tuple[float | None, float | None] | None, records: list[RequestRecord]) -> str:
    if during:
        start, end = during
        return f"during t={start or 0:.1f}s..{'end' if end is None else f'{end:.1f}s'}"
    if records:
        return f"over t={records[0].due:.1f}s..{records[-1].due:.1f}s"
    return "over the whole recording"


def _describe(r: RequestRecord) -> str:
    status = f" HTTP {r.status}" if r.status is not None else ""
    pod = f" pod={r.pod}" if r.pod else ""
    detail = f": {r.detail}" if r.detail else ""
    return f"#{r.seq} t={r.due:.3f}s -> {r.target}: {r.error}{status}{pod} after {r.latency * 1000:.0f}ms{detail}"


def _share_text(counts: Mapping[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return "none"
    return ", ".join(f"{k} {n} ({n / total:.0%})" for k, n in sorted(counts.items()))


def _shares(recording: Recording, window: Recording, during: tuple[float | None, float | None] | None,
            pod_zones: Mapping[str, str] | None) -> list[str]:
    lines = []
    before = recording.between(None, during[0]) if during and during[0] is not None else None
    for label, rec in (("before", before), ("during" if during else "overall", window)):
        if rec is None or not rec.total:
            continue
        lines.append(f"served per pod {label}: {_share_text(rec.per_pod())}")
        if pod_zones:
            lines.append(f"served per zone {label}: {_share_text(rec.per_zone(pod_zones))}")
    return lines
