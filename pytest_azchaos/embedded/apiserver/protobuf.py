"""Request bodies in ``application/vnd.kubernetes.protobuf``, decoded into the JSON dict shape.

kubectl's typed clients (``create configmap|secret|namespace|serviceaccount``, ``drain``'s evictions
and pod deletions) send protobuf. The envelope is the 4-byte magic ``k8s\\x00`` followed by a
``runtime.Unknown`` message (typeMeta=1 {apiVersion=1, kind=2}, raw=2, contentEncoding=3,
contentType=4); ``raw`` holds the object's own message. The field numbers below were read from the
upstream ``generated.proto`` files (core/v1, policy/v1, apps/v1, meta/v1, util/intstr, api/resource) and
live in ``protobuf_messages`` (their type conventions are documented there).

gogo-protobuf writes non-pointer fields even when empty, while Go's JSON encoder drops ``omitempty``
zero values, so the decoder drops empty strings and zero numbers unless a field is marked to keep them.
Non-pointer messages are always written by gogo and always rendered by the JSON encoder (``omitempty`` does not
apply to structs), so an empty-but-present message decodes to ``{}``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ..objects import format_time
from . import errors
from .protobuf_messages import KINDS, MESSAGES, Field

__all__ = ["KINDS", "MAGIC", "MESSAGES", "UNKNOWN_FORMAT", "DecodeError", "Field", "decode", "decode_message"]

MAGIC = b"k8s\x00"
UNKNOWN_FORMAT = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json, application/yaml, application/vnd.kubernetes.protobuf"
)

class DecodeError(ValueError):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise DecodeError("unexpected EOF")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 64:
            raise DecodeError("integer overflow")


def _fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) of one message; length-delimited values stay bytes."""
    out: list[tuple[int, int, Any]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        num, wire = key >> 3, key & 7
        if num == 0:
            raise DecodeError("illegal tag 0")
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise DecodeError("unexpected EOF")
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        else:
            raise DecodeError(f"illegal wireType {wire} for field {num}")
        if pos > len(buf):
            raise DecodeError("unexpected EOF")
        out.append((num, wire, value))
    return out


def _signed(value: int, bits: int) -> int:
    value &= (1 << 64) - 1
    if value >= 1 << 63:
        value -= 1 << 64
    if bits == 32:
        value = (value + (1 << 31)) % (1 << 32) - (1 << 31)
    return value


def _text(value: Any) -> str:
    if not isinstance(value, bytes):
        raise DecodeError("wrong wireType for a string field")
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise DecodeError("invalid UTF-8 in a string field") from None


def _time(value: bytes) -> str | None:
    seconds = 0
    for num, _, v in _fields(value):
        if num == 1:
            seconds = _signed(v, 64)
    if seconds == 0:
        return None
    return format_time(seconds)


def _intstr(value: bytes) -> int | str:
    kind, ival, sval = 0, 0, ""
    for num, _, v in _fields(value):
        if num == 1:
            kind = v
        elif num == 2:
            ival = _signed(v, 32)
        elif num == 3:
            sval = _text(v)
    return sval if kind == 1 else ival


def _scalar(ftype: str, wire: int, value: Any) -> Any:
    base = ftype.rstrip("!")
    if base in ("int32", "int64", "bool"):
        if wire != 0:
            raise DecodeError(f"wrong wireType {wire} for a {base} field")
        if base == "bool":
            return bool(value)
        return _signed(value, 32 if base == "int32" else 64)
    if base == "string":
        return _text(value)
    if base == "bytes":
        return base64.b64encode(value).decode()
    raise DecodeError(f"unknown field type {ftype}")


def _quantity(value: bytes) -> str:
    """api/resource Quantity: field 1 is the canonical string (``Quantity.String()``); absent means zero."""
    text = "0"
    for num, _, v in _fields(value):
        if num == 1:
            text = _text(v)
    return text


def _fields_v1(value: bytes) -> Any:
    """meta/v1 FieldsV1: field 1 (``Raw``) holds the JSON document itself."""
    raw = b""
    for num, _, v in _fields(value):
        if num == 1:
            raw = v
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        raise DecodeError("invalid JSON in a FieldsV1 field") from None


# Well-known apimachinery messages that render as JSON scalars.
_SPECIAL: dict[str, Any] = {"time": _time, "intstr": _intstr, "quantity": _quantity, "fieldsv1": _fields_v1}
# Map value decoders by map type (the map key is always a string).
_MAP_VALUES: dict[str, Any] = {
    "map": _text,
    "bytesmap": lambda v: base64.b64encode(v).decode(),
    "quantitymap": _quantity,
    "timemap": _time,
}


def _map_entry(value: bytes, ftype: str) -> tuple[str, Any]:
    key, val = "", b""
    for num, wire, v in _fields(value):
        if wire != 2:
            raise DecodeError(f"wrong wireType {wire} for a map entry")
        if num == 1:
            key = _text(v)
        elif num == 2:
            val = v
    return key, _MAP_VALUES[ftype](val)


def decode_message(name: str, buf: bytes) -> dict[str, Any]:
    """Decode one message of type ``name`` into its JSON shape."""
    spec = MESSAGES[name]
    out: dict[str, Any] = {}
    for num, wire, value in _fields(buf):
        field = spec.get(num)
        if field is None:
            continue  # unknown fields are skipped, as the Go unmarshaller does
        json_name, ftype, repeated = field
        if ftype in _MAP_VALUES:
            if wire != 2:
                raise DecodeError(f"wrong wireType {wire} for map field {json_name}")
            k, v = _map_entry(value, ftype)
            out.setdefault(json_name, {})[k] = v
            continue
        if ftype in MESSAGES or ftype in _SPECIAL:
            if wire != 2:
                raise DecodeError(f"wrong wireType {wire} for message field {json_name or ftype}")
            if ftype in _SPECIAL:
                item: Any = _SPECIAL[ftype](value)
                if item is None:
                    continue  # zero Time: JSON renders null, which is the same as absent for us
            else:
                item = decode_message(ftype, value)
                if not json_name:
                    out.update(item)  # Go struct embedded with json:",inline"
                    continue
        elif repeated and wire == 2 and ftype.rstrip("!") in ("int32", "int64", "bool"):
            pos, items = 0, []  # packed repeated scalars
            while pos < len(value):
                v, pos = _varint(value, pos)
                items.append(_scalar(ftype, 0, v))
            out.setdefault(json_name, []).extend(items)
            continue
        else:
            item = _scalar(ftype, wire, value)
            if not repeated and not ftype.endswith("!") and item in ("", 0, False):
                continue  # omitempty zero value
        if repeated:
            out.setdefault(json_name, []).append(item)
        else:
            out[json_name] = item
    return out


def decode(raw: bytes, expected_kind: str | None = None) -> dict[str, Any]:
    """Decode a protobuf request body (envelope + object) into a JSON-shaped dict.

    Raises ``ApiError`` 400 for a body that is not valid protobuf, 415 for a kind we have no table for.
    """
    if not raw.startswith(MAGIC):
        raise errors.bad_request("provided data does not appear to be a protobuf message, expected prefix "
                                 '[107 56 115 0]')
    try:
        api_version = kind = ""
        payload = b""
        for num, _, value in _fields(raw[len(MAGIC):]):
            if num == 1:
                for n, _, v in _fields(value):
                    if n == 1:
                        api_version = _text(v)
                    elif n == 2:
                        kind = _text(v)
            elif num == 2:
                payload = value
        if kind not in KINDS or kind not in MESSAGES:
            raise errors.ApiError(415, "UnsupportedMediaType", UNKNOWN_FORMAT)
        obj = decode_message(kind, payload)
    except DecodeError as e:
        what = expected_kind or "object"
        raise errors.bad_request(f"the object provided is unrecognized (must be of type {what}): "
                                 f"couldn't decode protobuf: {e}") from None
    out: dict[str, Any] = {}
    if kind != "DeleteOptions" or api_version:
        out["kind"] = kind
        if api_version:
            out["apiVersion"] = api_version
    out.update(obj)
    return out
