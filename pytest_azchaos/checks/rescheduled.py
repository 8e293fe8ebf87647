"""AZ-RESCHED: after a zone is lost, the workload is back to full strength on the other zones, still spread.

Waits (finite, with progress) until ``expected_replicas`` pods are Ready, none of them in the lost zone,
and the skew between the surviving zones is within ``max_skew``. The figure is the time to recover;
a failure shows per-zone counts, the skew, and every Pending pod with the scheduler's message verbatim.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..kube.topology import ZoneMap, is_ready
from ..kube.wait import Progress, wait_until
from .evidence import Since, describe_events, events_for, explaining, live_pods, pending_evidence, pod_line, to_datetime
from .result import CheckResult


@dataclass(frozen=True)
class Placement:
    """Where a workload's live pods are, as one poll saw them."""

    pods: tuple[Any, ...]
    zones: ZoneMap
    lost_zone: str | None

    def ready(self) -> list[Any]:
        return [p for p in self.pods if is_ready(p)]

    def ready_per_zone(self, include: list[str]) -> dict[str, int]:
        counts = Counter(self.zones.zone_of(p.spec.node_name) or "unscheduled" for p in self.ready())
        return {z: counts.get(z, 0) for z in include} | {z: n for z, n in counts.items() if z not in include}

    def in_lost_zone(self) -> list[Any]:
        return [p for p in self.pods if self.lost_zone and self.zones.zone_of(p.spec.node_name) == self.lost_zone]

    def skew(self, surviving: list[str]) -> int:
        counts = self.ready_per_zone(surviving)
        values = [counts[z] for z in surviving]
        return max(values) - min(values) if values else 0

    def describe(self, surviving: list[str]) -> str:
        counts = self.ready_per_zone(surviving)
        pending = sum(1 for p in self.pods if not p.spec.node_name)
        return (f"{len(self.ready())} Ready ({', '.join(f'{z}: {n}' for z, n in counts.items())}), "
                f"{pending} Pending, {len(self.in_lost_zone())} in {self.lost_zone}")


def rescheduled(
    core: Any,
    namespace: str,
    selector: str,
    lost_zone: str | None,
    expected_replicas: int,
    timeout: float,
    zones: ZoneMap | None = None,
    max_skew: int = 1,
    since: Since = None,
    *,
    progress: Progress | None = None,
    check_id: str = "AZ-RESCHED",
    predicted: Any = None,
) -> CheckResult:
    """Wait until the workload is whole again away from ``lost_zone`` (None: no zone was lost, pods were);
    ``since`` is when the fault began. With ``predicted`` (an ``oracle.Prediction`` made before the fault) the
    result says whether the outcome was expected ("expected because ...") or not ("unexpected: ...")."""
    result = _rescheduled(core, namespace, selector, lost_zone, expected_replicas, timeout, zones, max_skew, since,
                          progress=progress, check_id=check_id)
    if predicted is None:
        return result
    from ..oracle.compare import agreement, annotate

    recovered = result.passed
    ready = int(result.figures.get("ready", 0))
    observed = f"{'recovered' if recovered else 'not recovered'}: {ready}/{expected_replicas} Ready"
    return annotate(result, predicted, agrees=agreement(predicted, recovered=recovered, ready=ready),
                    observed=observed)


def _rescheduled(
    core: Any,
    namespace: str,
    selector: str,
    lost_zone: str | None,
    expected_replicas: int,
    timeout: float,
    zones: ZoneMap | None = None,
    max_skew: int = 1,
    since: Since = None,
    *,
    progress: Progress | None = None,
    check_id: str = "AZ-RESCHED",
) -> CheckResult:
    zones = zones or ZoneMap.read(core)
    where = f"outside {lost_zone}" if lost_zone else "across the zones"
    surviving = [z for z in zones.zones() if z != lost_zone]

    def fetch() -> Placement:
        return Placement(tuple(live_pods(core, namespace, selector)), zones, lost_zone)

    def recovered(p: Placement) -> bool:
        return (len(p.ready()) >= expected_replicas and not p.in_lost_zone()
                and p.skew(surviving) <= max_skew)

    what = f"{expected_replicas} Ready pods of {selector} {where}, skew <= {max_skew}"
    result = wait_until(fetch, recovered, timeout=timeout, what=what, progress=progress,
                        describe=lambda p: p.describe(surviving))
    start = to_datetime(since)
    ttr = (time.time() - start.timestamp()) if start else result.elapsed
    last = result.last or fetch()
    counts = last.ready_per_zone(surviving)
    figures: dict[str, Any] = {"time_to_recover_s": round(ttr, 2) if result.ok else None,
                               "waited_s": round(result.elapsed, 2), "ready": len(last.ready()),
                               "expected": expected_replicas, "ready_per_zone": counts,
                               "skew": last.skew(surviving)}
    if result.ok:
        return CheckResult(check_id, True, f"{len(last.ready())}/{expected_replicas} pods Ready {where} "
                           f"after {ttr:.1f}s, skew {last.skew(surviving)}", (), figures)
    problems = []
    if len(last.ready()) < expected_replicas:
        problems.append(f"only {len(last.ready())}/{expected_replicas} pods Ready")
    if last.in_lost_zone():
        problems.append(f"{len(last.in_lost_zone())} pod(s) still in {lost_zone}")
    if last.skew(surviving) > max_skew:
        problems.append(f"skew {last.skew(surviving)} > {max_skew} across {', '.join(surviving)}")
    summary = f"{'; '.join(problems) or 'not recovered'} after {result.elapsed:.1f}s (timeout {timeout:.0f}s)"
    evidence = [f"Ready per zone: {', '.join(f'{z}: {n}' for z, n in counts.items())} (skew {last.skew(surviving)}, "
                f"max {max_skew})", f"zones: {zones.describe()}"]
    evidence += pending_evidence(core, namespace, list(last.pods))
    evidence += [f"pod in lost zone {pod_line(p, lost_zone)}" for p in last.in_lost_zone()]
    evidence += [f"pod {pod_line(p, zones.zone_of(p.spec.node_name))}" for p in last.pods
                 if p.spec.node_name and not is_ready(p) and p not in last.in_lost_zone()]
    if result.error:
        evidence.append(f"last API error while waiting: {result.error}")
    evidence += describe_events(explaining(events_for(core, namespace, since=since)))
    return CheckResult(check_id, False, summary, tuple(evidence), figures).undecided(result.inconclusive_reason())
