"""Per-zone series: which zone a request counts in, per-second buckets, success rate and traffic share."""

from __future__ import annotations

from pytest_azchaos.report.series import UNKNOWN_ZONE, success_rate, traffic_share, zone_buckets, zone_of, zone_totals

from .evidence_data import POD_ZONES, requests


def test_a_request_counts_in_its_load_balancer_zone_before_its_pods_zone() -> None:
    assert zone_of({"lb_zone": "us-east-1c", "pod": "echo-a"}, POD_ZONES) == "us-east-1c"
    assert zone_of({"lb_zone": None, "pod": "echo-a"}, POD_ZONES) == "us-east-1a"
    assert zone_of({"lb_zone": None, "pod": None}, POD_ZONES) == UNKNOWN_ZONE
    assert zone_of({"pod": "gone-pod"}, POD_ZONES) == UNKNOWN_ZONE


def test_buckets_count_requests_and_successes_per_second_and_zone() -> None:
    rows = [{"t": 0.1, "ok": True, "pod": "echo-a"}, {"t": 0.9, "ok": False, "pod": None, "lb_zone": "us-east-1a"},
            {"t": 1.0, "ok": True, "pod": "echo-b"}, {"t": 3.5, "ok": False, "pod": None}]
    assert zone_buckets(rows, POD_ZONES) == [
        {"t": 0.0, "zones": {"us-east-1a": {"requests": 2, "ok": 1}}},
        {"t": 1.0, "zones": {"us-east-1b": {"requests": 1, "ok": 1}}},
        {"t": 3.0, "zones": {UNKNOWN_ZONE: {"requests": 1, "ok": 0}}},
    ]


def test_success_rate_per_zone_drops_only_for_the_failing_zone() -> None:
    rates = success_rate(zone_buckets(requests(), POD_ZONES))
    a = dict(rates["us-east-1a"])
    assert a[0.5] == 100.0 and a[4.5] == 0.0 and a[5.5] == 0.0 and a[6.5] == 100.0, a
    assert {v for _, v in rates["us-east-1b"]} == {100.0}
    assert {v for _, v in rates["us-east-1c"]} == {100.0}


def test_traffic_share_per_zone_sums_to_100_each_second_and_shows_a_zone_losing_traffic() -> None:
    rows = [{"t": 0.2, "ok": True, "pod": "echo-a"}, {"t": 0.4, "ok": True, "pod": "echo-b"},
            {"t": 0.6, "ok": True, "pod": "echo-b"}, {"t": 0.8, "ok": True, "pod": "echo-c"},
            {"t": 1.2, "ok": True, "pod": "echo-b"}, {"t": 1.6, "ok": True, "pod": "echo-c"}]
    shares = traffic_share(zone_buckets(rows, POD_ZONES))
    assert shares == {"us-east-1a": [(0.5, 25.0), (1.5, 0.0)], "us-east-1b": [(0.5, 50.0), (1.5, 50.0)],
                      "us-east-1c": [(0.5, 25.0), (1.5, 50.0)]}
    for second in (0.5, 1.5):
        assert sum(dict(points)[second] for points in shares.values()) == 100.0


def test_zone_totals_add_up_to_every_request() -> None:
    rows = requests()
    totals = zone_totals(zone_buckets(rows, POD_ZONES))
    assert sum(n for n, _ in totals.values()) == len(rows)
    assert totals["us-east-1a"] == (20, 16)  # 4 failed at t=4.0, 4.5, 5.0, 5.5
