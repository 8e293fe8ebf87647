"""EC2 Auto Scaling in the embedded cloud (``cloud/autoscaling.py``), through boto3 against the moto endpoint: EC2
health checks and ReplaceUnhealthy as AWS documents them, suspended processes, instances joining and leaving as
nodes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.topology import Topology

from ... import clusters
from ..autoscaler.aws import ZONE, aws_client, group_in, groups, instance_states, nodes_by_instance, ready
from ..waiting import wait_for

# fast profile: health checks every 0.5 s, grace period 1 s; a few checks' worth of waiting shows "nothing happens"
SETTLE = 3.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("asg"), topology=Topology.make(zones=3, nodes_per_zone=1)) as h:
        yield h


@pytest.fixture(scope="module")
def core(cluster: ClusterHandle) -> Iterator[client.CoreV1Api]:
    with clusters.api_client(cluster) as api:
        yield client.CoreV1Api(api)


@pytest.fixture(scope="module")
def asg(cluster: ClusterHandle) -> Any:
    return aws_client(cluster, "autoscaling")


@pytest.fixture(scope="module")
def ec2(cluster: ClusterHandle) -> Any:
    return aws_client(cluster, "ec2")


def _zone_instances(asg: Any, zone: str) -> list[str]:
    return [i["InstanceId"] for i in group_in(asg, zone)["Instances"]]


def test_a_stopped_instance_is_terminated_and_replaced_by_a_new_node(asg, ec2, core) -> None:
    zone = "us-east-1a"
    [old] = _zone_instances(asg, zone)
    ec2.stop_instances(InstanceIds=[old])
    nodes = wait_for(lambda: nodes_by_instance(core), lambda n: old not in n and any(
        n[i].metadata.labels[ZONE] == zone and ready(n[i]) for i in n), timeout=20,
        what=f"the node of {old} deleted and a Ready replacement in {zone}")
    [new] = _zone_instances(asg, zone)
    assert new != old and new in nodes, f"group instances {new}, nodes {sorted(nodes)}"
    assert instance_states(ec2)[old] == "terminated"
    labels = nodes[new].metadata.labels
    assert labels["eks.amazonaws.com/nodegroup"] == "ng-us-east-1a"
    assert nodes[new].spec.provider_id == f"aws:///{zone}/{new}"


def test_scaling_activities_name_the_health_check_termination_and_the_launch(asg, ec2) -> None:
    zone = "us-east-1a"
    name = group_in(asg, zone)["AutoScalingGroupName"]
    [old] = _zone_instances(asg, zone)
    ec2.stop_instances(InstanceIds=[old])
    wait_for(lambda: _zone_instances(asg, zone), lambda ids: ids and old not in ids, timeout=15,
             what=f"{old} replaced")
    [new] = _zone_instances(asg, zone)
    activities = asg.describe_scaling_activities(AutoScalingGroupName=name)["Activities"]
    got = [(a["Description"], a["StatusCode"]) for a in activities[:2]]
    assert got == [(f"Launching a new EC2 instance: {new}", "Successful"),
                   (f"Terminating EC2 instance: {old}", "Successful")], activities
    assert activities[1]["Cause"].endswith("an instance was taken out of service in response to an EC2 health check "
                                           "indicating it has been terminated or stopped.")
    assert "increasing the capacity from 0 to 1." in activities[0]["Cause"]


def test_with_only_launch_suspended_a_stopped_instance_is_terminated_and_not_replaced(asg, ec2, core) -> None:
    zone = "us-east-1b"
    group = group_in(asg, zone)["AutoScalingGroupName"]
    [old] = _zone_instances(asg, zone)
    asg.suspend_processes(AutoScalingGroupName=group, ScalingProcesses=["Launch"])
    try:
        ec2.stop_instances(InstanceIds=[old])
        wait_for(lambda: instance_states(ec2)[old], lambda s: s == "terminated", timeout=15,
                 what=f"ReplaceUnhealthy to terminate {old}")
        wait_for(lambda: nodes_by_instance(core), lambda n: old not in n, timeout=15, what=f"the node of {old} deleted")
        time.sleep(SETTLE)
        g = groups(asg)[group]
        assert g["Instances"] == [] and g["DesiredCapacity"] == 1, g
        assert not [n for n in core.list_node().items if n.metadata.labels[ZONE] == zone]
    finally:
        asg.resume_processes(AutoScalingGroupName=group, ScalingProcesses=["Launch"])
    # "When you resume the Launch process, Amazon EC2 Auto Scaling immediately replaces any instances that it
    # terminated during the time that Launch was suspended."
    wait_for(lambda: [n for n in core.list_node().items if n.metadata.labels[ZONE] == zone and ready(n)],
             lambda found: len(found) == 1, timeout=15, what=f"a replacement node in {zone} once Launch resumed")


def test_with_health_check_and_replace_unhealthy_suspended_a_stopped_instance_stays(asg, ec2, core) -> None:
    zone = "us-east-1c"
    group = group_in(asg, zone)["AutoScalingGroupName"]
    [iid] = _zone_instances(asg, zone)
    keep = ["HealthCheck", "ReplaceUnhealthy"]
    asg.suspend_processes(AutoScalingGroupName=group, ScalingProcesses=keep)
    try:
        ec2.stop_instances(InstanceIds=[iid])
        time.sleep(SETTLE)
        assert instance_states(ec2)[iid] == "stopped"
        [entry] = groups(asg)[group]["Instances"]
        assert (entry["InstanceId"], entry["HealthStatus"]) == (iid, "Healthy"), entry
        assert iid in nodes_by_instance(core)
    finally:
        ec2.start_instances(InstanceIds=[iid])
        asg.resume_processes(AutoScalingGroupName=group, ScalingProcesses=keep)
    wait_for(lambda: nodes_by_instance(core).get(iid), lambda n: n is not None and ready(n), timeout=15,
             what=f"the node of {iid} Ready again")


def test_raising_desired_capacity_joins_a_node_per_new_instance(asg, core) -> None:
    zone = "us-east-1a"
    g = group_in(asg, zone)
    name = g["AutoScalingGroupName"]
    asg.update_auto_scaling_group(AutoScalingGroupName=name, MaxSize=3)
    asg.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=g["DesiredCapacity"] + 2)
    wait_for(lambda: [n for n in core.list_node().items if n.metadata.labels[ZONE] == zone and ready(n)],
             lambda found: len(found) == g["DesiredCapacity"] + 2, timeout=15, what=f"two more Ready nodes in {zone}")
    ids = {i["InstanceId"] for i in groups(asg)[name]["Instances"]}
    assert ids <= set(nodes_by_instance(core)), ids


def test_desired_capacity_above_max_size_is_refused_as_aws_does(asg) -> None:
    g = group_in(asg, "us-east-1b")
    with pytest.raises(ClientError) as caught:
        asg.set_desired_capacity(AutoScalingGroupName=g["AutoScalingGroupName"], DesiredCapacity=g["MaxSize"] + 1)
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ValidationError", f"New SetDesiredCapacity value {g['MaxSize'] + 1} is above max value {g['MaxSize']} for "
        "the AutoScalingGroup.")
