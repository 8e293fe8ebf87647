"""Node scores of the default profile that need only the node itself, and the weighted total.

NodeResourcesFit (LeastAllocated over non-zero requests), NodeResourcesBalancedAllocation (actual
requests, skipped for best-effort pods), TaintToleration (PreferNoSchedule) and NodeAffinity
(preferred terms). Each returns 0..100 per node after the plugin's own normalization.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..rules.node_affinity import node_selector_term_matches
from ..rules.tolerations import tolerated
from .matching import Obj
from .model import NodeInfo
from .resources import pod_requests

MAX_NODE_SCORE = 100
SCORED_RESOURCES = ("cpu", "memory")

# Default-profile weights (``default_plugins.go``); ImageLocality is 0 everywhere without image data.
WEIGHTS = {
    "TaintToleration": 3,
    "NodeAffinity": 2,
    "PodTopologySpread": 2,
    "InterPodAffinity": 2,
    "NodeResourcesFit": 1,
    "NodeResourcesBalancedAllocation": 1,
}


def default_normalize(raw: Mapping[str, int], reverse: bool) -> dict[str, int]:
    """``helper.DefaultNormalizeScore``: scale to 0..100 by the maximum, optionally reversed."""
    highest = max(raw.values(), default=0)
    if highest == 0:
        return {n: (MAX_NODE_SCORE if reverse else 0) for n in raw}
    out = {}
    for name, value in raw.items():
        scaled = MAX_NODE_SCORE * value // highest
        out[name] = MAX_NODE_SCORE - scaled if reverse else scaled
    return out


def least_allocated(pod: Obj, nodes: list[NodeInfo]) -> dict[str, int]:
    request = pod_requests(pod, non_zero=True)
    out = {}
    for info in nodes:
        total = weight = 0
        for resource in SCORED_RESOURCES:
            capacity = info.allocatable.get(resource, 0)
            if capacity == 0:
                continue
            used = info.non_zero_requested.get(resource, 0) + request.get(resource, 0)
            total += 0 if used > capacity else (capacity - used) * MAX_NODE_SCORE // capacity
            weight += 1
        out[info.name] = total // weight if weight else 0
    return out


def balanced_allocation(pod: Obj, nodes: list[NodeInfo]) -> dict[str, int]:
    request = pod_requests(pod)
    if all(request.get(r, 0) == 0 for r in SCORED_RESOURCES):
        return {info.name: 0 for info in nodes}  # best-effort pods skip this plugin
    out = {}
    for info in nodes:
        fractions = []
        for resource in SCORED_RESOURCES:
            capacity = info.allocatable.get(resource, 0)
            if capacity == 0:
                continue
            used = info.requested.get(resource, 0) + request.get(resource, 0)
            fractions.append(min(used / capacity, 1.0))
        std = 0.0
        if len(fractions) == 2:
            std = abs((fractions[0] - fractions[1]) / 2)
        elif len(fractions) > 2:
            mean = sum(fractions) / len(fractions)
            std = (sum((f - mean) ** 2 for f in fractions) / len(fractions)) ** 0.5
        out[info.name] = int((1 - std) * MAX_NODE_SCORE)
    return out


def taint_toleration(pod: Obj, nodes: list[NodeInfo]) -> dict[str, int]:
    tolerations = [t for t in (pod.get("spec") or {}).get("tolerations") or []
                   if (t.get("effect") or "") in ("", "PreferNoSchedule")]
    raw = {}
    for info in nodes:
        taints = info.taints
        raw[info.name] = sum(1 for t in taints
                             if t.get("effect") == "PreferNoSchedule" and not tolerated(t, tolerations))
    return default_normalize(raw, reverse=True)


def node_affinity(pod: Obj, nodes: list[NodeInfo]) -> dict[str, int]:
    preferred = (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}).get(
        "preferredDuringSchedulingIgnoredDuringExecution") or []
    if not preferred:
        return {info.name: 0 for info in nodes}
    raw = {}
    for info in nodes:
        raw[info.name] = sum(int(p.get("weight") or 0) for p in preferred
                             if node_selector_term_matches(p.get("preference") or {}, info.node))
    return default_normalize(raw, reverse=False)
