"""The Cluster Autoscaler of the embedded cluster (``embedded/autoscaler``): scale-up of the group whose template
node fits a Pending pod (its EBS volume's zone included), upstream's events verbatim, the regional layout's
misplaced node, nothing while its pod is not Running, scale-down of an idle node. One cluster per test (they
start in well under a second) so no test sees another's group sizes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.topology import Topology

from ... import clusters
from ..waiting import wait_for
from .aws import ZONE, aws_client, group_in, groups, nodes_by_instance, ready

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"
CA_LABEL = "app.kubernetes.io/name=aws-cluster-autoscaler"


class Env:
    """One cluster with its clients and a namespace."""

    def __init__(self, handle: ClusterHandle, core: client.CoreV1Api, ns: str):
        self.handle, self.core, self.ns = handle, core, ns
        self.asg = aws_client(handle, "autoscaling")
        self.ec2 = aws_client(handle, "ec2")
        self.apps = client.AppsV1Api(core.api_client)

    def pod(self, name: str, cpu: str, zone: str | None = None, claim: str | None = None) -> None:
        volumes = mounts = None
        if claim is not None:
            volumes = [client.V1Volume(name="data", persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(
                claim_name=claim))]
            mounts = [client.V1VolumeMount(name="data", mount_path="/data")]
        container = client.V1Container(name="c", image=AGNHOST, args=["pause"], volume_mounts=mounts,
                                       resources=client.V1ResourceRequirements(requests={"cpu": cpu}))
        self.core.create_namespaced_pod(self.ns, client.V1Pod(
            metadata=client.V1ObjectMeta(name=name),
            spec=client.V1PodSpec(containers=[container], volumes=volumes, termination_grace_period_seconds=0,
                                  node_selector={ZONE: zone} if zone else None)))

    def ebs_claim(self, name: str, zone: str) -> None:
        """An EBS volume in ``zone`` bound to a PVC through a static PV (node affinity: the volume's zone)."""
        vol = self.ec2.create_volume(AvailabilityZone=zone, Size=1, VolumeType="gp3")["VolumeId"]
        affinity = client.V1VolumeNodeAffinity(required=client.V1NodeSelector(node_selector_terms=[
            client.V1NodeSelectorTerm(match_expressions=[client.V1NodeSelectorRequirement(
                key=ZONE, operator="In", values=[zone])])]))
        self.core.create_persistent_volume(client.V1PersistentVolume(
            metadata=client.V1ObjectMeta(name=f"{self.ns}-{name}"),
            spec=client.V1PersistentVolumeSpec(
                capacity={"storage": "1Gi"}, access_modes=["ReadWriteOnce"], storage_class_name="",
                persistent_volume_reclaim_policy="Retain", node_affinity=affinity,
                csi=client.V1CSIPersistentVolumeSource(driver="ebs.csi.aws.com", volume_handle=vol, fs_type="ext4"))))
        self.core.create_namespaced_persistent_volume_claim(self.ns, client.V1PersistentVolumeClaim(
            metadata=client.V1ObjectMeta(name=name),
            spec=client.V1PersistentVolumeClaimSpec(
                access_modes=["ReadWriteOnce"], storage_class_name="", volume_name=f"{self.ns}-{name}",
                resources=client.V1VolumeResourceRequirements(requests={"storage": "1Gi"}))))

    def events(self, pod: str, reason: str) -> list[str]:
        return [e.message for e in self.core.list_namespaced_event(
            self.ns, field_selector=f"involvedObject.name={pod}").items if e.reason == reason]

    def phase(self, pod: str) -> tuple[str | None, str | None]:
        p = self.core.read_namespaced_pod(pod, self.ns)
        return p.status.phase, p.spec.node_name

    def allow(self, zone_or_group: str, max_size: int, min_size: int | None = None) -> dict[str, Any]:
        g = groups(self.asg).get(zone_or_group) or group_in(self.asg, zone_or_group)
        kw = {} if min_size is None else {"MinSize": min_size}
        self.asg.update_auto_scaling_group(AutoScalingGroupName=g["AutoScalingGroupName"], MaxSize=max_size, **kw)
        return groups(self.asg)[g["AutoScalingGroupName"]]


@pytest.fixture
def env(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Env]:
    layout = getattr(request, "param", "per-zone")
    # room for the autoscaler: MaxSize = start + 2 per zone (`--node-group-room 2`; the embedded default has none)
    topology = Topology.make(zones=3, nodes_per_zone=1, max_nodes_per_zone=3, extra={"node_groups": layout})
    with clusters.own_cluster(tmp_path, topology=topology) as handle, clusters.api_client(handle) as api:
        core = client.CoreV1Api(api)
        wait_for(lambda: core.list_namespaced_pod("kube-system", label_selector=CA_LABEL).items,
                 lambda pods: any(p.status.phase == "Running" for p in pods), timeout=20,
                 what="the cluster-autoscaler pod Running")
        with clusters.fresh_namespace(core, "ca") as ns:
            yield Env(handle, core, ns)


def _fill(env: Env, zone: str, node_count: int = 1) -> None:
    """Leave every node of ``zone`` under 1 CPU free (m5.large: 1930m allocatable)."""
    for i in range(node_count):
        env.pod(f"filler-{i}", "1500m", zone=zone)
    wait_for(lambda: [env.phase(f"filler-{i}")[0] for i in range(node_count)],
             lambda phases: all(p == "Running" for p in phases), timeout=20, what=f"the fillers Running in {zone}")


def test_scales_up_the_zone_group_that_fits_an_ebs_bound_pending_pod(env: Env) -> None:
    group = env.allow("us-east-1a", max_size=3)
    name = group["AutoScalingGroupName"]
    _fill(env, "us-east-1a")
    env.ebs_claim("data", "us-east-1a")
    env.pod("stateful", "1000m", claim="data")
    [message] = wait_for(lambda: env.events("stateful", "TriggeredScaleUp"), lambda m: len(m) == 1, timeout=20,
                         what="a TriggeredScaleUp event")
    assert message == f"pod triggered scale-up: [{{{name} 1->2 (max: 3)}}]"
    _phase, node = wait_for(lambda: env.phase("stateful"), lambda s: s[0] == "Running", timeout=30,
                           what="the pod Running on the new node")
    assert env.core.read_node(node).metadata.labels[ZONE] == "us-east-1a"
    assert groups(env.asg)[name]["DesiredCapacity"] == 2


def test_a_group_at_max_size_and_other_zones_do_not_trigger_scale_up_and_say_why(env: Env) -> None:
    _fill(env, "us-east-1a")
    env.allow("us-east-1a", max_size=1)  # the other zones keep their default room (max 3)
    env.ebs_claim("data", "us-east-1a")
    env.pod("stateful", "1000m", claim="data")
    [message] = wait_for(lambda: env.events("stateful", "NotTriggerScaleUp"), lambda m: len(m) == 1, timeout=20,
                         what="a NotTriggerScaleUp event")
    assert message == ("pod didn't trigger scale-up: 1 max node group size reached, "
                       "2 node(s) didn't match PersistentVolume's node affinity")
    assert all(g["DesiredCapacity"] == 1 for g in groups(env.asg).values())


def test_on_a_fresh_cluster_a_pending_pod_is_scaled_up_before_any_aws_call(env: Env) -> None:
    """The AWS account starts lazily; nothing here calls AWS before the scale-up (no ``allow``): the autoscaler
    must start it itself. The groups' room (MaxSize = desired + 2) is what it scales into."""
    _fill(env, "us-east-1a")
    env.pod("pending", "1000m", zone="us-east-1a")
    [message] = wait_for(lambda: env.events("pending", "TriggeredScaleUp"), lambda m: len(m) == 1, timeout=30,
                         what="a TriggeredScaleUp event with no AWS call made by anyone but the autoscaler")
    name = group_in(env.asg, "us-east-1a")["AutoScalingGroupName"]  # the test's first AWS call
    assert message == f"pod triggered scale-up: [{{{name} 1->2 (max: 3)}}]"
    _phase, node = wait_for(lambda: env.phase("pending"), lambda s: s[0] == "Running", timeout=30,
                            what="the pod Running on the new node")
    assert env.core.read_node(node).metadata.labels[ZONE] == "us-east-1a"


def test_groups_with_room_start_at_min_size_with_two_nodes_of_room_per_zone(env: Env) -> None:
    sizes = {g["AvailabilityZones"][0]: (g["MinSize"], g["DesiredCapacity"], g["MaxSize"])
             for g in groups(env.asg).values()}
    assert sizes == dict.fromkeys(("us-east-1a", "us-east-1b", "us-east-1c"), (1, 1, 3))


@pytest.mark.parametrize("env", ["regional"], indirect=True)
def test_the_regional_group_has_the_per_zone_groups_room_summed(env: Env) -> None:
    [group] = groups(env.asg).values()
    assert (group["MinSize"], group["DesiredCapacity"], group["MaxSize"]) == (3, 3, 9)


@pytest.mark.parametrize("env", ["regional"], indirect=True)
def test_regional_group_scale_up_can_land_in_a_zone_that_does_not_help(env: Env) -> None:
    [group] = groups(env.asg).values()
    name = group["AutoScalingGroupName"]
    assert group["AvailabilityZones"][0] == "us-east-1a"  # the template's zone (getAsgTemplate: AvailabilityZones[0])
    env.allow(name, max_size=6)
    # A fourth instance: EC2 balances, the tie goes to us-east-1a, which now has two instances to the others' one.
    env.asg.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=4)
    wait_for(lambda: [n for n in env.core.list_node().items if n.metadata.labels[ZONE] == "us-east-1a" and ready(n)],
             lambda found: len(found) == 2, timeout=15, what="a second Ready node in us-east-1a")
    _fill(env, "us-east-1a", node_count=2)
    before = set(nodes_by_instance(env.core))
    env.ebs_claim("data", "us-east-1a")
    env.pod("stateful", "1000m", claim="data")
    messages = wait_for(lambda: env.events("stateful", "TriggeredScaleUp"), lambda m: len(m) >= 1, timeout=20,
                        what="a TriggeredScaleUp event")
    assert messages[0] == f"pod triggered scale-up: [{{{name} 4->5 (max: 6)}}]"
    new = wait_for(lambda: {i: n for i, n in nodes_by_instance(env.core).items() if i not in before},
                   lambda found: len(found) >= 1, timeout=15, what="the new node")
    first = sorted(new.values(), key=lambda n: n.metadata.creation_timestamp)[0]
    assert first.metadata.labels[ZONE] == "us-east-1b", "EC2 places it in the zone with the fewest instances"
    assert env.phase("stateful") == ("Pending", None)


