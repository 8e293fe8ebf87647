"""Evidence as JSON: the pod -> zone map and the per-zone buckets the HTML charts are drawn from."""

from __future__ import annotations

import json

from pytest_azchaos.report.evidence import Evidence
from tests.checks.records import failed, recording


def test_to_dict_keeps_pod_zones_and_per_zone_buckets_of_every_request() -> None:
    ev = Evidence("t::x", started=100.0)
    ev.finished = 104.0
    ev.pod_zones.update({"echo-0": "us-east-1a", "echo-1": "us-east-1b", "echo-2": "us-east-1c"})
    rec = recording(30, rate=10.0, shape=lambda i, due: failed() | {"lb_zone": "us-east-1a"} if i in (4, 5) else {})
    rec.wall_start = 101.0  # the prober started 1 s into the test
    ev.recordings.append(rec)
    data = json.loads(json.dumps(ev.to_dict(), default=str))
    assert data["pod_zones"] == ev.pod_zones
    buckets = data["zone_buckets"]
    assert [b["t"] for b in buckets] == [1.0, 2.0, 3.0]
    assert sum(c["requests"] for b in buckets for c in b["zones"].values()) == data["requests_total"] == 30
    assert buckets[0]["zones"]["us-east-1a"] == {"requests": 6, "ok": 4}  # echo-0 at #0,3,6,9 and the two failures
    assert buckets[1]["zones"]["us-east-1a"] == {"requests": 3, "ok": 3}
