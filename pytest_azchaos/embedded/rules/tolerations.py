"""Tolerations against taints: ``v1.Toleration.ToleratesTaint`` (``k8s.io/api/core/v1/toleration.go``).

A toleration with an effect only tolerates taints of that effect (no effect: all effects); with a
key only taints of that key (no key and ``Exists``: every taint). Operator ``Equal`` (or none)
compares the values, ``Exists`` matches any value, and any other operator matches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Obj = Mapping[str, Any]


def toleration_tolerates(toleration: Obj, taint: Obj) -> bool:
    """``Toleration.ToleratesTaint``."""
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
    """Whether any of ``tolerations`` tolerates ``taint`` (``TolerationsTolerateTaint``)."""
    return any(toleration_tolerates(t, taint) for t in tolerations)


def matching_tolerations(taint: Obj, tolerations: Iterable[Obj]) -> list[Obj]:
    """The tolerations that tolerate ``taint``, in their order (part of ``GetMatchingTolerations``)."""
    return [t for t in tolerations if toleration_tolerates(t, taint)]


def untolerated_taints(node: Obj, pod: Obj, effects: tuple[str, ...]) -> list[Obj]:
    """The node's taints with one of ``effects`` that none of the pod's tolerations tolerates."""
    tolerations = (pod.get("spec") or {}).get("tolerations") or []
    taints = (node.get("spec") or {}).get("taints") or []
    return [t for t in taints if t.get("effect") in effects and not tolerated(t, tolerations)]
