"""Node lifecycle against a cluster of its own (fast profile): cordon taints, heartbeat loss, taint eviction.

Stopping heartbeats would disturb other tests, so this module starts its own embedded cluster.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_azchaos.embedded.heartbeat import set_node_heartbeat
from pytest_azchaos.embedded.process import ClusterHandle, start_cluster, stop_cluster
from pytest_azchaos.embedded.topology import Topology
from pytest_azchaos.timing import FAST

IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.53"
HOLD = "azchaos.test/hold"
# Unknown within grace + one monitor period; allow the loaded 2-core machine some slack.
LOSS_TIMEOUT = FAST.heartbeat_loss_detection() + 4.0


def wait_for(fn: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}; last value: {last!r}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    kubeconfig: Path = tmp_path_factory.mktemp("node-lifecycle") / "kubeconfig"
    handle = start_cluster(kubeconfig, Topology(), profile="fast")
    try:
        yield handle
    finally:
        stop_cluster(kubeconfig)


@pytest.fixture(scope="module")
def v1(cluster: ClusterHandle):  # -> kubernetes.client.CoreV1Api
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield client.CoreV1Api(api)
    api.close()


@pytest.fixture(scope="module")
def nodes(v1) -> dict[str, list[str]]:
    """Zone -> node names."""
    out: dict[str, list[str]] = {}
    for n in v1.list_node().items:
        out.setdefault(n.metadata.labels["topology.kubernetes.io/zone"], []).append(n.metadata.name)
    return {z: sorted(ns) for z, ns in sorted(out.items())}


def make_namespace(v1) -> str:
    from kubernetes import client

    name = "nl-" + uuid.uuid4().hex[:8]
    v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


def pod_on(v1, ns: str, name: str, node: str, tolerations: list[dict] | None = None) -> None:
    body: dict[str, Any] = {
        "metadata": {"name": name, "finalizers": [HOLD]},
        "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1,
                 "containers": [{"name": "c", "image": IMAGE, "args": ["netexec"]}]},
    }
    if tolerations:
        body["spec"]["tolerations"] = tolerations
    v1.create_namespaced_pod(ns, body)


def taints(v1, node: str) -> list[tuple[str, str]]:
    return [(t.key, t.effect) for t in v1.read_node(node).spec.taints or ()]


def events(v1, ns: str, reason: str) -> list[Any]:
    return v1.list_namespaced_event(ns, field_selector=f"reason={reason}").items


# ---------------------------------------------------------------------- cordon


def test_cordon_adds_unschedulable_taint_with_time_added(v1, nodes) -> None:
    node = nodes["us-east-1c"][0]
    v1.patch_node(node, {"spec": {"unschedulable": True}})
    try:
        wait_for(lambda: ("node.kubernetes.io/unschedulable", "NoSchedule") in taints(v1, node), 2.0, "taint")
        (taint,) = v1.read_node(node).spec.taints
        assert taint.value is None
        assert taint.time_added is not None
    finally:
        v1.patch_node(node, {"spec": {"unschedulable": None}})


def test_uncordon_removes_the_taint(v1, nodes) -> None:
    node = nodes["us-east-1c"][1]
    v1.patch_node(node, {"spec": {"unschedulable": True}})
    wait_for(lambda: taints(v1, node), 2.0, "cordon taint")
    v1.patch_node(node, {"spec": {"unschedulable": None}})
    wait_for(lambda: v1.read_node(node).spec.taints is None, 2.0, "spec.taints to go away")


# ---------------------------------------------------------------------- heartbeat loss


@pytest.fixture(scope="module")
def lost(v1, cluster: ClusterHandle, nodes) -> Iterator[dict[str, Any]]:
    """Node us-east-1a[0] with two pods stops heartbeating; yields what happened and when."""
    node = nodes["us-east-1a"][0]
    ns = make_namespace(v1)
    pod_on(v1, ns, "quick", node, [{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                    "effect": "NoExecute", "tolerationSeconds": 1}])
    pod_on(v1, ns, "patient", node)
    wait_for(lambda: all(c.status == "True" for p in v1.list_namespaced_pod(ns).items
                         for c in p.status.conditions or () if c.type == "Ready")
             and len(v1.list_namespaced_pod(ns).items) == 2, 15.0, "pods running")
    start = time.monotonic()
    set_node_heartbeat(cluster.url, node, running=False)

    def unknown() -> bool:
        cond = {c.type: c for c in v1.read_node(node).status.conditions}
        return cond["Ready"].status == "Unknown"

    wait_for(unknown, LOSS_TIMEOUT, "Ready=Unknown")
    info = {"node": node, "ns": ns, "unknown_after": time.monotonic() - start}
    try:
        yield info
    finally:
        set_node_heartbeat(cluster.url, node, running=True)
        for p in v1.list_namespaced_pod(ns).items:
            v1.patch_namespaced_pod(p.metadata.name, ns, {"metadata": {"finalizers": None}})


def test_heartbeat_loss_is_detected_after_the_grace_period(lost) -> None:
    # Grace counts from the last renewal, up to one renew interval before the heartbeat stopped.
    earliest = FAST.node_monitor_grace_period - FAST.node_lease_renew_interval
    assert earliest <= lost["unknown_after"] < LOSS_TIMEOUT


def test_heartbeat_loss_marks_all_kubelet_conditions_unknown(v1, lost) -> None:
    conds = {c.type: c for c in v1.read_node(lost["node"]).status.conditions}
    assert set(conds) == {"MemoryPressure", "DiskPressure", "PIDPressure", "Ready"}
    for c in conds.values():
        assert (c.status, c.reason) == ("Unknown", "NodeStatusUnknown")
        assert c.message == "Kubelet stopped posting node status."


def test_heartbeat_loss_taints_unreachable_noschedule_then_noexecute(v1, lost) -> None:
    want = [("node.kubernetes.io/unreachable", "NoSchedule"), ("node.kubernetes.io/unreachable", "NoExecute")]
    wait_for(lambda: taints(v1, lost["node"]) == want, 3.0, "both unreachable taints")
    assert all(t.time_added is not None for t in v1.read_node(lost["node"]).spec.taints)


def test_heartbeat_loss_records_node_not_ready_on_the_node(v1, lost) -> None:
    evs = [e for e in events(v1, "default", "NodeNotReady") if e.involved_object.name == lost["node"]]
    assert [e.message for e in evs] == [f"Node {lost['node']} status is now: NodeNotReady"]
    assert evs[0].source.component == "node-controller"


def test_pods_on_lost_node_get_node_not_ready_event(v1, lost) -> None:
    evs = wait_for(lambda: events(v1, lost["ns"], "NodeNotReady"), 3.0, "NodeNotReady pod events")
    assert sorted(e.involved_object.name for e in evs) == ["patient", "quick"]
    assert {(e.type, e.message, e.source.component) for e in evs} == {("Warning", "Node is not ready",
                                                                        "node-controller")}


def test_pod_with_short_toleration_is_evicted_by_the_taint_manager(v1, lost) -> None:
    pod = wait_for(lambda: (p := v1.read_namespaced_pod("quick", lost["ns"])).metadata.deletion_timestamp and p,
                   5.0, "quick to be deleted")
    cond = next(c for c in pod.status.conditions if c.type == "DisruptionTarget")
    assert (cond.status, cond.reason, cond.message) == ("True", "DeletionByTaintManager",
                                                        "Taint manager: deleting due to NoExecute taint")
    (ev,) = [e for e in events(v1, lost["ns"], "TaintManagerEviction") if e.involved_object.name == "quick"]
    assert ev.message == f"Marking for deletion Pod {lost['ns']}/quick"
    assert ev.source.component == "taint-eviction-controller"


def test_pod_with_default_toleration_stays(v1, lost) -> None:
    time.sleep(1.5)
    pod = v1.read_namespaced_pod("patient", lost["ns"])
    assert pod.metadata.deletion_timestamp is None
    assert not [e for e in events(v1, lost["ns"], "TaintManagerEviction") if e.involved_object.name == "patient"]


def test_restarted_heartbeat_clears_taints_and_conditions(v1, cluster, lost) -> None:
    set_node_heartbeat(cluster.url, lost["node"], running=True)
    wait_for(lambda: v1.read_node(lost["node"]).spec.taints is None, 4.0, "taints removed")
    conds = {c.type: c.status for c in v1.read_node(lost["node"]).status.conditions}
    assert conds == {"MemoryPressure": "False", "DiskPressure": "False", "PIDPressure": "False", "Ready": "True"}


# ---------------------------------------------------------------------- kubelet reports NotReady


def test_node_reporting_not_ready_gets_not_ready_taints(v1, cluster, nodes) -> None:
    node = nodes["us-east-1b"][0]
    set_node_heartbeat(cluster.url, node, ready=False)
    try:
        want = [("node.kubernetes.io/not-ready", "NoSchedule"), ("node.kubernetes.io/not-ready", "NoExecute")]
        wait_for(lambda: sorted(taints(v1, node)) == sorted(want), 4.0, "not-ready taints")
        ready = next(c for c in v1.read_node(node).status.conditions if c.type == "Ready")
        assert (ready.status, ready.reason) == ("False", "KubeletNotReady")
    finally:
        set_node_heartbeat(cluster.url, node, ready=True)
    wait_for(lambda: v1.read_node(node).spec.taints is None, 4.0, "not-ready taints removed")
