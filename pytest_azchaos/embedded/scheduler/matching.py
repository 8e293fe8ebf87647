"""Node labels, tolerations and StorageClass topology terms, matched as upstream's helpers do.

Pure functions over API dicts. Label selectors live in :mod:`..apiserver.selectors`, required
node affinity in :mod:`..rules.node_affinity`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Obj = Mapping[str, Any]


def labels_of(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


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
