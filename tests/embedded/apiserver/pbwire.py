"""A tiny protobuf encoder for test bodies: field numbers come from the test, typed in from upstream's
``generated.proto`` files, never from the decoder's own tables (so the decoder is checked, not echoed)."""

from __future__ import annotations


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def integer(num: int, value: int | bool) -> bytes:
    """A varint field (int32, int64, bool); negative numbers as 64-bit two's complement, as Go writes them."""
    return varint(num << 3) + varint(int(value))


def string(num: int, value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return varint(num << 3 | 2) + varint(len(data)) + data


def msg(num: int, *parts: bytes) -> bytes:
    return string(num, b"".join(parts))


def entry(num: int, key: str, value: bytes) -> bytes:
    """One map entry: key=1, value=2 (``value`` already encoded as field 2)."""
    return msg(num, string(1, key), value)


def labels(num: int, label_map: dict[str, str]) -> bytes:
    """A map<string,string> field: one entry message per key."""
    return b"".join(entry(num, k, string(2, v)) for k, v in label_map.items())


def qty(num: int, text: str) -> bytes:
    """api/resource Quantity {string=1}."""
    return msg(num, string(1, text))


def intstr(num: int, value: int | str) -> bytes:
    """util/intstr IntOrString {type=1, intVal=2, strVal=3}; gogo writes all three."""
    if isinstance(value, int):
        return msg(num, integer(1, 0), integer(2, value), string(3, ""))
    return msg(num, integer(1, 1), integer(2, 0), string(3, value))


def time(num: int, seconds: int) -> bytes:
    """meta/v1 Time {seconds=1, nanos=2}."""
    return msg(num, integer(1, seconds), integer(2, 0))


def meta(num: int, name: str = "", label_map: dict[str, str] | None = None) -> bytes:
    """ObjectMeta the way gogo writes it: every non-pointer field, empty or not (creationTimestamp=8 empty)."""
    return msg(num, string(1, name), string(2, ""), string(3, ""), string(4, ""), string(5, ""), string(6, ""),
               integer(7, 0), time(8, 0), labels(11, label_map or {}))


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    """runtime.Unknown {typeMeta=1 {apiVersion=1, kind=2}, raw=2, contentEncoding=3, contentType=4}."""
    return b"k8s\x00" + msg(1, string(1, api_version), string(2, kind)) + string(2, raw) + string(3, "") + string(4, "")


def selector(num: int, match_labels: dict[str, str]) -> bytes:
    """meta/v1 LabelSelector {matchLabels=1}."""
    return msg(num, labels(1, match_labels))
