"""The chaostoolkit ``zone_outage`` action's ``suspend_processes``: an unknown name fails the activity naming the
valid ones with nothing touched; through chaoslib's runner a ``Launch``-only outage says what it suspended and what
it left active, and ``undo_faults`` as the rollback resumes exactly that (a process the group had suspended before
stays suspended). The module's own cluster (tests/ctk/conftest.py): a Launch-only outage lets the group terminate
the stopped instances."""

from __future__ import annotations

import pytest
from chaoslib.exceptions import ActivityFailed
from chaoslib.experiment import run_experiment

from pytest_azchaos.aws import AwsContext, describe_groups
from pytest_azchaos.aws.asg import SCALING_PROCESSES
from pytest_azchaos.ctk import actions
from pytest_azchaos.ctk.context import finish, run_state

from .test_interop import experiment, failures, ours


def _aws(cluster) -> AwsContext:
    return AwsContext.for_kubeconfig(cluster.kubeconfig, state_timeout=30, poll_interval=0.2)


def _group(aws: AwsContext, zone: str) -> str:
    return next(g.name for g in describe_groups(aws) if g.zones == (zone,))


def _instance_states(aws: AwsContext) -> dict[str, str]:
    return {i["InstanceId"]: i["State"]["Name"]
            for r in aws.ec2.describe_instances()["Reservations"] for i in r["Instances"]}


def test_zone_outage_action_refuses_an_unknown_process_naming_the_valid_ones_and_touches_nothing(cluster, zone,
                                                                                                 ns):
    aws = _aws(cluster)
    before = (_instance_states(aws), {g.name: g.suspended for g in describe_groups(aws)})
    conf = {"kubeconfig_path": str(cluster.kubeconfig), "azchaos_run_id": f"ctk-outage-bad-{ns}"}
    try:
        with pytest.raises(ActivityFailed, match="unknown Auto Scaling process") as refused:
            actions.zone_outage(zone, suspend_processes=["Launch", "Lunch"], configuration=conf)
        state = run_state(conf)
        assert state.chaos.ledger is None and state.chaos.lock is None and state.chaos.zones_taken == []
    finally:
        assert finish(conf["azchaos_run_id"]) == []
    message = str(refused.value)
    assert "'Lunch'" in message and all(p in message for p in SCALING_PROCESSES), message
    assert "nothing was changed" in message, message
    assert (_instance_states(aws), {g.name: g.suspended for g in describe_groups(aws)}) == before


def test_launch_only_zone_outage_action_reports_what_it_suspended_and_undo_faults_resumes_exactly_that(
        cluster, zone, ns):
    aws = _aws(cluster)
    group = _group(aws, zone)
    # A process the group's owner suspended before the run: the undo must leave it suspended.
    aws.autoscaling.suspend_processes(AutoScalingGroupName=group, ScalingProcesses=["ScheduledActions"])
    conf = {"kubeconfig_path": str(cluster.kubeconfig), "azchaos_run_id": f"ctk-outage-{ns}"}
    try:
        journal = run_experiment(experiment("our Launch-only outage",
                                            [ours("zone_outage", zone=zone, suspend_processes=["Launch"])],
                                            [ours("undo_faults")], conf), settings={})
        after = describe_groups(aws, [group])[0].suspended
    finally:
        aws.autoscaling.resume_processes(AutoScalingGroupName=group, ScalingProcesses=["ScheduledActions"])
    assert journal["status"] == "completed" and not failures(journal), failures(journal)
    out = journal["run"][0]["output"]
    assert out["zone"] == zone and out["stopped"], out
    assert out["suspended"] == {group: ["Launch"]}, out
    assert out["left_active"] == {group: ["HealthCheck", "ReplaceUnhealthy"]}, out
    assert f"suspended {group}: Launch" in out["summary"], out["summary"]
    assert "left active (they terminate stopped instances)" in out["summary"], out["summary"]
    undone = journal["rollbacks"][0]["output"]["undone"]
    assert undone and all(line.startswith("ok") for line in undone), undone
    assert "resumed processes of 1 group(s)" in " ".join(undone), undone
    assert after == frozenset({"ScheduledActions"}), f"the undo resumed {group}'s processes other than Launch"
