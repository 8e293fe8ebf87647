"""Crash safety, proven (issue 17): a plugin run killed at any moment of a drain or a zone outage leaves the
cluster as it found it once `azchaos restore` has run, and the next run takes the lock at once; a run
stopped with SIGTERM or SIGINT undoes its own faults before it exits.

The runs are real: ``python -m pytest`` on a small test file using the plugin's public fixtures, against
this module's own embedded cluster (3 zones x 3 nodes). Before any run, "someone else" has cordoned one
node of the target zone, tainted another, and suspended one Auto Scaling process of the zone's group:
what was there before a run must still be there after it, untouched.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from pytest_azchaos.aws import AwsContext
from pytest_azchaos.chaos.ledger import (
    MANAGED_BY,
    MANAGED_BY_LABEL,
    RUN_NAMESPACE,
    RUN_STATE_LABEL,
)
from pytest_azchaos.chaos.lock import read_lock
from pytest_azchaos.embedded.process import ClusterHandle, start_cluster, stop_cluster
from pytest_azchaos.embedded.topology import Topology
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.kube.topology import ZONE_LABEL
from pytest_azchaos.timing import Profile

ZONE = "us-east-1b"
MERGE = "application/merge-patch+json"
PROFILE = Profile.by_name("fast")  # the embedded cluster's default profile
ITERATIONS = 20
#: Set to replay a failed loop's kill schedule (the seed is printed at the start of the loop).
SEED_ENV = "AZCHAOS_CRASH_SEED"
#: Taints the node lifecycle controllers set and clear from the node's status (not from a run).
CONTROLLER_TAINTS = ("node.kubernetes.io/", "node.cloudprovider.kubernetes.io/")
#: Put by "someone else" before any run; the runs must leave them exactly as they are.
FOREIGN_TAINT = client.V1Taint(key="example.com/maintenance", value="planned", effect="PreferNoSchedule")
FOREIGN_SUSPENDED = "AZRebalance"
#: How long the killable drain retries the budget's refusals before the test ends (and undoes it).
DRAIN_SECONDS = 1.5
#: How long the killable outage stays in place before the test ends (and undoes it).
OUTAGE_SECONDS = 0.5
#: How far past the moment the fault is seen in the cluster a kill may still land (covers the undo).
TAIL_SECONDS = 2.5
#: A SIGTERM/SIGINT'ed run must be gone within this (its undo included).
EXIT_BUDGET = 15.0

PLUGIN_RUN = f'''
import time

import pytest


@pytest.mark.azchaos_destructive
def test_drain(azchaos_chaos, azchaos_zone):
    azchaos_chaos.drain_zone(azchaos_zone, timeout={DRAIN_SECONDS})


@pytest.mark.azchaos_destructive
def test_outage(azchaos_chaos, azchaos_zone, azchaos_aws):
    azchaos_chaos.zone_outage(azchaos_zone, azchaos_aws)
    time.sleep({OUTAGE_SECONDS})


@pytest.mark.azchaos_destructive
def test_drain_long(azchaos_chaos, azchaos_zone):
    azchaos_chaos.drain_zone(azchaos_zone)  # the profile's drain timeout: blocked by the budget throughout


@pytest.mark.azchaos_destructive
def test_outage_long(azchaos_chaos, azchaos_zone, azchaos_aws):
    azchaos_chaos.zone_outage(azchaos_zone, azchaos_aws)
    time.sleep(600)


@pytest.mark.azchaos_destructive
def test_cordon(azchaos_chaos, azchaos_zone):
    azchaos_chaos.cordon_zone(azchaos_zone)
'''


# ---------------------------------------------------------------------- the cluster and what is on it


@pytest.fixture(scope="module")
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    kubeconfig = tmp_path_factory.mktemp("crash-safety") / "kubeconfig"
    h = start_cluster(kubeconfig, Topology.make(zones=3, nodes_per_zone=3))
    yield h
    stop_cluster(kubeconfig)


@pytest.fixture(scope="module")
def cluster(handle: ClusterHandle) -> Iterator[Cluster]:
    c = Cluster(handle.kubeconfig)
    yield c
    c.close()


@pytest.fixture(scope="module")
def aws(handle: ClusterHandle) -> AwsContext:
    return AwsContext.for_kubeconfig(handle.kubeconfig)


@dataclass(frozen=True)
class World:
    """What "someone else" did to the zone before any run."""

    precordoned: str
    tainted: str
    zone_nodes: list[str]
    zone_instances: list[str]
    zone_group: str


@pytest.fixture(scope="module")
def world(cluster: Cluster, aws: AwsContext) -> Iterator[World]:
    """A cordoned node, a tainted node and a suspended ASG process in the target zone, and a workload whose
    budget refuses every eviction (so a drain is mid-drain for as long as it runs)."""
    nodes = sorted(n.metadata.name for n in cluster.core.list_node().items
                   if (n.metadata.labels or {}).get(ZONE_LABEL) == ZONE)
    precordoned, tainted = nodes[0], nodes[1]
    cluster.core.patch_node(precordoned, {"spec": {"unschedulable": True}}, _content_type=MERGE)
    cluster.core.patch_node(tainted, {"spec": {"taints": [FOREIGN_TAINT.to_dict()]}}, _content_type=MERGE)
    groups = [g for g in aws.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
              if g["AvailabilityZones"] == [ZONE]]
    assert len(groups) == 1, groups
    group = groups[0]["AutoScalingGroupName"]
    aws.autoscaling.suspend_processes(AutoScalingGroupName=group, ScalingProcesses=[FOREIGN_SUSPENDED])
    instances = sorted(i["InstanceId"] for i in groups[0]["Instances"])
    ns = "crash-safety"
    labels = {"app": "held"}
    cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    cluster.apps.create_namespaced_deployment(ns, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="held"),
        spec=client.V1DeploymentSpec(replicas=6, selector=client.V1LabelSelector(match_labels=labels),
                                     template=client.V1PodTemplateSpec(
                                         metadata=client.V1ObjectMeta(labels=labels),
                                         spec=client.V1PodSpec(containers=[client.V1Container(
                                             name="echo", image="registry.k8s.io/e2e-test-images/agnhost:2.52",
                                             args=["netexec", "--http-port=8080"])])))))
    client.PolicyV1Api(cluster.api).create_namespaced_pod_disruption_budget(ns, client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name="held"),
        spec=client.V1PodDisruptionBudgetSpec(max_unavailable=0, selector=client.V1LabelSelector(
            match_labels=labels))))
    deadline = time.monotonic() + PROFILE.app_ready_timeout
    while (cluster.apps.read_namespaced_deployment("held", ns).status.ready_replicas or 0) < 6:
        assert time.monotonic() < deadline, "the workload never became Ready"
        time.sleep(0.2)
    on_zone = [p.spec.node_name for p in cluster.core.list_namespaced_pod(ns).items if p.spec.node_name in nodes]
    assert on_zone, "no pod of the workload landed in the target zone: a drain would have nothing to evict"
    yield World(precordoned, tainted, nodes, instances, group)
    cluster.core.delete_namespace(ns)
    cluster.core.patch_node(precordoned, {"spec": {"unschedulable": None}}, _content_type=MERGE)
    cluster.core.patch_node(tainted, {"spec": {"taints": None}}, _content_type=MERGE)
    aws.autoscaling.resume_processes(AutoScalingGroupName=group, ScalingProcesses=[FOREIGN_SUSPENDED])


# ---------------------------------------------------------------------- the state a run must leave as it found


@dataclass(frozen=True)
class State:
    """Everything a drain or an outage touches, as plain data (equal states compare equal)."""

    #: node -> (spec.unschedulable, taints not managed by the node controllers, azchaos.io/ annotations)
    nodes: dict[str, tuple[bool, tuple[str, ...], tuple[str, ...]]]
    #: instance id -> EC2 state
    instances: dict[str, str]
    #: Auto Scaling group -> suspended processes
    suspended: dict[str, tuple[str, ...]]
    #: the cluster lock's holder (None: free)
    lock: str | None
    #: run objects still marked active
    active_runs: tuple[str, ...]

    def diff(self, other: State) -> list[str]:
        out = []
        for name in sorted(set(self.nodes) | set(other.nodes)):
            if self.nodes.get(name) != other.nodes.get(name):
                out.append(f"node {name}: {self.nodes.get(name)} -> {other.nodes.get(name)}")
        for iid in sorted(set(self.instances) | set(other.instances)):
            if self.instances.get(iid) != other.instances.get(iid):
                out.append(f"instance {iid}: {self.instances.get(iid)} -> {other.instances.get(iid)}")
        for g in sorted(set(self.suspended) | set(other.suspended)):
            if self.suspended.get(g) != other.suspended.get(g):
                out.append(f"group {g} suspended: {self.suspended.get(g)} -> {other.suspended.get(g)}")
        if self.lock != other.lock:
            out.append(f"lock holder: {self.lock} -> {other.lock}")
        if self.active_runs != other.active_runs:
            out.append(f"active run objects: {self.active_runs} -> {other.active_runs}")
        return out


def _node_row(node: Any) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    taints = tuple(sorted(f"{t.key}={t.value or ''}:{t.effect}" for t in node.spec.taints or []
                          if not t.key.startswith(CONTROLLER_TAINTS)))
    notes = tuple(sorted(f"{k}={v}" for k, v in (node.metadata.annotations or {}).items()
                         if k.startswith("azchaos.io/")))
    return bool(node.spec.unschedulable), taints, notes


def _instances(aws: AwsContext) -> dict[str, str]:
    out = {}
    for page in aws.ec2.get_paginator("describe_instances").paginate():
        for reservation in page["Reservations"]:
            for i in reservation["Instances"]:
                out[i["InstanceId"]] = i["State"]["Name"]
    return out


def _suspended(aws: AwsContext) -> dict[str, tuple[str, ...]]:
    groups = aws.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
    return {g["AutoScalingGroupName"]: tuple(sorted(p["ProcessName"] for p in g.get("SuspendedProcesses") or []))
            for g in groups}


def _run_objects(cluster: Cluster, state: str = "active") -> list[Any]:
    selector = f"{MANAGED_BY_LABEL}={MANAGED_BY},{RUN_STATE_LABEL}={state}"
    return cluster.core.list_namespaced_config_map(RUN_NAMESPACE, label_selector=selector).items


def snapshot(cluster: Cluster, aws: AwsContext) -> State:
    lock = read_lock(cluster)
    return State({n.metadata.name: _node_row(n) for n in cluster.core.list_node().items}, _instances(aws),
                 _suspended(aws), lock.holder if lock else None,
                 tuple(sorted(cm.metadata.name for cm in _run_objects(cluster))))


def wait_all_ready(cluster: Cluster) -> float:
    """Seconds until every node is Ready (after an outage the kubelets take a few seconds to report)."""
    start = time.monotonic()
    deadline = start + PROFILE.zone_return_timeout
    while True:
        nodes = cluster.core.list_node().items
        waiting = [n.metadata.name for n in nodes
                   if not any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])]
        if not waiting:
            return time.monotonic() - start
        assert time.monotonic() < deadline, (f"nodes not Ready {PROFILE.zone_return_timeout:g}s after the restore: "
                                             f"{', '.join(waiting)}")
        time.sleep(0.1)


# ---------------------------------------------------------------------- runs


def plugin_run(handle: ClusterHandle, cwd: Path, test: str) -> tuple[subprocess.Popen[str], Path]:
    """A pytest run of the plugin against ``handle``'s cluster, as a nightly job would start it."""
    cwd.mkdir(parents=True, exist_ok=True)
    (cwd / "test_plugin_run.py").write_text(PLUGIN_RUN)
    log = cwd / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"test_plugin_run.py::{test}",
             "--azchaos-kubeconfig", str(handle.kubeconfig), "--azchaos-allow-context", ".*",
             "--azchaos-zone", ZONE, "--azchaos-report-dir", str(cwd / "report")],
            cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True)
    return proc, log


