"""The in-cluster probers' view in the report: requests counted per zone they left from (DNS lookups lost by
each surviving zone included), kept apart from what came in through the load balancer."""

from __future__ import annotations

from pytest_azchaos.report.evidence import Evidence
from pytest_azchaos.report.html import render
from pytest_azchaos.report.series import source_zone_buckets, source_zone_table
from pytest_azchaos.traffic.recording import Recording, RequestRecord


def _inside(seq: int, zone: str, kind: str, ok: bool) -> RequestRecord:
    return RequestRecord(seq, seq * 0.5, seq * 0.5, 0.01, "kube-dns:53", None if not ok else 200,
                         None if ok else "timeout", source_zone=zone, kind=kind)


def _evidence() -> Evidence:
    ev = Evidence("suites/test_az_dns.py::test_dns")
    inside = Recording(wall_start=ev.started, rate=2)
    for i, (zone, kind, ok) in enumerate([("us-east-1b", "dns", True), ("us-east-1b", "dns", False),
                                          ("us-east-1c", "dns", True), ("us-east-1c", "service-name", False)]):
        inside.add(_inside(i, zone, kind, ok))
    outside = Recording(wall_start=ev.started, rate=2)
    outside.add(RequestRecord(0, 0.0, 0.0, 0.01, "lb:8080", 200, lb_zone="us-east-1a"))
    ev.recordings += [inside, outside]
    return ev


def test_inside_requests_are_counted_per_client_zone_and_kind() -> None:
    rows = _evidence().to_dict()["source_zone_table"]
    assert rows == [{"zone": "us-east-1b", "kind": "dns", "requests": 2, "failed": 1},
                    {"zone": "us-east-1c", "kind": "dns", "requests": 1, "failed": 0},
                    {"zone": "us-east-1c", "kind": "service-name", "requests": 1, "failed": 1}]


def test_outside_requests_stay_out_of_the_client_zone_view_and_inside_ones_out_of_the_lb_view() -> None:
    d = _evidence().to_dict()
    assert {z for b in d["zone_buckets"] for z in b["zones"]} == {"us-east-1a"}
    assert {z for b in d["source_zone_buckets"] for z in b["zones"]} == {"us-east-1b", "us-east-1c"}
    assert source_zone_buckets([{"t": 0.2, "ok": True}]) == []
    assert source_zone_table([{"t": 0.2, "ok": False}]) == {}


def test_the_html_shows_the_client_zone_chart_and_table_with_the_failed_lookups() -> None:
    html = render([_evidence().to_dict()])
    assert "Success rate from inside, per client zone" in html
    assert "<th scope='row'>us-east-1b</th><td>dns</td><td>2</td><td>1</td>" in html
    assert "from us-east-1b (dns)" in html