def test_does_nothing_while_its_pod_is_not_running(env: Env) -> None:
    group = env.allow("us-east-1a", max_size=3)
    env.apps.patch_namespaced_deployment_scale("cluster-autoscaler", "kube-system", {"spec": {"replicas": 0}})
    wait_for(lambda: env.core.list_namespaced_pod("kube-system", label_selector=CA_LABEL).items,
             lambda pods: not pods, timeout=20, what="the cluster-autoscaler pod gone")
    _fill(env, "us-east-1a")
    env.ebs_claim("data", "us-east-1a")
    env.pod("stateful", "1000m", claim="data")
    time.sleep(3.0)  # six scan intervals of the fast profile
    assert env.events("stateful", "TriggeredScaleUp") == []
    assert groups(env.asg)[group["AutoScalingGroupName"]]["DesiredCapacity"] == 1
    env.apps.patch_namespaced_deployment_scale("cluster-autoscaler", "kube-system", {"spec": {"replicas": 1}})
    wait_for(lambda: env.events("stateful", "TriggeredScaleUp"), lambda m: len(m) == 1, timeout=30,
             what="the scale-up once its pod runs again (the control)")


def test_scales_down_an_idle_node_after_the_unneeded_time(env: Env) -> None:
    group = env.allow("us-east-1c", max_size=3, min_size=1)
    name = group["AutoScalingGroupName"]
    before = set(nodes_by_instance(env.core))
    env.asg.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=2)
    new = wait_for(lambda: [n for i, n in nodes_by_instance(env.core).items() if i not in before and ready(n)],
                   lambda found: len(found) == 1, timeout=15, what="the new idle node Ready")[0]
    node = new.metadata.name
    wait_for(lambda: [n.metadata.name for n in env.core.list_node().items], lambda names: node not in names,
             timeout=20, what=f"the idle node {node} removed")
    events = [e.message for e in env.core.list_namespaced_event("default", field_selector=f"involvedObject.name={node}")
              .items if e.reason == "ScaleDown"]
    assert events == ["marked the node as toBeDeleted/unschedulable"]
    assert groups(env.asg)[name]["DesiredCapacity"] == 1


