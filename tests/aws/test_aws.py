"""The plugin's aws/ package against the embedded cluster's moto server, through boto3 only."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from pytest_azchaos.aws import (
    OUTAGE_PROCESSES,
    AwsConfigError,
    AwsContext,
    UnknownInstanceError,
    describe_groups,
    node_instances,
    preflight,
    pv_volumes,
    zone_outage,
)

from ..embedded.waiting import wait_for
from .conftest import states

ZONE = "us-east-1a"


def suspended(ctx: AwsContext) -> dict[str, frozenset[str]]:
    return {g.name: g.suspended for g in describe_groups(ctx)}


def ready(core: client.CoreV1Api, name: str) -> str:
    return next(c.status for c in core.read_node(name).status.conditions if c.type == "Ready")


def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS settings from this machine leak in (and no slow instance-metadata lookup)."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
                "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_nodes_map_to_their_instances_and_zones(ctx: AwsContext, core: client.CoreV1Api) -> None:
    rows = node_instances(ctx, core.list_node().items)
    assert len(rows) == 6
    for row in rows:
        assert row.instance is not None and row.instance.id == row.instance_id
        assert row.instance.zone == row.zone
        assert row.instance.asg and row.instance.state == "running"
    assert sorted({r.zone for r in rows}) == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_nodes_map_from_plain_dicts_too(ctx: AwsContext, core: client.CoreV1Api) -> None:
    raw = [core.api_client.sanitize_for_serialization(n) for n in core.list_node().items]
    assert {r.instance_id for r in node_instances(ctx, raw)} == set(states(ctx))


def test_wrong_region_is_a_clear_error_and_changes_nothing(cluster, ctx, core, ledger) -> None:
    before, groups = states(ctx), suspended(ctx)
    west = AwsContext.for_kubeconfig(cluster.kubeconfig, region="us-west-2")
    with pytest.raises(AwsConfigError, match=r"region is 'us-west-2' but the cluster's zone\(s\) us-east-1a .*"
                                             r"set AWS_REGION=us-east-1"):
        zone_outage(west, ledger, ZONE, nodes=core.list_node().items)
    assert (states(ctx), suspended(ctx), ledger.entries) == (before, groups, [])


def test_unknown_region_name_is_a_clear_error(cluster) -> None:
    with pytest.raises(AwsConfigError, match="unknown AWS region 'us-east-9'"):
        AwsContext.for_kubeconfig(cluster.kubeconfig, region="us-east-9")


def test_missing_credentials_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolated_env(monkeypatch, tmp_path)
    with pytest.raises(AwsConfigError, match=r"no AWS credentials found: set AWS_ACCESS_KEY_ID"):
        AwsContext.from_environment({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})


def test_missing_region_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolated_env(monkeypatch, tmp_path)
    with pytest.raises(AwsConfigError, match="no AWS region is configured: set AWS_REGION"):
        AwsContext.from_environment({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"})


def test_unknown_instance_id_is_a_clear_error_and_changes_nothing(ctx, core, ledger) -> None:
    before, groups = states(ctx), suspended(ctx)
    with pytest.raises(UnknownInstanceError, match=r"i-0123456789abcdef0.* does not exist.*nothing was changed"):
        zone_outage(ctx, ledger, ZONE, nodes=core.list_node().items, instance_ids=["i-0123456789abcdef0"])
    assert (states(ctx), suspended(ctx), ledger.entries) == (before, groups, [])


def test_instance_of_another_zone_is_refused_and_changes_nothing(ctx, core, ledger) -> None:
    other = next(r.instance_id for r in node_instances(ctx, core.list_node().items) if r.zone != ZONE)
    before = states(ctx)
    with pytest.raises(UnknownInstanceError, match=rf"{other} \(in us-east-1[bc]\) are not in zone {ZONE}"):
        zone_outage(ctx, ledger, ZONE, instance_ids=[other])
    assert (states(ctx), ledger.entries) == (before, [])


def test_preflight_finds_one_group_per_zone_and_the_ebs_zones(ctx, core) -> None:
    vol = ctx.ec2.create_volume(AvailabilityZone="us-east-1b", Size=1, VolumeType="gp3")["VolumeId"]
    pv = {"metadata": {"name": "pv-1"}, "spec": {
        "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": vol},
        "claimRef": {"namespace": "ns", "name": "data-0"},
        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-east-1b"]}]}]}}}}
    [row] = pv_volumes(ctx, [pv])
    assert (row.volume_id, row.volume_zone, row.pv_zone, row.claim, row.agrees) == (
        vol, "us-east-1b", "us-east-1b", "ns/data-0", True)
    report = preflight(ctx, core.list_node().items, [pv], outage_zone=ZONE)
    assert report.ok, report.describe()
    assert report.ebs_zones == {"us-east-1b"}
    assert all(c.has_own_group and c.running == 2 for c in report.zones.values())
    ctx.ec2.delete_volume(VolumeId=vol)


def test_zone_outage_stops_the_zone_and_undo_restores_everything(ctx, core, ledger) -> None:
    nodes = core.list_node().items
    zone_nodes = [n.metadata.name for n in nodes if n.metadata.labels["topology.kubernetes.io/zone"] == ZONE]
    before, groups = states(ctx), suspended(ctx)
    outage = zone_outage(ctx, ledger, ZONE, nodes=nodes)
    try:
        assert [e.kind for e in ledger.entries] == ["aws.zone-outage"]
        assert ledger.entries[0].undo["instances"] == outage.stopped
        now = states(ctx)
        assert {i for i, s in now.items() if s == "stopped"} == set(outage.stopped) and len(outage.stopped) == 2
        [group] = outage.suspended
        assert suspended(ctx)[group] == frozenset(OUTAGE_PROCESSES)
        for name in zone_nodes:
            wait_for(lambda n=name: ready(core, n), lambda s: s != "True", timeout=15, what=f"{name} NotReady")
        assert len(describe_groups(ctx, [group])[0].instance_ids) == 2  # Launch suspended: nothing replaced
    finally:
        result = outage.undo()
    assert result.ok, result.detail
    assert (states(ctx), suspended(ctx)) == (before, groups)
    assert ledger.pending() == []
    for name in zone_nodes:
        wait_for(lambda n=name: ready(core, n), lambda s: s == "True", timeout=15, what=f"{name} Ready")


def test_ledger_replay_undoes_a_zone_outage_from_the_kubeconfig_alone(ctx, core, ledger) -> None:
    before, groups = states(ctx), suspended(ctx)
    zone_outage(ctx, ledger, ZONE, nodes=core.list_node().items, wait=False)
    outcomes = ledger.replay()
    assert [(o.kind, o.ok) for o in outcomes] == [("aws.zone-outage", True)]
    assert (states(ctx), suspended(ctx)) == (before, groups)


def test_processes_suspended_before_the_run_stay_suspended_after_undo(ctx, core, ledger) -> None:
    group = next(g.name for g in describe_groups(ctx) if g.zones == (ZONE,))
    ctx.autoscaling.suspend_processes(AutoScalingGroupName=group, ScalingProcesses=["AZRebalance"])
    try:
        outage = zone_outage(ctx, ledger, ZONE, nodes=core.list_node().items)
        assert "AZRebalance" not in outage.suspended[group]
        assert outage.undo().ok
        assert suspended(ctx)[group] == frozenset({"AZRebalance"})
    finally:
        ctx.autoscaling.resume_processes(AutoScalingGroupName=group, ScalingProcesses=["AZRebalance"])
