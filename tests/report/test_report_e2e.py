"""End to end: a small suite run by pytest in a subprocess against the embedded cluster writes an index.html
whose overview table lists every check with its verdict, key figure and a link to its test's section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_azchaos.report.html import anchor

from .page import Page

pytest_plugins = ["pytester"]

SUITE = '''
import time

import pytest

from pytest_azchaos.apps import EchoSpec
from pytest_azchaos.checks import CheckFailed
from pytest_azchaos.checks.downtime import zero_downtime
from pytest_azchaos.checks.rescheduled import rescheduled
from pytest_azchaos.traffic.window import fault_window, settle


@pytest.mark.azchaos_destructive
def test_drain(azchaos_cluster, azchaos_echo_app, azchaos_zone, azchaos_zones, azchaos_traffic, azchaos_chaos,
               azchaos_settings, azchaos_profile, azchaos_run, azchaos_check):
    app = azchaos_echo_app
    replicas = app.desired_replicas()
    zones_before = app.pod_zones(azchaos_zones)
    prober = azchaos_traffic.start(app)
    settle(1)
    with fault_window(prober) as window:
        since = time.time()
        azchaos_chaos.drain_zone(azchaos_zone)
    resched = rescheduled(azchaos_cluster.core, app.namespace, app.label_selector, azchaos_zone, replicas,
                          timeout=azchaos_profile.reschedule_timeout, zones=azchaos_zones, since=since,
                          progress=azchaos_run.progress)
    settle(1)
    recording = prober.stop()
    azchaos_check(zero_downtime(recording, azchaos_settings.error_budget, during=(window[0], None),
                                pod_zones={**zones_before, **app.pod_zones(azchaos_zones)}))
    azchaos_check(resched)


@pytest.mark.azchaos_destructive
def test_one_pinned_replica_loses_requests(azchaos_deploy, azchaos_traffic, azchaos_chaos, azchaos_zones,
                                           azchaos_check):
    zone = azchaos_zones.zones()[0]
    app = azchaos_deploy(EchoSpec(replicas=1, pdb_max_unavailable=None, spread="one-zone", pinned_zone=zone))
    prober = azchaos_traffic.start(app)
    settle(1)
    with fault_window(prober) as window:
        azchaos_chaos.drain_zone(zone)
    settle(1)
    recording = prober.stop()
    with pytest.raises(CheckFailed):
        azchaos_check(zero_downtime(recording, 0.0, during=(window[0], None), check_id="AZ-PINNED"))


def test_needs_an_echo_endpoint(azchaos_evidence):
    pytest.skip("the target answers no <echo> endpoint; set echo_path to enable AZ-SRCIP")
'''


def test_a_suite_run_writes_an_overview_of_every_check_with_links(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_small_suite=SUITE)
    report = pytester.path / "report"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--azchaos-report-dir", str(report),
                                           timeout=600)
    result.assert_outcomes(passed=2, skipped=1)
    page = Page((report / "index.html").read_text())
    rows = {(r["cells"][0], str(r["cells"][4]).rsplit("::", 1)[-1]): r for r in page.overview_rows()}  # type: ignore[index]
    assert set(rows) == {("AZ-DRAIN", "test_drain"), ("AZ-RESCHED", "test_drain"),
                         ("AZ-PINNED", "test_one_pinned_replica_loses_requests"),
                         ("—", "test_needs_an_echo_endpoint")}, sorted(rows)
    drain, resched = rows["AZ-DRAIN", "test_drain"], rows["AZ-RESCHED", "test_drain"]
    pinned = rows["AZ-PINNED", "test_one_pinned_replica_loses_requests"]
    assert drain["cells"][1] == "passed" and str(drain["cells"][2]).startswith("0/"), drain
    assert resched["cells"][1] == "passed" and str(resched["cells"][2]).startswith("rescheduled in "), resched
    assert pinned["cells"][1] == "FAILED" and "longest failure window" in str(pinned["cells"][2]), pinned
    skipped = rows["—", "test_needs_an_echo_endpoint"]
    assert skipped["cells"][1] == "skipped: the target answers no <echo> endpoint; set echo_path to enable AZ-SRCIP"
    for row in rows.values():
        test = str(row["cells"][4])
        assert row["links"] == ["#" + anchor(test)] and anchor(test) in page.section_ids, (row, page.section_ids)
    for label in ("time since test start (s)", "success rate (%)", "share of requests (%)", "ready pods"):
        assert label in page.svg_texts, label
    assert "failed-request" in page.classes
    _json_is_the_source_of_the_zone_charts(report)


def _json_is_the_source_of_the_zone_charts(report: Path) -> None:
    drain = json.loads(next(report.glob("*test_drain.json")).read_text())
    assert set(drain["pod_zones"].values()) == {"us-east-1a", "us-east-1b", "us-east-1c"}, drain["pod_zones"]
    counted = sum(c["requests"] for b in drain["zone_buckets"] for c in b["zones"].values())
    assert counted == drain["requests_total"] > 0
    assert drain["checks"][0]["key_figure"].startswith("0/"), drain["checks"][0]
