"""AZ-EBS-RETURN follows the node provisioner: on Karpenter the stopped node is terminated and replaced, so the pod
returns on a *new* node in its volume's zone (accepted, named with its NodePool); it still fails when the pod lands in
another zone or a second volume appears for its claim. Judged over plain objects, then on a real embedded Karpenter
cluster (moto EC2 StopInstances, Karpenter's interruption handling and launch, the StatefulSet's volume)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from kubernetes import client

from pytest_azchaos.checks.ebs import judge_returned, returned_on_volume
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.kube.topology import ZONE_LABEL, NodeView, ZoneMap
from pytest_azchaos.provisioners.detect import detect

from ..clusters import api_client, fresh_namespace, own_cluster
from ..embedded.waiting import wait_for
from .conftest import AGNHOST
from .test_ebs import pod, pvc

BEFORE = ("node-a1", "node-b1", "node-c1")
ZONES = ZoneMap(tuple(NodeView(n, f"us-east-1{n[5]}", None, False, True, None, {}) for n in (*BEFORE, "karp-a9")))
KARP_LABELS = {"karpenter.sh/nodepool": "default", ZONE_LABEL: "us-east-1a"}


def test_karpenter_return_on_a_new_node_in_the_volumes_zone_passes_naming_the_replacement() -> None:
    result = judge_returned(pod(node="karp-a9"), pvc(), "pv-1", "us-east-1a", ZONES, old_node="node-a1",
                            provisioner="karpenter", known_nodes=BEFORE, node_labels=KARP_LABELS, claim_pvs=["pv-1"])
    assert result.passed, result.message()
    assert result.summary == "pod data-0 is back in us-east-1a on a new node on pv-1"
    assert ("karpenter: its old node node-a1 was replaced, not restarted; back on a new node (NodePool default)"
            in result.evidence), result.evidence
    assert result.figures["new_node"] is True


def test_karpenter_return_on_a_new_node_in_another_zone_fails_naming_the_zone() -> None:
    zones = ZoneMap((*ZONES.nodes, NodeView("karp-c9", "us-east-1c", None, False, True, None, {})))
    result = judge_returned(pod(node="karp-c9"), pvc(), "pv-1", "us-east-1a", zones, old_node="node-a1",
                            provisioner="karpenter", known_nodes=BEFORE, claim_pvs=["pv-1"])
    assert not result.passed
    assert result.summary == "pod data-0 runs in us-east-1c, not in its volume's zone us-east-1a"


def test_a_second_volume_for_the_claim_fails_even_on_the_right_node() -> None:
    result = judge_returned(pod(node="karp-a9"), pvc(), "pv-1", "us-east-1a", ZONES, old_node="node-a1",
                            provisioner="karpenter", known_nodes=BEFORE, claim_pvs=["pv-1", "pv-2"])
    assert not result.passed
    assert result.summary == "new PV(s) pv-2 were provisioned for claim data-data-0"
    assert "PVs for claim data-data-0: pv-1, pv-2" in result.evidence


def test_node_groups_return_on_a_new_node_is_reported_as_such() -> None:
    result = judge_returned(pod(node="karp-a9"), pvc(), "pv-1", "us-east-1a", ZONES, old_node="node-a1",
                            provisioner="node-groups", known_nodes=BEFORE, claim_pvs=["pv-1"])
    assert result.passed, result.message()
    assert "node-groups: back on a new node, not on its old node node-a1" in result.evidence, result.evidence


def test_node_groups_return_after_the_group_terminated_the_old_node_names_the_group() -> None:
    by = "Auto Scaling group ng-a terminates its stopped instance i-1 (HealthCheck, ReplaceUnhealthy left active)"
    result = judge_returned(pod(node="karp-a9"), pvc(), "pv-1", "us-east-1a", ZONES, old_node="node-a1",
                            provisioner="node-groups", known_nodes=BEFORE, claim_pvs=["pv-1"], replaced_by=by)
    assert result.passed and result.figures["new_node"] is True, result.message()
    assert f"{by}: its old node node-a1 was replaced, not restarted; back on a new node" in result.evidence, \
        result.evidence


# ------------------------------------------------------------------------------------- real Karpenter cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    from pytest_azchaos.embedded.topology import Topology

    with own_cluster(tmp_path_factory.mktemp("ebs-karpenter"), topology=Topology.make(zones=3, nodes_per_zone=1),
                     profile="fast", provisioner="karpenter") as handle:
        yield handle


@pytest.fixture(scope="module")
def api(cluster: ClusterHandle) -> Iterator[client.ApiClient]:
    with api_client(cluster) as api:
        yield api


def _ec2(cluster: ClusterHandle) -> Any:
    env = cluster.aws_env
    return boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                 region_name=env["AWS_DEFAULT_REGION"]).client(
        "ec2", endpoint_url=env["AWS_ENDPOINT_URL"])


def _stateful(apps: client.AppsV1Api, namespace: str, *, karpenter_only: bool = True) -> None:
    """One replica on a gp3 volume; ``karpenter_only``: on Karpenter's nodes only (the static group lacks
    karpenter.sh/capacity-type)."""
    apps.create_namespaced_stateful_set(namespace, client.V1StatefulSet(
        metadata=client.V1ObjectMeta(name="data"),
        spec=client.V1StatefulSetSpec(
            service_name="data", replicas=1, selector=client.V1LabelSelector(match_labels={"app": "data"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "data"}),
                spec=client.V1PodSpec(
                    termination_grace_period_seconds=1,
                    node_selector={"karpenter.sh/capacity-type": "on-demand"} if karpenter_only else None,
                    containers=[client.V1Container(
                        name="c", image=AGNHOST, args=["pause"],
                        resources=client.V1ResourceRequirements(requests={"cpu": "100m"}),
                        volume_mounts=[client.V1VolumeMount(name="data", mount_path="/data")])])),
            volume_claim_templates=[client.V1PersistentVolumeClaim(
                metadata=client.V1ObjectMeta(name="data"),
                spec=client.V1PersistentVolumeClaimSpec(
                    access_modes=["ReadWriteOnce"], storage_class_name="gp3",
                    resources=client.V1VolumeResourceRequirements(requests={"storage": "1Gi"})))])))


def _running(core: client.CoreV1Api, namespace: str, timeout: float = 60) -> client.V1Pod:
    return wait_for(lambda: core.read_namespaced_pod("data-0", namespace),
                    lambda p: p.status.phase == "Running" and p.metadata.deletion_timestamp is None,
                    timeout=timeout, what="data-0 Running")


def test_stopped_karpenter_node_the_pod_returns_on_a_new_node_in_its_volumes_zone(
        cluster: ClusterHandle, api: client.ApiClient) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    with fresh_namespace(core, "ebs-karp") as ns:
        _stateful(apps, ns)
        first = _running(core, ns)
        old_node = first.spec.node_name
        zone = core.read_node(old_node).metadata.labels[ZONE_LABEL]
        volume = core.read_namespaced_persistent_volume_claim("data-data-0", ns).spec.volume_name
        before = ZoneMap.read(core)
        iid = core.read_node(old_node).spec.provider_id.rsplit("/", 1)[-1]
        _ec2(cluster).stop_instances(InstanceIds=[iid])  # Karpenter: InstanceStopped -> drain, delete, terminate
        wait_for(lambda: [n.metadata.name for n in core.list_node().items], lambda names: old_node not in names,
                 timeout=30, what=f"Karpenter replaced {old_node}")
        provisioner = detect(api).kind
        assert provisioner == "karpenter"
        result = returned_on_volume(core, ns, "data-0", "data-data-0", volume, zone, timeout=60, zones=before,
                                    old_node=old_node, provisioner=provisioner)
        assert result.passed, result.message()
        assert result.figures["new_node"] is True, result.message()
        assert f"karpenter: its old node {old_node} was replaced, not restarted; back on a new node (NodePool " \
               "default)" in result.evidence, result.evidence
        # The other way: the same observation judged against another zone, then with a second volume, fails.
        other = next(z for z in before.zones() if z != zone)
        wrong = returned_on_volume(core, ns, "data-0", "data-data-0", volume, other, timeout=1, zones=before,
                                   old_node=old_node, provisioner=provisioner)
        assert not wrong.passed and f"not in its volume's zone {other}" in wrong.summary, wrong.message()
        core.create_persistent_volume({"metadata": {"name": f"second-{ns}"}, "spec": {
            "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
            "claimRef": {"namespace": ns, "name": "data-data-0"},
            "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0second0000000000"}}})
        try:
            second = returned_on_volume(core, ns, "data-0", "data-data-0", volume, zone, timeout=5, zones=before,
                                        old_node=old_node, provisioner=provisioner)
            assert not second.passed, second.message()
            assert f"new PV(s) second-{ns} were provisioned for claim data-data-0" in second.summary, second.message()
        finally:
            core.delete_persistent_volume(f"second-{ns}")


def test_stopped_karpenter_node_kept_out_of_the_zone_the_oracle_and_az_ebs_drain_expect_pending(
        cluster: ClusterHandle, api: client.ApiClient) -> None:
    """A stateful pod on a Karpenter node (its zone's static node cordoned, so Karpenter launched one in the volume's
    zone), Karpenter fenced out of that zone (NotIn + budget 0, as zone_outage does), then the node stopped: the
    oracle predicts the pod deleted with its node and Pending on its volume's zone, and AZ-EBS-DRAIN sees exactly
    that (the scheduler's volume-affinity reason, not Karpenter's own FailedScheduling)."""
    from pytest_azchaos.checks.ebs import waits_for_volume
    from pytest_azchaos.oracle import predict_for
    from pytest_azchaos.provisioners.karpenter_fence import fenced_spec
    from pytest_azchaos.timing import FAST

    core, apps, custom = client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api)
    pool = custom.get_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default")
    wait_for(lambda: custom.list_cluster_custom_object("karpenter.sh", "v1", "nodeclaims")["items"],
             lambda claims: not claims, timeout=60, what="earlier NodeClaims consolidated")
    with fresh_namespace(core, "ebs-karp") as ns:
        _stateful(apps, ns, karpenter_only=False)
        cordoned = _running(core, ns).spec.node_name
        zone = core.read_node(cordoned).metadata.labels[ZONE_LABEL]
        volume = core.read_namespaced_persistent_volume_claim("data-data-0", ns).spec.volume_name
        try:
            core.patch_node(cordoned, {"spec": {"unschedulable": True}})
            core.delete_namespaced_pod("data-0", ns, grace_period_seconds=0)
            node = wait_for(lambda: core.read_namespaced_pod("data-0", ns),
                            lambda p: bool(p.spec.node_name) and p.spec.node_name != cordoned
                            and p.metadata.deletion_timestamp is None, timeout=60,
                            what="data-0 on a node Karpenter launched in its volume's zone").spec.node_name
            assert core.read_node(node).metadata.labels.get("karpenter.sh/nodepool") == "default"
            custom.patch_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default", [
                {"op": "replace", "path": "/spec", "value": fenced_spec(pool["spec"], zone)}],
                _content_type="application/json-patch+json")
            prediction = predict_for(core, ns, "app=data", "power-off", zone, FAST, nodes=[node])
            expected = prediction.outcome_of("data-0")
            assert expected is not None and expected.outcome == "pending" and expected.node_replaced, prediction
            iid = core.read_node(node).spec.provider_id.rsplit("/", 1)[-1]
            _ec2(cluster).stop_instances(InstanceIds=[iid])
            result = waits_for_volume(core, ns, "data-0", "data-data-0", volume, timeout=30, predicted=prediction,
                                      old_node=node)
            assert result.passed and result.figures.get("agrees"), result.message()
            assert f"still on its lost node {node}" not in result.summary
        finally:
            core.patch_node(cordoned, {"spec": {"unschedulable": False}})
            custom.patch_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default", [
                {"op": "replace", "path": "/spec", "value": pool["spec"]}],
                _content_type="application/json-patch+json")
