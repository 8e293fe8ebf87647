"""The live view's per-zone figures (pure)."""

from __future__ import annotations

from pytest_azchaos.gameday.live import per_zone_line, zone_of
from pytest_azchaos.traffic.recording import RequestRecord


def _r(seq: int, *, pod: str | None = None, lb_zone: str | None = None, error: str | None = None) -> RequestRecord:
    return RequestRecord(seq, seq * 0.1, seq * 0.1, 0.01, "lb:8080", None if error else 200, error,  # type: ignore[arg-type]
                         pod=pod, lb_zone=lb_zone)


def test_a_request_counts_under_its_load_balancer_zone_before_its_pods_zone() -> None:
    assert zone_of(_r(1, pod="echo-1", lb_zone="b"), {"echo-1": "a"}) == "b"
    assert zone_of(_r(1, pod="echo-1"), {"echo-1": "a"}) == "a"
    assert zone_of(_r(1, error="timeout"), {"echo-1": "a"}) == "unknown"


def test_per_zone_line_shows_success_rate_and_share_and_zones_without_traffic() -> None:
    records = [_r(1, pod="p-a"), _r(2, pod="p-b"), _r(3, lb_zone="b", error="reset"), _r(4, error="timeout")]
    line = per_zone_line(records, {"p-a": "a", "p-b": "b"}, ["a", "b", "c"])
    assert line == "a 100.0% (25%)  b 50.0% (50%)  c --  unknown 0.0% (25%)"


def test_per_zone_line_without_requests_says_so() -> None:
    assert per_zone_line([], {}, ["a"]) == "no requests yet"
