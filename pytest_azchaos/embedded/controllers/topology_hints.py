"""Topology Aware Routing for ``service.kubernetes.io/topology-mode: Auto`` (upstream
``staging/src/k8s.io/endpointslice/topologycache``), which takes precedence over ``trafficDistribution``.

Each zone's share of endpoints follows its share of the ready nodes' allocatable CPU. Hints are given only when
every zone can get its minimum share without exceeding the 20 % overload threshold; every ready endpoint is first
hinted for its own zone, then zones above their share give endpoints to zones below their minimum (so, unlike
PreferSameZone, a zone without endpoints gets hinted ones). Otherwise no endpoint is hinted and the controller
says why in a ``TopologyAwareHintsDisabled`` Warning event, with upstream's texts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
OVERLOAD_THRESHOLD = 0.2
ZONE_LABEL = "topology.kubernetes.io/zone"
INSUFFICIENT_NODE_INFO = "Insufficient Node information: allocatable CPU or zone not specified on one or more nodes"
NODES_READY_IN_ONE_ZONE_ONLY = "Nodes only ready in one zone"
INSUFFICIENT_ENDPOINTS = "Insufficient number of endpoints"
MIN_ALLOCATION_EXCEEDS_THRESHOLD = ("Unable to allocate minimum required endpoints to each zone without exceeding "
                                    "overload threshold")
NO_ZONE_SPECIFIED = "One or more endpoints do not have a zone specified"
HINTS_ENABLED = "Topology Aware Hints has been enabled"


@dataclass(frozen=True)
class Allocation:
    minimum: int
    maximum: int
    desired: float


def _cpu(value: Any) -> float | None:
    from ..scheduler.quantity import QuantityError, parse_quantity

    try:
        return float(parse_quantity(value))
    except (QuantityError, ValueError, TypeError):
        return None


def cpu_ratios(nodes: list[Obj]) -> dict[str, float] | None:
    """``SetNodes``: each zone's share of the ready, non-control-plane nodes' allocatable CPU; None when one of
    them lacks a zone or allocatable CPU (``sufficientNodeInfo``)."""
    by_zone: dict[str, float] = {}
    for node in nodes:
        labels = node["metadata"].get("labels") or {}
        if "node-role.kubernetes.io/control-plane" in labels or "node-role.kubernetes.io/master" in labels:
            continue
        ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (node.get("status") or {}).get("conditions") or ())
        if not ready:
            continue
        zone = labels.get(ZONE_LABEL)
        cpu = _cpu(((node.get("status") or {}).get("allocatable") or {}).get("cpu"))
        if not zone or not cpu:
            return None
        by_zone[zone] = by_zone.get(zone, 0.0) + cpu
    total = sum(by_zone.values())
    if not by_zone or not total:
        return None
    return {zone: cpu / total for zone, cpu in by_zone.items()}


def allocations(ratios: dict[str, float] | None, endpoints: int) -> tuple[dict[str, Allocation] | None, str]:
    """``getAllocations``: per-zone (minimum, maximum, desired) endpoints, or None and the reason."""
    if ratios is None:
        return None, INSUFFICIENT_NODE_INFO
    if len(ratios) < 2:
        return None, NODES_READY_IN_ONE_ZONE_ONLY
    if len(ratios) > endpoints:
        return None, f"{INSUFFICIENT_ENDPOINTS} ({endpoints} endpoints, {len(ratios)} zones)"
    remaining, minimums, desired = endpoints, {}, {}
    for zone, ratio in sorted(ratios.items()):
        want = ratio * endpoints
        minimum = math.ceil(want * (1 / (1 + OVERLOAD_THRESHOLD)))
        minimums[zone], desired[zone] = minimum, max(want, float(minimum))
        remaining -= minimum
        if remaining < 0:
            return None, f"{MIN_ALLOCATION_EXCEEDS_THRESHOLD} ({endpoints} endpoints, {len(ratios)} zones)"
    spare = endpoints - sum(minimums.values())
    return {z: Allocation(m, m + spare, desired[z]) for z, m in minimums.items()}, ""


def assign(endpoints: list[Obj], ratios: dict[str, float] | None) -> str:
    """Hint the ready ``endpoints`` (EndpointSlice endpoint dicts, in slice order) in place; returns "" when hints
    were given, else the reason they were not (every hint removed)."""
    ready = [e for e in endpoints if (e.get("conditions") or {}).get("ready")]
    alloc, reason = allocations(ratios, len(ready))
    if alloc is None or any(not e.get("zone") for e in ready):
        for e in endpoints:
            e.pop("hints", None)
        return reason or NO_ZONE_SPECIFIED
    for e in endpoints:
        e.pop("hints", None)
    counts: dict[str, int] = {}
    for e in ready:  # step 1: same-zone hints for every ready endpoint
        e["hints"] = {"forZones": [{"name": e["zone"]}]}
        counts[e["zone"]] = counts.get(e["zone"], 0) + 1
    giving, receiving = {}, {}  # step 2: getGivingAndReceivingZones
    for zone, a in sorted(alloc.items()):
        have = counts.get(zone, 0)
        if have < a.minimum:
            receiving[zone] = a.minimum - have
        elif have > a.desired and int(have - a.desired) > 0:
            giving[zone] = int(have - a.desired)
    for e in ready:  # step 3: redistributeHints
        if not giving or not receiving:
            break
        if e["zone"] in giving:
            to = next(z for z in sorted(receiving) if receiving[z] > 0)
            e["hints"] = {"forZones": [{"name": to}]}
            for table, zone in ((giving, e["zone"]), (receiving, to)):
                table[zone] -= 1
                if table[zone] == 0:
                    del table[zone]
    return ""


def auto_mode(service: Obj) -> bool:
    """``hintsEnabled``: the legacy annotation (or its older spelling) says Auto."""
    ann = service["metadata"].get("annotations") or {}
    value = ann.get("service.kubernetes.io/topology-mode", ann.get("service.kubernetes.io/topology-aware-hints"))
    return value in ("Auto", "auto")
