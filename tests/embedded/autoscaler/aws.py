"""boto3 clients for an embedded cluster's AWS endpoint, and the node-group facts tests read through them."""

from __future__ import annotations

from typing import Any

import boto3
from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle

ZONE = "topology.kubernetes.io/zone"


def aws_client(handle: ClusterHandle, service: str) -> Any:
    env = handle.aws_env
    return boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                 region_name=env["AWS_DEFAULT_REGION"]).client(
        service, endpoint_url=env["AWS_ENDPOINT_URL"])


def groups(asg: Any) -> dict[str, dict[str, Any]]:
    """ASG name -> DescribeAutoScalingGroups entry."""
    return {g["AutoScalingGroupName"]: g for g in asg.describe_auto_scaling_groups()["AutoScalingGroups"]}


def group_in(asg: Any, zone: str) -> dict[str, Any]:
    """The (single-zone) group of ``zone``."""
    return next(g for g in groups(asg).values() if g["AvailabilityZones"] == [zone])


def instance_states(ec2: Any) -> dict[str, str]:
    return {i["InstanceId"]: i["State"]["Name"] for r in ec2.describe_instances()["Reservations"]
            for i in r["Instances"]}


def nodes_by_instance(core: client.CoreV1Api) -> dict[str, client.V1Node]:
    """Instance id (from providerID) -> Node."""
    return {n.spec.provider_id.rsplit("/", 1)[1]: n for n in core.list_node().items}


def ready(node: client.V1Node) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])
