"""The game day's live terminal view: every few seconds, the fault's phase and, per subject, ready pods per
zone and how the last seconds of traffic went per zone (success rate, share of the answers).

A request's zone is the zone of the load-balancer address it used when known, else the zone of the pod that
answered; failed requests with neither count under ``unknown``. The view reads the cluster in its own thread and
never raises into the scenario: a read that fails shows as ``(pods unreadable: ...)``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..traffic.recording import RequestRecord


def zone_of(record: RequestRecord, pod_zones: Mapping[str, str]) -> str:
    """The zone a request is counted under: the report's rule (``report.series.zone_of``)."""
    from ..report.series import zone_of as zone_of_request

    return zone_of_request({"lb_zone": record.lb_zone, "pod": record.pod}, pod_zones)


def per_zone_line(records: Iterable[RequestRecord], pod_zones: Mapping[str, str], zones: Iterable[str]) -> str:
    """``us-east-1a 100.0% (31%)  us-east-1b ...``: success rate and share of the requests per zone."""
    sent: Counter[str] = Counter()
    ok: Counter[str] = Counter()
    for r in records:
        z = zone_of(r, pod_zones)
        sent[z] += 1
        ok[z] += r.ok
    total = sum(sent.values())
    if not total:
        return "no requests yet"
    parts = []
    for z in [*zones, *sorted(set(sent) - set(zones))]:
        if not sent[z]:
            parts.append(f"{z} --")
            continue
        parts.append(f"{z} {100.0 * ok[z] / sent[z]:.1f}% ({100.0 * sent[z] / total:.0f}%)")
    return "  ".join(parts)


class LiveView:
    """Writes one block per ``interval`` seconds while the scenario runs (``start()`` ... ``stop()``)."""

    def __init__(self, scenario: Any, write_line: Callable[[str], None], interval: float = 5.0):
        self.scenario = scenario
        self.write_line = write_line
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="azchaos-gameday-view", daemon=True)
        self._t0 = time.monotonic()

    def start(self) -> LiveView:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.interval + 5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for line in self.lines():
                self.write_line(line)

    def lines(self) -> list[str]:
        """The current block: a phase line, then two lines per subject."""
        from ..kube.topology import ZoneMap, is_ready

        sc = self.scenario
        out = [f"[gameday] t={time.monotonic() - self._t0:5.0f}s  phase: {sc.phase}"]
        try:
            zones = ZoneMap.read(sc.cluster.core)
        except Exception as e:  # our side: shown, never raised
            return [*out, f"[gameday]   (zones unreadable: {type(e).__name__})"]
        names = zones.zones()
        for s in sc.observed:
            try:
                pods = s.app.pods()
                pod_zones = {p.metadata.name: zones.zone_of(p.spec.node_name) or "unscheduled" for p in pods}
                ready = Counter(pod_zones[p.metadata.name] for p in pods if is_ready(p))
                ready_text = "  ".join(f"{z} {ready.get(z, 0)}" for z in names)
            except Exception as e:
                pod_zones, ready_text = dict(s.zones_before), f"(pods unreadable: {type(e).__name__})"
            out.append(f"[gameday]   {s.label}: ready pods  {ready_text}")
            if s.prober is None:  # a stateful app on zonal volumes: no traffic of its own
                continue
            now = s.prober.elapsed()
            recent = [r for r in s.prober.recording.snapshot() if r.due >= now - self.interval]
            known = {**s.zones_before, **pod_zones}
            out.append(f"[gameday]   {s.label}: last {self.interval:.0f}s  {per_zone_line(recent, known, names)}")
        return out
