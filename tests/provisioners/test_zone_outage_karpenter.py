"""zone_outage picks its strategy from the node provisioner: on Karpenter the NodePools are fenced out of the zone
(NotIn + budget "0", ledger first) and restored exactly (also by `azchaos restore` after kill -9); without the fence
Karpenter launches a replacement straight into the lost zone (named); on Auto Mode it is refused before anything.
Embedded clusters over real HTTP, moto for EC2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from pytest_azchaos.aws import AwsContext, zone_outage
from pytest_azchaos.chaos.facade import Chaos, ChaosRefused
from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.topology import Topology
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.provisioners.detect import detect
from pytest_azchaos.provisioners.karpenter_fence import launched_in_zone
from pytest_azchaos.report.evidence import Evidence
from pytest_azchaos.report.progress import TerminalProgress
from pytest_azchaos.run import Run
from pytest_azchaos.settings import Settings
from pytest_azchaos.timing import Profile

from .. import clusters
from ..embedded.waiting import wait_for

ZONE = "us-east-1c"
GROUP, VERSION = "karpenter.sh", "v1"


@pytest.fixture
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    """A fresh Karpenter cluster per test (each test loses a zone)."""
    with clusters.own_cluster(tmp_path_factory.mktemp("karp-outage"), topology=Topology.make(zones=3, nodes_per_zone=1),
                              profile="fast", provisioner="karpenter") as h:
        yield h


@pytest.fixture
def cluster(handle: ClusterHandle) -> Iterator[Cluster]:
    c = Cluster(handle.kubeconfig)
    yield c
    c.close()


def _pool(cluster: Cluster) -> dict:
    return client.CustomObjectsApi(cluster.api).get_cluster_custom_object(GROUP, VERSION, "nodepools", "default")


def _deploy_in_zone(cluster: Cluster) -> str:
    """A one-replica Deployment only a Karpenter node in ZONE can take; returns the node it runs on."""
    ns = f"karp-{uuid.uuid4().hex[:5]}"
    cluster.core.create_namespace({"metadata": {"name": ns}})
    client.AppsV1Api(cluster.api).create_namespaced_deployment(ns, {
        "metadata": {"name": "pinned"}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "pinned"}},
                                                 "template": {"metadata": {"labels": {"app": "pinned"}}, "spec": {
            "nodeSelector": {"karpenter.sh/capacity-type": "on-demand", "topology.kubernetes.io/zone": ZONE},
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}}}})
    pods = wait_for(lambda: cluster.core.list_namespaced_pod(ns).items,
                    lambda ps: bool(ps) and bool(ps[0].spec.node_name), timeout=30, what="the pinned pod bound")
    return str(pods[0].spec.node_name)


def _chaos(cluster: Cluster, handle: ClusterHandle, tmp_path: Path) -> Chaos:
    settings = Settings(kubeconfig=Path(handle.kubeconfig), cluster="kubeconfig", report_dir=tmp_path)
    profile = Profile.by_name("fast")
    run = Run.start(1, TerminalProgress(lambda line: None), tmp_path)
    return Chaos(cluster, settings, run, profile, "karpenter-outage", Evidence("phases"))


def test_detect_names_karpenter_beside_the_static_node_group(cluster: Cluster) -> None:
    found = detect(cluster.api)
    assert found.kind == "karpenter" and found.nodepools == ("default",), found
    assert "ng-us-east-1a" in found.node_groups, found


def test_zone_outage_on_karpenter_fences_the_nodepool_and_restores_it_exactly(
        cluster: Cluster, handle: ClusterHandle, tmp_path: Path) -> None:
    node = _deploy_in_zone(cluster)
    before = json.dumps(_pool(cluster)["spec"], sort_keys=False)
    existing = [n.metadata.name for n in cluster.core.list_node().items]
    chaos = _chaos(cluster, handle, tmp_path)
    try:
        chaos.zone_outage(ZONE, AwsContext.for_kubeconfig(handle.kubeconfig))
        during = _pool(cluster)["spec"]
        assert {"key": "topology.kubernetes.io/zone", "operator": "NotIn", "values": [ZONE]} in \
            during["template"]["spec"]["requirements"], during
        assert during["disruption"]["budgets"] == [{"nodes": "0"}], during
        assert chaos.ledger is not None
        kinds = [e.kind for e in chaos.ledger.entries]
        assert kinds.index("karpenter.nodepool-fence") < kinds.index("aws.zone-outage"), kinds
        wait_for(lambda: [n.metadata.name for n in cluster.core.list_node().items], lambda ns: node not in ns,
                 timeout=30, what=f"Karpenter's node {node} replaced (its stopped instance terminated)")
        assert not launched_in_zone(cluster.core.list_node().items, ZONE, existing), \
            "Karpenter launched into the fenced zone"
    finally:
        lines = chaos.undo_all()
    assert all(line.startswith("ok") for line in lines), lines
    assert json.dumps(_pool(cluster)["spec"], sort_keys=False) == before, lines


RUN_SCRIPT = """
import sys, time
from pathlib import Path
from pytest_azchaos.aws import AwsContext, zone_outage
from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.chaos.lock import ClusterLock
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.provisioners.detect import list_nodepools
from pytest_azchaos.provisioners.karpenter_fence import fence_nodepools