def test_with_launch_suspended_the_desired_capacity_rises_once_and_nothing_launches(env: Env) -> None:
    group = env.allow("us-east-1a", max_size=3)
    name = group["AutoScalingGroupName"]
    env.asg.suspend_processes(AutoScalingGroupName=name, ScalingProcesses=["Launch"])
    _fill(env, "us-east-1a")
    env.ebs_claim("data", "us-east-1a")
    env.pod("stateful", "1000m", claim="data")
    [message] = wait_for(lambda: env.events("stateful", "TriggeredScaleUp"), lambda m: len(m) == 1, timeout=20,
                         what="a TriggeredScaleUp event")
    assert message == f"pod triggered scale-up: [{{{name} 1->2 (max: 3)}}]"
    time.sleep(3.0)  # six scan intervals: the node it asked for is still "upcoming", so it asks no more
    g = groups(env.asg)[name]
    assert (g["DesiredCapacity"], len(g["Instances"])) == (2, 1), g
    assert env.phase("stateful") == ("Pending", None)


def test_balance_similar_node_groups_spreads_a_scale_up_over_the_zones(env: Env) -> None:
    names = [env.allow(zone, max_size=3)["AutoScalingGroupName"] for zone in ("us-east-1a", "us-east-1b", "us-east-1c")]
    for i, zone in enumerate(("us-east-1a", "us-east-1b", "us-east-1c")):
        env.pod(f"filler-{i}", "1500m", zone=zone)
    wait_for(lambda: [env.phase(f"filler-{i}")[0] for i in range(3)], lambda p: all(x == "Running" for x in p),
             timeout=20, what="a filler Running in each zone")
    for i in range(3):
        env.pod(f"big-{i}", "1500m")
    [message] = wait_for(lambda: env.events("big-0", "TriggeredScaleUp"), lambda m: len(m) == 1, timeout=20,
                         what="a TriggeredScaleUp event")
    plan = " ".join(f"{{{n} 1->2 (max: 3)}}" for n in sorted(names))
    assert message == f"pod triggered scale-up: [{plan}]"
    wait_for(lambda: [env.phase(f"big-{i}")[0] for i in range(3)], lambda p: all(x == "Running" for x in p),
             timeout=30, what="the three pods Running on the new nodes")


