"""What happened in one test, kept as evidence: faults, every request, ready pods per zone, events, verdicts.

One ``Evidence`` per test, written as JSON to the report directory; the HTML report draws its
timeline from the same data. All times are wall-clock seconds (``time.time()``) so the prober,
the faults and the zone sampler line up.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..traffic.recording import Recording
from .series import source_zone_buckets, source_zone_table, zone_buckets


@dataclass
class Phase:
    """A fault's span: ``drain us-east-1a`` from start to end (end None while running)."""

    name: str
    start: float
    end: float | None = None
    detail: str = ""
    # The same fault as a chaostoolkit action (``ctk.actions`` function and its arguments), for the journal.
    action: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    error: str = ""  # why the fault raised, if it did


@dataclass
class Evidence:
    nodeid: str
    started: float = field(default_factory=time.time)
    finished: float | None = None
    outcome: str = ""
    phases: list[Phase] = field(default_factory=list)
    recordings: list[Recording] = field(default_factory=list)
    zone_samples: list[dict[str, Any]] = field(default_factory=list)  # {"t": wall, "ready": {zone: n}}
    events: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What was expected before the fault (the rescheduling oracle): {"fault", "summary", "details": [...]}.
    predictions: list[dict[str, Any]] = field(default_factory=list)
    # Every pod seen during the test and its zone (filled by the zone sampler; drained pods stay in it), so
    # requests a pod served can be counted in its zone after the pod is gone.
    pod_zones: dict[str, str] = field(default_factory=dict)

    def phase(self, name: str, detail: str = "", action: str = "",
              arguments: dict[str, Any] | None = None) -> Phase:
        p = Phase(name, time.time(), None, detail, action, dict(arguments or {}))
        self.phases.append(p)
        return p

    def end_phase(self, p: Phase) -> None:
        p.end = time.time()

    def add_check(self, result: Any) -> None:
        self.checks.append({**result.to_dict(), "at": time.time()})

    # ------------------------------------------------------------------ output

    def to_dict(self) -> dict[str, Any]:
        t0 = self.started
        pod_zones = dict(self.pod_zones)  # one copy: the zone sampler may still be adding to it
        requests: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        buckets: list[dict[str, Any]] = []
        for rec in self.recordings:
            offset = rec.wall_start - t0
            for b in rec.buckets(1.0):
                buckets.append({**b, "t": round(b["t"] + offset, 3)})
            for r in rec.snapshot():
                row = {"t": round(r.due + offset, 4), "latency_ms": round(r.latency * 1000, 2), "ok": r.ok,
                       "target": r.target, "status": r.status, "error": r.error, "detail": r.detail,
                       "pod": r.pod, "client_ip": r.client_ip, "lb_zone": r.lb_zone}
                if r.source_zone:  # an in-cluster prober's request: the zone it left from and what it asked
                    row.update(source_zone=r.source_zone, kind=r.kind)
                if not r.ok:
                    failed.append(row)
                requests.append(row)
        return {
            "test": self.nodeid,
            "outcome": self.outcome,
            "started": self.started,
            "duration_s": round((self.finished or time.time()) - t0, 3),
            "phases": [{"name": p.name, "start": round(p.start - t0, 3),
                        "end": round((p.end or self.finished or time.time()) - t0, 3), "detail": p.detail,
                        "action": p.action, "arguments": p.arguments, "error": p.error}
                       for p in self.phases],
            "requests_total": len(requests),
            "failed_requests": failed,
            "buckets": buckets,
            "ready_pods_per_zone": [{"t": round(s["t"] - t0, 3), "ready": s["ready"]} for s in self.zone_samples],
            "events": self.events,
            "checks": self.checks,
            "notes": self.notes,
            "predictions": self.predictions,
            "pod_zones": pod_zones,
            # From outside, by the zone that answered; from inside, by the zone the request left from.
            "zone_buckets": zone_buckets([r for r in requests if not r.get("source_zone")], pod_zones),
            "source_zone_buckets": source_zone_buckets(requests),
            "source_zone_table": [{"zone": z, "kind": k, "requests": n, "failed": f}
                                  for (z, k), (n, f) in source_zone_table(requests).items()],
        }

    def write_json(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / (safe_name(self.nodeid) + ".json")
        path.write_text(json.dumps(self.to_dict(), indent=1, default=str))
        return path


def safe_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:180]


class ZoneSampler:
    """Samples ready pods per zone of an app every ``interval`` seconds in a background thread."""

    def __init__(self, evidence: Evidence, app: Any, interval: float = 0.5):
        self.evidence = evidence
        self.app = app
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="azchaos-zone-sampler", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> ZoneSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        from ..kube.topology import ZoneMap, is_ready

        try:
            zones = ZoneMap.read(self.app.cluster.core)
            while not self._stop.is_set():
                counts: dict[str, int] = {z: 0 for z in zones.zones()}
                for p in self.app.pods():
                    if p.spec.node_name and (node_zone := zones.zone_of(p.spec.node_name)):
                        self.evidence.pod_zones[p.metadata.name] = node_zone
                    if is_ready(p):
                        z = zones.zone_of(p.spec.node_name) or "unscheduled"
                        counts[z] = counts.get(z, 0) + 1
                self.evidence.zone_samples.append({"t": time.time(), "ready": counts})
                self._stop.wait(self.interval)
        except Exception as e:  # evidence is best effort; keep the error for the report
            self.error = e
            self.evidence.notes.append(f"zone sampler stopped: {e!r}")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
