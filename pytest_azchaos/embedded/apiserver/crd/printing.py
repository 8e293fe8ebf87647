"""``additionalPrinterColumns``: the Table columns of a custom resource and the CRD's own.

Cells are computed as upstream's CRD table convertor does: the first JSONPath result, ``string``
columns printed as text, ``integer``/``number``/``boolean`` as JSON values, ``date`` as an age,
and ``null`` when the path finds nothing. The JSONPath subset covers what CRDs use in practice:
``.a.b``, escaped dots (``.metadata.labels.karpenter\\.sh/nodepool``), ``[n]``, ``[*]``,
``['key']`` and ``[?(@.type=="Ready")]`` filters.
"""

from __future__ import annotations

import re
from typing import Any

from ...objects import parse_time
from ..tables import NAME_COLUMN, human_duration
from .types import CustomResourceType

Obj = dict[str, Any]

CREATED_AT = {
    "name": "Created At", "type": "date", "format": "",
    "description": "CreationTimestamp is a timestamp representing the server time when this object was created. "
    "It is not guaranteed to be set in happens-before order across separate operations. Clients may not set "
    "this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null "
    "for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md"
    "#metadata",
    "priority": 0,
}
_DEFAULT_AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def _columns_of(rtype: CustomResourceType) -> tuple[Obj, ...]:
    # A CRD without printer columns gets an Age column (upstream's default).
    return rtype.printer_columns or (_DEFAULT_AGE,)


def columns(rtype: CustomResourceType) -> list[Obj]:
    out = [NAME_COLUMN]
    for col in _columns_of(rtype):
        path = col.get("jsonPath", "")
        out.append({"name": col.get("name", ""), "type": col.get("type", "string"), "format": col.get("format", ""),
                    "description": col.get("description")
                    or f"Custom resource definition column (in JSONPath format): {path}",
                    "priority": int(col.get("priority", 0))})
    return out


def cells(rtype: CustomResourceType, obj: Obj) -> list[Any]:
    row: list[Any] = [obj["metadata"]["name"]]
    for col in _columns_of(rtype):
        results = find(obj, col.get("jsonPath", ""))
        if not results:
            row.append(None)
            continue
        row.append(_cell(col.get("type", "string"), results[0]))
    return row


def _cell(kind: str, value: Any) -> Any:
    if kind == "string":
        return _text(value)
    if kind == "integer":
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if kind == "number":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "date":
        ts = parse_time(value) if isinstance(value, str) else None
        if ts is None:
            return None
        import time

        return human_duration(time.time() - ts)
    return value


def _text(value: Any) -> str:
    """How the JSONPath printer writes a value (Go ``fmt`` of the decoded JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_text(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_text(v) for v in value) + "]"
    return str(value)


# ------------------------------------------------------------------------------------------- JSONPath

_FILTER = re.compile(r"""^\?\(@(\.[^=!\s]+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|(\S+?))\)$""")


def _tokens(path: str) -> list[tuple[str, Any]]:
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    out: list[tuple[str, Any]] = []
    i = 0
    while i < len(path):
        ch = path[i]
        if ch == ".":
            i += 1
            key = []
            while i < len(path) and path[i] not in ".[":
                if path[i] == "\\" and i + 1 < len(path):
                    key.append(path[i + 1])
                    i += 2
                    continue
                key.append(path[i])
                i += 1
            if key:
                out.append(("key", "".join(key)))
        elif ch == "[":
            depth, j = 1, i + 1
            while j < len(path) and depth:
                depth += {"[": 1, "]": -1}.get(path[j], 0)
                j += 1
            inner = path[i + 1:j - 1].strip()
            i = j
            if inner == "*":
                out.append(("all", None))
            elif inner.lstrip("-").isdigit():
                out.append(("index", int(inner)))
            elif inner[:1] in "'\"":
                out.append(("key", inner[1:-1]))
            else:
                m = _FILTER.match(inner)
                if m:
                    sub = [t[1] for t in _tokens(m.group(1))]
                    want = next(g for g in (m.group(3), m.group(4), m.group(5)) if g is not None)
                    out.append(("filter", (sub, m.group(2), want)))
                else:
                    out.append(("never", None))
        else:
            i += 1
    return out


def find(obj: Any, path: str) -> list[Any]:
    """Every value ``path`` selects in ``obj`` (empty when it selects nothing)."""
    current = [obj]
    for kind, arg in _tokens(path):
        nxt: list[Any] = []
        for value in current:
            if (kind == "key" and isinstance(value, dict) and arg in value) or (
                    kind == "index" and isinstance(value, list) and -len(value) <= arg < len(value)):
                nxt.append(value[arg])
            elif kind == "all":
                nxt.extend(value if isinstance(value, list) else value.values() if isinstance(value, dict) else [])
            elif kind == "filter" and isinstance(value, list):
                keys, op, want = arg
                for item in value:
                    got: Any = item
                    for k in keys:
                        got = got.get(k) if isinstance(got, dict) else None
                    if got is None:
                        continue
                    if (_text(got) == want) == (op == "=="):
                        nxt.append(item)
        current = nxt
    return [v for v in current if v is not None]
