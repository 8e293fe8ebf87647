"""Every request the prober sent, and the questions a check asks of them.

A ``Recording`` is plain data (one ``RequestRecord`` per request) plus queries: failures, failure
windows, per-pod and per-zone shares, latency percentiles and per-second buckets. Times are
seconds on the prober's monotonic clock (``t``) with the wall-clock origin kept for reports.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ErrorClass = Literal["refused", "reset", "timeout", "5xx", "bad-status", "other"]


@dataclass(frozen=True)
class RequestRecord:
    """One request: when it was due, how long it took, and what came back."""

    seq: int
    due: float  # scheduled start (monotonic seconds since the recording began)
    started: float  # actual start; started - due is the prober's own lag
    latency: float  # from ``due`` to the end (no coordinated omission: lag counts as latency)
    target: str  # address:port the request went to
    status: int | None = None  # HTTP status of the answer
    error: ErrorClass | None = None
    detail: str = ""
    pod: str | None = None  # the serving pod (agnhost /hostname)
    client_ip: str | None = None  # the address the pod saw (agnhost /clientip)
    local_ip: str | None = None  # the prober's own source address for this request
    lb_zone: str | None = None  # the zone of the load-balancer address used, when known
    source_zone: str | None = None  # the zone the request left from (in-cluster probers; None: from outside)
    kind: str | None = None  # what was asked, for in-cluster probers: service-ip, service-name, dns
    lb_address: str | None = None  # the load-balancer address (a hostname's resolved IP) the connection went to

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class FailureWindow:
    """Consecutive failed requests (no success in between)."""

    start: float
    end: float
    count: int
    errors: Mapping[str, int]

    @property
    def duration(self) -> float:
        return self.end - self.start

    def describe(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.errors.items(), key=lambda kv: -kv[1]))
        return f"t={self.start:.3f}s..{self.end:.3f}s ({self.duration:.3f}s): {self.count} failed ({kinds})"


@dataclass(frozen=True)
class Stall:
    """Our own side ran ``lag`` seconds late from ``start`` to ``end`` (recording seconds): the prober's event
    loop, or the embedded cluster's (``source``). Requests failing inside a stall are no evidence."""

    start: float
    end: float
    lag: float
    source: str

    def overlaps(self, start: float, end: float) -> bool:
        return self.start <= end and start <= self.end

    def describe(self) -> str:
        return f"{self.source} ran {self.lag:.2f}s late at t={self.start:.3f}s..{self.end:.3f}s"


