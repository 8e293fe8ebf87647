"""Required node affinity and node selectors, as ``nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)``."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_azchaos.embedded.rules.node_affinity import (
    has_required_node_affinity,
    node_selector_matches,
    node_selector_term_matches,
    required_node_affinity_matches,
)

NODE = {"metadata": {"name": "node-a", "labels": {"zone": "a", "cores": "8", "gpu": "true"}}}


def _term(key: str, operator: str, values: list[str] | None = None) -> dict[str, Any]:
    expr: dict[str, Any] = {"key": key, "operator": operator}
    if values is not None:
        expr["values"] = values
    return {"matchExpressions": [expr]}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        (_term("zone", "In", ["a", "b"]), True),
        (_term("zone", "In", ["b"]), False),
        (_term("zone", "NotIn", ["b"]), True),
        (_term("missing", "NotIn", ["b"]), True),
        (_term("zone", "Exists"), True),
        (_term("missing", "Exists"), False),
        (_term("missing", "DoesNotExist"), True),
        (_term("zone", "DoesNotExist"), False),
        (_term("cores", "Gt", ["4"]), True),
        (_term("cores", "Gt", ["8"]), False),
        (_term("cores", "Lt", ["16"]), True),
        (_term("zone", "Gt", ["1"]), False),  # the label is no integer
        (_term("cores", "Gt", ["4", "5"]), False),  # Gt/Lt take exactly one value
        (_term("cores", "Gt", ["four"]), False),
        (_term("zone", "Bogus", ["a"]), False),  # an unknown operator matches nothing
        ({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-a"]}]}, True),
        ({"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["node-a"]}]}, False),
        ({}, False),  # a term without requirements matches nothing
    ],
)
def test_node_selector_term(term: dict[str, Any], expected: bool) -> None:
    assert node_selector_term_matches(term, NODE) is expected


def test_terms_are_ored_and_no_terms_match_nothing() -> None:
    assert node_selector_matches({"nodeSelectorTerms": [_term("zone", "In", ["b"]), _term("gpu", "Exists")]}, NODE)
    assert not node_selector_matches({"nodeSelectorTerms": []}, NODE)
    assert not node_selector_matches({}, NODE)
    assert node_selector_matches(None, NODE)


def _pod(node_selector: dict[str, str] | None = None, required: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if node_selector is not None:
        spec["nodeSelector"] = node_selector
    if required is not None:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}
    return {"spec": spec}


def test_required_node_affinity_ands_node_selector_and_affinity() -> None:
    affinity = {"nodeSelectorTerms": [_term("zone", "In", ["a"])]}
    assert required_node_affinity_matches(_pod({"gpu": "true"}, affinity), NODE)
    assert not required_node_affinity_matches(_pod({"gpu": "false"}, affinity), NODE)
    assert not required_node_affinity_matches(_pod({"gpu": "true"}, {"nodeSelectorTerms": [_term("zone", "In",
                                                                                                   ["b"])]}), NODE)
    assert required_node_affinity_matches(_pod(), NODE)


def test_required_affinity_without_terms_matches_no_node() -> None:
    """Upstream builds a node selector from a non-nil required affinity; with no terms it matches nothing."""
    assert not required_node_affinity_matches(_pod(required={}), NODE)
    assert not required_node_affinity_matches(_pod(required={"nodeSelectorTerms": []}), NODE)


def test_has_required_node_affinity() -> None:
    assert not has_required_node_affinity(_pod())
    assert has_required_node_affinity(_pod({"zone": "a"}))
    assert has_required_node_affinity(_pod(required={"nodeSelectorTerms": [_term("zone", "Exists")]}))
