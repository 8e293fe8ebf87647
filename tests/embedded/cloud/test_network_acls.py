"""Network ACLs made through boto3 against the embedded cluster's AWS are enforced by the cluster: a deny-all ACL on
a zone's node subnet cuts its kubelets off the regional API server (nodes NotReady) while their containers keep
running; an allowing ACL cuts nothing; when the ACL goes the kubelets reconnect and clean up."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.timing import FAST

from ... import clusters

ZONE = "us-east-1c"
AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"
ZONE_LABEL = "topology.kubernetes.io/zone"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("nacl")) as handle:
        yield handle


@pytest.fixture(scope="module")
def ec2(cluster: ClusterHandle) -> Any:
    env = cluster.aws_env
    return boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                 region_name=env["AWS_DEFAULT_REGION"]).client(
        "ec2", endpoint_url=env["AWS_ENDPOINT_URL"])


@pytest.fixture(scope="module")
def core(cluster: ClusterHandle) -> Iterator[client.CoreV1Api]:
    with clusters.api_client(cluster) as api:
        yield client.CoreV1Api(api)


def zone_subnet(ec2: Any, zone: str) -> tuple[str, str]:
    """(VPC id, subnet id) of the zone's node instances."""
    found = {(i["VpcId"], i["SubnetId"]) for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
             if i["Placement"]["AvailabilityZone"] == zone}
    assert len(found) == 1, found
    return found.pop()


def association(ec2: Any, subnet: str) -> tuple[str, str]:
    """(ACL id, association id) of ``subnet``."""
    acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"]
    for acl in acls:
        for a in acl["Associations"]:
            if a["SubnetId"] == subnet:
                return acl["NetworkAclId"], a["NetworkAclAssociationId"]
    raise AssertionError(f"no association for {subnet}")


class Swap:
    """Put ``subnet`` on ``acl`` and back on its original ACL at exit."""

    def __init__(self, ec2: Any, subnet: str, acl: str):
        self.ec2, self.subnet, self.acl = ec2, subnet, acl

    def __enter__(self) -> Swap:
        self.original, assoc = association(self.ec2, self.subnet)
        self.ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=self.acl)
        return self

    def __exit__(self, *exc: object) -> None:
        _, assoc = association(self.ec2, self.subnet)
        self.ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=self.original)
        self.ec2.delete_network_acl(NetworkAclId=self.acl)


def ready(core: client.CoreV1Api, zone: str | None = None) -> dict[str, bool]:
    out = {}
    for node in core.list_node().items:
        if zone is None or node.metadata.labels.get(ZONE_LABEL) == zone:
            out[node.metadata.name] = any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
    return out


def wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def answers(ip: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{ip}:8080/hostname", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


GRACE = FAST.heartbeat_loss_detection() + FAST.cloud_poll_interval + 3


def test_deny_all_acl_on_a_zone_subnet_takes_only_its_nodes_not_ready_until_it_is_removed(core, ec2) -> None:
    vpc, subnet = zone_subnet(ec2, ZONE)
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    with Swap(ec2, subnet, acl):
        wait(lambda: not any(ready(core, ZONE).values()), GRACE, f"nodes of {ZONE} NotReady")
        others = {n: r for n, r in ready(core).items() if n not in ready(core, ZONE)}
        assert all(others.values()), others
    wait(lambda: all(ready(core, ZONE).values()), 15, f"nodes of {ZONE} Ready again")


def test_an_acl_allowing_all_traffic_cuts_nothing(core, ec2) -> None:
    vpc, subnet = zone_subnet(ec2, ZONE)
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    for egress in (False, True):
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="-1", RuleAction="allow",
                                     Egress=egress, CidrBlock="0.0.0.0/0")
    with Swap(ec2, subnet, acl):
        time.sleep(GRACE)
        assert all(ready(core, ZONE).values()), ready(core, ZONE)


