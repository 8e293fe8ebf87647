"""AZ-SHIFT: during an ARC zonal shift away from a zone, EKS takes the zone's endpoints out of the Service's
EndpointSlices, evicts nothing and launches no node there (eks-flavours-facts.md §5); after the cancel the zone's
endpoints return.

``shift_before(...)`` takes the picture before the shift (the zone's pods and nodes); ``endpoints_leave`` judges
the shift against it; ``endpoints_return`` judges the undo. Traffic is ``zero_downtime`` over the recording.
EKS's fail safe: a Service whose endpoints are all in the shifted zone keeps them, so a shift cannot move its
traffic; ``endpoints_leave`` fails for it, naming the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubernetes import client

from ..kube.topology import ZoneMap
from ..kube.wait import Progress, wait_until
from .evidence import live_pods
from .result import CheckResult

CHECK_ID = "AZ-SHIFT"
FAIL_SAFE = ("EKS keeps a Service's endpoints in the shifted zone when all of them are there (the zonal shift "
             "fail safe, eksug zone-shift.adoc)")


@dataclass(frozen=True)
class ShiftBaseline:
    """Before the shift: the workload's pods in the zone (uid -> name) and the zone's nodes."""

    zone: str
    pods_in_zone: dict[str, str]
    nodes_in_zone: frozenset[str]


def shift_before(core: Any, namespace: str, selector: str, zone: str, zones: ZoneMap | None = None) -> ShiftBaseline:
    """The picture AZ-SHIFT compares against: the zone's pods of ``selector`` and the zone's nodes."""
    zones = zones or ZoneMap.read(core)
    pods = {p.metadata.uid: p.metadata.name for p in live_pods(core, namespace, selector)
            if p.spec.node_name and zones.zone_of(p.spec.node_name) == zone}
    return ShiftBaseline(zone, pods, frozenset(n.name for n in zones.nodes_in(zone)))


def ready_endpoint_zones(core: Any, namespace: str, service: str) -> dict[str, str]:
    """Ready endpoints of ``service`` (address -> zone) across its EndpointSlices."""
    discovery = client.DiscoveryV1Api(core.api_client)
    slices = discovery.list_namespaced_endpoint_slice(namespace, label_selector=f"kubernetes.io/service-name={service}")
    return {e.addresses[0]: e.zone or "?" for s in slices.items for e in s.endpoints or ()
            if e.addresses and (e.conditions is None or e.conditions.ready is not False)}


def endpoints_leave(core: Any, namespace: str, service: str, selector: str, before: ShiftBaseline, timeout: float,
                    *, progress: Progress | None = None) -> CheckResult:
    """Pass when the zone's endpoints leave ``service``'s EndpointSlices within ``timeout``, every pod the zone
    ran is still running there (nothing evicted) and no node was added to the zone (nothing launched)."""
    zone = before.zone
    waited = wait_until(lambda: ready_endpoint_zones(core, namespace, service),
                        lambda eps: bool(eps) and zone not in eps.values(), timeout=timeout,
                        what=f"endpoints of {namespace}/{service} in {zone} to leave", progress=progress)
    eps = waited.last or {}
    zones = ZoneMap.read(core)
    running = {p.metadata.uid for p in live_pods(core, namespace, selector)}
    evicted = sorted(name for uid, name in before.pods_in_zone.items() if uid not in running)
    launched = sorted(n.name for n in zones.nodes_in(zone) if n.name not in before.nodes_in_zone)
    in_zone = sorted(a for a, z in eps.items() if z == zone)
    figures = {"endpoints": len(eps), "endpoints_in_zone": len(in_zone), "evicted": len(evicted),
               "nodes_launched_in_zone": len(launched), "waited_s": round(waited.elapsed, 1)}
    evidence = [f"ready endpoints: {', '.join(f'{a} ({z})' for a, z in sorted(eps.items())) or 'none'}",
                f"zones: {zones.describe()}"]
    evidence += [f"pod {name} of {zone} is gone (evicted or deleted)" for name in evicted]
    evidence += [f"node {name} launched in {zone} during the shift" for name in launched]
    if in_zone and len(in_zone) == len(eps):
        if not any(n.unschedulable for n in zones.nodes_in(zone)):
            return CheckResult(CHECK_ID, False, f"every endpoint of {namespace}/{service} is still in {zone} and no "
                               f"node of {zone} is cordoned: EKS has not applied the shift", tuple(evidence),
                               figures, f"the zonal shift of {zone} never took effect within {timeout:.0f}s")
        return CheckResult(CHECK_ID, False, f"AZ-SHIFT cannot move the traffic of {namespace}/{service}: all its "
                           f"{len(eps)} endpoint(s) are in {zone}, and {FAIL_SAFE}; spread its replicas across "
                           "zones", tuple(evidence), figures)
    problems = []
    if in_zone:
        problems.append(f"{len(in_zone)} endpoint(s) in {zone} still in the EndpointSlices after {timeout:.0f}s "
                        f"({', '.join(in_zone)})")
    if not eps:
        problems.append(f"{namespace}/{service} has no ready endpoint left")
    if evicted:
        problems.append(f"{len(evicted)} pod(s) of {zone} were evicted ({', '.join(evicted)}); a zonal shift evicts "
                        "nothing")
    if launched:
        problems.append(f"node(s) {', '.join(launched)} launched in {zone} during the shift")
    if problems:
        result = CheckResult(CHECK_ID, False, "; ".join(problems), tuple(evidence), figures)
        return result.undecided(waited.inconclusive_reason()) if in_zone or not eps else result
    return CheckResult(CHECK_ID, True, f"the endpoints in {zone} left {namespace}/{service} in {waited.elapsed:.1f}s; "
                       f"{len(before.pods_in_zone)} pod(s) of the zone kept running, no node launched there",
                       tuple(evidence), figures)


def endpoints_return(core: Any, namespace: str, service: str, zone: str, timeout: float, *,
                     progress: Progress | None = None) -> CheckResult:
    """Pass when, after the shift is cancelled, ``service`` has ready endpoints in ``zone`` again and the zone's nodes
    are uncordoned (EKS undoes its cordon) within ``timeout``."""

    def fetch() -> tuple[dict[str, str], list[str]]:
        cordoned = [n.name for n in ZoneMap.read(core).nodes_in(zone) if n.unschedulable]
        return ready_endpoint_zones(core, namespace, service), cordoned

    waited = wait_until(fetch, lambda got: zone in got[0].values() and not got[1], timeout=timeout,
                        what=f"endpoints of {namespace}/{service} in {zone} to return", progress=progress)
    eps, cordoned = waited.last or ({}, [])
    evidence = (f"ready endpoints: {', '.join(f'{a} ({z})' for a, z in sorted(eps.items())) or 'none'}",
                f"cordoned nodes of {zone}: {', '.join(cordoned) or 'none'}")
    if waited.ok:
        return CheckResult(CHECK_ID, True, f"the endpoints in {zone} returned to {namespace}/{service} and its nodes "
                           f"were uncordoned {waited.elapsed:.1f}s after the cancel", evidence)
    missing = f"no endpoint of {namespace}/{service} in {zone}" if zone not in eps.values() else \
        f"node(s) {', '.join(cordoned)} of {zone} still cordoned"
    return CheckResult(CHECK_ID, False, f"{missing} {timeout:.0f}s after the shift was cancelled",
                       evidence).undecided(waited.inconclusive_reason())
