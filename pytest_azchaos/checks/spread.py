"""AZ-TOPO (nodes span enough zones, the workload is spread) and AZ-BALANCE (traffic per pod is even).

``spread`` counts the workload's live, scheduled pods per zone (every zone with Ready schedulable nodes
counts, an empty one as 0) and compares the skew with ``max_skew``, as the scheduler's
``topologySpreadConstraints`` would. ``balance`` judges a recording under ``Local``: with cross-zone
load balancing off, a pod's share depends on how many pods share its node and zone, so uneven placement
shows up as uneven per-pod shares.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from ..kube.topology import ZoneMap
from ..traffic.recording import Recording
from .evidence import live_pods, pending_evidence
from .result import CheckResult


def spread(core: Any, namespace: str, selector: str, zones: ZoneMap | None = None, max_skew: int = 1,
           min_zones: int = 3, *, check_id: str = "AZ-TOPO") -> CheckResult:
    """Pass when ≥ ``min_zones`` zones have Ready schedulable nodes and the pods' zone skew is ≤ ``max_skew``."""
    zones = zones or ZoneMap.read(core)
    usable = sorted({n.zone for n in zones.nodes if n.zone and n.ready and not n.unschedulable})
    pods = live_pods(core, namespace, selector)
    by_zone: dict[str, list[Any]] = defaultdict(list)
    for p in pods:
        if p.spec.node_name:
            by_zone[zones.zone_of(p.spec.node_name) or "no zone label"].append(p)
    counted = sorted(set(usable) | set(by_zone))
    counts = {z: len(by_zone.get(z, [])) for z in counted}
    skew = (max(counts.values()) - min(counts.values())) if counts else 0
    scheduled = sum(counts.values())
    figures: dict[str, Any] = {"zones": len(usable), "pods": len(pods), "per_zone": counts, "skew": skew}
    problems = []
    if len(usable) < min_zones:
        problems.append(f"only {len(usable)} zone(s) with Ready schedulable nodes, need {min_zones}")
    if not pods:
        problems.append(f"no pods match {selector} in {namespace}")
    elif skew > max_skew:
        problems.append(f"zone skew {skew} > {max_skew}")
    if len(pods) > scheduled:
        problems.append(f"{len(pods) - scheduled} of {len(pods)} pod(s) not scheduled")
    evidence = [f"pods per zone: {', '.join(f'{z}: {n}' for z, n in counts.items())} (skew {skew}, max {max_skew})",
                f"zones: {zones.describe()}"]
    for z in counted:
        names = ", ".join(f"{p.metadata.name}@{p.spec.node_name}" for p in sorted(by_zone.get(z, []),
                                                                                key=lambda p: p.metadata.name))
        evidence.append(f"{z}: {names or 'no pods'}")
    evidence += pending_evidence(core, namespace, pods)
    if problems:
        return CheckResult(check_id, False, "; ".join(problems), tuple(evidence), figures)
    return CheckResult(check_id, True, f"{scheduled} pods over {len(usable)} zones, skew {skew}", tuple(evidence),
                       figures)


def balance(recording: Recording, pod_zones: Mapping[str, str], tolerance: float = 0.5, *,
            pod_nodes: Mapping[str, str] | None = None, check_id: str = "AZ-BALANCE") -> CheckResult:
    """Pass when every pod (``pod_zones``: pod -> zone) served within ``mean * (1 ± tolerance)`` requests."""
    served = recording.per_pod()
    pods = sorted(set(pod_zones) | set(served))
    counts = {p: served.get(p, 0) for p in pods}
    total = sum(counts.values())
    mean = total / len(pods) if pods else 0.0
    low, high = mean * (1 - tolerance), mean * (1 + tolerance)
    outside = [p for p in pods if not low <= counts[p] <= high]
    deviation = max((abs(n - mean) / mean for n in counts.values()), default=0.0) if mean else 0.0
    placement = Counter(pod_zones.get(p, "unknown") for p in pods)
    figures: dict[str, Any] = {"requests": total, "pods": len(pods), "mean": round(mean, 1),
                               "min": min(counts.values(), default=0), "max": max(counts.values(), default=0),
                               "max_deviation": round(deviation, 3)}
    evidence = [f"pods per zone: {', '.join(f'{z}: {n}' for z, n in sorted(placement.items()))}"]
    if pod_nodes:
        per_node = Counter(pod_nodes.get(p, "unknown") for p in pods)
        evidence.append(f"pods per node: {', '.join(f'{n}: {c}' for n, c in sorted(per_node.items()))}")
    for p in pods:
        mark = " OUTSIDE" if p in outside else ""
        share = counts[p] / total if total else 0.0
        evidence.append(f"{p} ({pod_zones.get(p, 'unknown zone')}): {counts[p]} requests ({share:.1%}){mark}")
    if not total:
        return CheckResult(check_id, False, "no successful requests were served", tuple(evidence), figures)
    if outside:
        return CheckResult(check_id, False, f"{len(outside)} of {len(pods)} pods served outside "
                           f"{low:.0f}..{high:.0f} requests (mean {mean:.0f} ± {tolerance:.0%}); "
                           f"max deviation {deviation:.0%}", tuple(evidence), figures)
    return CheckResult(check_id, True, f"{len(pods)} pods each served within {tolerance:.0%} of the mean "
                       f"({mean:.0f}); max deviation {deviation:.0%}", tuple(evidence), figures)
