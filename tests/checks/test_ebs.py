"""EBS checks: the judgements over plain API objects, and (when the embedded cluster has the ``gp3``
StorageClass) the stateful flow against it: bound in zone, Pending on drain, back on the same volume."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from kubernetes import client

from pytest_azchaos.checks.ebs import (
    ExecResult,
    is_volume_affinity_reason,
    judge_binding,
    judge_returned,
    judge_waiting,
    pv_zones,
    returned_on_volume,
    volume_writable,
    volumes_in_node_zone,
    waits_for_volume,
)
from pytest_azchaos.kube.topology import ZONE_LABEL, NodeView, ZoneMap

from ..docs.capture import capture_failure
from ..embedded.waiting import wait_for
from .conftest import AGNHOST

ZONES = ZoneMap(tuple(NodeView(f"node-{z}1", f"us-east-1{z}", None, False, True, None, {}) for z in "abc"))
NEW_WORDING = ("0/6 nodes are available: 2 node(s) were unschedulable, 4 node(s) didn't match PersistentVolume's "
               "node affinity. no new claims to deallocate, preemption: 0/6 nodes are available: 6 Preemption is not "
               "helpful for scheduling.")
OLD_WORDING = ("0/6 nodes are available: 2 node(s) were unschedulable, 4 node(s) had volume node affinity conflict. "
               "preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling..")


def pod(name: str = "data-0", node: str | None = "node-a1", claim: str = "data-data-0", ready: bool = True
        ) -> client.V1Pod:
    conditions = [client.V1PodCondition(type="Ready", status="True" if ready else "False")]
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(node_name=node, containers=[], volumes=[client.V1Volume(
            name="data", persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(claim_name=claim))]),
        status=client.V1PodStatus(phase="Running" if node else "Pending", conditions=conditions))


def pvc(name: str = "data-data-0", volume: str | None = "pv-1", phase: str = "Bound"
        ) -> client.V1PersistentVolumeClaim:
    return client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name=name), spec=client.V1PersistentVolumeClaimSpec(volume_name=volume),
        status=client.V1PersistentVolumeClaimStatus(phase=phase))


def pv(name: str = "pv-1", zone: str = "us-east-1a", key: str = "topology.kubernetes.io/zone"
       ) -> client.V1PersistentVolume:
    term = client.V1NodeSelectorTerm(match_expressions=[client.V1NodeSelectorRequirement(
        key=key, operator="In", values=[zone])])
    return client.V1PersistentVolume(metadata=client.V1ObjectMeta(name=name), spec=client.V1PersistentVolumeSpec(
        node_affinity=client.V1VolumeNodeAffinity(required=client.V1NodeSelector(node_selector_terms=[term]))))


# ------------------------------------------------------------------------------------------ the judgements


def test_both_upstream_wordings_are_volume_affinity_reasons() -> None:
    assert is_volume_affinity_reason(NEW_WORDING)
    assert is_volume_affinity_reason(OLD_WORDING)
    assert not is_volume_affinity_reason("0/6 nodes are available: 6 node(s) were unschedulable.")


def test_pv_zone_is_read_from_either_zone_key() -> None:
    assert pv_zones(pv()) == {"us-east-1a"}
    assert pv_zones(pv(zone="us-east-1b", key="topology.ebs.csi.aws.com/zone")) == {"us-east-1b"}


def test_binding_in_the_node_zone_passes() -> None:
    result = judge_binding([pod()], {"data-data-0": pvc()}, {"pv-1": pv()}, ZONES)
    assert result.passed, result.message()
    assert result.evidence == ("pod data-0 on node-a1 (us-east-1a): claim data-data-0 -> PV pv-1 zone us-east-1a",)


def test_binding_in_another_zone_fails_naming_both_zones() -> None:
    result = judge_binding([pod()], {"data-data-0": pvc()}, {"pv-1": pv(zone="us-east-1b")}, ZONES)
    assert not result.passed
    assert result.message() == ("AZ-EBS-BIND FAILED: 1 volume(s) not bound in their pod's node zone\n"
                                "  - pod data-0 on node-a1 (us-east-1a): claim data-data-0 -> PV pv-1 zone us-east-1b"
                                "  <-- MISMATCH\n"
                                "  see docs/checks/AZ-EBS-BIND.md")


def test_unbound_claim_fails_binding() -> None:
    result = judge_binding([pod()], {"data-data-0": pvc(volume=None, phase="Pending")}, {}, ZONES)
    assert not result.passed
    assert "claim data-data-0 is Pending, PV <none>" in result.message()


def test_pending_pod_with_the_affinity_reason_waits_correctly() -> None:
    for wording in (NEW_WORDING, OLD_WORDING):
        result = judge_waiting(pod(node=None, ready=False), pvc(), ["pv-1"], "pv-1", wording, ZONES)
        assert result.passed, result.message()
        assert f"scheduler: {wording}" in result.evidence


def test_pod_moved_to_another_zone_with_a_new_volume_fails_drain() -> None:
    result = judge_waiting(pod(node="node-b1"), pvc(volume="pv-2"), ["pv-1", "pv-2"], "pv-1", "", ZONES)
    assert not result.passed
    assert result.summary == ("pod data-0 was scheduled to node-b1 in us-east-1b: it moved away from its volume; "
                              "claim data-data-0 is no longer bound to pv-1; new PV(s) pv-2 were provisioned for "
                              "claim data-data-0")
    capture_failure("AZ-EBS-DRAIN", result)


def test_pending_for_another_reason_fails_drain_listing_the_accepted_wordings() -> None:
    other = "0/6 nodes are available: 6 Insufficient cpu."
    result = judge_waiting(pod(node=None, ready=False), pvc(), ["pv-1"], "pv-1", other, ZONES)
    assert not result.passed
    assert "Pending without the volume node affinity reason (expected one of: didn't match PersistentVolume's node " \
           "affinity / had volume node affinity conflict)" in result.summary
    assert f"scheduler: {other}" in result.evidence


def test_return_in_the_same_zone_on_the_same_volume_passes() -> None:
    result = judge_returned(pod(), pvc(), "pv-1", "us-east-1a", ZONES, expected_data="hello", read_back="hello")
    assert result.passed, result.message()
    assert result.summary == "pod data-0 is back in us-east-1a on pv-1 with its data"


def test_return_elsewhere_with_empty_data_fails() -> None:
    result = judge_returned(pod(node="node-c1"), pvc(volume="pv-9"), "pv-1", "us-east-1a", ZONES,
                            expected_data="hello", read_back="")
    assert not result.passed
    assert result.summary == ("pod data-0 runs in us-east-1c, not in its volume's zone us-east-1a; claim is bound to "
                              "pv-9, not pv-1; the data written before the drain did not read back (empty or new "
                              "volume?)")
    assert "data written before: 'hello'; read back: ''" in result.evidence
    capture_failure("AZ-EBS-RETURN", result)


def test_write_permission_denied_names_the_fsgroup_fix() -> None:
    result = volume_writable(ExecResult(1, "sh: can't create /data/probe: Permission denied\n"), "data-0",
                             "/data/probe", run_as_user=1000)
    assert not result.passed
    assert result.summary == ("Permission denied writing /data/probe in pod data-0 as uid 1000: set "
                              "securityContext.fsGroup (e.g. to the container's group) so the kubelet makes the "
                              "volume group-writable")
    assert "output: sh: can't create /data/probe: Permission denied" in result.evidence


def test_write_that_succeeded_passes_perm() -> None:
    result = volume_writable(ExecResult(0, ""), "data-0", "/data/probe", run_as_user=1000, fs_group=1000)
    assert result.passed
    assert result.evidence[0] == "pod data-0: write to /data/probe as uid 1000 with fsGroup 1000: exit 0"


def test_permission_denied_despite_fsgroup_points_at_the_driver() -> None:
    result = volume_writable(ExecResult(1, "Permission denied"), "data-0", "/data/x", fs_group=2000)
    assert "fsGroup 2000 is set but did not apply: check the CSI driver's fsGroupPolicy and fsType" in result.summary


# ------------------------------------------------------------------------------------------ on the cluster


@pytest.fixture
def gp3(core: client.CoreV1Api) -> None:
    names = {sc.metadata.name for sc in client.StorageV1Api(core.api_client).list_storage_class().items}
    if "gp3" not in names:
        pytest.skip("the embedded cluster has no gp3 StorageClass yet (EBS provisioner not built): the stateful "
                    "checks are unit-tested above only")


@pytest.fixture
def stateful(core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str, gp3: None) -> Iterator[str]:
    """A one-replica StatefulSet on gp3 (WaitForFirstConsumer: the volume follows the pod), Running."""
    sts = client.V1StatefulSet(
        metadata=client.V1ObjectMeta(name="data"),
        spec=client.V1StatefulSetSpec(
            service_name="data", replicas=1, selector=client.V1LabelSelector(match_labels={"app": "data"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "data"}),
                spec=client.V1PodSpec(termination_grace_period_seconds=1,
                                      containers=[client.V1Container(
                                          name="c", image=AGNHOST, args=["pause"],
                                          volume_mounts=[client.V1VolumeMount(name="data", mount_path="/data")])])),
            volume_claim_templates=[client.V1PersistentVolumeClaim(
                metadata=client.V1ObjectMeta(name="data"),
                spec=client.V1PersistentVolumeClaimSpec(
                    access_modes=["ReadWriteOnce"], storage_class_name="gp3",
                    resources=client.V1VolumeResourceRequirements(requests={"storage": "1Gi"})))]))
    apps.create_namespaced_stateful_set(namespace, sts)
    wait_for(lambda: [p for p in core.list_namespaced_pod(namespace).items if p.metadata.name == "data-0"],
             lambda ps: bool(ps) and ps[0].status.phase == "Running", timeout=30, what="data-0 Running")
    yield "data-0"


def zone_of_pod(core: client.CoreV1Api, namespace: str, name: str) -> str:
    node = core.read_namespaced_pod(name, namespace).spec.node_name
    return core.read_node(node).metadata.labels[ZONE_LABEL]


def test_stateful_pod_volume_is_in_its_node_zone(core: client.CoreV1Api, namespace: str, stateful: str) -> None:
    result = volumes_in_node_zone(core, namespace, "app=data")
    assert result.passed, result.message()


def test_drained_zone_keeps_the_pod_pending_then_it_returns(core: client.CoreV1Api, namespace: str,
                                                            stateful: str) -> None:
    volume = core.read_namespaced_persistent_volume_claim("data-data-0", namespace).spec.volume_name
    running = waits_for_volume(core, namespace, stateful, "data-data-0", volume, timeout=1)
    assert not running.passed  # still Running in its zone: not waiting
    zone = zone_of_pod(core, namespace, stateful)
    nodes = [n.metadata.name for n in core.list_node().items if n.metadata.labels[ZONE_LABEL] == zone]
    for n in nodes:
        core.patch_node(n, {"spec": {"unschedulable": True}})
    try:
        core.delete_namespaced_pod(stateful, namespace, grace_period_seconds=0)
        time.sleep(0.5)
        result = waits_for_volume(core, namespace, stateful, "data-data-0", volume, timeout=15)
        assert result.passed, result.message()
        assert any(w in result.message() for w in ("didn't match PersistentVolume's node affinity",
                                                    "had volume node affinity conflict"))
    finally:
        for n in nodes:
            core.patch_node(n, {"spec": {"unschedulable": False}})
    back = returned_on_volume(core, namespace, stateful, "data-data-0", volume, zone, timeout=30)
    assert back.passed, back.message()
