"""Score plugins and their normalization: taints, node affinity, least allocated, balanced allocation."""

from __future__ import annotations

from pytest_azchaos.embedded.scheduler import schedule
from pytest_azchaos.embedded.scheduler.model import NodeInfo
from pytest_azchaos.embedded.scheduler.scoring import balanced_allocation, default_normalize, least_allocated

from .builders import golden_nodes, node, pod


def test_prefer_no_schedule_taint_is_avoided() -> None:
    nodes = golden_nodes()
    for n in nodes[:5]:
        n["spec"]["taints"] = [{"key": "spot", "effect": "PreferNoSchedule"}]
    assert schedule(pod("p"), nodes, []).tied == ("node-c2",)


def test_preferred_node_affinity_wins() -> None:
    affinity = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 50, "preference": {
        "matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-c"]}]}}]}}
    assert schedule(pod("p", affinity=affinity), golden_nodes(), []).tied == ("node-c1", "node-c2")


def test_least_allocated_prefers_the_emptier_node() -> None:
    existing = [pod("busy", cpu="1", memory="4Gi", node_name="node-a1")]
    nodes = golden_nodes()[:2]
    assert schedule(pod("p", cpu="100m", memory="64Mi"), nodes, existing).node == "node-a2"


def test_least_allocated_counts_missing_requests_as_100m_and_200mi() -> None:
    info = NodeInfo.build(node("n", "z"), [])
    assert least_allocated(pod("p"), [info]) == {"n": (95 + 97) // 2}


def test_balanced_allocation_is_skipped_for_best_effort_pods() -> None:
    infos = [NodeInfo.build(node("n", "z"), [pod("x", cpu="1", node_name="n")])]
    assert balanced_allocation(pod("p"), infos) == {"n": 0}
    assert balanced_allocation(pod("p", cpu="1", memory="4Gi"), infos) == {"n": 75}


def test_default_normalize_scales_by_the_maximum_and_can_reverse() -> None:
    assert default_normalize({"a": 1, "b": 2, "c": 0}, reverse=False) == {"a": 50, "b": 100, "c": 0}
    assert default_normalize({"a": 1, "b": 2, "c": 0}, reverse=True) == {"a": 50, "b": 0, "c": 100}
    assert default_normalize({"a": 0}, reverse=True) == {"a": 100}


def test_ties_are_broken_reproducibly_per_pod() -> None:
    first = schedule(pod("same"), golden_nodes(), [])
    again = schedule(pod("same"), golden_nodes(), [])
    assert first.node == again.node
    assert len({schedule(pod(f"p{i}"), golden_nodes(), []).node for i in range(20)}) > 1
