"""Preflight: is it sensible to take a zone away from this cluster and workload at all?

A destructive test is skipped (with these reasons) rather than run against a cluster where its
outcome is decided in advance: fewer than ``min_zones`` zones with Ready schedulable nodes, fewer
replicas than zones, no PodDisruptionBudget selecting the workload, or too little spare allocatable
CPU, memory and pod slots in the surviving zones to take the lost zone's pods (first-fit by the pods'
requests, against node allocatable minus the requests of the pods already there).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

from ..kube.topology import ZoneMap
from .evidence import live_pods, selector_matches

RESOURCES = ("cpu", "memory", "pods")


@dataclass(frozen=True)
class Preflight:
    """``ok`` or not, and why not (each reason names the fix)."""

    ok: bool
    reasons: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.ok

    def message(self) -> str:
        if self.ok:
            return "preflight passed"
        return "preflight: " + "; ".join(self.reasons)


def pod_requests(pod: Any) -> dict[str, Decimal]:
    """Effective requests: max(sum of containers, largest init container) plus overhead, and one pod slot."""
    def of(containers: list[Any] | None) -> list[dict[str, Decimal]]:
        out = []
        for c in containers or []:
            req = (c.resources.requests if c.resources and c.resources.requests else None) or {}
            out.append({k: parse_quantity(v) for k, v in req.items() if k in ("cpu", "memory")})
        return out

    total: dict[str, Decimal] = defaultdict(Decimal)
    for r in of(pod.spec.containers):
        for k, v in r.items():
            total[k] += v
    for r in of(pod.spec.init_containers):
        for k, v in r.items():
            total[k] = max(total[k], v)
    for k, v in (pod.spec.overhead or {}).items():
        if k in total or k in ("cpu", "memory"):
            total[k] += parse_quantity(v)
    total["pods"] = Decimal(1)
    return dict(total)


def free_per_node(core: Any, zones: ZoneMap) -> dict[str, dict[str, Decimal]]:
    """Node -> allocatable minus requests of the non-terminal pods bound to it (all namespaces)."""
    free: dict[str, dict[str, Decimal]] = {}
    for node in core.list_node().items:
        alloc = node.status.allocatable or {}
        free[node.metadata.name] = {k: parse_quantity(alloc.get(k, "0")) for k in RESOURCES}
    for pod in core.list_pod_for_all_namespaces().items:
        node = pod.spec.node_name
        if node not in free or (pod.status.phase or "") in ("Succeeded", "Failed"):
            continue
        for k, v in pod_requests(pod).items():
            free[node][k] = free[node].get(k, Decimal(0)) - v
    return free


def _fmt(k: str, v: Decimal) -> str:
    if k == "cpu":
        return f"{int(v * 1000)}m"
    if k == "memory":
        return f"{int(v / (1024 * 1024))}Mi"
    return str(int(v))


def fits_elsewhere(lost: list[dict[str, Decimal]], free: dict[str, dict[str, Decimal]]) -> tuple[bool, str]:
    """First-fit decreasing of the lost pods onto the free nodes; (fits, what did not fit)."""
    room = {n: dict(f) for n, f in free.items()}
    for req in sorted(lost, key=lambda r: (r.get("cpu", 0), r.get("memory", 0)), reverse=True):
        for node in sorted(room):
            if all(room[node].get(k, Decimal(0)) >= v for k, v in req.items()):
                for k, v in req.items():
                    room[node][k] -= v
                break
        else:
            want = ", ".join(f"{k} {_fmt(k, v)}" for k, v in sorted(req.items()))
            left = ", ".join(f"{k} {_fmt(k, sum((r.get(k, Decimal(0)) for r in room.values()), Decimal(0)))}"
                             for k in RESOURCES)
            return False, f"a pod requesting {want} fits on no surviving node (free in total: {left})"
    return True, ""


def preflight(core: Any, namespace: str | None = None, selector: str | None = None, *, min_zones: int = 3,
              need_pdb: bool = True, replicas_at_least_zones: bool = True, spare_capacity: bool = True,
              zone: str | None = None, zones: ZoneMap | None = None) -> Preflight:
    """Check the cluster (and, given ``namespace`` and ``selector``, the workload) before a zone fault.

    ``zone`` is the zone about to be lost; without it spare capacity is checked for every zone.
    """
    zones = zones or ZoneMap.read(core)
    reasons: list[str] = []
    usable = sorted({n.zone for n in zones.nodes if n.zone and n.ready and not n.unschedulable})
    facts: dict[str, Any] = {"zones": usable}
    if len(usable) < min_zones:
        reasons.append(f"only {len(usable)} zone(s) have Ready schedulable nodes ({zones.describe() or 'no nodes'}); "
                       f"a zone fault needs at least {min_zones}: add nodes in more zones "
                       "(label topology.kubernetes.io/zone)")
    if namespace and selector:
        pods = live_pods(core, namespace, selector)
        facts["replicas"] = len(pods)
        if not pods:
            reasons.append(f"no pods match {selector} in namespace {namespace}: deploy the workload first")
        elif replicas_at_least_zones and len(pods) < len(usable):
            reasons.append(f"{len(pods)} replica(s) of {selector} for {len(usable)} zones: losing a zone can take all "
                           "of them; run at least one replica per zone")
        if need_pdb and pods:
            from kubernetes import client

            pdbs = client.PolicyV1Api(core.api_client).list_namespaced_pod_disruption_budget(namespace).items
            labels = pods[0].metadata.labels or {}
            matching = [p.metadata.name for p in pdbs
                        if p.metadata and p.spec and selector_matches(p.spec.selector, labels)]
            facts["pdbs"] = matching
            if not matching:
                reasons.append(f"no PodDisruptionBudget in {namespace} selects the pods of {selector}: a drain may "
                               "evict them all at once; add one (e.g. maxUnavailable: 1)")
        if spare_capacity and pods:
            free = free_per_node(core, zones)
            for lost_zone in [zone] if zone else usable:
                lost = [pod_requests(p) for p in pods if zones.zone_of(p.spec.node_name) == lost_zone]
                survivors = {n.name: free[n.name] for n in zones.nodes if n.zone != lost_zone and n.zone
                             and n.ready and not n.unschedulable and n.name in free}
                ok, why = fits_elsewhere(lost, survivors)
                if not ok:
                    reasons.append(f"not enough spare capacity outside {lost_zone} for its {len(lost)} pod(s) of "
                                   f"{selector}: {why}; add nodes or lower the requests")
    return Preflight(not reasons, reasons, facts)
