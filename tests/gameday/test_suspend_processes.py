"""``azchaos gameday --suspend-processes``: refused before anything with another fault or an unknown process name;
with ``--fault outage --suspend-processes Launch`` the zone's group terminates the stopped instances (its
HealthCheck and ReplaceUnhealthy stay active), AZ-OUTAGE fails naming them and the group, and the undo resumes
exactly what the outage suspended. A cluster of the test's own: the terminations change the zone's nodes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from pytest_azchaos.aws import AwsContext, describe_groups
from pytest_azchaos.aws.asg import SCALING_PROCESSES
from pytest_azchaos.cli import build_parser
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.gameday import command

from .. import clusters, sites

ZONE = "us-east-1a"


def _refusal(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> str:
    never = tmp_path / "never" / "kubeconfig"  # not even read: the refusal comes first
    args = build_parser().parse_args(["gameday", "--kubeconfig", str(never), "--report-dir", str(tmp_path / "r"),
                                      *argv])
    assert command.run(args, write=lambda line: None) == 2
    assert not (tmp_path / "r").exists()
    return capsys.readouterr().err


def test_suspend_processes_with_another_fault_is_refused_before_anything(capsys, tmp_path) -> None:
    err = _refusal(capsys, tmp_path, "--fault", "drain", "--suspend-processes", "Launch")
    assert err.startswith("azchaos gameday: --suspend-processes only applies to --fault outage"), err
    assert "drop it or use --fault outage; nothing was touched" in err, err


def test_unknown_suspend_process_is_refused_naming_the_valid_ones(capsys, tmp_path) -> None:
    err = _refusal(capsys, tmp_path, "--fault", "outage", "--suspend-processes", "Launch,Lunch")
    assert "unknown Auto Scaling process(es) 'Lunch' in --suspend-processes" in err, err
    assert all(p in err for p in SCALING_PROCESSES), err
    assert err.rstrip().endswith("pass --suspend-processes with names from them; nothing was touched"), err


@pytest.fixture
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("gameday-suspend"), profile="fast") as h:
        yield h


def _static_site(handle: ClusterHandle, replicas: int = 3) -> str:
    """A user's static site (tests/sites.py) whose pods leave a lost node after 2 s; its namespace. One target, not
    the sample apps: the stateful sample's power-off checks would wait out their budget on the deleted nodes."""
    with clusters.api_client(handle) as api:
        core, apps, policy = client.CoreV1Api(api), client.AppsV1Api(api), client.PolicyV1Api(api)
        namespace = "shop"
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        for m in sites.static_site(replicas, spread=True, pdb=True):
            if m["kind"] == "Deployment":
                m["spec"]["template"]["spec"]["tolerations"] = [
                    {"key": f"node.kubernetes.io/{t}", "operator": "Exists", "effect": "NoExecute",
                     "tolerationSeconds": 2} for t in ("not-ready", "unreachable")]
            {"Deployment": apps.create_namespaced_deployment, "Service": core.create_namespaced_service,
             "PodDisruptionBudget": policy.create_namespaced_pod_disruption_budget}[m["kind"]](namespace, m)
        sites.serving(core, namespace, replicas)
    return namespace


def test_launch_only_outage_fails_az_outage_naming_the_terminated_instances_and_resumes_launch(
        handle: ClusterHandle, tmp_path: Path) -> None:
    aws = AwsContext.for_kubeconfig(handle.kubeconfig)
    [group] = [g for g in describe_groups(aws) if g.zones == (ZONE,)]
    assert group.instance_ids and group.suspended == frozenset(), group
    target = f"deployment/{_static_site(handle)}/static,path=/index.html,status=200"
    lines: list[str] = []
    args = build_parser().parse_args(["gameday", "--kubeconfig", str(handle.kubeconfig), "--fault", "outage",
                                      "--zone", ZONE, "--suspend-processes", "Launch", "--target", target,
                                      "--report-dir", str(tmp_path), "--view-interval", "5"])
    rc = command.run(args, write=lines.append)
    out = "\n".join(lines)
    [capacity] = [line for line in lines if line.startswith("AZ-OUTAGE") and "capacity" in line] or [out[-4000:]]
    assert rc == 1, out[-4000:]
    assert capacity.split()[2] == "failed", capacity
    for iid in group.instance_ids:
        assert iid in capacity, f"{iid} not named: {capacity}"
    assert f"in group {group.name} were terminated by the group's health replacement: HealthCheck, " \
           "ReplaceUnhealthy were not suspended (this run suspended Launch)" in capacity, capacity
    assert describe_groups(aws, [group.name])[0].suspended == frozenset(), "the undo resumes Launch"