def test_partitioned_kubelet_keeps_a_force_deleted_pod_running_and_kills_it_when_it_reconnects(core, ec2) -> None:
    with clusters.fresh_namespace(core, "nacl") as ns:
        core.create_namespaced_pod(ns, client.V1Pod(
            metadata=client.V1ObjectMeta(name="split"),
            spec=client.V1PodSpec(node_selector={ZONE_LABEL: ZONE}, containers=[client.V1Container(
                name="app", image=AGNHOST, args=["netexec", "--http-port=8080"])])))
        wait(lambda: (core.read_namespaced_pod("split", ns).status.phase == "Running"
                      and bool(core.read_namespaced_pod("split", ns).status.pod_ip)), 30, "pod Running")
        ip = core.read_namespaced_pod("split", ns).status.pod_ip
        wait(lambda: answers(ip), 10, "pod answering")
        vpc, subnet = zone_subnet(ec2, ZONE)
        acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        with Swap(ec2, subnet, acl):
            wait(lambda: not any(ready(core, ZONE).values()), GRACE, f"nodes of {ZONE} NotReady")
            core.delete_namespaced_pod("split", ns, grace_period_seconds=0)
            wait(lambda: not core.list_namespaced_pod(ns).items, 10, "pod gone from the API")
            time.sleep(1)
            assert answers(ip), "the partitioned kubelet never saw the deletion: its container keeps serving"
        wait(lambda: not answers(ip), 15, "the reconnected kubelet killing the deleted pod's container")


def _dial(pod_ip: str, host: str, port: int) -> dict[str, Any]:
    """netexec /dial from the pod at ``pod_ip`` to ``host:port`` (one try), as its JSON answer."""
    import json

    url = f"http://{pod_ip}:8080/dial?request=hostname&protocol=http&host={host}&port={port}&tries=1"
    with urllib.request.urlopen(url, timeout=15) as r:
        return dict(json.loads(r.read()))


def _pod(core: client.CoreV1Api, ns: str, name: str, zone: str, labels: dict[str, str]) -> str:
    core.create_namespaced_pod(ns, client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1PodSpec(node_selector={ZONE_LABEL: zone}, containers=[client.V1Container(
            name="app", image=AGNHOST, args=["netexec", "--http-port=8080"])])))
    wait(lambda: bool(core.read_namespaced_pod(name, ns).status.pod_ip) and answers(
        core.read_namespaced_pod(name, ns).status.pod_ip), 30, f"pod {name} serving")
    return str(core.read_namespaced_pod(name, ns).status.pod_ip)


def _service(core: client.CoreV1Api, ns: str, name: str) -> str:
    svc = core.create_namespaced_service(ns, client.V1Service(
        metadata=client.V1ObjectMeta(name=name), spec=client.V1ServiceSpec(
            selector={"app": name}, ports=[client.V1ServicePort(port=18080, target_port=8080)])))
    return str(svc.spec.cluster_ip)


def test_a_pod_in_a_cut_off_zone_reaches_services_in_its_zone_only(core, ec2) -> None:
    with clusters.fresh_namespace(core, "nacl") as ns:
        near = _pod(core, ns, "near", ZONE, {})
        _pod(core, ns, "same", ZONE, {"app": "same"})
        _pod(core, ns, "far", "us-east-1a", {"app": "far"})
        same_ip, far_ip = _service(core, ns, "same"), _service(core, ns, "far")
        wait(lambda: _dial(near, far_ip, 18080).get("responses") == ["far"], 15, "far reachable before")
        vpc, subnet = zone_subnet(ec2, ZONE)
        acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        with Swap(ec2, subnet, acl):
            time.sleep(FAST.cloud_poll_interval * 3)
            cut = _dial(near, far_ip, 18080)
            assert "responses" not in cut and "deadline exceeded" in " ".join(cut.get("errors", [])), cut
            assert _dial(near, same_ip, 18080).get("responses") == ["same"], "same-zone traffic keeps flowing"
        wait(lambda: _dial(near, far_ip, 18080).get("responses") == ["far"], 15, "far reachable after")
