"""Zonal EBS storage end to end: binding modes, a drained zone, the Multi-Attach wait.

The module has its own cluster (tests cordon zones and stop nodes) with a known state dir, so the
volumes' data directories can be checked from outside; everything else goes through the official client.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from pytest_azchaos.embedded.heartbeat import set_node_power
from pytest_azchaos.embedded.process import ClusterHandle, start_cluster, stop_cluster

from ..clusters import api_client, fresh_namespace
from .waiting import wait_for

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"
ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"
SUFFIX = "no new claims to deallocate, preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling."


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("storage-state")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, state_dir: Path) -> Iterator[ClusterHandle]:
    kubeconfig = tmp_path_factory.mktemp("storage-e2e") / "kubeconfig"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AZCHAOS_EMBEDDED_STATE_DIR", str(state_dir))
        handle = start_cluster(kubeconfig)
    yield handle
    stop_cluster(kubeconfig)


@pytest.fixture(scope="module")
def api(cluster: ClusterHandle) -> Iterator[client.ApiClient]:
    with api_client(cluster) as api:
        yield api


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def ns(core: client.CoreV1Api) -> Iterator[str]:
    with fresh_namespace(core, "st") as name:
        yield name


def zone_nodes(core: client.CoreV1Api) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for node in core.list_node().items:
        out.setdefault(node.metadata.labels[ZONE], []).append(node.metadata.name)
    return {z: sorted(n) for z, n in sorted(out.items())}


def pvc(name: str, storage_class: str | None = None) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def pod(name: str, claim: str, node_selector: dict[str, str] | None = None) -> dict:
    spec: dict = {"containers": [{"name": "c", "image": AGNHOST, "args": ["pause"],
                                  "volumeMounts": [{"name": "d", "mountPath": "/data"}]}],
                  "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}],
                  "terminationGracePeriodSeconds": 0}
    if node_selector:
        spec["nodeSelector"] = node_selector
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def pv_zone(pv: client.V1PersistentVolume) -> str:
    return pv.spec.node_affinity.required.node_selector_terms[0].match_expressions[0].values[0]


def scheduled_message(core: client.CoreV1Api, ns: str, name: str) -> str:
    p = core.read_namespaced_pod(name, ns)
    cond = next((c for c in p.status.conditions or [] if c.type == "PodScheduled"), None)
    return cond.message if cond is not None and cond.status == "False" else ""


def set_unschedulable(core: client.CoreV1Api, nodes: list[str], value: bool) -> None:
    for node in nodes:
        core.patch_node(node, {"spec": {"unschedulable": value}})


def test_immediate_class_pinned_to_another_zone_leaves_the_pod_pending(core: client.CoreV1Api, api: client.ApiClient,
                                                                        ns: str) -> None:
    zones = list(zone_nodes(core))
    storage = client.StorageV1Api(api)
    sc_name = f"ebs-immediate-{ns}"
    storage.create_storage_class({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": sc_name},
        "provisioner": "ebs.csi.aws.com", "volumeBindingMode": "Immediate",
        "allowedTopologies": [{"matchLabelExpressions": [{"key": ZONE, "values": [zones[0]]}]}]})
    try:
        core.create_namespaced_persistent_volume_claim(ns, pvc("data", sc_name))
        claim = wait_for(lambda: core.read_namespaced_persistent_volume_claim("data", ns),
                         lambda c: c.status.phase == "Bound", timeout=10, what="immediate claim bound")
        assert pv_zone(core.read_persistent_volume(claim.spec.volume_name)) == zones[0]
        core.create_namespaced_pod(ns, pod("jenkins", "data", {ZONE: zones[1]}))
        message = wait_for(lambda: scheduled_message(core, ns, "jenkins"), bool, timeout=10, what="FailedScheduling")
        assert message == ("0/6 nodes are available: 2 node(s) didn't match PersistentVolume's node affinity, "
                           f"4 node(s) didn't match Pod's node affinity/selector. {SUFFIX}")
        assert core.read_namespaced_pod("jenkins", ns).spec.node_name is None
    finally:
        storage.delete_storage_class(sc_name, _preload_content=False)  # the answer is a Status, not the class


def test_wait_for_first_consumer_provisions_in_the_pods_zone(core: client.CoreV1Api, ns: str) -> None:
    zones = list(zone_nodes(core))
    core.create_namespaced_persistent_volume_claim(ns, pvc("data"))
    core.create_namespaced_pod(ns, pod("app", "data", {ZONE: zones[2]}))
    running = wait_for(lambda: core.read_namespaced_pod("app", ns), lambda p: p.status.phase == "Running",
                       timeout=15, what="pod running")
    claim = core.read_namespaced_persistent_volume_claim("data", ns)
    assert claim.spec.storage_class_name == "gp3"
    assert claim.metadata.annotations["volume.kubernetes.io/selected-node"] == running.spec.node_name
    assert pv_zone(core.read_persistent_volume(claim.spec.volume_name)) == zones[2]


def test_drained_zone_keeps_the_stateful_replica_pending_on_its_volume(core: client.CoreV1Api, api: client.ApiClient,
                                                                       ns: str, state_dir: Path) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_stateful_set(ns, {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 3, "serviceName": "db", "podManagementPolicy": "Parallel",
                 "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}},
                              "spec": {"terminationGracePeriodSeconds": 0,
                                       "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": ZONE,
                                                                      "whenUnsatisfiable": "DoNotSchedule",
                                                                      "labelSelector": {"matchLabels": {"app": "db"}}}],
                                       "containers": [{"name": "c", "image": AGNHOST, "args": ["pause"],
                                                       "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
                 "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                           "spec": {"accessModes": ["ReadWriteOnce"],
                                                    "resources": {"requests": {"storage": "1Gi"}}}}]}})
    wait_for(lambda: core.list_namespaced_pod(ns).items,
             lambda ps: len(ps) == 3 and all(p.status.phase == "Running" for p in ps), timeout=20, what="3 running")
    node_zone = {n: z for z, ns_ in zone_nodes(core).items() for n in ns_}
    old = core.read_namespaced_pod("db-1", ns)
    zone = node_zone[old.spec.node_name]
    claim = core.read_namespaced_persistent_volume_claim("data-db-1", ns)
    pv = core.read_persistent_volume(claim.spec.volume_name)
    assert pv_zone(pv) == zone
    data = state_dir / "volumes" / pv.spec.csi.volume_handle
    (data / "marker").write_text("db-1\n")
    pvs_before = sorted(p.metadata.name for p in core.list_persistent_volume().items)
    drained = zone_nodes(core)[zone]
    set_unschedulable(core, drained, True)
    try:
        core.create_namespaced_pod_eviction("db-1", ns, client.V1Eviction(
            metadata=client.V1ObjectMeta(name="db-1", namespace=ns)))
        message = wait_for(
            lambda: core.read_namespaced_pod("db-1", ns).metadata.uid != old.metadata.uid
            and scheduled_message(core, ns, "db-1"), bool, timeout=15, what="replacement pending")
        assert message == ("0/6 nodes are available: 2 node(s) were unschedulable, "
                           f"4 node(s) didn't match PersistentVolume's node affinity. {SUFFIX}")
        assert core.read_namespaced_persistent_volume_claim("data-db-1", ns).spec.volume_name == pv.metadata.name
        assert sorted(p.metadata.name for p in core.list_persistent_volume().items) == pvs_before
    finally:
        set_unschedulable(core, drained, False)
    back = wait_for(lambda: core.read_namespaced_pod("db-1", ns), lambda p: p.status.phase == "Running",
                    timeout=20, what="db-1 running again")
    assert node_zone[back.spec.node_name] == zone
    assert (data / "marker").read_text() == "db-1\n"


def test_a_pod_moved_off_a_stopped_node_waits_for_force_detach(core: client.CoreV1Api, cluster: ClusterHandle,
                                                               ns: str) -> None:
    (old_node, new_node) = next(iter(zone_nodes(core).values()))
    core.create_namespaced_persistent_volume_claim(ns, pvc("data"))
    core.create_namespaced_pod(ns, pod("first", "data", {HOSTNAME: old_node}))
    wait_for(lambda: core.read_namespaced_pod("first", ns), lambda p: p.status.phase == "Running", timeout=15,
             what="first running")
    pv_name = core.read_namespaced_persistent_volume_claim("data", ns).spec.volume_name
    set_node_power(cluster.url, old_node, False)
    try:
        core.delete_namespaced_pod("first", ns, grace_period_seconds=0)
        core.create_namespaced_pod(ns, pod("second", "data", {HOSTNAME: new_node}))

        def multi_attach() -> list[str]:
            return [e.message for e in core.list_namespaced_event(ns).items
                    if e.reason == "FailedAttachVolume" and e.involved_object.name == "second"]

        events = wait_for(multi_attach, bool, timeout=15, what="Multi-Attach event")
        assert events == [f'Multi-Attach error for volume "{pv_name}" Volume is already exclusively attached to one '
                          "node and can't be attached to another"]
        waiting = core.read_namespaced_pod("second", ns)
        assert waiting.spec.node_name == new_node
        assert waiting.status.container_statuses[0].state.waiting.reason == "ContainerCreating"
        wait_for(lambda: core.read_namespaced_pod("second", ns), lambda p: p.status.phase == "Running", timeout=30,
                 what="second running after force detach")
        attached = core.read_node(new_node).status.volumes_attached or []
        assert [v.name.split("^")[0] for v in attached] == ["kubernetes.io/csi/ebs.csi.aws.com"]
    finally:
        set_node_power(cluster.url, old_node, True)
