"""Server-side printing: ``meta.k8s.io/v1`` Tables, which ``kubectl get`` asks for.

Columns follow upstream's ``pkg/printers/internalversion/printers.go`` for the served kinds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .resources import ResourceType

Obj = dict[str, Any]

NAME_COLUMN = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name automatically. Name is "
    "primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    "priority": 0,
}
AGE_COLUMN = {
    "name": "Age",
    "type": "string",
    "format": "",
    "description": "CreationTimestamp is a timestamp representing the server time when this object was created. "
    "It is not guaranteed to be set in happens-before order across separate operations. Clients may not set "
    "this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null "
    "for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md"
    "#metadata",
    "priority": 0,
}


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration`` from apimachinery."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        rem = s % 60
        return f"{m}m{rem}s" if rem else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        rem = (s % 3600) // 60
        return f"{h}h{rem}m" if rem else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        rem = h % 24
        return f"{h // 24}d{rem}h" if rem else f"{h // 24}d"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    if h < 24 * 365 * 8:
        days = h // 24
        rem = days % 365
        return f"{days // 365}y{rem}d" if rem else f"{days // 365}y"
    return f"{h // 24 // 365}y"


def age(obj: Obj) -> str:
    ts = (obj.get("metadata") or {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    created = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return human_duration((datetime.now(UTC) - created).total_seconds())


def columns_for(rtype: ResourceType) -> list[dict[str, Any]]:
    return [NAME_COLUMN, AGE_COLUMN]


def cells_for(rtype: ResourceType, obj: Obj) -> list[Any]:
    return [obj["metadata"]["name"], age(obj)]


def to_table(rtype: ResourceType, objs: list[Obj], resource_version: str, include_object: str = "Metadata",
             continue_token: str | None = None, remaining: int | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    if remaining:
        meta["remainingItemCount"] = remaining
    rows = []
    for obj in objs:
        row: dict[str, Any] = {"cells": cells_for(rtype, obj)}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            m = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": m}
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": columns_for(rtype),
        "rows": rows,
    }
