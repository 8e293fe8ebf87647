"""Go's text formats that the emulated images print: the ``log`` package prefix, ``time.Time``'s
``%v``, ``time.Duration``'s ``String()``, ``time.ParseDuration`` and ``strconv.Quote``.

The real images are Go programs; matching their formats keeps logs and bodies byte-identical.
"""

from __future__ import annotations

import json
import re
import time

_UNITS_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
             "m": 60_000_000_000, "h": 3_600_000_000_000}

_prefix_second = -1
_prefix_text = ""


def log_prefix(ts: float | None = None) -> str:
    """``log.Printf``'s default prefix, ``2006/01/02 15:04:05 `` (containers run in UTC); cached per second."""
    global _prefix_second, _prefix_text
    sec = int(time.time() if ts is None else ts)
    if sec != _prefix_second:
        _prefix_text = time.strftime("%Y/%m/%d %H:%M:%S ", time.gmtime(sec))
        _prefix_second = sec
    return _prefix_text


def time_string(now_ns: int, monotonic_ns: int) -> str:
    """``fmt.Sprintf("%v", time.Now())`` in UTC: ``2006-01-02 15:04:05.999999999 +0000 UTC m=+0.000000001``.

    ``monotonic_ns`` is the process's monotonic reading (time since the program started).
    """
    sec, nanos = divmod(now_ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sec))
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    m_sec, m_nanos = divmod(monotonic_ns, 1_000_000_000)
    return f"{text} +0000 UTC m=+{m_sec}.{m_nanos:09d}"


def rfc3339_nano(ts_ns: int) -> str:
    """Go's ``time.RFC3339Nano`` in UTC (trailing zeros trimmed), as CRI log lines carry."""
    sec, nanos = divmod(ts_ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    return text + "Z"


def quote(s: str) -> str:
    """``strconv.Quote`` (``%q``) for the printable text the images see."""
    out = json.dumps(s, ensure_ascii=False)
    return out.replace("\\u007f", "\\x7f")


def parse_duration(s: str) -> float:
    """``time.ParseDuration`` → seconds; raises ValueError with Go's texts (``time: invalid duration "x"``)."""
    orig = s
    body = s[1:] if s[:1] in ("+", "-") else s
    if body == "0":
        return 0.0
    if not body:
        raise ValueError(f"time: invalid duration {quote(orig)}")
    total = 0.0
    pos = 0
    while pos < len(body):
        num = re.match(r"[0-9]*(?:\.[0-9]*)?", body[pos:]).group(0)
        if num in ("", "."):
            raise ValueError(f"time: invalid duration {quote(orig)}")
        pos += len(num)
        unit = re.match(r"[^0-9.]*", body[pos:]).group(0)
        if not unit:
            raise ValueError(f"time: missing unit in duration {quote(orig)}")
        if unit not in _UNITS_NS:
            raise ValueError(f"time: unknown unit {quote(unit)} in duration {quote(orig)}")
        pos += len(unit)
        total += float(num) * _UNITS_NS[unit]
    return (-total if s.startswith("-") else total) / 1e9


def duration_string(ns: int) -> str:
    """``time.Duration.String()``: ``1.5s``, ``250ms``, ``1m30s``, ``12µs``, ``0s``."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < 1_000_000_000:
        for unit, size in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if u < size * 1000:
                text = _fraction(u, size) + unit
                break
    else:
        hours, rem = divmod(u, 3_600_000_000_000)
        minutes, rem = divmod(rem, 60_000_000_000)
        text = _fraction(rem, 1_000_000_000) + "s"
        if hours:
            text = f"{hours}h{minutes}m{text}"
        elif minutes:
            text = f"{minutes}m{text}"
    return "-" + text if neg else text


def _fraction(value: int, size: int) -> str:
    whole, frac = divmod(value, size)
    if not frac:
        return str(whole)
    digits = len(str(size)) - 1
    return f"{whole}." + f"{frac:0{digits}d}".rstrip("0")


def json_marshal(value: object) -> str:
    """``json.Marshal``: compact, sorted map keys, ``<``, ``>``, ``&`` escaped as Go does."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
