"""A game-day outage that leaves the zone's Auto Scaling group's HealthCheck and ReplaceUnhealthy active
(``suspend_processes=("Launch",)``, as ``azchaos gameday --suspend-processes Launch``): the group terminates the
stopped instance, its Node is deleted, and the stateful pod on a zonal volume there is recreated and waits Pending
for its volume's zone; the oracle predicts that (not "Terminating on its unreachable node"), AZ-EBS-DRAIN passes
naming the terminated instance and the deleted node, and AZ-EBS-RETURN passes on the node the group launches once
the undo resumes Launch. A cluster of the test's own: the terminations change the zone's nodes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from pytest_azchaos.apps import StatefulSpec
from pytest_azchaos.apps.deploy import deploy_stateful
from pytest_azchaos.aws import AwsContext, describe_groups
from pytest_azchaos.chaos.facade import Chaos
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.gameday import Scenario
from pytest_azchaos.gameday.volumes import VolumeSubject
from pytest_azchaos.report.evidence import Evidence
from pytest_azchaos.report.progress import TerminalProgress
from pytest_azchaos.run import Run
from pytest_azchaos.settings import Settings
from pytest_azchaos.timing import Profile

from .. import clusters

ZONE = "us-east-1a"


@pytest.fixture
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("gameday-volume-outage"), profile="fast") as h:
        yield h


def test_a_launch_only_outage_deletes_the_stateful_pods_node_and_it_waits_for_its_volume_then_returns(
        handle: ClusterHandle, tmp_path: Path) -> None:
    profile = Profile.by_name("fast")
    aws = AwsContext.for_kubeconfig(handle.kubeconfig)
    [group] = [g for g in describe_groups(aws) if g.zones == (ZONE,)]
    with clusters.plugin_cluster(handle) as cluster:
        cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="db")))
        app = deploy_stateful(cluster, "db", StatefulSpec(node_loss_toleration=profile.app_node_loss_toleration),
                              profile)
        settings = Settings(kubeconfig=Path(handle.kubeconfig), cluster="kubeconfig", report_dir=tmp_path)
        run = Run.start(1, TerminalProgress(lambda line: None), tmp_path)
        chaos = Chaos(cluster, settings, run, profile, "gameday-volume-outage", Evidence("phases"))
        scenario = Scenario(cluster, chaos, profile, ZONE, "outage", settings.rate, aws=aws,
                            suspend_processes=("Launch",))
        subject = VolumeSubject("stateful", app, Evidence("stateful"))
        scenario.add(subject)
        scenario.run()
        verdicts = {r.check_id: r for s, r in scenario.results() if s is subject and r.check_id.startswith("AZ-EBS")}

    expected = subject.prediction.outcome_of(subject.pod)
    assert expected is not None and expected.outcome == "pending" and expected.node_replaced, expected
    assert f"Auto Scaling group {group.name} terminates its stopped instance" in expected.terminated_by, expected
    assert "HealthCheck, ReplaceUnhealthy left active; suspended: Launch" in expected.terminated_by, expected
    drain = verdicts["AZ-EBS-DRAIN"]
    assert drain.verdict == "passed", (drain.summary, drain.evidence)
    assert drain.figures["agrees"] is True and "as the oracle predicted" in drain.summary, drain.summary
    instance = drain.figures["terminated_instance"]
    assert instance in group.instance_ids, drain.summary
    assert f"instance {instance} terminated by group {group.name}'s " in drain.summary, drain.summary
    assert drain.summary.count(group.name) == 1, drain.summary  # named once, not "the group G ...: group G's ..."
    assert f"node {subject.node} deleted" in drain.summary, drain.summary
    back = verdicts["AZ-EBS-RETURN"]
    assert back.verdict == "passed" and back.figures["new_node"], (back.summary, back.evidence)
    assert any(f"its old node {subject.node} was replaced, not restarted; back on a new node" in line
               for line in back.evidence), back.evidence
