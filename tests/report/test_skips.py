"""Why a test was skipped, as pytest's skip reports carry it."""

from __future__ import annotations

from pytest_azchaos.report.skips import skip_reason


def test_the_reason_is_the_third_part_of_a_skip_reports_longrepr() -> None:
    assert skip_reason(("suites/t.py", 12, "Skipped: preflight: one zone")) == "Skipped: preflight: one zone"


def test_a_text_longrepr_is_kept_as_it_is() -> None:
    assert skip_reason("azchaos INCONCLUSIVE: GET nodes: HTTP 503") == "azchaos INCONCLUSIVE: GET nodes: HTTP 503"
    assert skip_reason(None) == ""
