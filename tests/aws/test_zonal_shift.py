"""The zonal shift fault against the embedded cluster's ARC (boto3 ``arc-zonal-shift``): the cancel recorded in the
ledger before the shift starts, the shift naming our run, the preflight refusing while another shift is active,
the undo cancelling it, and kill -9 mid-shift followed by `azchaos restore`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_azchaos.aws import AwsContext, AwsError, AwsSafetyError, zonal_shift
from pytest_azchaos.aws.zonal_shift import KIND, check_shift, zone_id
from pytest_azchaos.chaos.facade import Chaos, ChaosRefused
from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.report.evidence import Evidence
from pytest_azchaos.report.progress import TerminalProgress
from pytest_azchaos.run import Run
from pytest_azchaos.settings import Settings
from pytest_azchaos.timing import Profile

from .. import clusters

ZONE = "us-east-1b"
OTHER = "us-east-1a"

RUN_SCRIPT = """
import sys, time
from pathlib import Path
from pytest_azchaos.aws import AwsContext, zonal_shift
from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.chaos.lock import ClusterLock
from pytest_azchaos.kube.cluster import Cluster

cluster = Cluster(Path(sys.argv[1]))
ledger = Ledger(cluster, path=Path(sys.argv[3]))
ClusterLock(cluster, ledger.run_id, duration=5).acquire()
zonal_shift(AwsContext.for_kubeconfig(sys.argv[1]), ledger, sys.argv[2], spacing=1.0)
print("shift in place", flush=True)
time.sleep(600)
"""


@pytest.fixture(scope="module")
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("zonal-shift")) as h:
        yield h


@pytest.fixture(scope="module")
def cluster(handle: ClusterHandle) -> Iterator[Cluster]:
    with clusters.plugin_cluster(handle) as c:
        yield c


@pytest.fixture(scope="module")
def aws(handle: ClusterHandle) -> AwsContext:
    return AwsContext.for_kubeconfig(handle.kubeconfig)


def active(aws: AwsContext) -> list[dict[str, Any]]:
    return list(aws.client("arc-zonal-shift").list_zonal_shifts(status="ACTIVE")["items"])


def test_the_shift_names_our_run_and_its_cancel_is_in_the_ledger_before_it_starts(
        aws: AwsContext, cluster: Cluster, tmp_path: Path) -> None:
    ledger = Ledger(cluster, path=tmp_path / "ledger.json")
    shift = zonal_shift(aws, ledger, ZONE, spacing=1.0)
    try:
        (entry,) = ledger.pending()
        assert entry.kind == KIND and entry.undo["resource"] == shift.plan.resource
        (listed,) = active(aws)
        assert listed["zonalShiftId"] == shift.shift_id and listed["awayFrom"] == zone_id(aws, ZONE)
        assert ledger.run_id in listed["comment"] and listed["comment"] == entry.undo["comment"]
        assert shift.plan.resource.startswith("arn:aws:eks:us-east-1:")
    finally:
        result = shift.undo()
    assert result.ok, result.detail
    assert active(aws) == [] and ledger.pending() == []


def test_an_active_shift_in_another_zone_is_refused_naming_it_before_anything(
        aws: AwsContext, cluster: Cluster, tmp_path: Path) -> None:
    arc = aws.client("arc-zonal-shift")
    resource = check_shift(aws, ZONE).resource
    time.sleep(1.1)  # spacing after the previous test's operations
    theirs = arc.start_zonal_shift(resourceIdentifier=resource, awayFrom=zone_id(aws, OTHER), expiresIn="5m",
                                   comment="practice by someone else")
    try:
        ledger = Ledger(cluster, path=tmp_path / "ledger.json")
        with pytest.raises(AwsSafetyError, match=rf"zonal shift {theirs['zonalShiftId']} away from "
                                                 rf"{zone_id(aws, OTHER)}.*two zones away.*nothing was changed"):
            zonal_shift(aws, ledger, ZONE)
        assert ledger.pending() == [], "nothing recorded"
        assert [s["zonalShiftId"] for s in active(aws)] == [theirs["zonalShiftId"]]
    finally:
        time.sleep(1.1)
        arc.cancel_zonal_shift(zonalShiftId=theirs["zonalShiftId"])


def test_a_drain_is_refused_while_a_practice_run_takes_another_zone_away(
        aws: AwsContext, cluster: Cluster, handle: ClusterHandle, tmp_path: Path) -> None:
    """Preflight of every fault, not only of a shift: EKS cordons a shifted zone and drops its endpoints, which the
    nodes' Ready condition does not show, so a drain of another zone would be a two-zone loss."""
    arc = aws.client("arc-zonal-shift")
    resource = check_shift(aws, ZONE).resource
    time.sleep(1.1)  # spacing after the previous test's operations
    theirs = arc.start_zonal_shift(resourceIdentifier=resource, awayFrom=zone_id(aws, OTHER), expiresIn="5m",
                                   comment="autoshift practice")
    settings = Settings(kubeconfig=Path(handle.kubeconfig), cluster="kubeconfig", report_dir=tmp_path)
    chaos = Chaos(cluster, settings, Run.start(1, TerminalProgress(lambda line: None), tmp_path),
                  Profile.by_name("fast"), "shift-preflight", Evidence("phases"))
    try:
        with pytest.raises(ChaosRefused, match=rf"zonal shift {theirs['zonalShiftId']} away from "
                                               rf"{zone_id(aws, OTHER)}.*two zones away.*Nothing was touched"):
            chaos.drain_zone(ZONE)
        assert chaos.ledger is None and not [n for n in cluster.core.list_node().items if n.spec.unschedulable
                                             and n.metadata.labels["topology.kubernetes.io/zone"] == ZONE]
    finally:
        chaos.undo_all()
        time.sleep(1.1)
        arc.cancel_zonal_shift(zonalShiftId=theirs["zonalShiftId"])


def test_an_unknown_zone_is_refused_naming_it(aws: AwsContext) -> None:
    with pytest.raises(AwsError, match=r"us-east-1q.*nothing was changed"):
        check_shift(aws, "us-east-1q")


def test_restore_after_kill_9_mid_shift_cancels_the_shift(handle: ClusterHandle, aws: AwsContext,
                                                          tmp_path: Path) -> None:
    time.sleep(1.1)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    run = subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, str(handle.kubeconfig), ZONE,
                            str(tmp_path / "ledger.json")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, env=env)
    try:
        line = run.stdout.readline() if run.stdout else ""
        assert "shift in place" in line, line + (run.stdout.read() if run.stdout else "")
        (ours,) = active(aws)
    finally:
        clusters.kill_9(run)
    result = clusters.restore_after_kill(handle.kubeconfig, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert KIND in result.stdout and "ok" in result.stdout, result.stdout
    assert active(aws) == [], f"shift {ours['zonalShiftId']} still active after restore"
    got = aws.client("arc-zonal-shift").list_zonal_shifts()["items"]
    assert [s["status"] for s in got if s["zonalShiftId"] == ours["zonalShiftId"]] == ["CANCELED"]
