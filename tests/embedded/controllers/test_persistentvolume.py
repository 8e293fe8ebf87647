"""The PV controller and the protection controllers against the session cluster (official client)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client

from ..waiting import wait_for

ZONE = "topology.kubernetes.io/zone"


@pytest.fixture
def pv_name(core: client.CoreV1Api) -> Iterator[str]:
    name = "static-" + uuid.uuid4().hex[:8]
    yield name
    try:
        core.patch_persistent_volume(name, {"metadata": {"finalizers": None}})
        core.delete_persistent_volume(name)
    except client.ApiException:
        pass


def static_pv(name: str, reclaim: str = "Retain") -> dict:
    """As the golden ebs-pv-zone-cordoned case creates it."""
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
            "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": reclaim, "storageClassName": "",
                     "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0aaaaaaaaaaaaaaaa", "fsType": "ext4"},
                     "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                         {"key": ZONE, "operator": "In", "values": ["us-east-1a"]}]}]}}}}


def claim(name: str, **spec: object) -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}, **spec}}


def claim_events(core: client.CoreV1Api, ns: str, name: str) -> list[tuple[str, str, str]]:
    return [(e.reason, e.message, e.source.component) for e in core.list_namespaced_event(ns).items
            if e.involved_object.kind == "PersistentVolumeClaim" and e.involved_object.name == name]


def test_claim_naming_a_static_volume_binds_as_recorded(core: client.CoreV1Api, namespace: str, pv_name: str) -> None:
    core.create_persistent_volume(static_pv(pv_name))
    core.create_namespaced_persistent_volume_claim(namespace, claim("data", storageClassName="", volumeName=pv_name))
    pvc = wait_for(lambda: core.read_namespaced_persistent_volume_claim("data", namespace),
                   lambda c: c.status.phase == "Bound", what="claim bound")
    assert pvc.metadata.annotations == {"pv.kubernetes.io/bind-completed": "yes"}
    assert (pvc.status.access_modes, pvc.status.capacity) == (["ReadWriteOnce"], {"storage": "10Gi"})
    pv = wait_for(lambda: core.read_persistent_volume(pv_name), lambda v: v.status.phase == "Bound", what="pv bound")
    assert pv.metadata.annotations == {"pv.kubernetes.io/bound-by-controller": "yes"}
    ref = pv.spec.claim_ref
    assert (ref.kind, ref.namespace, ref.name, ref.uid) == ("PersistentVolumeClaim", namespace, "data",
                                                            pvc.metadata.uid)


def test_controller_picks_a_matching_static_volume_for_an_unnamed_claim(core: client.CoreV1Api, namespace: str,
                                                                        pv_name: str) -> None:
    core.create_persistent_volume(static_pv(pv_name))
    core.create_namespaced_persistent_volume_claim(namespace, claim("data", storageClassName=""))
    pvc = wait_for(lambda: core.read_namespaced_persistent_volume_claim("data", namespace),
                   lambda c: c.status.phase == "Bound", what="claim bound")
    assert pvc.spec.volume_name == pv_name
    assert pvc.metadata.annotations == {"pv.kubernetes.io/bind-completed": "yes",
                                        "pv.kubernetes.io/bound-by-controller": "yes"}


def test_claim_without_class_gets_the_default_class_at_create(core: client.CoreV1Api, namespace: str) -> None:
    created = core.create_namespaced_persistent_volume_claim(namespace, claim("data"))
    assert created.spec.storage_class_name == "gp3"


def test_wait_for_first_consumer_claim_waits_with_the_upstream_event(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_persistent_volume_claim(namespace, claim("data"))
    events = wait_for(lambda: claim_events(core, namespace, "data"), bool, what="claim event")
    assert events == [("WaitForFirstConsumer", "waiting for first consumer to be created before binding",
                       "persistentvolume-controller")]
    assert core.read_namespaced_persistent_volume_claim("data", namespace).status.phase == "Pending"


def test_claim_with_empty_class_and_no_volume_fails_binding(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_persistent_volume_claim(namespace, claim("data", storageClassName="",
                                                                    selector={"matchLabels": {"x": namespace}}))
    events = wait_for(lambda: claim_events(core, namespace, "data"), bool, what="claim event")
    assert events == [("FailedBinding", "no persistent volumes available for this claim and no storage class is set",
                       "persistentvolume-controller")]


def test_retained_volume_is_released_when_its_claim_goes(core: client.CoreV1Api, namespace: str,
                                                        pv_name: str) -> None:
    core.create_persistent_volume(static_pv(pv_name))
    core.create_namespaced_persistent_volume_claim(namespace, claim("data", storageClassName="", volumeName=pv_name))
    wait_for(lambda: core.read_persistent_volume(pv_name), lambda v: v.status.phase == "Bound", what="pv bound")
    core.delete_namespaced_persistent_volume_claim("data", namespace)
    wait_for(lambda: [c.metadata.name for c in core.list_namespaced_persistent_volume_claim(namespace).items],
             lambda names: names == [], what="claim gone (pvc-protection released)")
    pv = wait_for(lambda: core.read_persistent_volume(pv_name), lambda v: v.status.phase == "Released",
                  what="pv released")
    assert pv.spec.claim_ref.name == "data"


def test_claim_in_use_by_a_pod_stays_terminating(core: client.CoreV1Api, namespace: str, pv_name: str) -> None:
    core.create_persistent_volume(static_pv(pv_name))
    core.create_namespaced_persistent_volume_claim(namespace, claim("data", storageClassName="", volumeName=pv_name))
    core.create_namespaced_pod(namespace, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "user"},
                                           "spec": {"schedulerName": "none", "containers": [{"name": "c",
                                                    "image": "registry.k8s.io/pause:3.10"}],
                                                    "volumes": [{"name": "d", "persistentVolumeClaim":
                                                                 {"claimName": "data"}}]}})
    core.delete_namespaced_persistent_volume_claim("data", namespace)
    left = core.read_namespaced_persistent_volume_claim("data", namespace)
    assert left.metadata.deletion_timestamp is not None
    assert left.metadata.finalizers == ["kubernetes.io/pvc-protection"]
    core.delete_namespaced_pod("user", namespace, grace_period_seconds=0)
    wait_for(lambda: core.list_namespaced_persistent_volume_claim(namespace).items, lambda items: items == [],
             what="claim gone once the pod is")
