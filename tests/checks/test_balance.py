"""AZ-BALANCE over constructed recordings: per-pod shares under Local."""

from __future__ import annotations

from pytest_azchaos.checks.spread import balance

from .records import recording

ZONES = {"echo-0": "us-east-1a", "echo-1": "us-east-1b", "echo-2": "us-east-1c"}


def test_even_shares_pass() -> None:
    result = balance(recording(90), ZONES, tolerance=0.2)
    assert result.passed, result.message()
    assert result.figures["max_deviation"] == 0.0


def test_uneven_shares_fail_naming_the_pods_outside() -> None:
    # echo-0 alone on its node gets half the traffic, the other two a quarter each.
    rec = recording(100, shape=lambda s, d: {"pod": "echo-0" if s % 2 else f"echo-{1 + (s // 2) % 2}"})
    nodes = {"echo-0": "node-a1", "echo-1": "node-b1", "echo-2": "node-b1"}
    result = balance(rec, ZONES, tolerance=0.25, pod_nodes=nodes)
    assert not result.passed
    msg = result.message()
    assert "1 of 3 pods served outside 25..42 requests (mean 33 ± 25%); max deviation 50%" in msg
    assert "echo-0 (us-east-1a): 50 requests (50.0%) OUTSIDE" in msg
    assert "echo-1 (us-east-1b): 25 requests (25.0%)" in msg
    assert "pods per node: node-a1: 1, node-b1: 2" in msg


def test_a_pod_that_served_nothing_counts() -> None:
    zones = dict(ZONES, **{"echo-3": "us-east-1a"})
    result = balance(recording(90), zones, tolerance=0.5)
    assert not result.passed
    assert "echo-3 (us-east-1a): 0 requests (0.0%) OUTSIDE" in result.message()
