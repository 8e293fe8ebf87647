"""Negative control of AZ-OUTAGE's capacity check (issue 13): a zone outage that suspends only ``Launch`` leaves
the node group's HealthCheck and ReplaceUnhealthy active, so the group terminates the stopped instances ("with
Launch suspended, ReplaceUnhealthy continues to terminate unhealthy instances, but does not launch replacements")
and the check fails naming them; the default set of processes keeps them through the same window and passes.
A fresh embedded cluster per test (the embedded cloud's EC2 Auto Scaling health checks), boto3 only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from pytest_azchaos.aws import AwsContext, describe_groups
from pytest_azchaos.chaos.facade import Chaos
from pytest_azchaos.checks import CheckFailed, require
from pytest_azchaos.checks.outage_capacity import instances_came_back
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.report.evidence import Evidence
from pytest_azchaos.report.progress import TerminalProgress
from pytest_azchaos.run import Run
from pytest_azchaos.settings import Settings
from pytest_azchaos.timing import Profile

from .. import clusters
from ..embedded.waiting import wait_for

ZONE = "us-east-1a"
PROFILE = Profile.by_name("fast")
#: How long the groups get to act on the stopped instances: past the grace period, several health checks.
WINDOW = PROFILE.asg_health_check_grace_period + 6 * PROFILE.asg_health_check_interval + 2


@pytest.fixture
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("outage-negative"), profile=PROFILE.name) as h:
        yield h


@pytest.fixture
def cluster(handle: ClusterHandle) -> Iterator[Cluster]:
    c = Cluster(handle.kubeconfig)
    yield c
    c.close()


def _chaos(cluster: Cluster, handle: ClusterHandle, tmp_path: Path) -> Chaos:
    settings = Settings(kubeconfig=Path(handle.kubeconfig), cluster="kubeconfig", report_dir=tmp_path)
    run = Run.start(1, TerminalProgress(lambda line: None), tmp_path)
    return Chaos(cluster, settings, run, PROFILE, "outage-negative-control", Evidence("phases"))


def _ctx(handle: ClusterHandle) -> AwsContext:
    return AwsContext.for_kubeconfig(handle.kubeconfig, state_timeout=30, poll_interval=0.2)


def test_launch_only_outage_fails_az_outage_naming_the_terminated_instances(cluster, handle, tmp_path) -> None:
    ctx = _ctx(handle)
    [group] = [g.name for g in describe_groups(ctx) if g.zones == (ZONE,)]
    chaos = _chaos(cluster, handle, tmp_path)
    try:
        outage = chaos.zone_outage(ZONE, ctx, suspend_processes=("Launch",))
        nodes = dict(outage.undo_record["nodes"])
        assert set(nodes) == set(outage.stopped) and len(nodes) == 2, outage.describe()
        # The group's health check marks them Unhealthy and ReplaceUnhealthy terminates them (no replacement);
        # the outage's background watch sees it happen (``terminated`` makes no AWS call of its own).
        wait_for(lambda: outage.terminated, lambda lost: len(lost) == len(outage.stopped), timeout=WINDOW,
                 interval=0.2, what=f"the outage's watch to see group {group} terminate the stopped instances")
        during = time.time()
        assert len(describe_groups(ctx, [group])[0].instance_ids) == 0, "Launch suspended: nothing replaced them"
    finally:
        lines = chaos.undo_all()
    assert all(line.startswith("ok") for line in lines), lines  # the undo reports them; nothing left to undo
    assert all(f"not started: {i}" in " ".join(lines) for i in outage.stopped), lines
    assert describe_groups(ctx, [group])[0].suspended == frozenset(), "Launch resumed"
    with pytest.raises(CheckFailed, match="AZ-OUTAGE FAILED: the zone's capacity did not come back") as failed:
        require(instances_came_back(outage))
    message = str(failed.value)
    print(message)
    assert all(datetime.fromisoformat(t.seen_at).timestamp() <= during + 1 for t in outage.terminated), \
        "seen during the fault, not only at the undo"
    for iid, node in nodes.items():
        assert f"{iid} (node {node})" in message, message
    assert f"in group {group} were terminated by the group's health replacement: HealthCheck, ReplaceUnhealthy were " \
           "not suspended (this run suspended Launch)" in message, message


def test_default_outage_keeps_the_stopped_instances_and_passes_the_capacity_check(cluster, handle, tmp_path) -> None:
    ctx = _ctx(handle)
    chaos = _chaos(cluster, handle, tmp_path)
    try:
        outage = chaos.zone_outage(ZONE, ctx)
        assert outage.active == {}, outage.describe()
        time.sleep(WINDOW)  # the same window the negative control gives the group: here nothing may happen in it
        assert outage.terminated == [] and outage.watch() == [], outage.describe()
    finally:
        lines = chaos.undo_all()
    assert all(line.startswith("ok") and "not started" not in line for line in lines), lines
    assert require(instances_came_back(outage)).passed
