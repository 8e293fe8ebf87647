"""`azchaos restore`: a run killed with SIGKILL mid-drain is undone from what it left in the cluster;
only what that run changed is undone; bad input is refused with the fix named and nothing touched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from pytest_azchaos.chaos.cordon import cordon_zone
from pytest_azchaos.chaos.ledger import CORDONED_BY, RUN_NAMESPACE, RUN_STATE_LABEL, Ledger, run_object_name
from pytest_azchaos.chaos.lock import read_lock
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.topology import Topology
from pytest_azchaos.kube.cluster import Cluster

from . import clusters

ZONE = "us-east-1b"
MERGE = "application/merge-patch+json"

RUN_SCRIPT = """
import sys
from pathlib import Path
from pytest_azchaos.chaos.drain import drain_zone
from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.chaos.lock import ClusterLock
from pytest_azchaos.kube.cluster import Cluster

cluster = Cluster(Path(sys.argv[1]))
ledger = Ledger(cluster)
ClusterLock(cluster, ledger.run_id, duration=60).acquire()
print(ledger.run_id, flush=True)
drain_zone(cluster, sys.argv[2], ledger, timeout=120, retry_interval=0.5)
print("drain finished", flush=True)
"""


@pytest.fixture(scope="module")
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("restore"), topology=Topology.make(nodes_per_zone=3)) as h:
        yield h


@pytest.fixture(scope="module")
def cluster(handle: ClusterHandle) -> Iterator[Cluster]:
    with clusters.plugin_cluster(handle) as c:
        yield c


def azchaos(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_azchaos.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def zone_nodes(cluster: Cluster) -> list[str]:
    return cluster.nodes_by_zone()[ZONE]


def cordoned(cluster: Cluster, name: str) -> bool:
    return bool(cluster.core.read_node(name).spec.unschedulable)


@pytest.fixture
def precordoned(cluster: Cluster) -> Iterator[str]:
    """One node of the zone cordoned by someone else before any run."""
    name = zone_nodes(cluster)[0]
    cluster.core.patch_node(name, {"spec": {"unschedulable": True}}, _content_type=MERGE)
    yield name
    cluster.core.patch_node(name, {"spec": {"unschedulable": None}}, _content_type=MERGE)


@pytest.fixture
def leftover(cluster: Cluster, tmp_path: Path, precordoned: str) -> Iterator[Ledger]:
    """A run that cordoned the zone and never undid it (as if it had died)."""
    led = Ledger(cluster, path=tmp_path / ".azchaos" / "elsewhere.json")
    cordon_zone(cluster, ZONE, led)
    yield led
    led.replay()


def held_workload(cluster: Cluster, ns: str, name: str, replicas: int) -> None:
    """A Deployment whose PDB allows no disruption, in a new namespace: a drain of it never finishes."""
    labels = {"app": name}
    cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    cluster.apps.create_namespaced_deployment(ns, client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(replicas=replicas, selector=client.V1LabelSelector(match_labels=labels),
                                     template=client.V1PodTemplateSpec(
                                         metadata=client.V1ObjectMeta(labels=labels),
                                         spec=client.V1PodSpec(containers=[client.V1Container(
                                             name="echo", image="registry.k8s.io/e2e-test-images/agnhost:2.52",
                                             args=["netexec", "--http-port=8080"])])))))
    client.PolicyV1Api(cluster.api).create_namespaced_pod_disruption_budget(ns, client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodDisruptionBudgetSpec(max_unavailable=0, selector=client.V1LabelSelector(
            match_labels=labels))))


def test_sigkill_mid_drain_then_restore_uncordons_only_what_the_run_cordoned(
        cluster: Cluster, handle: ClusterHandle, tmp_path: Path, precordoned: str) -> None:
    ns = "restore-e2e"
    held_workload(cluster, ns, "web", 9)
    others = [n for n in zone_nodes(cluster) if n != precordoned]
    with subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, str(handle.kubeconfig), ZONE], cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as run:
        try:
            assert run.stdout is not None
            run_id = run.stdout.readline().strip()
            assert run_id.startswith("azchaos-"), run.stderr.read() if run.stderr else ""
            deadline = time.monotonic() + 15
            while not all((cluster.core.read_node(n).metadata.annotations or {}).get(CORDONED_BY) == run_id
                          for n in others):
                assert time.monotonic() < deadline, "the run never cordoned the zone"
                time.sleep(0.05)
            time.sleep(1.0)  # mid-drain: its evictions are being refused by the budget
            assert run.poll() is None, "the drain ended before it could be killed"
        finally:
            run.send_signal(signal.SIGKILL)
            run.wait(timeout=10)
    assert run.returncode == -signal.SIGKILL
    assert all(cordoned(cluster, n) for n in zone_nodes(cluster))
    assert read_lock(cluster).holder == run_id

    result = azchaos("restore", "--kubeconfig", str(handle.kubeconfig), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert run_id in result.stdout and "uncordoned" in result.stdout and "cluster restored" in result.stdout
    assert not any(cordoned(cluster, n) for n in others)
    assert cordoned(cluster, precordoned)
    assert not any(CORDONED_BY in (cluster.core.read_node(n).metadata.annotations or {}) for n in zone_nodes(cluster))
    cm = cluster.core.read_namespaced_config_map(run_object_name(run_id), RUN_NAMESPACE)
    assert cm.metadata.labels[RUN_STATE_LABEL] == "restored"
    assert json.loads((tmp_path / ".azchaos" / f"ledger-{run_id}.json").read_text())["state"] == "restored"
    assert read_lock(cluster).holder is None
    again = azchaos("restore", "--kubeconfig", str(handle.kubeconfig), cwd=tmp_path)
    assert again.returncode == 0 and "nothing to restore" in again.stdout
    cluster.core.delete_namespace(ns)


def test_restore_with_nothing_left_says_so(handle: ClusterHandle, tmp_path: Path) -> None:
    result = azchaos("restore", "--kubeconfig", str(handle.kubeconfig), cwd=tmp_path)
    assert result.returncode == 0 and "nothing to restore" in result.stdout


def test_dry_run_prints_the_plan_and_changes_nothing(cluster: Cluster, handle: ClusterHandle, tmp_path: Path,
                                                     leftover: Ledger, precordoned: str) -> None:
    result = azchaos("restore", "--kubeconfig", str(handle.kubeconfig), "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert leftover.run_id in result.stdout and "would undo node.cordon" in result.stdout
    assert all(cordoned(cluster, n) for n in zone_nodes(cluster))


def test_run_id_limits_restore_to_that_run(cluster: Cluster, handle: ClusterHandle, tmp_path: Path,
                                           leftover: Ledger) -> None:
    result = azchaos("restore", "--kubeconfig", str(handle.kubeconfig), "--run-id", "azchaos-other", cwd=tmp_path)
    assert result.returncode == 0 and "nothing to restore" in result.stdout
    assert all(cordoned(cluster, n) for n in zone_nodes(cluster))
    result = azchaos("restore", "--kubeconfig", str(handle.kubeconfig), "--run-id", leftover.run_id, cwd=tmp_path)
    assert result.returncode == 0 and leftover.run_id in result.stdout


def test_missing_kubeconfig_is_refused_with_the_fix(tmp_path: Path) -> None:
    result = azchaos("restore", "--kubeconfig", str(tmp_path / "nope"), cwd=tmp_path)
    assert result.returncode == 1
    assert f"kubeconfig {tmp_path / 'nope'} does not exist: pass --kubeconfig PATH" in result.stderr


def test_unknown_context_is_refused_listing_the_contexts_and_touches_nothing(
        cluster: Cluster, handle: ClusterHandle, tmp_path: Path, leftover: Ledger) -> None:
    result = azchaos("restore", "--kubeconfig", str(handle.kubeconfig), "--context", "prod", cwd=tmp_path)
    assert result.returncode == 1
    assert "has no context 'prod'; its contexts are: azchaos-embedded (pass one with --context)" in result.stderr
    assert all(cordoned(cluster, n) for n in zone_nodes(cluster))


def test_unreachable_api_is_refused_naming_the_server(handle: ClusterHandle, tmp_path: Path) -> None:
    doc = yaml.safe_load(Path(handle.kubeconfig).read_text())
    doc["clusters"][0]["cluster"]["server"] = "http://127.0.0.1:9"
    bad = tmp_path / "kubeconfig"
    bad.write_text(yaml.safe_dump(doc))
    started = time.monotonic()
    result = azchaos("restore", "--kubeconfig", str(bad), cwd=tmp_path)
    assert result.returncode == 1 and time.monotonic() - started < 30
    assert "cannot reach the Kubernetes API at http://127.0.0.1:9" in result.stderr
    assert "check that the cluster is running" in result.stderr


def test_restore_refuses_a_run_that_is_still_alive(cluster: Cluster, handle: ClusterHandle, tmp_path: Path,
                                                   leftover: Ledger) -> None:
    from pytest_azchaos.chaos.lock import ClusterLock

    with ClusterLock(cluster, leftover.run_id, duration=30):  # held by this (living) process
        result = azchaos("restore", "--kubeconfig", str(handle.kubeconfig), cwd=tmp_path)
    assert result.returncode == 1 and "still running" in result.stdout and str(os.getpid()) in result.stdout
    assert all(cordoned(cluster, n) for n in zone_nodes(cluster))


PLUGIN_RUN = '''
import pytest

@pytest.mark.azchaos_destructive
def test_drain(azchaos_chaos, azchaos_zone):
    azchaos_chaos.drain_zone(azchaos_zone)

@pytest.mark.azchaos_destructive
def test_cordon(azchaos_chaos, azchaos_zone):
    azchaos_chaos.cordon_zone(azchaos_zone)
'''


def plugin_run(handle: ClusterHandle, cwd: Path, test: str) -> subprocess.Popen[str]:
    """A pytest run of the plugin against ``handle``'s cluster, as a nightly job would start it."""
    (cwd / "test_plugin_run.py").write_text(PLUGIN_RUN)
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"test_plugin_run.py::{test}",
         "--azchaos-kubeconfig", str(handle.kubeconfig), "--azchaos-allow-context", ".*", "--azchaos-zone", ZONE,
         "--azchaos-report-dir", str(cwd / "report")], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)


