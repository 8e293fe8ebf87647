"""DefaultPreemption's message parts and the nominated outcome."""

from __future__ import annotations

from pytest_azchaos.embedded.scheduler import schedule

from .builders import ZONES, cordon, golden_nodes, pod


def fillers(priority_by_node: dict[str, int] | None = None, cpu: str = "1500m") -> list[dict]:
    priorities = priority_by_node or {}
    return [pod(f"fill-{n}", cpu=cpu, node_name=n, priority=priorities.get(n, 0)) for n in ZONES]


def test_higher_priority_pod_is_nominated_where_the_cheapest_victim_is() -> None:
    incoming = pod("vip", cpu="1", priority=1000)
    result = schedule(incoming, golden_nodes(), fillers({"node-b2": -5}))
    assert result.node is None
    assert result.message == "0/6 nodes are available: 6 Insufficient cpu."
    assert result.nominated is not None
    assert result.nominated.node == "node-b2"
    assert result.nominated.victims == ("default/fill-node-b2",)


def test_only_lower_priority_pods_are_victims() -> None:
    incoming = pod("vip", cpu="1", priority=1000)
    existing = [*fillers(), pod("tiny", cpu="100m", node_name="node-a1", priority=2000)]
    result = schedule(incoming, golden_nodes(), existing)
    assert result.nominated is not None
    assert "default/tiny" not in result.nominated.victims


def test_reprieve_keeps_victims_the_pod_does_not_need_gone() -> None:
    existing = [pod("big", cpu="1500m", node_name="node-a1"), pod("small", cpu="100m", node_name="node-a1")]
    incoming = pod("vip", cpu="1", priority=10, nodeSelector={"kubernetes.io/hostname": "node-a1"})
    result = schedule(incoming, golden_nodes(), existing)
    assert result.nominated is not None
    assert result.nominated.victims == ("default/big",)


def test_removing_all_lower_priority_pods_still_not_enough_reports_the_filter_reason() -> None:
    existing = [*fillers(dict.fromkeys(ZONES, 10)),
                *[pod(f"low-{n}", cpu="400m", node_name=n, priority=-1) for n in ZONES]]
    result = schedule(pod("vip", cpu="1", priority=5), golden_nodes(), existing)
    assert result.message == ("0/6 nodes are available: 6 Insufficient cpu. no new claims to deallocate, "
                              "preemption: 0/6 nodes are available: 6 Insufficient cpu.")


def test_preemption_policy_never() -> None:
    result = schedule(pod("p", cpu="1", priority=1000, preemptionPolicy="Never"), golden_nodes(), fillers())
    assert result.message == ("0/6 nodes are available: 6 Insufficient cpu. no new claims to deallocate, "
                              "preemption: not eligible due to preemptionPolicy=Never.")


def test_mixed_unresolvable_and_resolvable_nodes() -> None:
    nodes = golden_nodes()
    for n in nodes[:2]:
        cordon(n)
    result = schedule(pod("p", cpu="1"), nodes, fillers())
    assert result.message == (
        "0/6 nodes are available: 2 node(s) were unschedulable, 4 Insufficient cpu. no new claims to deallocate, "
        "preemption: 0/6 nodes are available: 2 Preemption is not helpful for scheduling, "
        "4 No preemption victims found for incoming pod.")


def test_not_eligible_while_a_victim_is_still_terminating_on_the_nominated_node() -> None:
    existing = fillers({"node-b2": -5})
    victim = existing[3]
    victim["metadata"]["deletionTimestamp"] = "2026-11-22T07:30:00Z"
    victim["status"] = {"conditions": [{"type": "DisruptionTarget", "status": "True",
                                        "reason": "PreemptionByScheduler"}]}
    incoming = pod("vip", cpu="1", priority=1000)
    incoming["status"] = {"nominatedNodeName": "node-b2"}
    result = schedule(incoming, golden_nodes(), existing)
    assert result.nominated is None
    assert result.message == ("0/6 nodes are available: 6 Insufficient cpu. no new claims to deallocate, "
                              "preemption: not eligible due to a terminating pod on the nominated node.")