def azchaos_restore(handle: ClusterHandle, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_azchaos.cli", "restore", "--kubeconfig",
                           str(handle.kubeconfig)], cwd=cwd, capture_output=True, text=True, timeout=180)


# ---------------------------------------------------------------------- the lock's windows, one by one

KILLED_IN_A_LOCK_WINDOW = """
import os, signal, sys
from pathlib import Path
from pytest_azchaos.chaos.ledger import Ledger, new_run_id
from pytest_azchaos.chaos.lock import ClusterLock
from pytest_azchaos.kube.cluster import Cluster

cluster = Cluster(Path(sys.argv[1]))
run_id = new_run_id()
ClusterLock(cluster, run_id).acquire()  # Chaos._start takes the lock, then creates the ledger
if sys.argv[2] == "after-undo":
    Ledger(cluster, run_id).replay()  # Chaos.undo_all replays the ledger, then frees the lock
print(run_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("window", ["before-ledger", "after-undo"])
def test_a_run_killed_holding_the_lock_with_nothing_unfinished_is_freed_by_restore(
        handle: ClusterHandle, cluster: Cluster, aws: AwsContext, world: World, tmp_path: Path, window: str) -> None:
    """Killed between taking the lock and creating its ledger, or between its undo and freeing the lock:
    there is nothing to undo, but the lock must not refuse the next run until the lease expires."""
    before = snapshot(cluster, aws)
    died = subprocess.run([sys.executable, "-c", KILLED_IN_A_LOCK_WINDOW, str(handle.kubeconfig), window],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert died.returncode == -signal.SIGKILL, died.stderr
    run_id = died.stdout.strip()
    assert read_lock(cluster).holder == run_id
    result = azchaos_restore(handle, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert run_id in result.stdout and "cluster restored" in result.stdout, result.stdout
    assert read_lock(cluster).holder is None, result.stdout
    assert not before.diff(snapshot(cluster, aws))
    run, log = plugin_run(handle, tmp_path / "next", "test_cordon")
    assert run.wait(timeout=120) == 0, log.read_text()
