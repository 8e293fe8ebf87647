"""Per-target timelines for fault reports: what happened to which node or pod, and when.

Times are seconds since the fault started (monotonic) plus the UTC wall time, so a report can be
lined up with a traffic recording and with the cluster's events.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime


def utc_now() -> str:
    """RFC 3339 UTC timestamp with microseconds (the form Kubernetes MicroTime uses)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Event:
    """One thing that happened to one target (``node/<name>`` or ``<namespace>/<pod>``)."""

    target: str
    at: float
    what: str
    detail: str = ""
    wall: str = ""

    def describe(self) -> str:
        return f"+{self.at:7.3f}s {self.target}: {self.what}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Timeline:
    """A thread-safe, append-only list of events, timed from its creation."""

    start: float = field(default_factory=time.monotonic)
    started_at: str = field(default_factory=utc_now)
    events: list[Event] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def add(self, target: str, what: str, detail: str = "") -> Event:
        event = Event(target, self.elapsed(), what, detail, utc_now())
        with self._lock:
            self.events.append(event)
        return event

    def of(self, target: str) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.target == target]

    def describe(self) -> str:
        with self._lock:
            return "\n".join(e.describe() for e in sorted(self.events, key=lambda e: e.at))
