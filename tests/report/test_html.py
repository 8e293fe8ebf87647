"""The HTML report rendered from hand-built evidence dicts: the overview, the per-test sections, escaping."""

from __future__ import annotations

from pytest_azchaos.report.html import anchor, render

from .evidence_data import drain_evidence
from .page import Page


def balance_evidence() -> dict[str, object]:
    from pytest_azchaos.checks.result import CheckResult

    result = CheckResult("AZ-BALANCE", True, "6 pods each served within 50% of the mean (67)",
                         figures={"requests": 401, "pods": 6, "mean": 66.8, "min": 60, "max": 71,
                                  "max_deviation": 0.102})
    return drain_evidence(test="suites/test_az_balance.py::test_balance", outcome="passed", phases=[],
                          checks=[{**result.to_dict(), "at": 1_800_000_005.0}], predictions=[])


def test_the_report_opens_with_the_overview_table() -> None:
    page = Page(render([drain_evidence()]))
    assert page.tags.index("table") < page.tags.index("section"), "the overview must come before the tests"
    assert page.overview_rows(), "no overview table (table id=overview) found"


def test_overview_has_one_row_per_check_with_verdict_key_figure_and_link_to_its_test() -> None:
    drain, balance = drain_evidence(), balance_evidence()
    page = Page(render([drain, balance]))
    assert [r["cells"][0] for r in page.overview_rows()] == ["AZ-DRAIN", "AZ-RESCHED", "AZ-BALANCE"]
    row = page.row("AZ-DRAIN")
    assert row["cells"][1:3] == ["FAILED", "4/60 requests failed, longest failure window 1.5 s"], row
    assert row["links"] == ["#" + anchor(drain["test"])]  # type: ignore[arg-type]
    assert page.row("AZ-RESCHED")["cells"][1:3] == ["passed", "rescheduled in 4.2 s, 6/6 Ready, skew 0"]
    assert page.row("AZ-BALANCE")["cells"][1:3] == ["passed", "share spread ±10% of the mean (60..71 requests per "
                                                              "pod over 6 pods)"]
    assert page.row("AZ-BALANCE")["links"] == ["#" + anchor(balance["test"])]  # type: ignore[arg-type]
    assert anchor(drain["test"]) in page.section_ids and anchor(balance["test"]) in page.section_ids  # type: ignore[arg-type]
    assert "1 failed, 2 passed" in page.overview_caption, page.overview_caption


def test_an_inconclusive_check_shows_why_in_the_overview() -> None:
    ev = drain_evidence()
    ev["checks"][0].update(verdict="inconclusive", inconclusive="the prober stalled 1.2s at t=4s")
    page = Page(render([ev]))
    assert page.row("AZ-DRAIN")["cells"][1] == "INCONCLUSIVE: the prober stalled 1.2s at t=4s"


def test_skipped_tests_appear_in_the_overview_with_their_reason_and_a_section() -> None:
    ev = drain_evidence(checks=[], outcome="passed")
    skipped = [{"test": ev["test"], "reason": "Skipped: preflight: only 1 zone has Ready nodes"},
               {"test": "suites/test_az_srcip.py::test_srcip", "reason": "Skipped: the target answers no echo "
                "endpoint; set echo_path to enable AZ-SRCIP"},
               {"test": "suites/test_x.py::test_api", "reason": "azchaos INCONCLUSIVE: GET nodes: HTTP 503"}]
    page = Page(render([ev], skipped=skipped))
    rows = {r["cells"][4]: r for r in page.overview_rows()}  # type: ignore[index]
    assert rows[ev["test"]]["cells"][:2] == ["—", "skipped: preflight: only 1 zone has Ready nodes"]
    assert rows["suites/test_az_srcip.py::test_srcip"]["cells"][1].startswith("skipped: the target answers")  # type: ignore[index]
    assert rows["suites/test_x.py::test_api"]["cells"][1] == "INCONCLUSIVE: GET nodes: HTTP 503"
    for test, row in rows.items():
        assert row["links"] == ["#" + anchor(test)] and anchor(test) in page.section_ids, (test, page.section_ids)


