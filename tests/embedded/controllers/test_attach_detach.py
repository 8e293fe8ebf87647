"""Attach/detach: VolumeAttachments, node status, the Multi-Attach wait (session cluster, official client)."""

from __future__ import annotations

import hashlib

from kubernetes import client

from ..waiting import wait_for

PAUSE = "registry.k8s.io/pause:3.10"
HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def pod(name: str, node: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"terminationGracePeriodSeconds": 0, "nodeSelector": {HOSTNAME: node},
                     "containers": [{"name": "c", "image": PAUSE}],
                     "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}}


def claim() -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}


def two_nodes_of_a_zone(core: client.CoreV1Api) -> tuple[str, str]:
    by_zone: dict[str, list[str]] = {}
    for n in core.list_node().items:
        by_zone.setdefault(n.metadata.labels[ZONE], []).append(n.metadata.name)
    first, second = sorted(by_zone[sorted(by_zone)[1]])[:2]
    return first, second


def running(core: client.CoreV1Api, ns: str, name: str) -> client.V1Pod:
    return wait_for(lambda: core.read_namespaced_pod(name, ns), lambda p: p.status.phase == "Running",
                    timeout=15, what=f"{name} running")


def test_attach_creates_the_csi_volume_attachment_and_node_status(core: client.CoreV1Api, api_client: client.ApiClient,
                                                                   namespace: str) -> None:
    node, _ = two_nodes_of_a_zone(core)
    core.create_namespaced_persistent_volume_claim(namespace, claim())
    core.create_namespaced_pod(namespace, pod("app", node))
    running(core, namespace, "app")
    pv = core.read_persistent_volume(core.read_namespaced_persistent_volume_claim("data", namespace).spec.volume_name)
    handle = pv.spec.csi.volume_handle
    name = "csi-" + hashlib.sha256(f"{handle}ebs.csi.aws.com{node}".encode()).hexdigest()
    va = client.StorageV1Api(api_client).read_volume_attachment(name)
    assert (va.spec.attacher, va.spec.node_name, va.spec.source.persistent_volume_name) == (
        "ebs.csi.aws.com", node, pv.metadata.name)
    assert va.status.attached is True and va.metadata.finalizers == ["external-attacher/ebs-csi-aws-com"]
    unique = f"kubernetes.io/csi/ebs.csi.aws.com^{handle}"
    status = core.read_node(node).status
    assert unique in [v.name for v in status.volumes_attached] and unique in status.volumes_in_use
    events = [(e.reason, e.message, e.source.component) for e in core.list_namespaced_event(namespace).items
              if e.reason == "SuccessfulAttachVolume"]
    assert events == [("SuccessfulAttachVolume", f'AttachVolume.Attach succeeded for volume "{pv.metadata.name}" ',
                       "attachdetach-controller")]


def test_detach_follows_the_pod_off_the_node(core: client.CoreV1Api, api_client: client.ApiClient,
                                             namespace: str) -> None:
    node, _ = two_nodes_of_a_zone(core)
    core.create_namespaced_persistent_volume_claim(namespace, claim())
    core.create_namespaced_pod(namespace, pod("app", node))
    running(core, namespace, "app")
    pv_name = core.read_namespaced_persistent_volume_claim("data", namespace).spec.volume_name
    storage = client.StorageV1Api(api_client)

    def attachments() -> list[str]:
        return [v.spec.node_name for v in storage.list_volume_attachment().items
                if v.spec.source.persistent_volume_name == pv_name]

    assert attachments() == [node]
    core.delete_namespaced_pod("app", namespace, grace_period_seconds=0)
    wait_for(attachments, lambda nodes: nodes == [], timeout=10, what="VolumeAttachment gone")
    handle = core.read_persistent_volume(pv_name).spec.csi.volume_handle
    assert f"kubernetes.io/csi/ebs.csi.aws.com^{handle}" not in (core.read_node(node).status.volumes_in_use or [])


def test_second_node_waits_with_multi_attach_until_the_first_pod_goes(core: client.CoreV1Api, namespace: str) -> None:
    first_node, second_node = two_nodes_of_a_zone(core)
    core.create_namespaced_persistent_volume_claim(namespace, claim())
    core.create_namespaced_pod(namespace, pod("first", first_node))
    running(core, namespace, "first")
    pv_name = core.read_namespaced_persistent_volume_claim("data", namespace).spec.volume_name
    core.create_namespaced_pod(namespace, pod("second", second_node))

    def multi_attach() -> list[tuple[str, str]]:
        return [(e.type, e.message) for e in core.list_namespaced_event(namespace).items
                if e.reason == "FailedAttachVolume" and e.involved_object.name == "second"]

    events = wait_for(multi_attach, bool, what="Multi-Attach event")
    assert events == [("Warning", f'Multi-Attach error for volume "{pv_name}" Volume is already used by pod(s) first')]
    waiting = core.read_namespaced_pod("second", namespace)
    assert waiting.status.container_statuses[0].state.waiting.reason == "ContainerCreating"
    ready_to_start = next(c for c in waiting.status.conditions if c.type == "PodReadyToStartContainers")
    assert ready_to_start.status == "False"
    core.delete_namespaced_pod("first", namespace, grace_period_seconds=0)
    assert running(core, namespace, "second").spec.node_name == second_node
