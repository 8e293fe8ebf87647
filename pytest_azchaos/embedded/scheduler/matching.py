"""Node selectors, tolerations and topology terms, matched as upstream's helpers do.

Pure functions over API dicts; a node selector term with no requirements matches nothing. Label
selectors live in :mod:`..apiserver.selectors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Obj = Mapping[str, Any]


def labels_of(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _requirement_matches(expr: Obj, values_by_key: Mapping[str, str]) -> bool:
    key, op, values = expr.get("key"), expr.get("operator"), list(expr.get("values") or [])
    present = key in values_by_key
    value = values_by_key.get(key)
    if op == "In":
        return present and value in values
    if op == "NotIn":
        return not present or value not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if not present or len(values) != 1:
            return False
        have, want = _int_or_none(value or ""), _int_or_none(values[0])
        if have is None or want is None:
            return False
        return have > want if op == "Gt" else have < want
    return False


def node_selector_term_matches(term: Obj, node: Obj) -> bool:
    """One ``NodeSelectorTerm``: all matchExpressions (labels) and matchFields (``metadata.name``)."""
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False
    labels = labels_of(node)
    if not all(_requirement_matches(e, labels) for e in exprs):
        return False
    name = {"metadata.name": (node.get("metadata") or {}).get("name", "")}
    return all(_requirement_matches(f, name) for f in fields)


def node_selector_matches(selector: Obj | None, node: Obj) -> bool:
    """A ``NodeSelector``: the terms are ORed; no terms matches nothing."""
    if selector is None:
        return True
    return any(node_selector_term_matches(t, node) for t in selector.get("nodeSelectorTerms") or [])


def has_required_node_affinity(pod: Obj) -> bool:
    """Whether the pod restricts its nodes at all (nodeSelector or required node affinity)."""
    spec = pod.get("spec") or {}
    return bool(spec.get("nodeSelector") or (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                                             .get("requiredDuringSchedulingIgnoredDuringExecution")))


def required_node_affinity_matches(pod: Obj, node: Obj) -> bool:
    """``nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)``: nodeSelector AND required node affinity."""
    spec = pod.get("spec") or {}
    labels = labels_of(node)
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    return node_selector_matches(required, node)


def toleration_tolerates(toleration: Obj, taint: Obj) -> bool:
    """``Toleration.ToleratesTaint``: effect (empty = all), key (empty + Exists = all), Equal/Exists."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerated(taint: Obj, tolerations: Iterable[Obj]) -> bool:
    return any(toleration_tolerates(t, taint) for t in tolerations)


def untolerated_taints(node: Obj, pod: Obj, effects: tuple[str, ...]) -> list[Obj]:
    """The node's taints with one of ``effects`` that none of the pod's tolerations tolerates."""
    tolerations = (pod.get("spec") or {}).get("tolerations") or []
    taints = (node.get("spec") or {}).get("taints") or []
    return [t for t in taints if t.get("effect") in effects and not tolerated(t, tolerations)]


def topology_terms_match(terms: Iterable[Obj] | None, labels: Mapping[str, str]) -> bool:
    """``MatchTopologySelectorTerms`` (StorageClass allowedTopologies): no terms matches everything."""
    terms = list(terms or [])
    if not terms:
        return True
    for term in terms:
        exprs = term.get("matchLabelExpressions") or []
        if all(labels.get(e.get("key")) in (e.get("values") or []) for e in exprs):
            return True
    return False