def test_a_killed_plugin_run_restored_lets_the_next_run_take_the_lock_at_once(
        cluster: Cluster, handle: ClusterHandle, tmp_path: Path, precordoned: str) -> None:
    ns = "restore-lock"
    held_workload(cluster, ns, "held", 6)
    others = [n for n in zone_nodes(cluster) if n != precordoned]
    try:
        with plugin_run(handle, tmp_path, "test_drain") as run:
            deadline = time.monotonic() + 60
            while not all((cluster.core.read_node(n).metadata.annotations or {}).get(CORDONED_BY) for n in others):
                assert run.poll() is None, run.stdout.read() if run.stdout else ""
                assert time.monotonic() < deadline, "the run never cordoned the zone"
                time.sleep(0.05)
            run.send_signal(signal.SIGKILL)
            run.wait(timeout=10)
        holder = read_lock(cluster).holder
        assert holder is not None and holder.startswith("azchaos-")

        result = azchaos("restore", "--kubeconfig", str(handle.kubeconfig), cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert read_lock(cluster).holder is None, result.stdout
        assert not any(cordoned(cluster, n) for n in others) and cordoned(cluster, precordoned)

        with plugin_run(handle, tmp_path, "test_cordon") as again:
            out = again.communicate(timeout=120)[0]
        assert again.returncode == 0, out
        assert "LockHeld" not in out
    finally:
        cluster.core.delete_namespace(ns)
