"""PodTopologySpread: the DoNotSchedule filter and the ScheduleAnyway score, with system defaults.

Pods with a deletionTimestamp and pods of other namespaces are not counted. Defaults for nodes'
inclusion: ``nodeAffinityPolicy: Honor``, ``nodeTaintsPolicy: Ignore`` (so a cordoned, tainted zone still
counts as an empty domain), ``minDomains: 1``. A pod with no constraints of its own gets the system
defaults (hostname maxSkew 3, zone maxSkew 5, ScheduleAnyway) with a selector merged from the
Services / RCs / ReplicaSets / StatefulSets that own or select it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..apiserver.selectors import label_selector_matches, set_selector_matches
from ..rules.node_affinity import has_required_node_affinity, required_node_affinity_matches
from ..rules.tolerations import untolerated_taints
from .matching import Obj, labels_of
from .model import NodeInfo, Status, Workloads, is_terminating, name_of, namespace_of, reject

ERR_CONSTRAINTS = "node(s) didn't match pod topology spread constraints"
ERR_MISSING_LABEL = ERR_CONSTRAINTS + " (missing required label)"
HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
MAX_NODE_SCORE = 100
SYSTEM_DEFAULTS = (
    {"topologyKey": HOSTNAME, "whenUnsatisfiable": "ScheduleAnyway", "maxSkew": 3},
    {"topologyKey": ZONE, "whenUnsatisfiable": "ScheduleAnyway", "maxSkew": 5},
)

Selector = Callable[[Mapping[str, str]], bool]


@dataclass(frozen=True)
class Constraint:
    max_skew: int
    key: str
    selector: Selector
    selector_key: Any  # names ``selector`` (hashable), for NodeInfo's memo of matching pods
    min_domains: int = 1
    node_affinity_policy: str = "Honor"
    node_taints_policy: str = "Ignore"

    def includes(self, pod: Obj, node: Obj) -> bool:
        """``matchNodeInclusionPolicies``: whether the node's domain counts at all."""
        if (self.node_affinity_policy == "Honor" and has_required_node_affinity(pod)
                and not required_node_affinity_matches(pod, node)):
            return False
        return not (self.node_taints_policy == "Honor" and untolerated_taints(node, pod, ("NoSchedule", "NoExecute")))


def _selector(label_selector: Obj | None, extra: Mapping[str, str]) -> Selector:
    def match(labels: Mapping[str, str]) -> bool:
        return set_selector_matches(extra, labels) and label_selector_matches(label_selector, labels)
    return match


def _selector_key(label_selector: Obj | None, extra: Mapping[str, str]) -> Any:
    """A hashable name for the selector ``_selector(label_selector, extra)`` builds."""
    return json.dumps(label_selector, sort_keys=True), tuple(sorted(extra.items()))


def pod_constraints(pod: Obj, action: str) -> list[Constraint]:
    """The pod's own constraints with ``whenUnsatisfiable == action`` (matchLabelKeys merged in)."""
    labels = labels_of(pod)
    out = []
    for c in (pod.get("spec") or {}).get("topologySpreadConstraints") or []:
        if c.get("whenUnsatisfiable", "DoNotSchedule") != action:
            continue
        extra = {k: labels[k] for k in c.get("matchLabelKeys") or [] if k in labels}
        out.append(Constraint(
            max_skew=int(c.get("maxSkew", 1)),
            key=c.get("topologyKey", ""),
            selector=_selector(c.get("labelSelector"), extra),
            selector_key=_selector_key(c.get("labelSelector"), extra),
            min_domains=int(c.get("minDomains") or 1),
            node_affinity_policy=c.get("nodeAffinityPolicy") or "Honor",
            node_taints_policy=c.get("nodeTaintsPolicy") or "Ignore",
        ))
    return out


def default_selector(pod: Obj, workloads: Workloads) -> tuple[Selector, Any] | None:
    """``helper.DefaultSelector``: Services selecting the pod, plus its controller's selector."""
    namespace, labels = namespace_of(pod), labels_of(pod)
    merged: dict[str, str] = {}
    for svc in workloads.services:
        selector = (svc.get("spec") or {}).get("selector")
        if namespace_of(svc) == namespace and selector and set_selector_matches(selector, labels):
            merged.update(selector)
    owner = next((o for o in (pod.get("metadata") or {}).get("ownerReferences") or [] if o.get("controller")), None)
    label_selector: Obj | None = None
    if owner is not None:
        kind, name = owner.get("kind"), owner.get("name")
        candidates = {"ReplicationController": workloads.replication_controllers,
                      "ReplicaSet": workloads.replica_sets, "StatefulSet": workloads.stateful_sets}.get(kind, ())
        for obj in candidates:
            if name_of(obj) == name and namespace_of(obj) == namespace:
                selector = (obj.get("spec") or {}).get("selector") or {}
                if kind == "ReplicationController":
                    merged.update(selector)
                else:
                    label_selector = selector
    if not merged and label_selector is None:
        return None
    label_selector = label_selector if label_selector is not None else {}
    return _selector(label_selector, merged), _selector_key(label_selector, merged)


