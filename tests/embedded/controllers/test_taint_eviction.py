"""Taint-based eviction: when a pod on a NoExecute-tainted node goes (``min_toleration_seconds``)."""

from __future__ import annotations

from pytest_azchaos.embedded.controllers.taint_eviction import min_toleration_seconds

UNREACHABLE = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}
NOT_READY = {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}


def test_an_untolerated_taint_evicts_at_once() -> None:
    assert min_toleration_seconds([UNREACHABLE], []) == 0.0


def test_tolerations_without_seconds_keep_the_pod_forever() -> None:
    assert min_toleration_seconds([UNREACHABLE], [{"operator": "Exists"}]) is None


def test_the_smallest_seconds_of_the_used_tolerations_wins() -> None:
    tolerations = [{"key": UNREACHABLE["key"], "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                   {"key": NOT_READY["key"], "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
                   {"key": "unused", "operator": "Exists", "tolerationSeconds": 1}]
    assert min_toleration_seconds([UNREACHABLE, NOT_READY], tolerations) == 30.0
    assert min_toleration_seconds([UNREACHABLE], tolerations) == 300.0


def test_negative_seconds_count_as_zero() -> None:
    assert min_toleration_seconds([UNREACHABLE], [{"operator": "Exists", "tolerationSeconds": -5}]) == 0.0


def test_a_toleration_with_an_unknown_operator_does_not_tolerate() -> None:
    """Upstream ToleratesTaint matches nothing for an unknown operator (this copy used to compare values)."""
    bogus = {"key": UNREACHABLE["key"], "operator": "Bogus", "effect": "NoExecute", "tolerationSeconds": 600}
    assert min_toleration_seconds([UNREACHABLE], [bogus]) == 0.0
