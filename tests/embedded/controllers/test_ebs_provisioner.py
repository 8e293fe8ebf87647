"""The EBS CSI provisioner and what the driver's installation creates (session cluster, official client)."""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client

from pytest_azchaos.embedded.controllers.ebs_provisioner import new_volume_id, round_up_gib

from ..waiting import wait_for

ZONE = "topology.kubernetes.io/zone"


@pytest.fixture
def storage(api_client: client.ApiClient) -> client.StorageV1Api:
    return client.StorageV1Api(api_client)


@pytest.fixture
def immediate_class(storage: client.StorageV1Api) -> Iterator[str]:
    name = "ebs-xfs-" + uuid.uuid4().hex[:6]
    storage.create_storage_class({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
        "provisioner": "ebs.csi.aws.com", "volumeBindingMode": "Immediate", "reclaimPolicy": "Retain",
        "parameters": {"type": "io2", "csi.storage.k8s.io/fstype": "xfs"},
        "allowedTopologies": [{"matchLabelExpressions": [{"key": ZONE, "values": ["us-east-1c"]}]}]})
    yield name
    storage.delete_storage_class(name, _preload_content=False)


def claim(name: str, storage_class: str, size: str = "1Gi") -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"storageClassName": storage_class, "accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": size}}}}


def test_bootstrap_installs_default_gp3_class_csidriver_and_csinodes(storage: client.StorageV1Api,
                                                                    core: client.CoreV1Api) -> None:
    sc = storage.read_storage_class("gp3")
    assert sc.metadata.annotations == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert (sc.provisioner, sc.volume_binding_mode, sc.reclaim_policy, sc.allow_volume_expansion, sc.parameters) == (
        "ebs.csi.aws.com", "WaitForFirstConsumer", "Delete", True, {"type": "gp3"})
    driver = storage.read_csi_driver("ebs.csi.aws.com").spec
    assert (driver.attach_required, driver.pod_info_on_mount, driver.fs_group_policy) == (
        True, False, "ReadWriteOnceWithFSType")
    nodes = {n.metadata.name for n in core.list_node().items}
    csinodes = storage.list_csi_node().items
    assert {c.metadata.name for c in csinodes} == nodes
    assert csinodes[0].spec.drivers[0].topology_keys == ["topology.ebs.csi.aws.com/zone", ZONE]


def test_immediate_class_provisions_in_its_allowed_zone(core: client.CoreV1Api, namespace: str,
                                                       immediate_class: str) -> None:
    created = core.create_namespaced_persistent_volume_claim(namespace, claim("data", immediate_class, "1500Mi"))
    pvc = wait_for(lambda: core.read_namespaced_persistent_volume_claim("data", namespace),
                   lambda c: c.status.phase == "Bound", what="claim bound")
    pv = core.read_persistent_volume(pvc.spec.volume_name)
    try:
        assert pv.metadata.name == f"pvc-{created.metadata.uid}"
        assert re.fullmatch(r"vol-[0-9a-f]{17}", pv.spec.csi.volume_handle)
        assert (pv.spec.csi.driver, pv.spec.csi.fs_type) == ("ebs.csi.aws.com", "xfs")
        assert re.fullmatch(r"\d{13}-\d{1,4}-ebs\.csi\.aws\.com",
                            pv.spec.csi.volume_attributes["storage.kubernetes.io/csiProvisionerIdentity"])
        assert pv.spec.capacity == {"storage": "2Gi"} and pvc.status.capacity == {"storage": "2Gi"}
        assert (pv.spec.persistent_volume_reclaim_policy, pv.spec.storage_class_name) == ("Retain", immediate_class)
        term = pv.spec.node_affinity.required.node_selector_terms[0].match_expressions[0]
        assert (term.key, term.operator, term.values) == (ZONE, "In", ["us-east-1c"])
        assert pv.metadata.annotations == {"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com",
                                           "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                                           "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""}
        assert pvc.metadata.annotations["volume.kubernetes.io/storage-provisioner"] == "ebs.csi.aws.com"
    finally:
        core.patch_persistent_volume(pv.metadata.name, {"metadata": {"finalizers": None}})
        core.delete_persistent_volume(pv.metadata.name)


def test_provisioning_events_come_from_the_external_provisioner(core: client.CoreV1Api, namespace: str,
                                                               immediate_class: str) -> None:
    core.create_namespaced_persistent_volume_claim(namespace, claim("data", immediate_class))
    pvc = wait_for(lambda: core.read_namespaced_persistent_volume_claim("data", namespace),
                   lambda c: c.status.phase == "Bound", what="claim bound")
    events = wait_for(lambda: [e for e in core.list_namespaced_event(namespace).items
                               if e.reason == "ProvisioningSucceeded"], bool, what="ProvisioningSucceeded")
    by_reason = {e.reason: e for e in core.list_namespaced_event(namespace).items}
    assert events[0].message == f"Successfully provisioned volume {pvc.spec.volume_name}"
    assert re.fullmatch(r"ebs\.csi\.aws\.com_ebs-csi-controller-[0-9a-f]{10}-[a-z0-9]{5}_[0-9a-f-]{36}",
                        events[0].source.component)
    assert by_reason["Provisioning"].message == \
        f'External provisioner is provisioning volume for claim "{namespace}/data"'
    assert by_reason["ExternalProvisioning"].source.component == "persistentvolume-controller"
    core.patch_persistent_volume(pvc.spec.volume_name, {"metadata": {"finalizers": None}})
    core.delete_persistent_volume(pvc.spec.volume_name)


def test_reclaim_delete_removes_the_volume_after_its_claim(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_persistent_volume_claim(namespace, claim("data", "gp3"))
    core.create_namespaced_pod(namespace, {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"terminationGracePeriodSeconds": 0,
                 "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}],
                 "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}})
    wait_for(lambda: core.read_namespaced_pod("p", namespace), lambda p: p.status.phase == "Running",
             timeout=15, what="pod running")
    pv_name = core.read_namespaced_persistent_volume_claim("data", namespace).spec.volume_name
    core.delete_namespaced_pod("p", namespace, grace_period_seconds=0)
    core.delete_namespaced_persistent_volume_claim("data", namespace)
    wait_for(lambda: [p.metadata.name for p in core.list_persistent_volume().items],
             lambda names: pv_name not in names, timeout=15, what="provisioned volume deleted")


def test_volume_ids_and_sizes_follow_ebs() -> None:
    assert re.fullmatch(r"vol-0[0-9a-f]{16}", new_volume_id(random.Random(1)))
    assert [round_up_gib(q) for q in ("1Gi", "1G", "100Mi", "1500Mi", "10Gi")] == [1, 1, 1, 2, 10]
