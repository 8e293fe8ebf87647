"""AZ-CAPACITY's negative controls on embedded clusters of each provisioner (real HTTP, moto for EC2): the check fails
naming the NodePool or node group that could not help, with the provisioner's own events verbatim."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from pytest_azchaos.apps import StatefulSpec
from pytest_azchaos.apps.app import App
from pytest_azchaos.apps.deploy import deploy_stateful
from pytest_azchaos.aws import AwsContext
from pytest_azchaos.chaos.facade import Chaos
from pytest_azchaos.checks.capacity import capacity_added, filling_size
from pytest_azchaos.checks.result import CheckResult
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.topology import Topology
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.report.evidence import Evidence
from pytest_azchaos.report.progress import TerminalProgress
from pytest_azchaos.run import Run
from pytest_azchaos.settings import Settings
from pytest_azchaos.timing import Profile

from .. import clusters
from ..docs.capture import capture_failure
from ..embedded.waiting import wait_for

ZONE = "us-east-1c"
ZONE_KEY = "topology.kubernetes.io/zone"
SELECTOR = "app=filler"
PAUSE = "registry.k8s.io/pause:3.10"


@pytest.fixture
def karpenter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("cap-karp"), topology=Topology.make(zones=3, nodes_per_zone=1),
                              profile="fast", provisioner="karpenter") as h:
        yield h


def _chaos(cluster: Cluster, handle: ClusterHandle, tmp_path: Path) -> Chaos:
    settings = Settings(kubeconfig=Path(handle.kubeconfig), cluster="kubeconfig", report_dir=tmp_path)
    run = Run.start(1, TerminalProgress(lambda line: None), tmp_path)
    return Chaos(cluster, settings, run, Profile.by_name("fast"), "capacity-negative", Evidence("phases"))


def _filler(cluster: Cluster) -> tuple[str, int]:
    """A Deployment with one pod per node (no node holds two); returns its namespace and replicas."""
    replicas, cpu = filling_size(cluster.core.list_node().items)
    ns = f"cap-{uuid.uuid4().hex[:5]}"
    cluster.core.create_namespace({"metadata": {"name": ns}})
    client.AppsV1Api(cluster.api).create_namespaced_deployment(ns, {
        "metadata": {"name": "filler"}, "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "filler"}},
                                                 "template": {"metadata": {"labels": {"app": "filler"}}, "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10",
                            "resources": {"requests": {"cpu": cpu}}}]}}}})
    wait_for(lambda: cluster.core.list_namespaced_pod(ns).items,
             lambda ps: len(ps) == replicas and all(p.spec.node_name for p in ps), timeout=30,
             what=f"{replicas} filler pods bound")
    return ns, replicas


@dataclass
class DrainedCapacity:
    """What ``drain_filled_zone`` saw: the AZ-CAPACITY verdict, the undo's lines and ``observe``'s reading."""

    result: CheckResult
    undo: list[str]
    during: Any = None


def drain_filled_zone(cluster: Cluster, handle: ClusterHandle, tmp_path: Path, zone: str, provisioner: str, *,
                      keep_out: bool, budget: float = 8.0,
                      observe: Callable[[Chaos], Any] | None = None) -> DrainedCapacity:
    """Fill every node (one filler pod each), drain ``zone`` (the provisioner kept out of it or not), read
    ``observe(chaos)`` while it is drained and judge AZ-CAPACITY over ``budget`` seconds; undone before returning."""
    ns, replicas = _filler(cluster)
    nodes_before = [n.metadata.name for n in cluster.core.list_node().items]
    chaos = _chaos(cluster, handle, tmp_path)
    during = None
    try:
        since = time.time()
        chaos.drain_zone(zone, keep_provisioner_out=keep_out)
        during = observe(chaos) if observe is not None else None
        result = capacity_added(cluster.core, ns, SELECTOR, zone, replicas, budget, provisioner=provisioner,
                                nodes_before=nodes_before, since=since)
    finally:
        lines = chaos.undo_all()
    return DrainedCapacity(result, lines, during)


def test_az_capacity_fails_naming_the_nodepool_whose_limits_leave_no_room(karpenter: ClusterHandle,
                                                                          tmp_path: Path) -> None:
    """Negative control: NodePool ``default`` limited to 1 cpu (less than one m5.large) cannot launch the drained
    zone's replacements; the failure names it with Karpenter's FailedScheduling event."""
    cluster = Cluster(karpenter.kubeconfig)
    try:
        client.CustomObjectsApi(cluster.api).patch_cluster_custom_object(
            "karpenter.sh", "v1", "nodepools", "default", {"spec": {"limits": {"cpu": "1"}}})
        result = drain_filled_zone(cluster, karpenter, tmp_path, ZONE, "karpenter", keep_out=True).result
    finally:
        cluster.close()
    assert not result.passed and not result.inconclusive, result.message()
    text = result.message()
    assert "AZ-CAPACITY FAILED: pod filler-" in text and "still Pending" in text, text
    assert "NodePool default could not help pod filler-" in text, text
    assert 'Warning FailedScheduling pod/filler-' in text, text
    assert 'all available instance types exceed limits for nodepool "default"' in text, text
    assert "no new node joined the cluster" in text, text
    capture_failure("AZ-CAPACITY", result)


def test_az_capacity_fails_naming_the_refill_when_karpenter_is_not_kept_out_of_the_drained_zone(
        karpenter: ClusterHandle, tmp_path: Path) -> None:
    """Negative control: the same drain without the NodePool fence; Karpenter may launch into the drained zone (a
    cordoned zone is invisible to it). Pinned there by the NodePool allowing only that zone, the replacements'
    node lands in the zone taken away and the check names it."""
    cluster = Cluster(karpenter.kubeconfig)
    try:
        pool = client.CustomObjectsApi(cluster.api).get_cluster_custom_object("karpenter.sh", "v1", "nodepools",
                                                                               "default")
        reqs = [r for r in pool["spec"]["template"]["spec"]["requirements"] if r["key"] != ZONE_KEY]
        reqs.append({"key": ZONE_KEY, "operator": "In", "values": [ZONE]})
        client.CustomObjectsApi(cluster.api).patch_cluster_custom_object(
            "karpenter.sh", "v1", "nodepools", "default", {"spec": {"template": {"spec": {"requirements": reqs}}}})
        result = drain_filled_zone(cluster, karpenter, tmp_path, ZONE, "karpenter", keep_out=False).result
    finally:
        cluster.close()
    assert not result.passed and not result.inconclusive, result.message()
    text = result.message()
    assert f"in {ZONE}, the zone taken away: the provisioner refilled {ZONE}" in text, text
    assert "NodePool default launched ip-" in text and f"into {ZONE}, the zone taken away" in text, text
    capture_failure("AZ-CAPACITY", result, name="refill")


# ---------------------------------------------------------------------------------------- Cluster Autoscaler


def _node_groups(tmp_path_factory: pytest.TempPathFactory, layout: str) -> Iterator[ClusterHandle]:
    topology = Topology.make(zones=3, nodes_per_zone=1, extra={"node_groups": layout})
    with clusters.own_cluster(tmp_path_factory.mktemp(f"cap-{layout}"), topology=topology, profile="fast") as h:
        yield h


@pytest.fixture
def per_zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    yield from _node_groups(tmp_path_factory, "per-zone")


@pytest.fixture
def regional(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    yield from _node_groups(tmp_path_factory, "regional")


def _asg(handle: ClusterHandle) -> Any:
    return AwsContext.for_kubeconfig(handle.kubeconfig).autoscaling


def _groups(handle: ClusterHandle) -> list[dict[str, Any]]:
    return list(_asg(handle).describe_auto_scaling_groups()["AutoScalingGroups"])


def _stateful(cluster: Cluster, tmp_path: Path) -> App:
    ns = f"cap-{uuid.uuid4().hex[:5]}"
    cluster.core.create_namespace({"metadata": {"name": ns}})
    return deploy_stateful(cluster, ns, StatefulSpec(), Profile.by_name("fast"))


def _stateful_capacity(cluster: Cluster, handle: ClusterHandle, tmp_path: Path, zone: str, *,
                       keep_zone_nodes: bool = False) -> tuple[Any, str]:
    """Deploy the stateful app, drain ``zone`` (its pod there needs that zone back) and judge AZ-CAPACITY.
    ``keep_zone_nodes``: first a bare pod (no controller: the drain leaves it, and the autoscaler does not remove a
    node running one) on each node of ``zone``, so the drained nodes stay and EC2's balancing never puts a new
    instance back into the zone by chance."""
    app = _stateful(cluster, tmp_path)
    [stranded] = [p.metadata.name for p in app.pods()
                  if (cluster.core.read_node(p.spec.node_name).metadata.labels or {}).get(ZONE_KEY) == zone]
    zone_nodes = [n.metadata.name for n in cluster.core.list_node().items
                  if (n.metadata.labels or {}).get(ZONE_KEY) == zone]
    for i, node in enumerate(zone_nodes if keep_zone_nodes else []):
        cluster.core.create_namespaced_pod(app.namespace, {"metadata": {"name": f"keep-{i}"}, "spec": {
            "nodeName": node, "terminationGracePeriodSeconds": 0, "containers": [{"name": "c", "image": PAUSE}]}})
    nodes_before = [n.metadata.name for n in cluster.core.list_node().items]
    chaos = _chaos(cluster, handle, tmp_path)
    try:
        since = time.time()
        chaos.drain_zone(zone)
        result = capacity_added(cluster.core, app.namespace, app.label_selector, zone, 3, 15.0,
                                provisioner="node-groups", nodes_before=nodes_before, since=since)
    finally:
        chaos.undo_all()
    return result, stranded


def test_az_capacity_passes_when_the_autoscaler_grows_the_volume_zones_group(per_zone: ClusterHandle,
                                                                           tmp_path: Path) -> None:
    """The control: per-zone groups with room to grow; the Cluster Autoscaler scales the drained zone's group and the
    EBS-bound pod runs on its new node, in its volume's zone."""
    for g in _groups(per_zone):
        _asg(per_zone).update_auto_scaling_group(AutoScalingGroupName=g["AutoScalingGroupName"], MaxSize=3)
    cluster = Cluster(per_zone.kubeconfig)
    try:
        result, _ = _stateful_capacity(cluster, per_zone, tmp_path, ZONE)
    finally:
        cluster.close()
    assert result.passed, result.message()
    assert "new node ip-" in result.message() and f"in {ZONE} (Ready) from node group ng-{ZONE}" in \
        result.message(), result.message()


