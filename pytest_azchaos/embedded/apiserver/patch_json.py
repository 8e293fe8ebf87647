"""JSON patch (RFC 6902): ``add``, ``remove``, ``replace``, ``move``, ``copy`` and ``test`` operations.

Any failure (a failed ``test`` too) changes nothing and answers upstream's generic 422.
"""

from __future__ import annotations

from typing import Any

from ..objects import deep_copy
from .errors import ApiError

_INVALID_JSON_PATCH = "the server rejected our request due to an error in our request"


def _failed() -> ApiError:
    # Upstream answers every failure to apply a JSON patch with this generic 422.
    return ApiError(422, "Invalid", _INVALID_JSON_PATCH, {})


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str):
        raise _failed()
    if path == "":
        return []
    if not path.startswith("/"):
        raise _failed()
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list[Any], token: str, allow_end: bool = False) -> int:
    if token.isdigit() and (token == "0" or not token.startswith("0")):
        i = int(token)
        if i < len(container) or (allow_end and i == len(container)):
            return i
    raise _failed()


def _walk(doc: Any, parts: list[str]) -> tuple[Any, str]:
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list):
            cur = cur[_index(cur, p)]
        else:
            raise _failed()
    return cur, parts[-1]


def _get(doc: Any, path: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent, last = _walk(doc, parts)
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last)]
    raise _failed()


def _add(doc: Any, path: Any, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _walk(doc, parts)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            parent.insert(_index(parent, last, allow_end=True), value)
    else:
        raise _failed()
    return doc


def _remove(doc: Any, path: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        raise _failed()
    parent, last = _walk(doc, parts)
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(parent, last)]
    else:
        raise _failed()
    return doc


def _replace(doc: Any, path: Any, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _walk(doc, parts)
    if isinstance(parent, dict) and last in parent:
        parent[last] = value
    elif isinstance(parent, list):
        parent[_index(parent, last)] = value
    else:
        raise _failed()
    return doc


def json_patch(current: Any, ops: list[Any]) -> Any:
    """Apply RFC 6902 operations in order; any failure (a failed ``test`` too) changes nothing."""
    if len(ops) > 10000:
        raise ApiError(413, "RequestEntityTooLarge",
                       f"Request entity too large: The allowed maximum operations in a JSON patch is 10000, got "
                       f"{len(ops)}", {})
    doc = deep_copy(current)
    for op in ops:
        if not isinstance(op, dict):
            raise _failed()
        kind, path = op.get("op"), op.get("path")
        if kind == "add":
            if "value" not in op:
                raise _failed()
            doc = _add(doc, path, deep_copy(op["value"]))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            if "value" not in op:
                raise _failed()
            doc = _replace(doc, path, deep_copy(op["value"]))
        elif kind == "move":
            value = _get(doc, op.get("from"))
            doc = _remove(doc, op.get("from"))
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, deep_copy(_get(doc, op.get("from"))))
        elif kind == "test":
            if not _json_equal(_get(doc, path), op.get("value")):
                raise _failed()
        else:
            raise _failed()
    return doc


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b if isinstance(a, bool) and isinstance(b, bool) else False
    return bool(a == b)
