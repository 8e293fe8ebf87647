"""Node labels and StorageClass topology terms, matched as upstream's helpers do.

Pure functions over API dicts. Label selectors live in :mod:`..apiserver.selectors`, tolerations
and required node affinity in :mod:`..rules`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Obj = Mapping[str, Any]


def labels_of(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


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
