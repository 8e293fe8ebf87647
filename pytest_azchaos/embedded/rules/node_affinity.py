"""Required node affinity: ``nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)`` and node selectors.

Upstream ``k8s.io/component-helpers/scheduling/corev1/nodeaffinity``: a pod fits a node when its
``nodeSelector`` map matches the node's labels and its required node affinity (if any) does. A
``NodeSelector`` ORs its terms (no terms matches nothing); a term ANDs its ``matchExpressions``
(node labels) and ``matchFields`` (only ``metadata.name``), and a term with neither matches
nothing. Requirements use the label selector operators ``In NotIn Exists DoesNotExist Gt Lt``
(``Gt``/``Lt`` take exactly one integer); any other operator matches nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..apiserver.selectors import requirement_matches, set_selector_matches

Obj = Mapping[str, Any]

_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!", "Gt": "gt", "Lt": "lt"}


def _labels(node: Obj) -> Mapping[str, str]:
    return (node.get("metadata") or {}).get("labels") or {}


def node_requirement_matches(expr: Obj, values_by_key: Mapping[str, str]) -> bool:
    """One ``NodeSelectorRequirement`` against node labels (or fields)."""
    op = _OPS.get(expr.get("operator") or "")
    if op is None:
        return False
    return requirement_matches(expr.get("key"), op, expr.get("values") or (), values_by_key)


def node_selector_term_matches(term: Obj, node: Obj) -> bool:
    """One ``NodeSelectorTerm``: all matchExpressions (labels) and matchFields (``metadata.name``)."""
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False
    labels = _labels(node)
    if not all(node_requirement_matches(e, labels) for e in exprs):
        return False
    name = {"metadata.name": (node.get("metadata") or {}).get("name", "")}
    return all(node_requirement_matches(f, name) for f in fields)


def node_selector_matches(selector: Obj | None, node: Obj) -> bool:
    """A ``NodeSelector`` (None: no constraint): the terms are ORed; no terms matches nothing."""
    if selector is None:
        return True
    return any(node_selector_term_matches(t, node) for t in selector.get("nodeSelectorTerms") or [])


def _required(spec: Obj) -> Obj | None:
    node_affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    return node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")


def has_required_node_affinity(pod: Obj) -> bool:
    """Whether the pod restricts its nodes at all (nodeSelector or required node affinity)."""
    spec = pod.get("spec") or {}
    return bool(spec.get("nodeSelector") or _required(spec))


def required_node_affinity_matches(pod: Obj, node: Obj) -> bool:
    """``nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)``: nodeSelector AND required node affinity."""
    spec = pod.get("spec") or {}
    return (set_selector_matches(spec.get("nodeSelector"), _labels(node))
            and node_selector_matches(_required(spec), node))
