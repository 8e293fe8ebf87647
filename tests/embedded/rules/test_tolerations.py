"""``toleration_tolerates`` against upstream's ``Toleration.ToleratesTaint`` cases (``toleration_test.go``)."""

from __future__ import annotations

import pytest

from pytest_azchaos.embedded.rules.tolerations import (
    matching_tolerations,
    tolerated,
    toleration_tolerates,
    untolerated_taints,
)

TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        ({"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}, True),
        ({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}, True),  # no operator means Equal
        ({"key": "dedicated", "operator": "", "value": "gpu"}, True),  # "" means Equal; no effect: all effects
        ({"key": "dedicated", "operator": "Equal", "value": "cpu"}, False),
        ({"key": "dedicated", "operator": "Exists"}, True),
        ({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}, False),
        ({"key": "other", "operator": "Exists"}, False),
        ({"operator": "Exists"}, True),  # empty key with Exists tolerates every taint
        ({"operator": "Exists", "effect": "NoSchedule"}, True),
        ({"operator": "Exists", "effect": "NoExecute"}, False),
        ({"operator": "Equal", "value": "gpu"}, True),  # empty key: any key, the values are compared
        ({"operator": "Equal", "value": "cpu"}, False),
    ],
)
def test_toleration_tolerates_taint(toleration: dict, expected: bool) -> None:
    assert toleration_tolerates(toleration, TAINT) is expected


@pytest.mark.parametrize("operator", ["Gt", "Lt", "In", "exists", "equal"])
def test_unknown_operator_tolerates_nothing(operator: str) -> None:
    assert not toleration_tolerates({"key": "dedicated", "operator": operator, "value": "gpu"}, TAINT)
    assert not toleration_tolerates({"operator": operator}, TAINT)


def test_a_taint_without_value_matches_an_equal_toleration_without_value() -> None:
    assert toleration_tolerates({"key": "k", "operator": "Equal"}, {"key": "k", "effect": "NoExecute"})


def test_tolerated_and_matching_tolerations_keep_the_order() -> None:
    tolerations = [{"key": "other", "operator": "Exists"}, {"operator": "Exists", "tolerationSeconds": 5},
                   {"key": "dedicated", "value": "gpu"}]
    assert tolerated(TAINT, tolerations)
    assert matching_tolerations(TAINT, tolerations) == tolerations[1:]
    assert not tolerated(TAINT, tolerations[:1])


def test_untolerated_taints_only_look_at_the_given_effects() -> None:
    node = {"spec": {"taints": [TAINT, {"key": "soft", "effect": "PreferNoSchedule"}]}}
    pod = {"spec": {"tolerations": [{"key": "dedicated", "operator": "Bogus"}]}}
    assert untolerated_taints(node, pod, ("NoSchedule", "NoExecute")) == [TAINT]
    assert untolerated_taints(node, {"spec": {}}, ("PreferNoSchedule",)) == [{"key": "soft",
                                                                              "effect": "PreferNoSchedule"}]
