"""PATCH bodies: decode the body, apply the patch of its content type, then decode into the typed object.

One module per patch kind: :mod:`.patch_json` (RFC 6902), :mod:`.patch_merge` (RFC 7386),
:mod:`.patch_strategic` (strategic merge patch, also used for the simplified server-side apply
here); :mod:`.patch_schema` describes the built-in types for strategic merge and the typed decode
(unknown fields are dropped as with the default ``fieldValidation=Warn``, a value of the wrong
kind is a 422 with the converter's message).
"""

from __future__ import annotations

import json
from typing import Any

from .errors import bad_request, unsupported_media_type
from .patch_json import json_patch
from .patch_merge import merge_patch
from .patch_schema import decode_typed
from .patch_strategic import strategic_merge

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE, STRATEGIC, APPLY)


def apply_patch(content_type: str, current: dict[str, Any], body: bytes, kind: str) -> dict[str, Any]:
    """Return the patched copy of ``current`` as the apiserver would store it (before validation)."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == JSON_PATCH:
        ops = _load(body, "[]handlers.jsonPatchOp", list)
        return decode_typed(json_patch(current, ops), kind, None)
    if ctype == MERGE:
        patch = _load(body, "map[string]interface {}", dict)
        return decode_typed(merge_patch(current, patch), kind, None)
    if ctype == STRATEGIC:
        patch = _load(body, "map[string]interface {}", dict, prefix="")
        return decode_typed(strategic_merge(current, patch, kind), kind, patch)
    if ctype == APPLY:
        return decode_typed(server_side_apply(current, body, kind), kind, None)
    raise unsupported_media_type("415: Unsupported Media Type")


_GO_KINDS = {dict: "object", list: "array", str: "string", bool: "bool", int: "number", float: "number"}


def _load(body: bytes, go_type: str, want: type, prefix: str = "error decoding patch: ") -> Any:
    """Decode the patch body like ``json.Unmarshal`` into ``go_type`` (errors are 400s)."""
    try:
        value = json.loads(body or b"")
    except ValueError as e:
        raise bad_request(prefix + _go_json_error(body, e)) from None
    if not isinstance(value, want):
        if value is None:
            return want()
        got = _GO_KINDS.get(type(value), "value")
        raise bad_request(f"{prefix}json: cannot unmarshal {got} into Go value of type {go_type}")
    return value


def _go_json_error(body: bytes, err: ValueError) -> str:
    text = body.decode(errors="replace").strip()
    if not text:
        return "unexpected end of JSON input"
    pos = getattr(err, "pos", 0) or 0
    raw = body.decode(errors="replace")
    if pos >= len(raw):
        return "unexpected end of JSON input"
    ch = raw[pos]
    where = "looking for beginning of value" if pos == len(raw) - len(raw.lstrip()) else "after top-level value" \
        if "Extra data" in str(err) else "looking for beginning of object key string" if ch != '"' else \
        "in string literal"
    return f"invalid character '{ch}' {where}"


# ---------------------------------------------------------------- server-side apply (simplified)


def server_side_apply(current: dict[str, Any], body: bytes, kind: str) -> dict[str, Any]:
    """Apply as a strategic merge of the applied configuration (no field-manager conflicts)."""
    try:
        applied = json.loads(body)
    except ValueError:
        try:
            import yaml  # type: ignore[import-untyped]

            applied = yaml.safe_load(body)
        except Exception as e:
            raise bad_request(f"error decoding YAML: {e}") from None
    if not isinstance(applied, dict):
        raise bad_request("error decoding YAML: not an object")
    return strategic_merge(current, applied, kind)