def test_a_failed_test_without_checks_says_so_in_the_overview() -> None:
    page = Page(render([drain_evidence(checks=[])]))
    assert page.overview_rows()[0]["cells"][:2] == ["—", "FAILED: no check was recorded"]


def test_each_chart_has_labelled_axes_with_units() -> None:
    page = Page(render([drain_evidence()]))
    labels = set(page.svg_texts)
    for label in ("time since test start (s)", "success rate (%)", "share of requests (%)", "ready pods",
                  "p99 latency (ms)"):
        assert label in labels, f"axis label {label!r} missing from {sorted(labels)}"
    assert page.svg_texts.count("time since test start (s)") == 4


def test_the_page_needs_no_script_and_nothing_from_the_internet() -> None:
    text = render([drain_evidence()])
    assert "<script" not in text.lower()
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text


def test_predictions_are_shown_beside_the_checks_as_expected() -> None:
    page = Page(render([drain_evidence()]))
    text = " ".join(page.text)
    assert "What the oracle predicted" in text
    assert ("drain us-east-1a : expected all 6 replica(s) Ready outside us-east-1a by ~4s after the fault, because "
            "2 replica(s) move (us-east-1b: 1, us-east-1c: 1)") in text
    assert "echo-a (Deployment, node-a1): moves -> us-east-1b at ~4s: evicted by the drain" in text


def test_a_check_compared_with_the_oracle_shows_the_prediction_and_the_agreement() -> None:
    ev = drain_evidence()
    ev["checks"][1]["figures"].update(predicted="expected all 6 replica(s) Ready outside us-east-1a", agrees=True,
                                      observed="6 Ready")
    ev["checks"][0]["figures"].update(predicted="expected no failed request", agrees=False, observed="4 failed")
    page = Page(render([ev]))
    assert page.row("AZ-RESCHED")["cells"][3] == ("expected all 6 replica(s) Ready outside us-east-1a "
                                                  "(observed as predicted)")
    assert page.row("AZ-DRAIN")["cells"][3] == "expected no failed request (unexpected: observed 4 failed)"


def test_a_checks_own_expected_text_is_in_the_overview_and_its_section() -> None:
    ev = drain_evidence()
    ev["checks"][1]["prediction"] = "3 pods in us-east-1b, 3 in us-east-1c"
    page = Page(render([ev]))
    assert page.row("AZ-RESCHED")["cells"][3] == "3 pods in us-east-1b, 3 in us-east-1c"
    assert "expected: 3 pods in us-east-1b, 3 in us-east-1c" in " ".join(page.text)
    assert page.row("AZ-DRAIN")["cells"][3] == "—"


def test_everything_from_the_cluster_is_escaped() -> None:
    evil = "<img src=x onerror=alert(1)>"
    ev = drain_evidence(test=f"suites/t.py::test[{evil}]", notes=[evil],
                        phases=[{"name": evil, "start": 1.0, "end": 2.0}],
                        predictions=[{"fault": evil, "summary": evil, "details": [evil]}],
                        pod_zones={"echo-a": evil})
    ev["failed_requests"][0].update(detail=evil, target=evil, pod=evil)
    ev["checks"][0].update(summary=evil, evidence=[evil], check_id=evil, key_figure=evil, expected=evil)
    ev["ready_pods_per_zone"][0]["ready"][evil] = 1
    ev["zone_buckets"][0]["zones"][evil] = {"requests": 1, "ok": 1}
    text = render([ev], skipped=[{"test": evil, "reason": evil}])
    assert "<img" not in text, text[text.find("<img") - 200:text.find("<img") + 100]
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    page = Page(text)
    assert evil in [r["cells"][0] for r in page.overview_rows()]  # read back as the text it was


def test_the_overview_caption_counts_verdicts_and_tests_without_a_check() -> None:
    ev = drain_evidence()
    page = Page(render([ev], skipped=[{"test": "suites/t.py::test_srcip", "reason": "Skipped: no echo endpoint"}]))
    assert page.overview_caption == "Every check in this run (1 failed, 1 passed, 1 test(s) skipped without a check)"