cluster = Cluster(Path(sys.argv[1]))
ledger = Ledger(cluster, path=Path(sys.argv[3]))
ClusterLock(cluster, ledger.run_id, duration=5).acquire()
fence_nodepools(cluster.api, ledger, sys.argv[2], list_nodepools(cluster.api))
zone_outage(AwsContext.for_kubeconfig(sys.argv[1]), ledger, sys.argv[2], nodes=cluster.core.list_node().items)
print("fenced and out", flush=True)
time.sleep(600)
"""


def test_restore_after_kill_9_mid_karpenter_outage_puts_the_nodepool_back_byte_for_byte(
        cluster: Cluster, handle: ClusterHandle, tmp_path: Path) -> None:
    before = json.dumps(_pool(cluster)["spec"])
    run = subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, str(handle.kubeconfig), ZONE,
                            str(tmp_path / "ledger.json")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = run.stdout.readline() if run.stdout else ""
        assert "fenced and out" in line, line + (run.stdout.read() if run.stdout else "")
        assert json.dumps(_pool(cluster)["spec"]) != before
    finally:
        clusters.kill_9(run)
    result = clusters.restore_after_kill(handle.kubeconfig, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "karpenter.nodepool-fence" in result.stdout, result.stdout
    assert json.dumps(_pool(cluster)["spec"]) == before, result.stdout


def test_without_the_fence_karpenter_relaunches_into_the_lost_zone_and_it_is_named(
        cluster: Cluster, handle: ClusterHandle, tmp_path: Path) -> None:
    """Negative control: the same outage without zone exclusion (node groups' strategy) on Karpenter."""
    node = _deploy_in_zone(cluster)
    existing = [n.metadata.name for n in cluster.core.list_node().items]
    ledger = Ledger(cluster, path=tmp_path / "ledger.json")
    outage = zone_outage(AwsContext.for_kubeconfig(handle.kubeconfig), ledger, ZONE,
                         nodes=cluster.core.list_node().items)
    try:
        named = wait_for(lambda: launched_in_zone(cluster.core.list_node().items, ZONE, existing), bool, timeout=30,
                         what="Karpenter's replacement in the lost zone")
        assert node not in " ".join(named) and "NodePool default" in named[0], named
    finally:
        outage.undo()


@pytest.fixture
def auto_handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("auto-outage"), topology=Topology.make(zones=3, nodes_per_zone=1),
                              profile="fast", provisioner="auto-mode") as h:
        yield h


def test_zone_outage_on_auto_mode_is_refused_before_anything_changed(auto_handle: ClusterHandle,
                                                                    tmp_path: Path) -> None:
    cluster = Cluster(auto_handle.kubeconfig)
    try:
        chaos = _chaos(cluster, auto_handle, tmp_path)
        aws = AwsContext.for_kubeconfig(auto_handle.kubeconfig)
        with pytest.raises(ChaosRefused) as err:
            chaos.zone_outage(ZONE, aws)
        assert "Auto Mode" in str(err.value) and "zonal_shift" in str(err.value), err.value
        assert chaos.ledger is None and chaos.lock is None, "refused after the lock or ledger"
        states = {i["State"]["Name"] for r in aws.ec2.describe_instances()["Reservations"] for i in r["Instances"]}
        assert states == {"running"}, states
        assert all(not n.spec.unschedulable for n in cluster.core.list_node().items)
    finally:
        cluster.close()


def test_az_resched_fails_naming_the_nodepool_requirement_when_the_nodepool_allows_only_the_lost_zone(
        cluster: Cluster, handle: ClusterHandle, tmp_path: Path) -> None:
    """Negative control: NodePool ``default`` allowed only ZONE; after the outage (fenced) no replacement can be
    launched anywhere, and AZ-RESCHED's failure carries Karpenter's event naming the NodePool's zone requirement."""
    from pytest_azchaos.checks.rescheduled import rescheduled

    custom = client.CustomObjectsApi(cluster.api)
    reqs = [r for r in _pool(cluster)["spec"]["template"]["spec"]["requirements"]
            if r["key"] != "topology.kubernetes.io/zone"]
    reqs.append({"key": "topology.kubernetes.io/zone", "operator": "In", "values": [ZONE]})
    custom.patch_cluster_custom_object(GROUP, VERSION, "nodepools", "default",
                                       {"spec": {"template": {"spec": {"requirements": reqs}}}})
    ns = f"karp-{uuid.uuid4().hex[:5]}"
    cluster.core.create_namespace({"metadata": {"name": ns}})
    client.AppsV1Api(cluster.api).create_namespaced_deployment(ns, {
        "metadata": {"name": "web"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                                              "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
            "nodeSelector": {"karpenter.sh/capacity-type": "on-demand"}, "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}}}})
    wait_for(lambda: cluster.core.list_namespaced_pod(ns).items,
             lambda ps: len(ps) == 2 and all(p.spec.node_name for p in ps), timeout=30, what="both pods bound in "
             + ZONE)
    chaos = _chaos(cluster, handle, tmp_path)
    try:
        chaos.zone_outage(ZONE, AwsContext.for_kubeconfig(handle.kubeconfig))
        result = rescheduled(cluster.core, ns, "app=web", ZONE, 2, timeout=8)
    finally:
        chaos.undo_all()
    assert not result.passed, result
    evidence = "\n".join(result.evidence)
    assert 'incompatible with nodepool "default"' in evidence, evidence
    assert f"topology.kubernetes.io/zone In [{ZONE}]" in evidence or "topology.kubernetes.io/zone DoesNotExist" \
        in evidence, evidence
