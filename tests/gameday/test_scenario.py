"""A ``Scenario`` judged on a misconfigured app: the shared fault's checks fail with their evidence, and the
fault is undone all the same (negative control of the game day)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from pytest_azchaos.apps import EchoSpec
from pytest_azchaos.apps.deploy import deploy_echo
from pytest_azchaos.chaos.facade import Chaos
from pytest_azchaos.gameday import Scenario, ScenarioError, Subject
from pytest_azchaos.kube.topology import ZoneMap
from pytest_azchaos.report.evidence import Evidence
from pytest_azchaos.report.progress import TerminalProgress
from pytest_azchaos.run import Run
from pytest_azchaos.settings import Settings
from pytest_azchaos.timing import Profile


@pytest.fixture
def namespace(plugin_cluster: Any) -> Iterator[str]:
    name = f"gameday-neg-{uuid.uuid4().hex[:5]}"
    plugin_cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    plugin_cluster.core.delete_namespace(name)


def _scenario(cluster: Any, embedded_cluster: Any, tmp_path: Path, zone: str, fault: str = "drain",
              aws: Any = None, **fields: Any) -> Scenario:
    settings = Settings(kubeconfig=Path(embedded_cluster.kubeconfig), cluster="kubeconfig", report_dir=tmp_path)
    profile = Profile.by_name(settings.effective_profile())
    run = Run.start(1, TerminalProgress(lambda line: None), tmp_path)
    chaos = Chaos(cluster, settings, run, profile, "gameday-negative", Evidence("phases"))
    return Scenario(cluster, chaos, profile, zone, fault, settings.rate, aws=aws, **fields)


def test_one_unprotected_replica_fails_the_shared_drain_with_its_window_and_is_undone(
        plugin_cluster: Any, embedded_cluster: Any, namespace: str, tmp_path: Path) -> None:
    profile = Profile.by_name("fast")
    app = deploy_echo(plugin_cluster, namespace, EchoSpec(replicas=1, spread="none", pdb_max_unavailable=None,
                                                          prestop_sleep=0, delay_shutdown=0), profile)
    zone = ZoneMap.read(plugin_cluster.core).zone_of(app.pods()[0].spec.node_name)
    assert zone is not None
    scenario = _scenario(plugin_cluster, embedded_cluster, tmp_path, zone)
    scenario.add(Subject("misconfigured", app, Evidence("misconfigured")))
    scenario.run()
    verdicts = {r.check_id: r for _, r in scenario.results()}
    assert verdicts["AZ-DRAIN"].verdict == "failed"
    assert "failed during" in verdicts["AZ-DRAIN"].summary
    assert any("t=" in line and "failed (" in line for line in verdicts["AZ-DRAIN"].evidence)
    assert scenario.exit_code() == 1
    assert [n.metadata.name for n in plugin_cluster.core.list_node().items if n.spec.unschedulable] == []


def test_a_zonal_shift_without_aws_access_is_refused_naming_the_credentials(plugin_cluster: Any,
                                                                              embedded_cluster: Any,
                                                                              tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"'shift' acts through AWS .*AWS_PROFILE"):
        _scenario(plugin_cluster, embedded_cluster, tmp_path, "us-east-1a", fault="shift")


def test_a_shared_zonal_shift_fails_az_shift_for_an_app_all_in_the_zone_and_is_cancelled(
        plugin_cluster: Any, embedded_cluster: Any, namespace: str, tmp_path: Path) -> None:
    from pytest_azchaos.aws import AwsContext

    profile = Profile.by_name("fast")
    zone = "us-east-1a"
    app = deploy_echo(plugin_cluster, namespace, EchoSpec(replicas=2, spread="one-zone", pinned_zone=zone,
                                                          pdb_max_unavailable=None), profile)
    aws = AwsContext.for_kubeconfig(embedded_cluster.kubeconfig)
    scenario = _scenario(plugin_cluster, embedded_cluster, tmp_path, zone, fault="shift", aws=aws)
    scenario.profile = scenario.chaos.profile = profile  # the embedded cluster's own timings (EKS's 60 s scaled)
    scenario.add(Subject("one-zone", app, Evidence("one-zone")))
    scenario.run()
    shift = [r for _, r in scenario.results() if r.check_id == "AZ-SHIFT"]
    failed = [r for r in shift if r.verdict == "failed"]
    assert failed and "cannot move the traffic" in failed[0].summary and "fail safe" in failed[0].summary, shift
    assert scenario.exit_code() == 1
    arc = aws.client("arc-zonal-shift")
    assert arc.list_zonal_shifts(status="ACTIVE")["items"] == [], "the shift was not cancelled"
    assert [s["status"] for s in arc.list_zonal_shifts()["items"]][-1:] == ["CANCELED"]


def test_an_outage_without_aws_access_is_refused_naming_the_credentials(plugin_cluster: Any, embedded_cluster: Any,
                                                                         tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="AWS_PROFILE"):
        _scenario(plugin_cluster, embedded_cluster, tmp_path, "us-east-1a", fault="outage")


def test_suspend_processes_for_a_fault_other_than_outage_is_refused(plugin_cluster: Any, embedded_cluster: Any,
                                                                     tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="suspend_processes only applies to the outage fault, not 'drain'"):
        _scenario(plugin_cluster, embedded_cluster, tmp_path, "us-east-1a", suspend_processes=("Launch",))
