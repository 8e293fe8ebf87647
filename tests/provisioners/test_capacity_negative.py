"""AZ-CAPACITY's negative controls on embedded clusters of each provisioner (real HTTP, moto for EC2): the check fails
naming the NodePool or node group that could not help, with the provisioner's own events verbatim."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from pytest_azchaos.chaos.facade import Chaos
from pytest_azchaos.checks.capacity import capacity_added, filling_size
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


def test_az_capacity_fails_naming_the_nodepool_whose_limits_leave_no_room(karpenter: ClusterHandle,
                                                                          tmp_path: Path) -> None:
    """Negative control: NodePool ``default`` limited to 1 cpu (less than one m5.large) cannot launch the drained
    zone's replacements; the failure names it with Karpenter's FailedScheduling event."""
    cluster = Cluster(karpenter.kubeconfig)
    try:
        client.CustomObjectsApi(cluster.api).patch_cluster_custom_object(
            "karpenter.sh", "v1", "nodepools", "default", {"spec": {"limits": {"cpu": "1"}}})
        ns, replicas = _filler(cluster)
        nodes_before = [n.metadata.name for n in cluster.core.list_node().items]
        chaos = _chaos(cluster, karpenter, tmp_path)
        try:
            since = time.time()
            chaos.drain_zone(ZONE, keep_provisioner_out=True)
            result = capacity_added(cluster.core, ns, SELECTOR, ZONE, replicas, 8.0, provisioner="karpenter",
                                    nodes_before=nodes_before, since=since)
        finally:
            chaos.undo_all()
    finally:
        cluster.close()
    assert not result.passed and not result.inconclusive, result.message()
    text = result.message()
    assert "AZ-CAPACITY FAILED: pod filler-" in text and "still Pending" in text, text
    assert "NodePool default could not help pod filler-" in text, text
    assert 'Warning FailedScheduling pod/filler-' in text and 'incompatible with nodepool "default"' in text, text
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
        ns, replicas = _filler(cluster)
        nodes_before = [n.metadata.name for n in cluster.core.list_node().items]
        chaos = _chaos(cluster, karpenter, tmp_path)
        try:
            since = time.time()
            chaos.drain_zone(ZONE)
            result = capacity_added(cluster.core, ns, SELECTOR, ZONE, replicas, 8.0, provisioner="karpenter",
                                    nodes_before=nodes_before, since=since)
        finally:
            chaos.undo_all()
    finally:
        cluster.close()
    assert not result.passed and not result.inconclusive, result.message()
    text = result.message()
    assert f"in {ZONE}, the zone taken away: the provisioner refilled {ZONE}" in text, text
    assert "NodePool default launched ip-" in text and f"into {ZONE}, the zone taken away" in text, text
    capture_failure("AZ-CAPACITY", result, name="refill")
