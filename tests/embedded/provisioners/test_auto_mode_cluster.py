"""An embedded cluster started with ``provisioner="auto-mode"``: EKS Auto Mode's built-in NodePools, its nodes'
label, and EC2 stop/terminate on its managed instances refused (UnauthorizedOperation) before anything changes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle

from ...clusters import api_client, own_cluster
from ..waiting import wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    from pytest_azchaos.embedded.topology import Topology

    with own_cluster(tmp_path_factory.mktemp("auto"), topology=Topology.make(zones=3, nodes_per_zone=1),
                     profile="fast", provisioner="auto-mode") as handle:
        yield handle


@pytest.fixture(scope="module")
def api(cluster: ClusterHandle) -> Iterator[client.ApiClient]:
    with api_client(cluster) as api:
        yield api


@pytest.fixture(scope="module")
def ec2(cluster: ClusterHandle) -> Any:
    env = cluster.aws_env
    return boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                 region_name=env["AWS_DEFAULT_REGION"]).client(
        "ec2", endpoint_url=env["AWS_ENDPOINT_URL"])


def test_auto_mode_serves_its_builtin_nodepools_of_the_eks_nodeclass(api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(api)
    pools = {p["metadata"]["name"]: p for p in custom.list_cluster_custom_object("karpenter.sh", "v1",
                                                                                  "nodepools")["items"]}
    assert sorted(pools) == ["general-purpose", "system"], sorted(pools)
    ref = pools["general-purpose"]["spec"]["template"]["spec"]["nodeClassRef"]
    assert ref == {"group": "eks.amazonaws.com", "kind": "NodeClass", "name": "default"}, ref
    nodes = client.CoreV1Api(api).list_node().items
    assert all(n.metadata.labels.get("eks.amazonaws.com/compute-type") == "auto" for n in nodes), \
        [n.metadata.labels for n in nodes]


@pytest.mark.parametrize("action", ["stop_instances", "terminate_instances"])
def test_ec2_refuses_stop_and_terminate_on_auto_mode_instances(api: client.ApiClient, ec2: Any,
                                                               action: str) -> None:
    node = client.CoreV1Api(api).list_node().items[0]
    iid = node.spec.provider_id.rsplit("/", 1)[1]
    with pytest.raises(ClientError) as err:
        getattr(ec2, action)(InstanceIds=[iid])
    error = err.value.response["Error"]
    assert error["Code"] == "UnauthorizedOperation", error
    assert f"instance/{iid}" in error["Message"] and "explicit deny" in error["Message"], error
    state = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state == "running", state


def test_auto_mode_launches_labelled_nodes_for_pending_pods(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    ns = f"auto-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": ns}})
    try:
        core.create_namespaced_pod(ns, {"metadata": {"name": "p"}, "spec": {
            "nodeSelector": {"karpenter.sh/nodepool": "general-purpose"},
            "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}})
        pod = wait_for(lambda: core.read_namespaced_pod("p", ns), lambda p: bool(p.spec.node_name), timeout=30,
                       what="the pod bound to an Auto Mode node")
        labels = core.read_node(pod.spec.node_name).metadata.labels
        assert labels["eks.amazonaws.com/compute-type"] == "auto" and labels["karpenter.sh/nodepool"] == \
            "general-purpose", labels
    finally:
        core.delete_namespace(ns)
