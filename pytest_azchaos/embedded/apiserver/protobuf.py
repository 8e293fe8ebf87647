"""Request bodies in ``application/vnd.kubernetes.protobuf``, decoded into the JSON dict shape.

kubectl's typed clients (``create configmap|secret|namespace|serviceaccount``, ``drain``'s evictions
and pod deletions) send protobuf. The envelope is the 4-byte magic ``k8s\\x00`` followed by a
``runtime.Unknown`` message (typeMeta=1 {apiVersion=1, kind=2}, raw=2, contentEncoding=3,
contentType=4); ``raw`` holds the object's own message. The field numbers below were read from the
upstream ``generated.proto`` files (core/v1, policy/v1, apps/v1, meta/v1, util/intstr).

gogo-protobuf writes non-pointer fields even when empty, while Go's JSON encoder drops ``omitempty``
zero values, so the decoder drops empty strings and zero numbers unless a field is marked to keep them.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from . import errors

MAGIC = b"k8s\x00"
UNKNOWN_FORMAT = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json, application/yaml, application/vnd.kubernetes.protobuf"
)

# Field spec: (json name, type, repeated). Types: "string", "bytes", "bool", "int32", "int64" (zero dropped),
# "int32!"/"int64!"/"bool!" (always kept: pointers and non-omitempty fields), "map" (map<string,string>),
# "bytesmap" (map<string,bytes>, base64 in JSON), "time", "intstr", "quantity", or a message name.
Field = tuple[str, str, bool]
MESSAGES: dict[str, dict[int, Field]] = {
    # k8s.io/apimachinery/pkg/apis/meta/v1
    "ObjectMeta": {
        1: ("name", "string", False), 2: ("generateName", "string", False), 3: ("namespace", "string", False),
        4: ("selfLink", "string", False), 5: ("uid", "string", False), 6: ("resourceVersion", "string", False),
        7: ("generation", "int64", False), 8: ("creationTimestamp", "time", False),
        9: ("deletionTimestamp", "time", False), 10: ("deletionGracePeriodSeconds", "int64!", False),
        11: ("labels", "map", False), 12: ("annotations", "map", False),
        13: ("ownerReferences", "OwnerReference", True), 14: ("finalizers", "string", True),
        17: ("managedFields", "ManagedFieldsEntry", True),
    },
    "OwnerReference": {
        5: ("apiVersion", "string", False), 1: ("kind", "string", False), 3: ("name", "string", False),
        4: ("uid", "string", False), 6: ("controller", "bool!", False), 7: ("blockOwnerDeletion", "bool!", False),
    },
    "ManagedFieldsEntry": {
        1: ("manager", "string", False), 2: ("operation", "string", False), 3: ("apiVersion", "string", False),
        4: ("time", "time", False), 6: ("fieldsType", "string", False), 7: ("fieldsV1", "FieldsV1", False),
        8: ("subresource", "string", False),
    },
    "DeleteOptions": {
        1: ("gracePeriodSeconds", "int64!", False), 2: ("preconditions", "Preconditions", False),
        3: ("orphanDependents", "bool!", False), 4: ("propagationPolicy", "string", False),
        5: ("dryRun", "string", True), 6: ("ignoreStoreReadErrorWithClusterBreakingPotential", "bool!", False),
    },
    "Preconditions": {1: ("uid", "string", False), 2: ("resourceVersion", "string", False)},
    "LabelSelector": {1: ("matchLabels", "map", False), 2: ("matchExpressions", "LabelSelectorRequirement", True)},
    "LabelSelectorRequirement": {1: ("key", "string", False), 2: ("operator", "string", False),
                                 3: ("values", "string", True)},
    "Condition": {1: ("type", "string", False), 2: ("status", "string", False),
                  3: ("observedGeneration", "int64", False), 4: ("lastTransitionTime", "time", False),
                  5: ("reason", "string", False), 6: ("message", "string", False)},
    # k8s.io/api/core/v1
    "ConfigMap": {1: ("metadata", "ObjectMeta", False), 2: ("data", "map", False),
                  3: ("binaryData", "bytesmap", False), 4: ("immutable", "bool!", False)},
    "Secret": {1: ("metadata", "ObjectMeta", False), 2: ("data", "bytesmap", False), 3: ("type", "string", False),
               4: ("stringData", "map", False), 5: ("immutable", "bool!", False)},
    "Namespace": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "NamespaceSpec", False),
                  3: ("status", "NamespaceStatus", False)},
    "NamespaceSpec": {1: ("finalizers", "string", True)},
    "NamespaceStatus": {1: ("phase", "string", False), 2: ("conditions", "NamespaceCondition", True)},
    "NamespaceCondition": {1: ("type", "string", False), 2: ("status", "string", False),
                           4: ("lastTransitionTime", "time", False), 5: ("reason", "string", False),
                           6: ("message", "string", False)},
    "ServiceAccount": {1: ("metadata", "ObjectMeta", False), 2: ("secrets", "ObjectReference", True),
                       3: ("imagePullSecrets", "LocalObjectReference", True),
                       4: ("automountServiceAccountToken", "bool!", False)},
    "ObjectReference": {1: ("kind", "string", False), 2: ("namespace", "string", False), 3: ("name", "string", False),
                        4: ("uid", "string", False), 5: ("apiVersion", "string", False),
                        6: ("resourceVersion", "string", False), 7: ("fieldPath", "string", False)},
    "LocalObjectReference": {1: ("name", "string", False)},
    "Service": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "ServiceSpec", False),
                3: ("status", "ServiceStatus", False)},
    "ServiceSpec": {
        1: ("ports", "ServicePort", True), 2: ("selector", "map", False), 3: ("clusterIP", "string", False),
        18: ("clusterIPs", "string", True), 4: ("type", "string", False), 5: ("externalIPs", "string", True),
        7: ("sessionAffinity", "string", False), 8: ("loadBalancerIP", "string", False),
        9: ("loadBalancerSourceRanges", "string", True), 10: ("externalName", "string", False),
        11: ("externalTrafficPolicy", "string", False), 12: ("healthCheckNodePort", "int32", False),
        13: ("publishNotReadyAddresses", "bool", False), 14: ("sessionAffinityConfig", "SessionAffinityConfig", False),
        19: ("ipFamilies", "string", True), 17: ("ipFamilyPolicy", "string", False),
        20: ("allocateLoadBalancerNodePorts", "bool!", False), 21: ("loadBalancerClass", "string", False),
        22: ("internalTrafficPolicy", "string", False), 23: ("trafficDistribution", "string", False),
    },
    "ServicePort": {1: ("name", "string", False), 2: ("protocol", "string", False), 6: ("appProtocol", "string", False),
                    3: ("port", "int32!", False), 4: ("targetPort", "intstr", False), 5: ("nodePort", "int32", False)},
    "SessionAffinityConfig": {1: ("clientIP", "ClientIPConfig", False)},
    "ClientIPConfig": {1: ("timeoutSeconds", "int32!", False)},
    "ServiceStatus": {1: ("loadBalancer", "LoadBalancerStatus", False), 2: ("conditions", "Condition", True)},
    "LoadBalancerStatus": {1: ("ingress", "LoadBalancerIngress", True)},
    "LoadBalancerIngress": {1: ("ip", "string", False), 2: ("hostname", "string", False),
                            3: ("ipMode", "string", False)},
    # k8s.io/api/policy/v1
    "Eviction": {1: ("metadata", "ObjectMeta", False), 2: ("deleteOptions", "DeleteOptions", False)},
}

# The top-level message of each kind we decode (by ``runtime.Unknown.typeMeta.kind``).
KINDS = {"ConfigMap", "Secret", "Namespace", "ServiceAccount", "Service", "Eviction", "DeleteOptions"}


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
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def _map_entry(value: bytes, binary: bool) -> tuple[str, Any]:
    key, val = "", b"" if binary else ""
    for num, _, v in _fields(value):
        if num == 1:
            key = _text(v)
        elif num == 2:
            val = v if binary else _text(v)
    return key, (base64.b64encode(val).decode() if binary else val)


def decode_message(name: str, buf: bytes) -> dict[str, Any]:
    """Decode one message of type ``name`` into its JSON shape."""
    spec = MESSAGES[name]
    out: dict[str, Any] = {}
    for num, wire, value in _fields(buf):
        field = spec.get(num)
        if field is None:
            continue  # unknown fields are skipped, as the Go unmarshaller does
        json_name, ftype, repeated = field
        if ftype in ("map", "bytesmap"):
            if wire != 2:
                raise DecodeError(f"wrong wireType {wire} for map field {json_name}")
            k, v = _map_entry(value, ftype == "bytesmap")
            out.setdefault(json_name, {})[k] = v
            continue
        if ftype in MESSAGES or ftype in ("time", "intstr"):
            if wire != 2:
                raise DecodeError(f"wrong wireType {wire} for message field {json_name}")
            if ftype == "time":
                item: Any = _time(value)
                if item is None:
                    continue
            elif ftype == "intstr":
                item = _intstr(value)
            else:
                item = decode_message(ftype, value)
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
