"""AZ-CORDON: with a zone cordoned, pods created afterwards are placed elsewhere.

Running pods keep serving (that half is ``zero_downtime`` over the recording); this is the other half:
every pod of the workload created at/after ``since`` is either on a node outside the cordoned zone or
Pending (listed with the scheduler's message), and at least ``min_new`` of them were placed.
"""

from __future__ import annotations

from typing import Any

from ..kube.topology import ZoneMap
from ..kube.wait import Progress, wait_until
from .evidence import Since, live_pods, pending_evidence, pod_line, to_datetime
from .result import CheckResult


def new_pods_avoid(core: Any, namespace: str, selector: str, zone: str, since: Since, *, zones: ZoneMap | None = None,
                   min_new: int = 1, timeout: float = 0.0, progress: Progress | None = None,
                   check_id: str = "AZ-CORDON") -> CheckResult:
    """Pass when no pod created since ``since`` landed in ``zone`` and ≥ ``min_new`` were placed elsewhere.

    With ``timeout`` > 0, first wait until every new pod is scheduled (or one lands in ``zone``).
    """
    zones = zones or ZoneMap.read(core)
    cutoff = to_datetime(since)
    assert cutoff is not None, "since is required: the moment the zone was cordoned"

    def fetch() -> list[Any]:
        # creationTimestamp has second precision: compare at that resolution.
        return [p for p in live_pods(core, namespace, selector)
                if p.metadata.creation_timestamp >= cutoff.replace(microsecond=0)]

    def settled(pods: list[Any]) -> bool:
        placed = [p for p in pods if p.spec.node_name]
        return (any(zones.zone_of(p.spec.node_name) == zone for p in placed)
                or (len(placed) == len(pods) and len(placed) >= min_new))

    pods = fetch()
    doubt = ""
    if timeout > 0:
        waited = wait_until(fetch, settled, timeout=timeout, what=f"new pods of {selector} scheduled",
                            progress=progress)
        pods, doubt = waited.last or pods, waited.inconclusive_reason()
    inside = [p for p in pods if p.spec.node_name and zones.zone_of(p.spec.node_name) == zone]
    elsewhere = [p for p in pods if p.spec.node_name and zones.zone_of(p.spec.node_name) != zone]
    pending = [p for p in pods if not p.spec.node_name]
    figures = {"new_pods": len(pods), "in_cordoned_zone": len(inside), "elsewhere": len(elsewhere),
               "pending": len(pending)}
    evidence = [f"zones: {zones.describe()}"]
    evidence += [f"new pod in cordoned zone {pod_line(p, zone)}" for p in inside]
    evidence += [f"new pod {pod_line(p, zones.zone_of(p.spec.node_name))}" for p in elsewhere]
    evidence += pending_evidence(core, namespace, pending)
    if inside:
        nodes = sorted({p.spec.node_name for p in inside})
        cordoned = [n for n in nodes if (view := zones.node(n)) is not None and view.unschedulable]
        note = (f"; nodes {', '.join(cordoned)} were cordoned when the zone map was read" if cordoned else
                f"; node(s) {', '.join(nodes)} were not cordoned when the zone map was read")
        return CheckResult(check_id, False, f"{len(inside)} of {len(pods)} pods created since the cordon were "
                           f"placed in {zone}{note}", tuple(evidence), figures)
    if len(elsewhere) < min_new:
        return CheckResult(check_id, False, f"only {len(elsewhere)} new pod(s) of {selector} were placed since the "
                           f"cordon (need {min_new}); {len(pending)} Pending", tuple(evidence),
                           figures).undecided(doubt)
    return CheckResult(check_id, True, f"all {len(elsewhere)} placed new pod(s) avoided {zone}"
                       + (f"; {len(pending)} Pending" if pending else ""), tuple(evidence), figures)
