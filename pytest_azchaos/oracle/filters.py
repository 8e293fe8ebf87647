"""The scheduler's filters the oracle needs, over API JSON: enough to say where a replacement pod can go.

Upstream order and reason strings (``k8s:pkg/scheduler/framework/plugins``, v1.36 wording; a node reports the
first filter it fails): NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit, VolumeBinding (the
bound PV's node affinity), PodTopologySpread (DoNotSchedule constraints, with ``nodeAffinityPolicy``,
``nodeTaintsPolicy`` and ``minDomains``), InterPodAffinity (existing pods' anti-affinity, the pod's own
anti-affinity, then its affinity). Scoring is approximated (least-crowded domain first): the oracle predicts
whether and in which zones replicas fit, not the exact node the scheduler will pick.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..wellknown import LEGACY_ZONE_LABEL, ZONE_LABEL
from .model import (
    UNSCHEDULABLE_TAINT,
    ClusterState,
    Obj,
    allocatable_of,
    finished,
    labels_of,
    matches_node_selector_terms,
    matches_selector,
    name_of,
    node_of_pod,
    requests_of,
    taints_of,
    terminating,
    tolerates,
    untolerated,
)

UNSCHEDULABLE = "node(s) were unschedulable"
TAINTED = "node(s) had untolerated taint(s)"
NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
TOO_MANY_PODS = "Too many pods"
VOLUME_AFFINITY = "node(s) didn't match PersistentVolume's node affinity"
VOLUME_ZONE = "node(s) had no available volume zone"
SPREAD = "node(s) didn't match pod topology spread constraints"
SPREAD_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)"
EXISTING_ANTI = "node(s) didn't satisfy existing pods anti-affinity rules"
ANTI = "node(s) didn't match pod anti-affinity rules"
AFFINITY = "node(s) didn't match pod affinity rules"


def fit_error(total: int, reasons: Counter[str]) -> str:
    """``FitError.Error()``: ``0/N nodes are available: <count reason>, ...`` sorted as strings."""
    parts = sorted(f"{n} {r}" for r, n in reasons.items())
    return f"0/{total} nodes are available: {', '.join(parts)}."


def _spec(pod: Obj) -> Obj:
    return pod.get("spec") or {}


def node_affinity_ok(pod: Obj, node: Obj) -> bool:
    """``nodeSelector`` and required node affinity (NodeAffinity filter)."""
    labels = labels_of(node)
    if any(labels.get(k) != v for k, v in (_spec(pod).get("nodeSelector") or {}).items()):
        return False
    required = (((_spec(pod).get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    return required is None or matches_node_selector_terms(required.get("nodeSelectorTerms"), node)


def _namespaces(term: Obj, pod: Obj) -> set[str]:
    return set(term.get("namespaces") or ()) or {pod["metadata"].get("namespace", "")}


def _term_selector(term: Obj, pod: Obj) -> Obj | None:
    """The term's selector with ``matchLabelKeys`` folded in (values from ``pod``'s labels)."""
    selector = term.get("labelSelector")
    keys = term.get("matchLabelKeys") or ()
    if selector is None or not keys:
        return selector
    labels = labels_of(pod)
    extra = [{"key": k, "operator": "In", "values": [labels[k]]} for k in keys if k in labels]
    return {**selector, "matchExpressions": [*(selector.get("matchExpressions") or []), *extra]}


@dataclass
class Simulation:
    """Nodes and pods as they will be after the fault; ``place`` puts replacement pods one by one."""

    state: ClusterState
    nodes: list[Obj]
    pods: list[Obj]

    # ------------------------------------------------------------------ helpers

    def _assigned(self) -> list[Obj]:
        return [p for p in self.pods if node_of_pod(p) and not finished(p)]

    def requested(self, node_name: str) -> tuple[dict[str, Decimal], int]:
        total: dict[str, Decimal] = {}
        count = 0
        for p in self._assigned():
            if node_of_pod(p) != node_name:
                continue
            count += 1
            for k, v in requests_of(p).items():
                total[k] = total.get(k, Decimal(0)) + v
        return total, count

    def _node_labels(self, name: str | None) -> dict[str, str]:
        node = next((n for n in self.nodes if name_of(n) == name), None)
        return labels_of(node) if node else {}

    # ------------------------------------------------------------------ filters

    def resources(self, pod: Obj, node: Obj) -> list[str]:
        alloc = allocatable_of(node)
        used, count = self.requested(name_of(node))
        out = []
        if "pods" in alloc and count + 1 > alloc["pods"]:
            out.append(TOO_MANY_PODS)
        for k, v in sorted(requests_of(pod).items()):
            if v and v > alloc.get(k, Decimal(0)) - used.get(k, Decimal(0)):
                out.append(f"Insufficient {k}")
        return out

    def volume_ok(self, pod: Obj, node: Obj) -> bool:
        """VolumeBinding's check of a bound PV's required node affinity."""
        for _, pv in self.state.pod_pvs(pod):
            required = (((pv or {}).get("spec") or {}).get("nodeAffinity") or {}).get("required")
            if required and not matches_node_selector_terms(required.get("nodeSelectorTerms"), node):
                return False
        return True

    def volume_zone_ok(self, pod: Obj, node: Obj) -> bool:
        """VolumeZone: a bound PV's zone *labels* (values joined by ``__``) must include the node's zone."""
        node_labels = labels_of(node)
        for _, pv in self.state.pod_pvs(pod):
            for key, value in labels_of(pv or {"metadata": {}}).items():
                if key in (ZONE_LABEL, LEGACY_ZONE_LABEL) and node_labels.get(key) not in value.split("__"):
                    return False
        return True

    def spread_result(self, pod: Obj, node: Obj) -> str | None:
        """None when every DoNotSchedule constraint allows ``node``, else the reason."""
        hard = [c for c in _spec(pod).get("topologySpreadConstraints") or ()
                if c.get("whenUnsatisfiable", "DoNotSchedule") == "DoNotSchedule"]
        if not hard:
            return None
        node_labels = labels_of(node)
        if any(c["topologyKey"] not in node_labels for c in hard):
            return SPREAD_LABEL
        ns = pod["metadata"].get("namespace", "")
        keys = {c["topologyKey"] for c in hard}
        for c in hard:
            selector = _term_selector(c, pod)
            eligible = [n for n in self.nodes if keys <= set(labels_of(n)) and self.spread_eligible(pod, n, c)]
            domains = {labels_of(n)[c["topologyKey"]] for n in eligible}
            counts: Counter[str] = Counter({d: 0 for d in domains})
            eligible_names = {name_of(n): labels_of(n)[c["topologyKey"]] for n in eligible}
            for p in self._assigned():
                if terminating(p) or p["metadata"].get("namespace", "") != ns:
                    continue
                domain = eligible_names.get(node_of_pod(p) or "")
                if domain is not None and matches_selector(selector, labels_of(p)):
                    counts[domain] += 1
            min_match = min(counts.values()) if counts else 0
            if int(c.get("minDomains") or 1) > len(domains):
                min_match = 0
            self_match = 1 if matches_selector(selector, labels_of(pod)) else 0
            skew = counts.get(node_labels[c["topologyKey"]], 0) + self_match - min_match
            if skew > int(c.get("maxSkew", 1)):
                return SPREAD
        return None

    def spread_eligible(self, pod: Obj, node: Obj, constraint: Obj) -> bool:
        """Does ``node`` count as a domain member for ``constraint`` (nodeAffinityPolicy / nodeTaintsPolicy)?"""
        if constraint.get("nodeAffinityPolicy", "Honor") == "Honor" and not node_affinity_ok(pod, node):
            return False
        return not (constraint.get("nodeTaintsPolicy", "Ignore") == "Honor" and untolerated(pod, taints_of(node)))

    def interpod(self, pod: Obj, node: Obj) -> str | None:
        """InterPodAffinity's filter in upstream order: the pod's affinity, its anti-affinity, then the existing
        pods' anti-affinity against it."""
        node_labels = labels_of(node)
        ns = pod["metadata"].get("namespace", "")
        assigned = self._assigned()
        affinity = _spec(pod).get("affinity") or {}
        for term in (affinity.get("podAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or ():
            key = term.get("topologyKey")
            selector = _term_selector(term, pod)
            matching = [p for p in assigned if p["metadata"].get("namespace", "") in _namespaces(term, pod)
                        and matches_selector(selector, labels_of(p))]
            if not matching and matches_selector(selector, labels_of(pod)):
                continue  # the first pod of a self-affine group may go anywhere
            if key not in node_labels or not any(self._node_labels(node_of_pod(p)).get(key) == node_labels[key]
                                                 for p in matching):
                return AFFINITY
        for term in (affinity.get("podAntiAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or ():
            key = term.get("topologyKey")
            if key not in node_labels:
                continue
            for p in assigned:
                if p["metadata"].get("namespace", "") in _namespaces(term, pod) and \
                        self._node_labels(node_of_pod(p)).get(key) == node_labels[key] and \
                        matches_selector(_term_selector(term, pod), labels_of(p)):
                    return ANTI
        for p in assigned:
            for term in ((_spec(p).get("affinity") or {}).get("podAntiAffinity") or {}).get(
                    "requiredDuringSchedulingIgnoredDuringExecution") or ():
                key = term.get("topologyKey")
                if key not in node_labels or ns not in _namespaces(term, p):
                    continue
                if self._node_labels(node_of_pod(p)).get(key) == node_labels[key] and \
                        matches_selector(_term_selector(term, p), labels_of(pod)):
                    return EXISTING_ANTI
        return None

    def reasons(self, pod: Obj, node: Obj) -> list[str]:
        """Why ``node`` cannot take ``pod`` (empty: it can), first failing filter only, as upstream."""
        spec = node.get("spec") or {}
        tolerations = _spec(pod).get("tolerations") or []
        if spec.get("unschedulable") and not any(
                tolerates(t, {"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"}) for t in tolerations):
            return [UNSCHEDULABLE]
        if untolerated(pod, taints_of(node)):
            return [TAINTED]
        if not node_affinity_ok(pod, node):
            return [NODE_AFFINITY]
        lacking = self.resources(pod, node)
        if lacking:
            return lacking
        if not self.volume_ok(pod, node):
            return [VOLUME_AFFINITY]
        if not self.volume_zone_ok(pod, node):
            return [VOLUME_ZONE]
        spread = self.spread_result(pod, node)
        if spread:
            return [spread]
        inter = self.interpod(pod, node)
        return [inter] if inter else []

    # ------------------------------------------------------------------ placement

    def _score(self, pod: Obj, node: Obj) -> tuple[Any, ...]:
        """Lower is better: fewest matching pods in the node's domain for each spread constraint, then on the
        node, then the most free cpu (a stand-in for PodTopologySpread / balanced-allocation scoring)."""
        ns = pod["metadata"].get("namespace", "")
        node_labels = labels_of(node)
        keys = []
        for c in _spec(pod).get("topologySpreadConstraints") or ():
            value = node_labels.get(c["topologyKey"])
            keys.append(sum(1 for p in self._assigned() if not terminating(p)
                            and p["metadata"].get("namespace", "") == ns
                            and self._node_labels(node_of_pod(p)).get(c["topologyKey"]) == value
                            and matches_selector(c.get("labelSelector"), labels_of(p))))
        same = sum(1 for p in self._assigned() if node_of_pod(p) == name_of(node) and not terminating(p)
                   and labels_of(p) == labels_of(pod))
        used, _ = self.requested(name_of(node))
        free = allocatable_of(node).get("cpu", Decimal(0)) - used.get("cpu", Decimal(0))
        return (*keys, same, -free, name_of(node))

    def place(self, pod: Obj) -> tuple[str | None, Counter[str]]:
        """Bind ``pod`` to the best feasible node (it joins ``pods``); (node or None, reasons per node)."""
        reasons: Counter[str] = Counter()
        feasible = []
        for node in self.nodes:
            why = self.reasons(pod, node)
            if why:
                reasons.update(why)
            else:
                feasible.append(node)
        if not feasible:
            self.pods.append(pod)
            return None, reasons
        best = min(feasible, key=lambda n: self._score(pod, n))
        placed = {**pod, "spec": {**_spec(pod), "nodeName": name_of(best)}}
        self.pods.append(placed)
        return name_of(best), reasons
