"""JSON merge patch (RFC 7386): maps merge recursively, ``null`` deletes, anything else replaces."""

from __future__ import annotations

from typing import Any

from ..objects import deep_copy


def merge_patch(target: Any, patch: Any) -> Any:
    """JSON merge patch: maps merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return deep_copy(patch)
    out = deep_copy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out
