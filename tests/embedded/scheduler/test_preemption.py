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


def _pdb(match: dict[str, str], allowed: int, namespace: str = "default", disrupted: tuple[str, ...] = ()) -> dict:
    return {"metadata": {"name": "pdb", "namespace": namespace}, "spec": {"selector": {"matchLabels": match}},
            "status": {"disruptionsAllowed": allowed, "disruptedPods": dict.fromkeys(disrupted, "t")}}


def test_pdb_budget_is_spent_pod_by_pod() -> None:
    from pytest_azchaos.embedded.scheduler.preemption import split_by_pdb_violation

    pods = [pod(f"g{i}", labels={"app": "g"}) for i in range(3)] + [pod("free", labels={"app": "x"})]
    violating, others = split_by_pdb_violation(pods, [_pdb({"app": "g"}, 1)])
    assert [p["metadata"]["name"] for p in violating] == ["g1", "g2"]
    assert [p["metadata"]["name"] for p in others] == ["g0", "free"]


def test_pdb_of_another_namespace_or_already_disrupted_pod_does_not_count() -> None:
    from pytest_azchaos.embedded.scheduler.preemption import split_by_pdb_violation

    pods = [pod("g0", labels={"app": "g"}), pod("g1", labels={"app": "g"})]
    assert split_by_pdb_violation(pods, [_pdb({"app": "g"}, 0, namespace="other")])[0] == []
    violating, _ = split_by_pdb_violation(pods, [_pdb({"app": "g"}, 0, disrupted=("g0",))])
    assert [p["metadata"]["name"] for p in violating] == ["g1"]


def test_node_whose_victim_violates_no_pdb_is_preferred() -> None:
    existing = [pod(f"fill-{n}", cpu="1500m", node_name=n, labels={"guarded": "yes"} if n != "node-c2" else {})
                for n in ZONES]
    result = schedule(pod("vip", cpu="1", priority=1000), golden_nodes(), existing,
                      pdbs=[_pdb({"guarded": "yes"}, 0)])
    assert result.nominated is not None
    assert (result.nominated.node, result.nominated.victims) == ("node-c2", ("default/fill-node-c2",))


def test_without_pdbs_the_first_equal_candidate_wins() -> None:
    """Negative control for the test above: the same cluster without the budget nominates another node."""
    existing = [pod(f"fill-{n}", cpu="1500m", node_name=n) for n in ZONES]
    result = schedule(pod("vip", cpu="1", priority=1000), golden_nodes(), existing)
    assert result.nominated is not None and result.nominated.node != "node-c2"
