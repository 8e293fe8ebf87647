"""InterPodAffinity: required affinity / anti-affinity, existing pods' anti-affinity, preferred terms."""

from __future__ import annotations

from typing import Any

from pytest_azchaos.embedded.scheduler import schedule

from .builders import golden_nodes, pod

HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def term(app: str, key: str) -> dict[str, Any]:
    return {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}


def required(kind: str, app: str, key: str) -> dict[str, Any]:
    return {kind: {"requiredDuringSchedulingIgnoredDuringExecution": [term(app, key)]}}


def test_affinity_to_pods_that_do_not_exist() -> None:
    result = schedule(pod("p", affinity=required("podAffinity", "db", ZONE)), golden_nodes(), [])
    assert result.message == (
        "0/6 nodes are available: 6 node(s) didn't match pod affinity rules. no new claims to deallocate, "
        "preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling.")


def test_first_pod_of_a_self_affine_group_may_go_anywhere() -> None:
    p = pod("p", labels={"app": "db"}, affinity=required("podAffinity", "db", ZONE))
    assert len(schedule(p, golden_nodes(), []).tied) == 6


def test_affinity_follows_the_matching_pod_zone() -> None:
    existing = [pod("db", labels={"app": "db"}, node_name="node-b2")]
    result = schedule(pod("p", affinity=required("podAffinity", "db", ZONE)), golden_nodes(), existing)
    assert result.node in ("node-b1", "node-b2")
    assert set(result.reasons) == {"node-a1", "node-a2", "node-c1", "node-c2"}


def test_anti_affinity_everywhere_is_no_victims_for_preemption() -> None:
    existing = [pod(f"w{i}", labels={"app": "web"}, node_name=n["metadata"]["name"])
                for i, n in enumerate(golden_nodes())]
    result = schedule(pod("p", affinity=required("podAntiAffinity", "web", HOST)), golden_nodes(), existing)
    assert result.message == (
        "0/6 nodes are available: 6 node(s) didn't match pod anti-affinity rules. no new claims to deallocate, "
        "preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod.")


def test_existing_pods_anti_affinity_repels_the_incoming_pod() -> None:
    guard = pod("guard", labels={"app": "guard"}, node_name="node-a1",
                affinity=required("podAntiAffinity", "web", ZONE))
    result = schedule(pod("p", labels={"app": "web"}), golden_nodes(), [guard])
    assert result.reasons == {"node-a1": "node(s) didn't satisfy existing pods anti-affinity rules",
                              "node-a2": "node(s) didn't satisfy existing pods anti-affinity rules"}


def test_terms_only_match_the_owner_namespace_by_default() -> None:
    existing = [pod("db", "other", labels={"app": "db"}, node_name="node-b2")]
    assert schedule(pod("p", affinity=required("podAffinity", "db", ZONE)), golden_nodes(), existing).node is None
    affinity = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {**term("db", ZONE), "namespaces": ["other"]}]}}
    assert schedule(pod("p", affinity=affinity), golden_nodes(), existing).node in ("node-b1", "node-b2")


def test_preferred_anti_affinity_steers_away_from_the_zone() -> None:
    existing = [pod("w", labels={"app": "web"}, node_name="node-a1")]
    affinity = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "podAffinityTerm": term("web", ZONE)}]}}
    result = schedule(pod("p", affinity=affinity), golden_nodes(), existing)
    assert not result.node.startswith("node-a")
    assert result.scores["node-a2"] < result.scores["node-b1"]
