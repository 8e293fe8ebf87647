"""API objects as plain JSON-shaped values: deep copies and RFC 3339 timestamps.

The one home for copying an object before changing it (``deep_copy``) and for the two time formats
of the API: ``metav1.Time`` (RFC 3339 in UTC, whole seconds: ``2024-05-01T12:00:00Z``) and
``metav1.MicroTime`` (microseconds: ``2024-05-01T12:00:00.000000Z``, Lease ``renewTime``, event
``eventTime``). Parsing accepts any RFC 3339 text, as ``time.Parse(time.RFC3339, …)`` does.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

RFC3339 = "%Y-%m-%dT%H:%M:%SZ"
RFC3339_MICRO = "%Y-%m-%dT%H:%M:%S.%fZ"


def deep_copy(value: Any) -> Any:
    """A private copy of a JSON-shaped value, as ``json.loads(json.dumps(value))`` makes it (tuples become lists)."""
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [deep_copy(v) for v in value]
    return value


def format_time(t: datetime | float) -> str:
    """A ``metav1.Time``: UTC, whole seconds (a fraction is dropped), ``Z``."""
    if not isinstance(t, datetime):
        t = datetime.fromtimestamp(t, UTC)
    return t.strftime(RFC3339)


_now_cache: list[Any] = [-1, ""]


def now_rfc3339(delta_seconds: float = 0) -> str:
    """The current time (plus ``delta_seconds``) as a ``metav1.Time``."""
    if not delta_seconds:
        sec = int(time.time())
        if sec != _now_cache[0]:  # formatting once per second is enough at this resolution
            _now_cache[0], _now_cache[1] = sec, format_time(sec)
        return _now_cache[1]
    return format_time(time.time() + delta_seconds)


def micro_now() -> str:
    """The current time as a ``metav1.MicroTime`` (Lease renewTime, event eventTime)."""
    return datetime.now(UTC).strftime(RFC3339_MICRO)


def parse_time(text: str | None) -> float | None:
    """Seconds since the epoch of an RFC 3339 time; None when empty or not a time (no offset means UTC)."""
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()
