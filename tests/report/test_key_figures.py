"""The overview's key figure per check, chosen by the figures each check carries (``CheckResult.key_figure``)."""

from __future__ import annotations

import pytest

from pytest_azchaos.checks.result import CheckResult
from pytest_azchaos.report.html import overview_rows


@pytest.mark.parametrize(("check_id", "figures", "figure"), [
    ("AZ-DRAIN", {"requests": 580, "failed_requests": 0, "longest_failure_window_s": 0.0},
     "0/580 requests failed"),
    ("AZ-OUTAGE", {"requests": 555, "failed_requests": 269, "longest_failure_window_s": 7.36},
     "269/555 requests failed, longest failure window 7.36 s"),
    ("AZ-RESCHED", {"time_to_recover_s": 9.6, "waited_s": 0.0, "ready": 6, "expected": 6, "skew": 0},
     "rescheduled in 9.6 s, 6/6 Ready, skew 0"),
    ("AZ-RESCHED", {"time_to_recover_s": None, "waited_s": 60.0, "ready": 4, "expected": 6, "skew": 2},
     "not recovered after 60 s, 4/6 Ready, skew 2"),
    ("AZ-BALANCE", {"requests": 401, "pods": 6, "mean": 66.8, "min": 60, "max": 71, "max_deviation": 0.064},
     "share spread ±6% of the mean (60..71 requests per pod over 6 pods)"),
    ("AZ-TOPO", {"zones": 3, "pods": 6, "per_zone": {"a": 2, "b": 2, "c": 2}, "skew": 0},
     "zone skew 0 over 3 zones (6 pods)"),
    ("AZ-CORDON", {"new_pods": 2, "in_cordoned_zone": 0, "elsewhere": 2, "pending": 0},
     "0 of 2 new pods in the cordoned zone"),
    ("AZ-SRCIP", {"requests": 90, "preserved": 88, "rewritten": 2}, "2 of 90 client addresses rewritten"),
    ("AZ-SRCIP", {"requests": 90, "snat": 90, "not_snat": 0}, "0 of 90 requests not SNATed"),
    ("AZ-EBS-BIND", {"volumes": 3, "mismatches": 1}, "1 mismatch(es) of 3 volumes"),
    ("AZ-HCNP", {"nodes": 6, "nodes_with_endpoints": 3, "mismatches": 0}, "0 mismatch(es) of 6 nodes"),
    ("AZ-PARTITION", {"requests": 300, "failed_requests": 40, "failed_after_window": 0, "detection_window_s": 5.0,
                      "requests_after_window": 200, "longest_failure_window_s": 4.2},
     "0/200 requests failed after the 5 s detection window, longest failure window 4.2 s"),
    ("AZ-PARTITION", {"waited_s": 6.5, "zone": "us-east-1a", "not_ready_elsewhere": 0},
     "us-east-1a NotReady after 6.5 s, 0 node(s) NotReady elsewhere"),
    ("AZ-PARTITION", {"held_pods": 2, "problems": 0}, "0 problem(s) with 2 held StatefulSet pod(s)"),
    ("AZ-PARTITION", {"waited_s": 12.0, "held_pods": 2}, "waited 12 s for 2 held pod(s) to come back"),
    ("AZ-PARTITION", {"samples": 40, "violations": 0, "sample_errors": 0}, "0 second writer(s) in 40 samples"),
    ("AZ-EBS-DRAIN", {"pending": True, "moved": False, "new_pvs": 0}, "pod Pending, 0 new PV(s)"),
    ("AZ-EBS-DRAIN", {"outcome": "terminating", "terminating": True, "moved": False, "new_pvs": 0},
     "pod terminating, 0 new PV(s)"),
    ("AZ-EBS-PERM", {"exit_code": 0}, "exit code 0"),
    ("AZ-NEW", {"a": 1, "b": "x", "c": [1], "d": None}, "a=1, b=x, d=None"),
])
def test_the_overview_shows_each_checks_key_figure(check_id: str, figures: dict[str, object], figure: str) -> None:
    result = CheckResult(check_id, True, "summary", figures=figures)
    assert result.to_dict()["key_figure"] == figure
    ev = {"test": "t.py::test", "checks": [result.to_dict()]}
    assert overview_rows([ev])[0]["figure"] == figure


def test_evidence_written_before_key_figures_existed_still_gets_one() -> None:
    old = CheckResult("AZ-DRAIN", False, "s", figures={"requests": 10, "failed_requests": 2,
                                                      "longest_failure_window_s": 0.5}).to_dict()
    del old["key_figure"]
    assert overview_rows([{"test": "t.py::test", "checks": [old]}])[0]["figure"] == \
        "2/10 requests failed, longest failure window 0.5 s"
