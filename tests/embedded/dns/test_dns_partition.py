"""A network partition of the zone holding every CoreDNS replica (pinned there, the AZ-DNS negative control's
placement): clients in the other zones lose DNS, clients inside the cut-off zone keep it (their kube-proxy
keeps the endpoints it had, flows inside the subnet pass), and DNS returns everywhere when the ACL goes."""

from __future__ import annotations

import time
from typing import Any

import boto3
from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.timing import FAST
from tests.embedded.dns.helpers import dial, kube_dns_ip, netexec, ready_pods, service_routes
from tests.embedded.waiting import wait_for

CUT, OTHER = "us-east-1c", "us-east-1a"


def _ec2(handle: ClusterHandle) -> Any:
    env = handle.aws_env
    return boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                 region_name=env["AWS_DEFAULT_REGION"]).client(
        "ec2", endpoint_url=env["AWS_ENDPOINT_URL"])


def _association(ec2: Any, subnet: str) -> tuple[str, str]:
    acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"]
    return next((acl["NetworkAclId"], a["NetworkAclAssociationId"]) for acl in acls for a in acl["Associations"]
                if a["SubnetId"] == subnet)


def _lookup_ok(client_ip: str, host: str) -> bool:
    status, body = dial(client_ip, host, 8080, timeout=10)
    return status == 200 and isinstance(body, dict) and bool(body.get("responses"))


def test_partitioning_the_coredns_zone_takes_dns_from_the_other_zones_only(dns_cluster: ClusterHandle, kube: Any,
                                                                           ns: str) -> None:
    apps, core = client.AppsV1Api(kube), client.CoreV1Api(kube)
    apps.patch_namespaced_deployment("coredns", "kube-system", {"spec": {"template": {"spec": {
        "nodeSelector": {"topology.kubernetes.io/zone": CUT}}}}})
    wait_for(lambda: core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items,
             lambda ps: len(ps) == 2 and all(p.spec.node_selector and p.status.pod_ip
                                             and any(c.type == "Ready" and c.status == "True"
                                                     for c in p.status.conditions or []) for p in ps),
             timeout=30, interval=0.2, what=f"both CoreDNS replicas Ready in {CUT} alone")
    # One-second, one-attempt lookups of a rooted name: a lost DNS fails /dial in a second.
    fast_dns = {"dnsConfig": {"options": [{"name": "timeout", "value": "1"}, {"name": "attempts", "value": "1"}]}}
    for zone in (CUT, OTHER):
        netexec(kube, ns, f"web-{zone}", zone=zone)
        netexec(kube, ns, f"client-{zone}", zone=zone, pod_spec=fast_dns)
    inside = ready_pods(kube, ns, f"client-{CUT}", 1)[0]["status"]["podIP"]
    outside = ready_pods(kube, ns, f"client-{OTHER}", 1)[0]["status"]["podIP"]
    for zone in (CUT, OTHER):
        ready_pods(kube, ns, f"web-{zone}", 1)
        service_routes(kube, ns, f"web-{zone}", 1)
    near, far = f"web-{CUT}.{ns}.svc.cluster.local.", f"web-{OTHER}.{ns}.svc.cluster.local."
    assert _lookup_ok(inside, near) and _lookup_ok(outside, far), "DNS answers everywhere before the cut"

    ec2 = _ec2(dns_cluster)
    instances = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
                 if i["Placement"]["AvailabilityZone"] == CUT]
    vpc, subnet = instances[0]["VpcId"], instances[0]["SubnetId"]
    original, assoc = _association(ec2, subnet)
    deny_all = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=deny_all)
    try:
        time.sleep(FAST.cloud_poll_interval * 3)  # the cloud layer polls the ACLs
        status, body = dial(outside, far, 8080, timeout=10)
        assert status == 400 and isinstance(body, str) and body.endswith(f"->{kube_dns_ip(kube)}:53: i/o timeout\n"), \
            (status, body)
        assert _lookup_ok(inside, near), "the cut-off zone keeps its own CoreDNS"
    finally:
        _, assoc = _association(ec2, subnet)
        ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=original)
        ec2.delete_network_acl(NetworkAclId=deny_all)
    wait_for(lambda: _lookup_ok(outside, far), bool, timeout=30, interval=0.5, what="DNS back after the cut healed")


