"""A zone outage whose stopped instances get terminated: the fault takes the processes to suspend (validated), the
watch and the undo name each terminated instance with its node and group, the undo still resumes exactly what the
run suspended, and AZ-OUTAGE's capacity check fails naming them. Embedded cluster's moto server, boto3 only."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_azchaos.aws import AwsContext, describe_groups, zone_outage
from pytest_azchaos.aws.asg import SCALING_PROCESSES
from pytest_azchaos.chaos.facade import Chaos
from pytest_azchaos.chaos.target import ChaosInputError
from pytest_azchaos.checks.outage_capacity import instances_came_back
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.report.progress import TerminalProgress
from pytest_azchaos.run import Run
from pytest_azchaos.settings import Settings
from pytest_azchaos.timing import Profile

from ..embedded.waiting import wait_for
from .conftest import states

ZONE = "us-east-1b"
OTHER_ZONE = "us-east-1c"  # a test that terminates an instance leaves its zone short: the next one uses another


def zone_group(ctx: AwsContext, zone: str = ZONE) -> str:
    return next(g.name for g in describe_groups(ctx) if g.zones == (zone,))


def suspended(ctx: AwsContext, zone: str = ZONE) -> frozenset[str]:
    return describe_groups(ctx, [zone_group(ctx, zone)])[0].suspended


def terminate_if_not_yet(ctx: AwsContext, iid: str) -> None:
    """A user (or the group) terminates a stopped instance during the outage."""
    if states(ctx).get(iid) not in ("shutting-down", "terminated"):
        ctx.ec2.terminate_instances(InstanceIds=[iid])
    wait_for(lambda: states(ctx).get(iid), lambda s: s in ("terminated", None), timeout=30,
             what=f"{iid} terminated")


def test_unknown_process_name_is_refused_naming_the_valid_ones_and_changes_nothing(ctx, core, ledger) -> None:
    before, held = states(ctx), suspended(ctx)
    with pytest.raises(ValueError, match="unknown Auto Scaling process") as refused:
        zone_outage(ctx, ledger, ZONE, nodes=core.list_node().items, suspend_processes=("Launch", "Lunch"))
    assert "'Lunch'" in str(refused.value) and all(p in str(refused.value) for p in SCALING_PROCESSES)
    assert "nothing was changed" in str(refused.value)
    assert (states(ctx), suspended(ctx), ledger.entries) == (before, held, [])


def test_facade_refuses_an_unknown_process_as_bad_input_before_lock_and_ledger(cluster, ctx, tmp_path) -> None:
    kube = Cluster(cluster.kubeconfig)
    try:
        settings = Settings(kubeconfig=Path(cluster.kubeconfig), cluster="kubeconfig", report_dir=tmp_path)
        run = Run.start(1, TerminalProgress(lambda line: None), tmp_path)
        chaos = Chaos(kube, settings, run, Profile.by_name("fast"), "bad-processes")
        with pytest.raises(ChaosInputError, match="valid ones are Launch, Terminate"):
            chaos.zone_outage(ZONE, ctx, suspend_processes=["HealthChecks"])
        assert chaos.ledger is None and chaos.lock is None and chaos.zones_taken == []
    finally:
        kube.close()


def test_instance_terminated_during_a_default_outage_is_named_by_the_check_and_the_undo(ctx, core, ledger) -> None:
    group = zone_group(ctx)
    before_suspended = suspended(ctx)
    outage = zone_outage(ctx, ledger, ZONE, nodes=core.list_node().items)
    try:
        assert outage.active == {}, "the default suspends HealthCheck and ReplaceUnhealthy"
        kept = instances_came_back(outage)
        assert kept.passed, kept.message()
        victim = outage.stopped[0]
        node = outage.undo_record["nodes"][victim]
        terminate_if_not_yet(ctx, victim)
        judged = instances_came_back(outage)
        assert not judged.passed and not judged.inconclusive, judged.message()
        message = judged.message()
        assert message.startswith("AZ-OUTAGE FAILED: the zone's capacity did not come back: instances "
                                  f"{victim} (node {node}) in group {group} were terminated by something outside "
                                  "this run"), message
    finally:
        result = outage.undo()
    assert result.ok, result.detail
    assert [t.instance_id for t in result.terminated] == [victim]
    assert f"not started: {victim} (node {node}) in group {group}" in result.detail, result.detail
    assert suspended(ctx) == before_suspended, "undo resumes exactly what the run suspended"
    others = [i for i in outage.stopped if i != victim]
    assert others and all(states(ctx)[i] == "running" for i in others), states(ctx)
    assert ledger.pending() == []


def test_launch_only_outage_leaves_health_replacement_active_and_restore_names_the_terminated(ctx, core,
                                                                                              ledger) -> None:
    group = zone_group(ctx, OTHER_ZONE)
    before_suspended = suspended(ctx, OTHER_ZONE)
    outage = zone_outage(ctx, ledger, OTHER_ZONE, nodes=core.list_node().items, suspend_processes=("Launch",))
    assert ledger.entries[0].undo["processes"] == {group: ["Launch"]}
    assert ledger.entries[0].undo["active"] == {group: ["HealthCheck", "ReplaceUnhealthy"]}
    assert suspended(ctx, OTHER_ZONE) == before_suspended | {"Launch"}
    assert "left active (they terminate stopped instances)" in outage.describe()
    victim = outage.stopped[0]
    terminate_if_not_yet(ctx, victim)  # the group's ReplaceUnhealthy (or, without it, boto3)
    judged = instances_came_back(outage)
    assert not judged.passed, judged.message()
    assert f"{victim} (node {outage.undo_record['nodes'][victim]})" in judged.summary, judged.summary
    assert f"in group {group} were terminated by the group's health replacement: HealthCheck, ReplaceUnhealthy " \
           "were not suspended" in judged.summary, judged.summary
    outcomes = ledger.replay()  # as `azchaos restore` does it: from the record alone
    assert [(o.kind, o.ok) for o in outcomes] == [("aws.zone-outage", True)], outcomes
    assert f"not started: {victim}" in outcomes[0].detail, outcomes[0].detail
    assert suspended(ctx, OTHER_ZONE) == before_suspended
    lost = {i for i in outage.stopped if f"not started: {i}" in outcomes[0].detail}
    assert all(states(ctx)[i] == "running" for i in outage.stopped if i not in lost), states(ctx)
