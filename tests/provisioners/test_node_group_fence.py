"""drain_zone(keep_provisioner_out=True) on node groups with the Cluster Autoscaler: the zone's single-zone groups are
capped at their size (ledger first) so the autoscaler grows the other zones' groups, and their MaxSize is put back
exactly, also by `azchaos restore` after a kill -9. Embedded clusters over real HTTP, moto for Auto Scaling."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_azchaos.aws import AwsContext
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.topology import Topology
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.provisioners.node_group_fence import KIND

from .. import clusters
from .test_capacity_negative import drain_filled_zone

LOST = "us-east-1a"  # the first group by name: the one the autoscaler grows on a tie, unless kept out


@pytest.fixture
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    """Per-zone groups of one node each, every group allowed to grow to 3."""
    topology = Topology.make(zones=3, nodes_per_zone=1, extra={"node_groups": "per-zone"})
    with clusters.own_cluster(tmp_path_factory.mktemp("ng-fence"), topology=topology, profile="fast") as h:
        asg = AwsContext.for_kubeconfig(h.kubeconfig).autoscaling
        for g in asg.describe_auto_scaling_groups()["AutoScalingGroups"]:
            asg.update_auto_scaling_group(AutoScalingGroupName=g["AutoScalingGroupName"], MaxSize=3)
        yield h


def _max_sizes(handle: ClusterHandle) -> dict[str, int]:
    asg = AwsContext.for_kubeconfig(handle.kubeconfig).autoscaling
    return {g["AvailabilityZones"][0]: g["MaxSize"] for g in asg.describe_auto_scaling_groups()["AutoScalingGroups"]}


def test_fenced_drain_sends_the_autoscaler_to_the_surviving_zones_and_restores_max_size(
        handle: ClusterHandle, tmp_path: Path) -> None:
    cluster = Cluster(handle.kubeconfig)
    try:
        drained = drain_filled_zone(cluster, handle, tmp_path, LOST, "node-groups", keep_out=True, budget=15.0,
                                    observe=lambda chaos: (_max_sizes(handle), [e.kind for e in chaos.ledger.entries]
                                                           if chaos.ledger is not None else []))
    finally:
        cluster.close()
    (during, kinds), result, lines = drained.during, drained.result, drained.undo
    assert KIND in kinds, kinds
    assert during == {LOST: 1, "us-east-1b": 3, "us-east-1c": 3}, during
    assert result.passed, result.message()
    assert LOST not in result.figures["new_nodes_per_zone"] or not result.figures["new_nodes_per_zone"][LOST]
    assert all(line.startswith("ok") for line in lines), lines
    assert _max_sizes(handle) == {LOST: 3, "us-east-1b": 3, "us-east-1c": 3}, lines


RUN_SCRIPT = """
import sys, time
from pathlib import Path
from pytest_azchaos.aws import AwsContext, groups_of, parse_provider_id
from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.chaos.lock import ClusterLock
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.provisioners.node_group_fence import fence_node_groups

cluster = Cluster(Path(sys.argv[1]))
ledger = Ledger(cluster, path=Path(sys.argv[3]))
ClusterLock(cluster, ledger.run_id, duration=5).acquire()
aws = AwsContext.for_kubeconfig(sys.argv[1])
ids = [p[1] for p in (parse_provider_id(n.spec.provider_id) for n in cluster.core.list_node().items) if p]
fence_node_groups(aws, ledger, sys.argv[2], groups_of(aws, ids))
print("fenced", flush=True)
time.sleep(600)
"""


def test_restore_after_kill_9_puts_the_fenced_groups_max_size_back(handle: ClusterHandle, tmp_path: Path) -> None:
    run = subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, str(handle.kubeconfig), LOST,
                            str(tmp_path / "ledger.json")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = run.stdout.readline() if run.stdout else ""
        assert "fenced" in line, line + (run.stdout.read() if run.stdout else "")
        assert _max_sizes(handle)[LOST] == 1
    finally:
        clusters.kill_9(run)
    result = clusters.restore_after_kill(handle.kubeconfig, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert KIND in result.stdout, result.stdout
    assert _max_sizes(handle) == {LOST: 3, "us-east-1b": 3, "us-east-1c": 3}, result.stdout


def test_without_the_fence_the_autoscaler_refills_the_drained_zone_and_it_is_named(handle: ClusterHandle,
                                                                                  tmp_path: Path) -> None:
    """Negative control: the same drain without keeping the autoscaler out; it grows the drained zone's group (its
    template node is not cordoned) and AZ-CAPACITY names the node launched into the zone taken away."""
    cluster = Cluster(handle.kubeconfig)
    try:
        result = drain_filled_zone(cluster, handle, tmp_path, LOST, "node-groups", keep_out=False).result
    finally:
        cluster.close()
    assert not result.passed and not result.inconclusive, result.message()
    text = result.message()
    assert f"the zone taken away: the provisioner refilled {LOST}" in result.summary, text
    assert f"node group ng-{LOST} launched ip-" in text and f"into {LOST}, the zone taken away" in text, text
