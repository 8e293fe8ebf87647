"""Negative controls: every check fails on a misconfigured variant of the sample apps, with its message.

A check that never fails is a defect. Each test deploys a misconfigured app through the public fixtures,
runs the matching check the way the suites do, and expects it to FAIL with evidence in the message.
"""

from __future__ import annotations

import time

import pytest

from pytest_azchaos.apps import EchoSpec, StatefulSpec
from pytest_azchaos.checks import CheckFailed
from pytest_azchaos.checks.downtime import zero_downtime
from pytest_azchaos.checks.ebs import volume_writable, volumes_in_node_zone
from pytest_azchaos.checks.preflight import preflight
from pytest_azchaos.checks.rescheduled import rescheduled
from pytest_azchaos.checks.source_ip import source_ip_preserved
from pytest_azchaos.checks.spread import balance, spread
from pytest_azchaos.traffic.window import fault_window, settle

from .docs.capture import capture_failure

pytestmark = pytest.mark.azchaos_destructive


def test_one_replica_fails_az_drain_naming_the_failure_window(azchaos_cluster, azchaos_deploy, azchaos_traffic,
                                                               azchaos_chaos, azchaos_zones, azchaos_check):
    # One replica, pinned to the zone that goes away: its replacement has nowhere to run.
    zone = azchaos_zones.zones()[0]
    app = azchaos_deploy(EchoSpec(replicas=1, pdb_max_unavailable=None, spread="one-zone", pinned_zone=zone))
    prober = azchaos_traffic.start(app)
    settle(1)
    with fault_window(prober) as window:
        azchaos_chaos.drain_zone(zone)
    settle(2)
    recording = prober.stop()
    with pytest.raises(CheckFailed, match=r"AZ-DRAIN FAILED: \d+ of \d+ requests failed") as failed:
        azchaos_check(zero_downtime(recording, 0.0, during=(window[0], None), check_id="AZ-DRAIN",
                                    core=azchaos_cluster.core, namespace=app.namespace))
    assert "window" in str(failed.value)
    capture_failure("AZ-DRAIN", failed.value)


def test_all_replicas_in_one_zone_fail_az_topo(azchaos_cluster, azchaos_deploy, azchaos_zones, azchaos_check):
    app = azchaos_deploy(EchoSpec(replicas=3, spread="one-zone"))
    with pytest.raises(CheckFailed, match="AZ-TOPO FAILED") as failed:
        azchaos_check(spread(azchaos_cluster.core, app.namespace, app.label_selector, azchaos_zones))
    assert "skew" in str(failed.value)
    capture_failure("AZ-TOPO", failed.value)


def test_no_pdb_and_one_replica_fail_preflight(azchaos_cluster, azchaos_deploy, azchaos_zones):
    app = azchaos_deploy(EchoSpec(replicas=1, pdb_max_unavailable=None, spread="none"))
    pre = preflight(azchaos_cluster.core, app.namespace, app.label_selector, zones=azchaos_zones)
    assert not pre.ok
    text = " ".join(pre.reasons)
    assert "PodDisruptionBudget" in text or "PDB" in text
    assert "replica" in text


def test_shutdown_without_delay_drops_requests_during_a_drain(azchaos_cluster, azchaos_deploy, azchaos_traffic,
                                                              azchaos_chaos, azchaos_zones, azchaos_check):
    app = azchaos_deploy(EchoSpec(delay_shutdown=0, prestop_sleep=0, readiness_period=5))
    zone = azchaos_zones.zones()[0]
    prober = azchaos_traffic.start(app, rate=100)
    settle(1)
    with fault_window(prober) as window:
        azchaos_chaos.drain_zone(zone)
    settle(2)
    recording = prober.stop()
    with pytest.raises(CheckFailed, match="AZ-DRAIN FAILED") as failed:
        azchaos_check(zero_downtime(recording, 0.0, during=(window[0], None), check_id="AZ-DRAIN",
                                    core=azchaos_cluster.core, namespace=app.namespace))
    capture_failure("AZ-DRAIN", failed.value, name="no-graceful-shutdown")


def test_cluster_policy_fails_the_source_ip_preserved_check(azchaos_deploy, azchaos_traffic, azchaos_zones,
                                                            azchaos_check):
    app = azchaos_deploy(EchoSpec(traffic_policy="Cluster", replicas=3))
    prober = azchaos_traffic.start(app)
    settle(1)
    recording = prober.stop()
    nodes = {n.address: n.name for n in azchaos_zones.nodes if n.address}
    with pytest.raises(CheckFailed, match="AZ-SRCIP FAILED") as failed:
        azchaos_check(source_ip_preserved(recording, nodes))
    assert "(node" in str(failed.value)
    capture_failure("AZ-SRCIP", failed.value)


def test_uneven_placement_under_local_fails_az_balance(azchaos_deploy, azchaos_traffic, azchaos_zones,
                                                       azchaos_check):
    # Pods in two zones only (1 + 2): each zone's address sends its third of the traffic to its own pods,
    # so the lone pod serves ~44% and the pair ~28% each (the empty zone's third spreads over all).
    app = azchaos_deploy(EchoSpec(traffic_policy="Local", replicas=3, spread="none", cross_zone=False))
    zones = azchaos_zones.zones()
    app.cluster.apps.patch_namespaced_deployment(app.name, app.namespace, {"spec": {"template": {"spec": {
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In",
                                   "values": zones[:2]}]}]}}}}}}})
    deadline = time.time() + 60
    while time.time() < deadline:
        pods = app.ready_pods()
        placed = {azchaos_zones.zone_of(p.spec.node_name) for p in pods}
        if len(pods) == 3 and placed <= set(zones[:2]) and len(app.pods()) == 3:
            break
        time.sleep(0.5)
    time.sleep(3)  # the NLB's targets follow the new placement
    prober = azchaos_traffic.start(app, rate=100)
    settle(3)
    recording = prober.stop()
    with pytest.raises(CheckFailed, match="AZ-BALANCE FAILED") as failed:
        azchaos_check(balance(recording, app.pod_zones(azchaos_zones), tolerance=0.15))
    capture_failure("AZ-BALANCE", failed.value)


