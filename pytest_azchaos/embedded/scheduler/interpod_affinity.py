"""InterPodAffinity: required pod (anti-)affinity as a filter, preferred terms as a score.

Counts are keyed by (topologyKey, value of the *existing* pod's node). An incoming pod whose affinity
terms match nothing anywhere may still go where its terms match itself (the first pod of a group).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..apiserver.selectors import label_selector_matches
from .matching import Obj, labels_of
from .model import NodeInfo, Status, Workloads, namespace_of, reject

ERR_AFFINITY = "node(s) didn't match pod affinity rules"
ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
MAX_NODE_SCORE = 100
HARD_POD_AFFINITY_WEIGHT = 1

Pair = tuple[str, str]


@dataclass(frozen=True)
class Term:
    """A parsed ``PodAffinityTerm`` of ``owner``: its selector, namespaces and topology key."""

    owner: Obj
    term: Obj
    weight: int = 1

    @property
    def topology_key(self) -> str:
        return self.term.get("topologyKey", "")

    def matches(self, pod: Obj, namespace_labels: Mapping[str, Mapping[str, str]]) -> bool:
        namespaces = set(self.term.get("namespaces") or [])
        ns_selector = self.term.get("namespaceSelector")
        if not namespaces and ns_selector is None:
            namespaces = {namespace_of(self.owner)}
        ns = namespace_of(pod)
        in_ns = ns in namespaces or (
            ns_selector is not None and label_selector_matches(ns_selector, namespace_labels.get(ns, {})))
        if not in_ns:
            return False
        selector = self.term.get("labelSelector")
        owner_labels = labels_of(self.owner)
        pod_labels = labels_of(pod)
        for key in self.term.get("matchLabelKeys") or []:
            if key in owner_labels and pod_labels.get(key) != owner_labels[key]:
                return False
        for key in self.term.get("mismatchLabelKeys") or []:
            if key in owner_labels and pod_labels.get(key) == owner_labels[key]:
                return False
        return label_selector_matches(selector, pod_labels)


def _affinity(pod: Obj, kind: str) -> Obj:
    return ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}


def required_terms(pod: Obj, kind: str) -> list[Term]:
    return [Term(pod, t) for t in _affinity(pod, kind).get("requiredDuringSchedulingIgnoredDuringExecution") or []]


def preferred_terms(pod: Obj, kind: str) -> list[Term]:
    return [Term(pod, t.get("podAffinityTerm") or {}, int(t.get("weight") or 0))
            for t in _affinity(pod, kind).get("preferredDuringSchedulingIgnoredDuringExecution") or []]


@dataclass
class FilterState:
    affinity: list[Term]
    anti_affinity: list[Term]
    affinity_counts: dict[Pair, int] = field(default_factory=dict)
    anti_affinity_counts: dict[Pair, int] = field(default_factory=dict)
    existing_anti_affinity_counts: dict[Pair, int] = field(default_factory=dict)

    @property
    def needed(self) -> bool:
        """Whether the filter can reject a node at all."""
        return bool(self.affinity or self.anti_affinity or self.existing_anti_affinity_counts)


def _bump(counts: dict[Pair, int], node_labels: Mapping[str, str], key: str) -> None:
    if key in node_labels:
        pair = (key, node_labels[key])
        counts[pair] = counts.get(pair, 0) + 1


def pre_filter(pod: Obj, infos: list[NodeInfo], workloads: Workloads) -> FilterState:
    ns_labels = workloads.namespace_labels
    state = FilterState(required_terms(pod, "podAffinity"), required_terms(pod, "podAntiAffinity"))
    own_terms = bool(state.affinity or state.anti_affinity)
    for info in infos:
        node_labels = info.labels
        for existing in info.pods_with_affinity:
            for term in required_terms(existing, "podAntiAffinity"):
                if term.matches(pod, ns_labels):
                    _bump(state.existing_anti_affinity_counts, node_labels, term.topology_key)
        if not own_terms:
            continue
        for existing in info.pods:
            if state.affinity and all(t.matches(existing, ns_labels) for t in state.affinity):
                for term in state.affinity:
                    _bump(state.affinity_counts, node_labels, term.topology_key)
            for term in state.anti_affinity:
                if term.matches(existing, ns_labels):
                    _bump(state.anti_affinity_counts, node_labels, term.topology_key)
    return state


def filter_node(pod: Obj, info: NodeInfo, state: FilterState, workloads: Workloads) -> Status | None:
    labels = info.labels
    if state.affinity:
        pods_exist = True
        for term in state.affinity:
            if term.topology_key not in labels:
                return reject("InterPodAffinity", ERR_AFFINITY, resolvable=False)
            if state.affinity_counts.get((term.topology_key, labels[term.topology_key]), 0) <= 0:
                pods_exist = False
        if not pods_exist and not (
            not state.affinity_counts and all(t.matches(pod, workloads.namespace_labels) for t in state.affinity)
        ):
            return reject("InterPodAffinity", ERR_AFFINITY, resolvable=False)
    for term in state.anti_affinity:
        key = term.topology_key
        if key in labels and state.anti_affinity_counts.get((key, labels[key]), 0) > 0:
            return reject("InterPodAffinity", ERR_ANTI_AFFINITY)
    for key, value in labels.items():
        if state.existing_anti_affinity_counts.get((key, value), 0) > 0:
            return reject("InterPodAffinity", ERR_EXISTING_ANTI_AFFINITY)
    return None


def score(pod: Obj, feasible: list[NodeInfo], all_nodes: list[NodeInfo], workloads: Workloads) -> dict[str, int]:
    """Preferred (anti-)affinity of the pod and of existing pods, summed per topology pair, min-max scaled."""
    ns_labels = workloads.namespace_labels
    mine = [(t, 1) for t in preferred_terms(pod, "podAffinity")]
    mine += [(t, -1) for t in preferred_terms(pod, "podAntiAffinity")]
    topology: dict[Pair, int] = {}

    def add(term: Term, weight: int, node_labels: Mapping[str, str]) -> None:
        key = term.topology_key
        if key in node_labels and weight:
            pair = (key, node_labels[key])
            topology[pair] = topology.get(pair, 0) + weight

    for info in all_nodes:
        node_labels = info.labels
        if mine:
            for existing in info.pods:
                for term, sign in mine:
                    if term.matches(existing, ns_labels):
                        add(term, sign * term.weight, node_labels)
        for existing in info.pods_with_affinity:
            for term in preferred_terms(existing, "podAffinity"):
                if term.matches(pod, ns_labels):
                    add(term, term.weight, node_labels)
            for term in required_terms(existing, "podAffinity"):
                if term.matches(pod, ns_labels):
                    add(term, HARD_POD_AFFINITY_WEIGHT, node_labels)
            for term in preferred_terms(existing, "podAntiAffinity"):
                if term.matches(pod, ns_labels):
                    add(term, -term.weight, node_labels)
    if not topology:
        return {}
    raw = {info.name: sum(v for (k, val), v in topology.items() if info.labels.get(k) == val) for info in feasible}
    lowest, highest = min(raw.values()), max(raw.values())
    spread = highest - lowest
    return {n: int(MAX_NODE_SCORE * (s - lowest) / spread) if spread > 0 else 0 for n, s in raw.items()}
