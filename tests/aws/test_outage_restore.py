"""kill -9 during a zone outage, then `azchaos restore`: instances running again, ASG processes resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_azchaos.aws import AwsContext, describe_groups, node_instances
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.kube.cluster import Cluster

from .. import clusters

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
zone_outage(AwsContext.for_kubeconfig(sys.argv[1]), ledger, sys.argv[2], nodes=cluster.core.list_node().items)
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
        run.send_signal(signal.SIGKILL)
        run.wait()
        if run.stdout:
            run.stdout.close()
    time.sleep(5.5)  # the killed run's lease expires
    result = subprocess.run([sys.executable, "-m", "pytest_azchaos.cli", "restore", "--kubeconfig",
                             str(handle.kubeconfig), "--ledger-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _zone_state(handle) == ({"running"}, set())