def test_zone_spread_without_honor_strands_replacements_and_fails_az_resched(
        azchaos_cluster, azchaos_deploy, azchaos_chaos, azchaos_zones, azchaos_run, azchaos_check):
    app = azchaos_deploy(EchoSpec(spread="zone-ignore-taints", pdb_max_unavailable=None))
    zone = azchaos_zones.zones()[0]
    since = time.time()
    azchaos_chaos.drain_zone(zone)
    with pytest.raises(CheckFailed, match="AZ-RESCHED FAILED") as failed:
        azchaos_check(rescheduled(azchaos_cluster.core, app.namespace, app.label_selector, zone, 6, timeout=8,
                                  zones=azchaos_zones, since=since, progress=azchaos_run.progress))
    assert "didn't match pod topology spread constraints" in str(failed.value)
    capture_failure("AZ-RESCHED", failed.value)


def test_non_root_writer_without_fsgroup_fails_az_ebs_perm(azchaos_deploy_stateful, azchaos_check):
    app = azchaos_deploy_stateful(StatefulSpec(replicas=1, fs_group=None))
    pod = app.pods()[0].metadata.name
    result = app.exec(pod, ["sh", "-c", "echo x > /data/perm-check"])
    with pytest.raises(CheckFailed, match="Permission denied") as failed:
        azchaos_check(volume_writable(result, pod, "/data/perm-check", run_as_user=1000, fs_group=None))
    assert "securityContext.fsGroup" in str(failed.value)
    capture_failure("AZ-EBS-PERM", failed.value)


def test_immediate_binding_pinned_to_the_wrong_zone_fails_az_ebs_bind(azchaos_cluster, azchaos_deploy_stateful,
                                                                     azchaos_zones, azchaos_check):
    from kubernetes import client

    zones = azchaos_zones.zones()
    storage = client.StorageV1Api(azchaos_cluster.api)
    name = f"immediate-{zones[0]}-{int(time.time())}"
    storage.create_storage_class(client.V1StorageClass(
        metadata=client.V1ObjectMeta(name=name, labels={"app.kubernetes.io/managed-by": "pytest-azchaos"}),
        provisioner="ebs.csi.aws.com", volume_binding_mode="Immediate",
        allowed_topologies=[client.V1TopologySelectorTerm(match_label_expressions=[
            client.V1TopologySelectorLabelRequirement(key="topology.kubernetes.io/zone", values=[zones[0]])])]))
    try:
        app = azchaos_deploy_stateful(StatefulSpec(replicas=1, storage_class=name,
                                                   node_selector={"topology.kubernetes.io/zone": zones[1]}),
                                      wait=False)
        time.sleep(3)
        with pytest.raises(CheckFailed, match="AZ-EBS-BIND FAILED") as failed:
            azchaos_check(volumes_in_node_zone(azchaos_cluster.core, app.namespace, app.label_selector,
                                               azchaos_zones))
        assert "PersistentVolume's node affinity" in str(failed.value)
        capture_failure("AZ-EBS-BIND", failed.value)
    finally:
        storage.delete_storage_class(name)


def test_one_zone_app_fails_az_outage_with_evidence(azchaos_cluster, azchaos_deploy, azchaos_traffic, azchaos_chaos,
                                                    azchaos_zones, azchaos_aws, azchaos_profile, azchaos_run,
                                                    azchaos_check):
    zone = azchaos_zones.zones()[0]
    app = azchaos_deploy(EchoSpec(replicas=2, spread="one-zone", pinned_zone=zone, pdb_max_unavailable=None))
    prober = azchaos_traffic.start(app)
    settle(1)
    since = time.time()
    with fault_window(prober) as window:
        azchaos_chaos.zone_outage(zone, azchaos_aws)
    back = rescheduled(azchaos_cluster.core, app.namespace, app.label_selector, zone, 2, timeout=12,
                       zones=azchaos_zones, since=since, progress=azchaos_run.progress, check_id="AZ-OUTAGE")
    recording = prober.stop()
    allowed = int(recording.rate * (azchaos_profile.lb_unhealthy_after(False) + 2))
    with pytest.raises(CheckFailed, match="AZ-OUTAGE FAILED") as failed:
        azchaos_check(zero_downtime(recording, max_failed=allowed, during=(window[0], None), check_id="AZ-OUTAGE",
                                    core=azchaos_cluster.core, namespace=app.namespace))
    assert "failure window" in str(failed.value)
    capture_failure("AZ-OUTAGE", failed.value)
    with pytest.raises(CheckFailed, match="AZ-OUTAGE FAILED") as stranded:
        azchaos_check(back)
    assert "didn't match Pod's node affinity/selector" in str(stranded.value)
    capture_failure("AZ-OUTAGE", stranded.value, name="stranded")
