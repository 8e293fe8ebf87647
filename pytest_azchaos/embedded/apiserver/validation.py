"""Validation with upstream field paths, reasons and messages (``pkg/apis/*/validation``).

Returns ``Cause`` lists; the store turns them into one 422 Invalid as upstream aggregates.
"""

from __future__ import annotations

from typing import Any

from . import validation_text as vt
from .errors import Cause
from .resources import ResourceType

Obj = dict[str, Any]

# Kinds whose names must be DNS-1035 labels / DNS-1123 labels; the rest are subdomains.
_DNS1035 = {"Service"}
_DNS1123_LABEL = {"Namespace"}


def invalid(field: str, value: Any, detail: str) -> Cause:
    shown = f'"{value}"' if isinstance(value, str) else str(value)
    return Cause("FieldValueInvalid", f"Invalid value: {shown}: {detail}", field)


def required(field: str, detail: str = "") -> Cause:
    return Cause("FieldValueRequired", "Required value" + (f": {detail}" if detail else ""), field)


def validate_metadata(rtype: ResourceType, obj: Obj) -> list[Cause]:
    meta = obj.get("metadata") or {}
    name = meta.get("name") or ""
    causes: list[Cause] = []
    if not name and not meta.get("generateName"):
        causes.append(required("metadata.name", "name or generateName is required"))
    elif name:
        if rtype.kind in _DNS1035:
            errs = vt.dns1035_label_errors(name)
        elif rtype.kind in _DNS1123_LABEL:
            errs = vt.dns1123_label_errors(name)
        else:
            errs = vt.dns1123_subdomain_errors(name)
        for e in errs:
            causes.append(invalid("metadata.name", name, e))
    for key, value in (meta.get("labels") or {}).items():
        for e in vt.qualified_name_errors(key):
            msg = vt.label_key_error(key) if len(key.split("/")) > 2 else e
            causes.append(invalid("metadata.labels", key, msg))
        err = vt.label_value_error(str(value))
        if err:
            causes.append(invalid("metadata.labels", value, err))
    return causes


def validate(rtype: ResourceType, obj: Obj) -> list[Cause]:
    causes = validate_metadata(rtype, obj)
    if rtype.kind == "Pod":
        spec = obj.get("spec") or {}
        if not spec.get("containers"):
            causes.append(required("spec.containers"))
    if rtype.kind == "Deployment":
        spec = obj.get("spec") or {}
        if not spec.get("selector"):
            causes.append(required("spec.selector"))
    return causes


def validate_update(rtype: ResourceType, new: Obj, old: Obj) -> list[Cause]:
    return []