def _count(info: NodeInfo, c: Constraint, namespace: str) -> int:
    """The node's pods in ``namespace``, not terminating, that ``c`` selects (memoized on the node)."""
    selector = c.selector

    def match(p: Obj) -> bool:
        return not is_terminating(p) and namespace_of(p) == namespace and selector(labels_of(p))

    return info.count_matching(("PodTopologySpread", namespace, c.selector_key), match)


def _has_keys(info: NodeInfo, constraints: list[Constraint]) -> bool:
    labels = info.labels
    return all(c.key in labels for c in constraints)


@dataclass
class FilterState:
    constraints: list[Constraint]
    counts: list[dict[str, int]] = field(default_factory=list)


def pre_filter(pod: Obj, infos: list[NodeInfo]) -> FilterState:
    """Matching pods per domain over *all* nodes, for the DoNotSchedule constraints."""
    constraints = pod_constraints(pod, "DoNotSchedule")
    state = FilterState(constraints, [{} for _ in constraints])
    if not constraints:
        return state
    namespace = namespace_of(pod)
    for info in infos:
        if not _has_keys(info, constraints):
            continue
        for i, c in enumerate(constraints):
            if not c.includes(pod, info.node):
                continue
            value = info.labels[c.key]
            state.counts[i][value] = state.counts[i].get(value, 0) + _count(info, c, namespace)
    return state


def filter_node(pod: Obj, info: NodeInfo, state: FilterState) -> Status | None:
    labels = info.labels
    pod_labels = labels_of(pod)
    for i, c in enumerate(state.constraints):
        if c.key not in labels:
            return reject("PodTopologySpread", ERR_MISSING_LABEL, resolvable=False)
        counts = state.counts[i]
        minimum = min(counts.values()) if counts else 0
        if len(counts) < c.min_domains:
            minimum = 0
        self_match = 1 if c.selector(pod_labels) else 0
        if counts.get(labels[c.key], 0) + self_match - minimum > c.max_skew:
            return reject("PodTopologySpread", ERR_CONSTRAINTS)
    return None


def score(pod: Obj, feasible: list[NodeInfo], all_nodes: list[NodeInfo], workloads: Workloads) -> dict[str, int]:
    """Normalized 0..100 scores (fewer matching pods in the node's domains = higher), or {} to skip."""
    own = (pod.get("spec") or {}).get("topologySpreadConstraints") or []
    if own:
        constraints = pod_constraints(pod, "ScheduleAnyway")
        require_all = True
    else:
        default = default_selector(pod, workloads)
        constraints = [] if default is None else [
            Constraint(max_skew=d["maxSkew"], key=d["topologyKey"], selector=default[0], selector_key=default[1])
            for d in SYSTEM_DEFAULTS]
        require_all = False
    if not constraints:
        return {}
    namespace = namespace_of(pod)
    ignored: set[str] = set()
    counts: list[dict[str, int]] = [{} for _ in constraints]
    for info in feasible:
        if require_all and not _has_keys(info, constraints):
            ignored.add(info.name)
            continue
        for i, c in enumerate(constraints):
            if c.key != HOSTNAME and c.key in info.labels:
                counts[i].setdefault(info.labels[c.key], 0)
    weights = []
    for i, c in enumerate(constraints):
        size = len(feasible) - len(ignored) if c.key == HOSTNAME else len(counts[i])
        weights.append(math.log(size + 2))
    domain_constraints = [(i, c) for i, c in enumerate(constraints) if c.key != HOSTNAME]
    for info in all_nodes:
        if require_all and not _has_keys(info, constraints):
            continue
        for i, c in domain_constraints:
            value = info.labels.get(c.key)
            if value not in counts[i] or not c.includes(pod, info.node):
                continue
            counts[i][value] += _count(info, c, namespace)
    raw: dict[str, int] = {}
    for info in feasible:
        if info.name in ignored:
            continue
        total = 0.0
        for i, c in enumerate(constraints):
            value = info.labels.get(c.key)
            if value is None:
                continue
            cnt = _count(info, c, namespace) if c.key == HOSTNAME else counts[i][value]
            total += cnt * weights[i] + (c.max_skew - 1)
        raw[info.name] = _round_half_away(total)
    return _normalize(raw, [i.name for i in feasible])


def _round_half_away(value: float) -> int:
    """Go's ``math.Round``: halves go away from zero (Python's ``round`` goes to even)."""
    return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)


def _normalize(raw: Mapping[str, int], names: list[str]) -> dict[str, int]:
    if not raw:
        return {n: 0 for n in names}
    lowest, highest = min(raw.values()), max(raw.values())
    out = {}
    for name in names:
        if name not in raw:
            out[name] = 0
        elif highest == 0:
            out[name] = MAX_NODE_SCORE
        else:
            out[name] = MAX_NODE_SCORE * (highest + lowest - raw[name]) // highest
    return out
