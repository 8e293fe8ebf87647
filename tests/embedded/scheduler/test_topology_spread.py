"""PodTopologySpread: DoNotSchedule filtering, inclusion policies, minDomains, matchLabelKeys, defaults."""

from __future__ import annotations

from typing import Any

from pytest_azchaos.embedded.scheduler import Workloads, schedule
from pytest_azchaos.embedded.scheduler.topology_spread import default_selector

from .builders import ReplicaSetPods, golden_nodes, node, per_node, place, pod

ZONE = "topology.kubernetes.io/zone"


def spread(key: str = ZONE, skew: int = 1, **extra: Any) -> list[dict[str, Any]]:
    return [{"maxSkew": skew, "topologyKey": key, "whenUnsatisfiable": "DoNotSchedule",
             "labelSelector": {"matchLabels": {"app": "web"}}, **extra}]


def web(name: str, node_name: str | None = None, **spec: Any) -> dict[str, Any]:
    return pod(name, labels={"app": "web"}, node_name=node_name, **spec)


def test_skew_violation_is_resolvable_by_preemption_in_principle() -> None:
    existing = [web("w1", "node-a1"), web("w2", "node-b1")]
    result = schedule(web("new", topologySpreadConstraints=spread()), golden_nodes(), existing)
    assert result.tied == ("node-c1", "node-c2")
    assert result.reasons["node-a2"] == "node(s) didn't match pod topology spread constraints"


def test_node_missing_the_topology_key() -> None:
    nodes = [node("bare", "zone-a")]
    del nodes[0]["metadata"]["labels"][ZONE]
    result = schedule(web("new", topologySpreadConstraints=spread()), nodes, [])
    assert result.message == (
        "0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label). "
        "no new claims to deallocate, preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")


def test_min_domains_above_the_domain_count_makes_the_global_minimum_zero() -> None:
    existing = [web("w1", "node-a1"), web("w2", "node-b1"), web("w3", "node-c1")]
    assert schedule(web("new", topologySpreadConstraints=spread()), golden_nodes(), existing).node is not None
    result = schedule(web("new", topologySpreadConstraints=spread(minDomains=4)), golden_nodes(), existing)
    assert result.node is None
    assert "6 node(s) didn't match pod topology spread constraints" in result.message


def test_node_affinity_policy_honor_ignores_domains_the_pod_cannot_use() -> None:
    existing = [web("w1", "node-a1"), web("w2", "node-b1")]
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["zone-a", "zone-b"]}]}]}}}
    honored = schedule(web("new", affinity=affinity, topologySpreadConstraints=spread()), golden_nodes(), existing)
    assert honored.node is not None
    ignored = schedule(web("new", affinity=affinity, topologySpreadConstraints=spread(nodeAffinityPolicy="Ignore")),
                       golden_nodes(), existing)
    assert ignored.message.startswith("0/6 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, "
                                      "4 node(s) didn't match pod topology spread constraints.")


def test_match_label_keys_counts_only_the_same_revision() -> None:
    old = [pod(f"o{i}", labels={"app": "web", "rev": "1"}, node_name=n) for i, n in enumerate(["node-a1", "node-b1"])]
    constraint = spread(matchLabelKeys=["rev"])
    new = pod("new", labels={"app": "web", "rev": "2"}, topologySpreadConstraints=constraint)
    assert schedule(new, golden_nodes(), old).reasons == {}


def test_pods_of_other_namespaces_are_not_counted() -> None:
    existing = [pod("w1", "elsewhere", labels={"app": "web"}, node_name="node-a1"),
                pod("w2", "elsewhere", labels={"app": "web"}, node_name="node-b1")]
    assert schedule(web("new", topologySpreadConstraints=spread()), golden_nodes(), existing).reasons == {}


def test_hostname_donotschedule_spreads_one_per_node() -> None:
    rs = ReplicaSetPods({"metadata": {"name": "web"}, "spec": {
        "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
            "topologySpreadConstraints": spread("kubernetes.io/hostname"), "containers": [{"name": "c"}]}}}}, "default")
    results = place([rs.new_pod() for _ in range(7)], golden_nodes(), [], rs.workloads)
    assert sorted(per_node(results).values()) == [1, 1, 1, 1, 1, 2]


def test_system_default_spreading_needs_an_owning_selector() -> None:
    assert default_selector(pod("bare", labels={"app": "web"}), Workloads()) is None
    service = {"metadata": {"name": "s", "namespace": "default"}, "spec": {"selector": {"app": "web"}}}
    default = default_selector(pod("bare", labels={"app": "web"}), Workloads(services=(service,)))
    assert default is not None
    selector, _ = default
    assert selector({"app": "web", "x": "y"})
    assert not selector({"app": "db"})


def test_zone_scheduleanyway_replaces_default_hostname_spreading_under_background_load() -> None:
    """README: with background load on a1/b1/c1 an explicit zone constraint piles 2 per node on a2/b2/c2."""
    template_spec = {"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}
    load = [pod(f"bg-{n}", "other", cpu="500m", memory="1Gi", node_name=n) for n in ("node-a1", "node-b1", "node-c1")]

    def run(with_constraint: bool) -> dict[str, int]:
        spec: dict[str, Any] = dict(template_spec)
        if with_constraint:
            spec["topologySpreadConstraints"] = [{"maxSkew": 1, "topologyKey": ZONE,
                                                  "whenUnsatisfiable": "ScheduleAnyway",
                                                  "labelSelector": {"matchLabels": {"app": "six"}}}]
        rs = ReplicaSetPods({"metadata": {"name": "six"}, "spec": {
            "selector": {"matchLabels": {"app": "six"}},
            "template": {"metadata": {"labels": {"app": "six"}}, "spec": spec}}}, "gold")
        return per_node(place([rs.new_pod() for _ in range(6)], golden_nodes(), list(load), rs.workloads))

    assert run(True) == {"node-a2": 2, "node-b2": 2, "node-c2": 2}
    assert sorted(run(False).values()) == [1] * 6
