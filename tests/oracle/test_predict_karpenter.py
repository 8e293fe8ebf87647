"""The oracle's power-off follows the provisioner: a stopped Karpenter node is replaced (InstanceStopped: cordoned,
drained, NodeClaim deleted, instance terminated), so its pods are deleted at once, never left Terminating; the static
node group's pods beside it keep the node-lifecycle story."""

from __future__ import annotations

from pytest_azchaos.oracle import Fault, predict
from pytest_azchaos.timing import Profile

from .builders import nodes, one_per_node, pod, pv, pvc, state

FAST = Profile.by_name("fast")


def _karpenter(node_list: list[dict], names: set[str]) -> list[dict]:
    for n in node_list:
        if n["metadata"]["name"] in names:
            n["metadata"]["labels"]["karpenter.sh/nodepool"] = "default"
    return node_list


def test_a_deployment_pod_on_a_stopped_karpenter_node_is_deleted_and_replaced_at_once() -> None:
    node_list = _karpenter(nodes(), {"n-a1"})
    p = predict(state(node_list, one_per_node(node_list)), Fault.of("power-off", "a"), FAST)
    replaced, static = p.outcome_of("web-0"), p.outcome_of("web-1")
    assert replaced.outcome == "moves" and replaced.node_replaced, replaced.line()
    assert replaced.after_s == FAST.cloud_poll_interval, replaced.line()
    assert "Karpenter replaces its stopped node n-a1" in replaced.reason and "not left Terminating" in replaced.reason
    assert static.outcome == "moves" and not static.node_replaced and "stays Terminating" in static.reason
    assert p.recovers, p


def test_a_statefulset_pod_on_a_stopped_karpenter_node_is_recreated_and_waits_for_its_volumes_zone() -> None:
    node_list = _karpenter(nodes(), {"n-a1", "n-a2"})
    s = state(node_list, [pod("db-0", "n-a1", kind="StatefulSet", claim="data-db-0")],
              pvcs={"ns/data-db-0": pvc("data-db-0", "pv-1")}, pvs={"pv-1": pv("pv-1", "a")})
    out = predict(s, Fault.of("power-off", "a"), FAST).outcome_of("db-0")
    assert out is not None and out.outcome == "pending" and out.node_replaced, out
    assert "didn't match PersistentVolume's node affinity" in out.reason, out.reason


def test_a_bare_pod_on_a_stopped_karpenter_node_is_gone() -> None:
    node_list = _karpenter(nodes(), {"n-a1"})
    out = predict(state(node_list, [pod("bare", "n-a1", kind="")]), Fault.of("power-off", "a"), FAST).outcome_of(
        "bare")
    assert out is not None and out.outcome == "gone" and out.node_replaced, out


def test_a_partition_keeps_karpenter_nodes_their_instances_still_run() -> None:
    node_list = _karpenter(nodes(), {"n-a1"})
    out = predict(state(node_list, one_per_node(node_list)), Fault.of("partition", "a"), FAST).outcome_of("web-0")
    assert out is not None and not out.node_replaced and "stays Terminating" in out.reason, out