def test_az_capacity_fails_naming_the_regional_group_whose_new_node_lands_outside_the_volume_zone(
        regional: ClusterHandle, tmp_path: Path) -> None:
    """Negative control (issue 13): one regional node group instead of one per zone. Its template is in its first
    zone (us-east-1a), so the autoscaler scales it up for a pod whose volume is there; EC2 puts the new instance in
    the zone with the fewest (us-east-1a already has two), which does not help; the failure names the group and the
    pod's volume zone."""
    [group] = _groups(regional)
    name = group["AutoScalingGroupName"]
    lost = group["AvailabilityZones"][0]
    # A fourth instance (the tie goes to the first zone), kept by MinSize 4 from the autoscaler's idle scale-down.
    _asg(regional).update_auto_scaling_group(AutoScalingGroupName=name, MinSize=4, MaxSize=6, DesiredCapacity=4)
    cluster = Cluster(regional.kubeconfig)
    try:
        wait_for(lambda: [n for n in cluster.core.list_node().items if n.metadata.labels.get(ZONE_KEY) == lost],
                 lambda found: len(found) == 2 and all(c.type != "Ready" or c.status == "True"
                                                       for n in found for c in n.status.conditions or []),
                 timeout=30, what=f"a second node in {lost}")
        result, stranded = _stateful_capacity(cluster, regional, tmp_path, lost, keep_zone_nodes=True)
    finally:
        cluster.close()
    assert not result.passed and not result.inconclusive, result.message()
    text = result.message()
    assert f"AZ-CAPACITY FAILED: pod {stranded} still Pending (its volume is in {lost})" in text, text
    assert f"; node group {name} could not help pod {stranded}: it scaled 4->5" in result.summary, result.summary
    assert ("(max 6) but its new node(s)" in text and f"pod {stranded}'s volume is in {lost} (one group across zones"
            in text), text
    assert f"Normal TriggeredScaleUp pod/{stranded} [cluster-autoscaler]: pod triggered scale-up: [{{{name} 4->5" \
        in text, text
    capture_failure("AZ-CAPACITY", result, name="regional")