def _scaled_up_node(env: Env, zone: str) -> str:
    """A node the autoscaler added in ``zone`` for a pod ``holder`` (fillers first), still holding it."""
    _fill(env, zone)
    env.pod("holder", "1000m", zone=zone)
    _phase, node = wait_for(lambda: env.phase("holder"), lambda s: s[0] == "Running", timeout=30,
                            what="the holder Running on a node the autoscaler added")
    return str(node)


def _scale_down_events(env: Env, node: str) -> list[str]:
    return [e.message for e in env.core.list_namespaced_event("default", field_selector=f"involvedObject.name={node}")
            .items if e.reason == "ScaleDown"]


def test_scale_down_skips_a_node_annotated_scale_down_disabled(env: Env) -> None:
    node = _scaled_up_node(env, "us-east-1c")
    # Annotated while the holder still keeps it busy: no race with the unneeded time.
    env.core.patch_node(node, {"metadata": {"annotations": {
        "cluster-autoscaler.kubernetes.io/scale-down-disabled": "true"}}})
    env.core.delete_namespaced_pod("holder", env.ns, grace_period_seconds=0)
    wait_for(lambda: [p.metadata.name for p in env.core.list_namespaced_pod(env.ns).items],
             lambda names: "holder" not in names, timeout=20, what="the holder gone")
    time.sleep(8.0)  # unneeded time (3 s) + delay after add (3 s) + four scans of the fast profile
    assert node in [n.metadata.name for n in env.core.list_node().items], "the annotated idle node was removed"
    assert _scale_down_events(env, node) == []
    assert group_in(env.asg, "us-east-1c")["DesiredCapacity"] == 2
    # The control: any value but "true" does not count (upstream compares to "true"), so the node goes.
    env.core.patch_node(node, {"metadata": {"annotations": {
        "cluster-autoscaler.kubernetes.io/scale-down-disabled": "false"}}})
    wait_for(lambda: [n.metadata.name for n in env.core.list_node().items], lambda names: node not in names,
             timeout=30, what=f"the idle node {node} removed once the annotation says false")
    assert _scale_down_events(env, node) == ["marked the node as toBeDeleted/unschedulable"]
