"""Read the few Kubernetes fields the AWS side needs from either plain dicts or official-client models."""

from __future__ import annotations

from typing import Any

from ..wellknown import ZONE_LABELS


def get(obj: Any, *path: str) -> Any:
    """Follow camelCase ``path`` through dicts, or its snake_case twin through client models."""
    for key in path:
        if obj is None:
            return None
        obj = obj.get(key) if isinstance(obj, dict) else getattr(obj, _snake(key), None)
    return obj


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out).replace("provider_i_d", "provider_id")


def name_of(obj: Any) -> str:
    return get(obj, "metadata", "name") or ""


def zone_label(obj: Any) -> str | None:
    labels = get(obj, "metadata", "labels") or {}
    return next((labels[k] for k in ZONE_LABELS if labels.get(k)), None)
