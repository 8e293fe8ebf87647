"""The capture of negative controls' failure output: what is masked, what a comparison tolerates, and that a
changed message fails naming the regeneration command."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_azchaos.checks.result import CheckResult

from . import capture

RESULT = CheckResult("AZ-DRAIN", False, "12 of 600 requests failed during t=1.0s..end (2.00%); allowed 0 (0.00%)", (
    "failure window t=6.580s..15.061s (8.481s): 12 failed (12 timeout)",
    "failed request #329 t=6.580s -> 127.3.0.9:8080: timeout after 2001ms: TimeoutError:",
    "served per pod before: echo-6d4f9c7b8d-x7k2p 51 (100%)",
    "event 2026-12-07T11:00:01Z Normal Killing pod/echo-6d4f9c7b8d-x7k2p [kubelet]: Stopping container echo"))


def test_volatile_names_become_placeholders_and_zones_and_nodes_stay() -> None:
    text = capture.normalise("pod echo-6d4f9c7b8d-x7k2p in azchaos-1a2b3c-9f8e7 at 127.3.0.9:8080 port 31234 on "
                             "ip-127-66-1-1.us-east-1.compute.internal (us-east-1a) run azchaos-20261207-110000-abcdef")
    assert text == ("pod echo-<pod> in <namespace> at <address> port <node-port> on "
                    "ip-127-66-1-1.us-east-1.compute.internal (us-east-1a) run <run-id>\n")


def test_a_comparison_ignores_figures_and_timing_dependent_lines() -> None:
    other = CheckResult("AZ-DRAIN", False, "3 of 580 requests failed during t=1.0s..end (0.52%); allowed 0 (0.00%)", (
        "failure window t=2.0s..2.5s (0.5s): 2 failed (2 reset)",
        "failure window t=3.0s..3.1s (0.1s): 1 failed (1 reset)",
        "own-side stall: the prober's event loop ran 0.3s late at t=2.1s..2.4s",
        "served per pod before: echo-6d4f9c7b8d-abcde 40 (100%)"))
    assert capture.shape(capture.normalise(other.message())) == capture.shape(capture.normalise(RESULT.message()))


def test_a_reworded_summary_or_a_new_kind_of_evidence_changes_the_shape() -> None:
    base = capture.shape(RESULT.message())
    reworded = CheckResult("AZ-DRAIN", False, "requests failed: 12 of 600", RESULT.evidence)
    more = CheckResult("AZ-DRAIN", False, RESULT.summary, (*RESULT.evidence, "traffic per zone: us-east-1a 30%"))
    assert capture.shape(reworded.message()) != base
    assert capture.shape(more.message()) != base


@pytest.fixture
def captured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(capture, "ROOT", tmp_path)
    monkeypatch.setattr(capture, "CAPTURED", tmp_path / "docs" / "checks" / "_captured")
    return capture.CAPTURED


def test_capture_mode_writes_the_snippet_and_a_normal_run_compares(captured: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(capture.ENV, "1")
    capture.capture_failure("AZ-DRAIN", RESULT, name="one-replica")
    written = (captured / "AZ-DRAIN--one-replica.txt").read_text()
    assert written.startswith("AZ-DRAIN FAILED: 12 of 600") and written.endswith("see docs/checks/AZ-DRAIN.md\n")
    monkeypatch.delenv(capture.ENV)
    capture.capture_failure("AZ-DRAIN", RESULT, name="one-replica")  # the same message: no complaint


def test_a_changed_message_fails_naming_the_regeneration_command(captured: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(capture.ENV, raising=False)
    captured.mkdir(parents=True)
    (captured / "AZ-DRAIN.txt").write_text("AZ-DRAIN FAILED: something else entirely\n")
    with pytest.raises(AssertionError, match=r"no longer matches docs/checks/_captured/AZ-DRAIN.txt .*"
                                             r"`\.venv/bin/python -m tests\.docs\.capture`"):
        capture.capture_failure("AZ-DRAIN", RESULT)


def test_a_missing_snippet_fails_and_a_result_of_another_check_is_refused(captured: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(capture.ENV, raising=False)
    with pytest.raises(AssertionError, match=r"AZ-DRAIN\.txt is missing: capture it with"):
        capture.capture_failure("AZ-DRAIN", RESULT)
    with pytest.raises(AssertionError, match="was given a result of AZ-DRAIN"):
        capture.capture_failure("AZ-TOPO", RESULT)
