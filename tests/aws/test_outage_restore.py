"""kill -9 during a zone outage, then `azchaos restore`: instances running again, ASG processes resumed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_azchaos.aws import AwsContext, describe_groups, node_instances
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.kube.cluster import Cluster

from .. import clusters
from ..embedded.waiting import wait_for

ZONE = "us-east-1c"

RUN_SCRIPT = """
import sys, time
from pathlib import Path
from pytest_azchaos.aws import AwsContext, zone_outage
from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.chaos.lock import ClusterLock
from pytest_azchaos.kube.cluster import Cluster

cluster = Cluster(Path(sys.argv[1]))
ledger = Ledger(cluster, path=Path(sys.argv[3]))
ClusterLock(cluster, ledger.run_id, duration=5).acquire()
processes = tuple(sys.argv[4].split(",")) if len(sys.argv) > 4 else ("Launch", "Terminate", "AZRebalance",
                                                                     "HealthCheck", "ReplaceUnhealthy")
zone_outage(AwsContext.for_kubeconfig(sys.argv[1]), ledger, sys.argv[2], nodes=cluster.core.list_node().items,
            suspend_processes=processes)
print("outage in place", flush=True)
time.sleep(600)
"""


@pytest.fixture(scope="module")
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("outage-restore")) as h:
        yield h


def _zone_state(handle: ClusterHandle) -> tuple[set[str], set[str]]:
    """(states of the zone's instances, suspended processes of its Auto Scaling groups)."""
    ctx = AwsContext.for_kubeconfig(handle.kubeconfig)
    cluster = Cluster(handle.kubeconfig)
    try:
        rows = [r for r in node_instances(ctx, cluster.core.list_node().items) if r.zone == ZONE]
    finally:
        cluster.close()
    states = {r.instance.state for r in rows if r.instance is not None}
    groups = [g for g in describe_groups(ctx) if ZONE in g.zones]
    return states, {p for g in groups for p in g.suspended}


def test_restore_after_kill_9_mid_outage_starts_instances_and_resumes_processes(handle: ClusterHandle,
                                                                                tmp_path: Path) -> None:
    assert _zone_state(handle) == ({"running"}, set())
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    run = subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, str(handle.kubeconfig), ZONE,
                            str(tmp_path / "ledger.json")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, env=env)
    try:
        line = run.stdout.readline() if run.stdout else ""
        assert "outage in place" in line, line + (run.stdout.read() if run.stdout else "")
        states, suspended = _zone_state(handle)
        assert states == {"stopped"} and "Launch" in suspended
    finally:
        clusters.kill_9(run)
    result = clusters.restore_after_kill(handle.kubeconfig, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _zone_state(handle) == ({"running"}, set())


def test_restore_after_kill_9_reports_instances_the_group_terminated_and_resumes_the_processes(
        handle: ClusterHandle, tmp_path: Path) -> None:
    """A run that suspended only Launch is killed; the node group's ReplaceUnhealthy terminates the stopped
    instances meanwhile. `azchaos restore` cannot start them: it names them, resumes Launch, exits 0 (nothing of
    the run's is left to undo; the group replaces them now)."""
    ctx = AwsContext.for_kubeconfig(handle.kubeconfig)
    [group] = [g for g in describe_groups(ctx) if g.zones == (ZONE,)]
    assert _zone_state(handle) == ({"running"}, set())
    run = subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, str(handle.kubeconfig), ZONE,
                            str(tmp_path / "ledger.json"), "Launch"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = run.stdout.readline() if run.stdout else ""
        assert "outage in place" in line, line + (run.stdout.read() if run.stdout else "")
    finally:
        clusters.kill_9(run)

    def states() -> dict[str, str]:
        found = ctx.ec2.describe_instances(InstanceIds=list(group.instance_ids))["Reservations"]
        return {i["InstanceId"]: i["State"]["Name"] for r in found for i in r["Instances"]}

    wait_for(states, lambda s: set(s.values()) == {"terminated"}, timeout=30,
             what=f"group {group.name} to terminate its stopped instances")
    result = clusters.restore_after_kill(handle.kubeconfig, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for iid in group.instance_ids:
        assert f"not started: {iid} (node " in result.stdout, result.stdout
    print(result.stdout)
    assert "cluster restored" in result.stdout, result.stdout
    assert describe_groups(ctx, [group.name])[0].suspended == frozenset(), "Launch resumed"