@dataclass
class Recording:
    """The requests of one prober run, safe to append to from the prober's thread, and the stalls of our own
    side (prober, embedded cluster) seen meanwhile."""

    wall_start: float = 0.0
    rate: float = 0.0
    records: list[RequestRecord] = field(default_factory=list)
    stalls: list[Stall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self.records.append(record)

    def add_stall(self, stall: Stall) -> None:
        with self._lock:
            self.stalls.append(stall)

    def replace_stall(self, old: Stall, new: Stall) -> None:
        """``new`` in place of ``old`` (a run of late ticks that grew); appended when ``old`` is not kept."""
        with self._lock:
            for i, s in enumerate(self.stalls):
                if s == old:
                    self.stalls[i] = new
                    return
            self.stalls.append(new)

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return sorted(self.records, key=lambda r: r.seq)

    # ------------------------------------------------------------------ queries

    def between(self, start: float | None = None, end: float | None = None) -> Recording:
        """The requests due in ``[start, end)``."""
        out = Recording(self.wall_start, self.rate)
        out.records = [r for r in self.snapshot() if (start is None or r.due >= start) and (end is None or r.due < end)]
        out.stalls = list(self.stalls)
        return out

    @property
    def total(self) -> int:
        return len(self.records)

    def failures(self) -> list[RequestRecord]:
        return [r for r in self.snapshot() if not r.ok]

    def success_ratio(self) -> float:
        records = self.snapshot()
        return sum(r.ok for r in records) / len(records) if records else 1.0

    def error_counts(self) -> dict[str, int]:
        return dict(Counter(r.error for r in self.snapshot() if r.error))

    def failure_windows(self) -> list[FailureWindow]:
        """Runs of consecutive failed requests, merged where their times overlap (a 2 s timeout interleaves
        with the successes after it, and one outage must read as one window, not as many)."""
        runs: list[list[RequestRecord]] = []
        current: list[RequestRecord] = []
        for r in self.snapshot():
            if r.ok:
                if current:
                    runs.append(current)
                    current = []
            else:
                current.append(r)
        if current:
            runs.append(current)
        merged: list[list[RequestRecord]] = []
        for run in runs:
            if merged and run[0].due <= max(r.due + r.latency for r in merged[-1]):
                merged[-1] = merged[-1] + run
            else:
                merged.append(run)
        return [_window(run) for run in merged]

    def stalls_during(self, record: RequestRecord, min_lag: float = 0.0) -> list[Stall]:
        """Our own stalls of at least ``min_lag`` seconds that overlap ``record``'s life (due to end)."""
        return [s for s in self.stalls if s.lag >= min_lag and s.overlaps(record.due, record.due + record.latency)]

    def per_pod(self) -> dict[str, int]:
        return dict(Counter(r.pod for r in self.snapshot() if r.ok and r.pod))

    def per_zone(self, pod_zones: Mapping[str, str]) -> dict[str, int]:
        """Successful requests per zone, given where each pod ran."""
        out: Counter[str] = Counter()
        for pod, n in self.per_pod().items():
            out[pod_zones.get(pod, "unknown")] += n
        return dict(out)

    def from_zone(self, zone: str, kind: str | None = None) -> Recording:
        """The requests that left from ``zone`` (in-cluster probers), of ``kind`` when given."""
        out = Recording(self.wall_start, self.rate)
        out.records = [r for r in self.snapshot() if r.source_zone == zone and (kind is None or r.kind == kind)]
        out.stalls = list(self.stalls)
        return out

    def source_zones(self) -> list[str]:
        """The zones requests left from (in-cluster probers), in name order."""
        return sorted({r.source_zone for r in self.snapshot() if r.source_zone})

    def client_ips(self) -> dict[str, int]:
        return dict(Counter(r.client_ip for r in self.snapshot() if r.ok and r.client_ip))

    def latency_percentiles(self, qs: Iterable[float] = (50, 90, 99, 99.9)) -> dict[float, float]:
        values = sorted(r.latency for r in self.snapshot() if r.ok)
        return {q: _percentile(values, q) for q in qs}

    def buckets(self, width: float = 1.0) -> list[dict[str, Any]]:
        """Per-``width`` seconds: requests, successes, p50/p99 latency (for the evidence timeline)."""
        groups: dict[int, list[RequestRecord]] = {}
        for r in self.snapshot():
            groups.setdefault(int(r.due // width), []).append(r)
        out = []
        for k in sorted(groups):
            rs = groups[k]
            lat = sorted(r.latency for r in rs if r.ok)
            out.append({"t": k * width, "requests": len(rs), "ok": sum(r.ok for r in rs),
                        "p50": _percentile(lat, 50), "p99": _percentile(lat, 99),
                        "errors": dict(Counter(r.error for r in rs if r.error))})
        return out

    def lag_percentiles(self) -> dict[float, float]:
        """How late the prober itself started requests (its timing resolution)."""
        values = sorted(r.started - r.due for r in self.snapshot())
        return {q: _percentile(values, q) for q in (50, 99, 100)}

    def to_dict(self) -> dict[str, Any]:
        return {"wall_start": self.wall_start, "rate": self.rate, "records": [asdict(r) for r in self.snapshot()],
                "stalls": [asdict(s) for s in self.stalls]}


def _window(rs: list[RequestRecord]) -> FailureWindow:
    errors: dict[str, int] = dict(Counter(str(r.error or "") for r in rs))
    return FailureWindow(rs[0].due, max(r.due + r.latency for r in rs), len(rs), errors)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    k = max(0, min(len(values) - 1, round(q / 100 * (len(values) - 1))))
    return values[int(k)]
