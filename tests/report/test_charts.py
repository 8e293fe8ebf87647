"""The charts of one test: one clock for fault phases, failed requests and check verdicts."""

from __future__ import annotations

import re

from pytest_azchaos.report.charts import Clock, check_times, nice_step, timeline_svg

from .evidence_data import drain_evidence


def _xs(svg: str, marker: str) -> list[float]:
    return [float(x) for x in re.findall(r'<line x1="([\d.]+)"[^>]*' + marker, svg)]


def test_failed_requests_are_marked_at_their_time_on_the_tests_clock() -> None:
    ev = drain_evidence()
    svg = timeline_svg(ev)
    clock = Clock(float(ev["duration_s"]))
    marks = _xs(svg, 'class="failed-request"')
    assert marks == [round(clock.x(r["t"]), 1) for r in ev["failed_requests"]], marks
    assert len(marks) == 4


def test_checks_are_drawn_at_their_verdict_time_relative_to_the_test_start() -> None:
    ev = drain_evidence()
    assert [(t, c["check_id"]) for t, c in check_times(ev)] == [(8.0, "AZ-DRAIN"), (8.5, "AZ-RESCHED")]
    svg = timeline_svg(ev)
    clock = Clock(float(ev["duration_s"]))
    titles = re.findall(r'<line x1="([\d.]+)"[^>]*><title>(AZ-[A-Z]+) (\w+) at ([\d.]+)s</title>', svg)
    assert (f"{clock.x(8.0):.1f}", "AZ-DRAIN", "failed", "8.0") in titles, titles
    assert (f"{clock.x(8.5):.1f}", "AZ-RESCHED", "passed", "8.5") in titles, titles


def test_the_fault_phase_is_shaded_from_its_start_to_its_end() -> None:
    ev = drain_evidence()
    clock = Clock(10.0)
    svg = timeline_svg(ev)
    shaded = re.findall(r'<rect x="([\d.]+)" y="\d+" width="([\d.]+)"[^>]*><title>fault drain us-east-1a', svg)
    assert shaded and all(abs(float(x) - clock.x(3.5)) < 0.1 and abs(float(x) + float(w) - clock.x(7.0)) < 0.2
                          for x, w in shaded), shaded


def test_a_check_after_the_last_request_widens_the_clock_instead_of_falling_off() -> None:
    ev = drain_evidence()
    ev["checks"][1]["at"] = ev["started"] + 30.0
    svg = timeline_svg(ev)
    assert ">30</text>" in svg, "the time axis should reach the last check's verdict (30 s)"


def test_time_ticks_stay_few_on_long_runs() -> None:
    assert nice_step(10) == 1 and nice_step(95) == 10 and nice_step(900) == 120


def test_zones_differ_by_dash_pattern_not_only_colour() -> None:
    svg = timeline_svg(drain_evidence())
    share = svg[svg.index("Traffic share per zone"):]
    share = share[:share.index("</svg>")]
    dashes = set(re.findall(r'<polyline [^>]*stroke-dasharray="([^"]*)"', share))
    assert len(dashes) == 3, dashes


def test_evidence_without_zone_buckets_still_draws_the_overall_success_rate() -> None:
    ev = drain_evidence()
    del ev["zone_buckets"]
    svg = timeline_svg(ev)
    assert "Success rate per zone" in svg and "Traffic share per zone" not in svg
