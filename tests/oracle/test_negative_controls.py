"""Negative controls of the rescheduling oracle: workloads Kubernetes is designed NOT to reschedule.

Each test predicts before the fault (the prediction names the cause), injects the fault on an embedded cluster,
runs the check, expects it to FAIL with "expected because <the cause>", and asserts the agreement: what then
happened is what the oracle said.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from pytest_azchaos.apps.app import App
from pytest_azchaos.aws import AwsContext, zone_outage
from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.checks import CheckFailed, require
from pytest_azchaos.checks.rescheduled import rescheduled
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.topology import Topology
from pytest_azchaos.kube.topology import ZoneMap
from pytest_azchaos.oracle import predict_for
from pytest_azchaos.timing import DEFAULT_PROFILE, Profile

from .. import clusters
from .workloads import HOST, ZONE, deployment, spread_on

pytestmark = pytest.mark.azchaos_destructive
#: How long a check watches for a rescheduling the oracle says cannot happen (the scheduler answers in ~1 s).
STUCK_WINDOW = 10.0


def _deploy(cluster: Any, namespace: str, manifest: dict[str, Any], profile: Profile, progress: Any = None) -> App:
    cluster.apps.create_namespaced_deployment(namespace, manifest)
    app = App.existing(cluster, namespace, manifest["metadata"]["name"])
    ready = app.wait_ready(profile.app_ready_timeout, progress)
    assert ready.ok, ready.describe()
    return app


# ---------------------------------------------------------------------- on the session's embedded cluster


def test_zone_spread_without_honor_is_predicted_stuck_before_the_drain_and_the_check_says_expected(
        azchaos_cluster, azchaos_namespace, azchaos_zones, azchaos_chaos, azchaos_predict, azchaos_profile,
        azchaos_run, azchaos_check):
    app = _deploy(azchaos_cluster, azchaos_namespace,
                  deployment("spread", 6, spread=[spread_on(ZONE, honor=False, name="spread")]), azchaos_profile,
                  azchaos_run.progress)
    zone = azchaos_zones.zones()[0]
    prediction = azchaos_predict(app, "drain", zone)
    # named before the fault
    assert not prediction.recovers and "nodeTaintsPolicy is not Honor" in prediction.summary, prediction
    since = time.time()
    azchaos_chaos.drain_zone(zone)
    result = rescheduled(azchaos_cluster.core, app.namespace, app.label_selector, zone, 6, timeout=STUCK_WINDOW,
                         zones=azchaos_zones, since=since, predicted=prediction)
    with pytest.raises(CheckFailed, match=r"AZ-RESCHED FAILED: only 4/6 pods Ready.*expected because .*"
                                          r"nodeTaintsPolicy is not Honor") as failed:
        azchaos_check(result)
    assert "didn't match pod topology spread constraints" in str(failed.value)
    assert result.figures["agrees"] is True, result.message()


def test_per_host_anti_affinity_with_a_replica_per_node_is_predicted_stuck_and_the_check_says_expected(
        azchaos_cluster, azchaos_namespace, azchaos_zones, azchaos_chaos, azchaos_predict, azchaos_profile,
        azchaos_run, azchaos_check):
    replicas = len(azchaos_zones.nodes)
    app = _deploy(azchaos_cluster, azchaos_namespace, deployment("anti", replicas, anti_affinity_per_host=True),
                  azchaos_profile, azchaos_run.progress)
    zone = azchaos_zones.zones()[0]
    prediction = azchaos_predict(app, "drain", zone)
    lost = len(azchaos_zones.nodes_in(zone))
    assert prediction.ready_after == replicas - lost and "required pod anti-affinity" in prediction.summary, prediction
    since = time.time()
    azchaos_chaos.drain_zone(zone)
    result = rescheduled(azchaos_cluster.core, app.namespace, app.label_selector, zone, replicas,
                         timeout=STUCK_WINDOW, zones=azchaos_zones, since=since, predicted=prediction)
    with pytest.raises(CheckFailed, match=rf"AZ-RESCHED FAILED: only {replicas - lost}/{replicas} pods Ready.*"
                                          r"expected because .*required pod anti-affinity") as failed:
        azchaos_check(result)
    assert "didn't match pod anti-affinity rules" in str(failed.value)
    assert result.figures["agrees"] is True, result.message()


def test_a_pending_prediction_that_does_not_happen_reads_unexpected(azchaos_cluster, azchaos_namespace,
                                                                    azchaos_zones, azchaos_chaos, azchaos_predict,
                                                                    azchaos_profile, azchaos_run):
    # A well-spread app recovers; compared with a prediction of another app that was stuck, the check must say
    # the outcome was unexpected rather than claim agreement.
    stuck = _deploy(azchaos_cluster, azchaos_namespace, deployment("stuck", 6, spread=[spread_on(
        ZONE, honor=False, name="stuck")]), azchaos_profile, azchaos_run.progress)
    fine = _deploy(azchaos_cluster, azchaos_namespace, deployment("fine", 3, spread=[spread_on(
        ZONE, honor=True, name="fine")]), azchaos_profile, azchaos_run.progress)
    zone = azchaos_zones.zones()[0]
    wrong = azchaos_predict(stuck, "drain", zone)
    azchaos_chaos.drain_zone(zone)
    result = rescheduled(azchaos_cluster.core, fine.namespace, fine.label_selector, zone, 3,
                         timeout=azchaos_profile.reschedule_timeout, zones=azchaos_zones, predicted=wrong)
    assert result.passed and result.figures["agrees"] is False
    assert "unexpected: the oracle predicted" in result.summary


def test_pdb_that_stuck_replacements_exhaust_is_predicted_to_block_the_drain(
        azchaos_cluster, azchaos_namespace, azchaos_zones, azchaos_chaos, azchaos_predict, azchaos_profile,
        azchaos_run):
    # Zone spread without Honor: the first evicted pod's replacement stays Pending, so the PDB (maxUnavailable 1)
    # has no disruption left for the zone's second pod, whose eviction answers 429 until the drain gives up.
    manifest = deployment("guarded", 6, spread=[spread_on(ZONE, honor=False, name="guarded")])
    app = _deploy(azchaos_cluster, azchaos_namespace, manifest, azchaos_profile, azchaos_run.progress)
    client.PolicyV1Api(azchaos_cluster.api).create_namespaced_pod_disruption_budget(azchaos_namespace, {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "guarded"},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "guarded"}}}})
    zone = azchaos_zones.zones()[0]
    in_zone = {p.metadata.name: p.spec.node_name for p in app.pods()
               if azchaos_zones.zone_of(p.spec.node_name) == zone}
    assert len(in_zone) == 2, in_zone
    prediction = azchaos_predict(app, "drain", zone)
    outcomes = sorted(prediction.outcome_of(name).outcome for name in in_zone)
    assert outcomes == ["blocked", "pending"], prediction
    azchaos_chaos.drain_zone(zone, timeout=STUCK_WINDOW)
    pods = app.pods()
    still = [p for p in pods if p.metadata.name in in_zone and p.metadata.deletion_timestamp is None
             and p.spec.node_name == in_zone[p.metadata.name]]
    pending = [p for p in pods if not p.spec.node_name]
    # agreement: exactly one pod of the zone kept by the PDB, exactly one replacement Pending
    assert (len(still), len(pending)) == (1, 1), [(p.metadata.name, p.spec.node_name, p.status.phase) for p in pods]


# ---------------------------------------------------------------------- a zone of 4 nodes, 3 of them stopped


@pytest.fixture(scope="module")
def four_node_zones(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    """Two zones of four nodes each (EKS-named, with instances in moto): a zone big enough for
    PartialDisruption (more than 2 NotReady and at least 55 %, but not all)."""
    with clusters.own_cluster(tmp_path_factory.mktemp("partial"), topology=Topology.make(zones=2,
                                                                                          nodes_per_zone=4)) as h:
        yield h


def test_three_of_four_nodes_stopped_is_predicted_no_eviction_and_the_check_failure_names_partial_disruption(
        four_node_zones: ClusterHandle, tmp_path: Path) -> None:
    profile = Profile.by_name(DEFAULT_PROFILE)
    tolerate = 2
    with clusters.plugin_cluster(four_node_zones) as cluster:
        core = cluster.core
        with clusters.fresh_namespace(core, "partial") as ns:
            app = _deploy(cluster, ns, deployment("partial", 8, tolerate=tolerate, spread=[
                spread_on(ZONE, honor=True, name="partial"), spread_on(HOST, honor=True, name="partial")]), profile)
            zones = ZoneMap.read(core)
            zone = zones.zones()[1]
            stop = [n.name for n in zones.nodes_in(zone)][:3]
            prediction = predict_for(core, ns, app.label_selector, "power-off", zone, profile, nodes=stop)
            assert "no eviction: partial disruption" in prediction.summary, prediction
            on_stopped = [p.pod for p in prediction.affected()]
            assert len(on_stopped) == 3 and {p.outcome for p in prediction.affected()} == {"stays"}, prediction
            ctx = AwsContext.for_kubeconfig(four_node_zones.kubeconfig, state_timeout=20, poll_interval=0.2)
            ledger = Ledger(cluster, path=tmp_path / "ledger.json")
            stopped = [n for n in core.list_node().items if n.metadata.name in stop]
            since = time.time()
            outage = zone_outage(ctx, ledger, zone, nodes=stopped)
            try:
                # Long enough for an eviction to have happened and been replaced, were the zone Normal.
                window = profile.taint_eviction_after(tolerate) + 5
                result = rescheduled(core, ns, app.label_selector, zone, 8, timeout=window, zones=zones,
                                     since=since, predicted=prediction)
                with pytest.raises(CheckFailed, match=r"AZ-RESCHED FAILED: only 5/8 pods Ready.*expected because "
                                                      r"no eviction: partial disruption") as failed:
                    require(result)
                assert "3 of 4 node(s)" in str(failed.value)
                assert result.figures["agrees"] is True, result.message()
                # What the node lifecycle controller did agrees too: no NoExecute taint, no pod deleted.
                for name in stop:
                    taints = core.read_node(name).spec.taints or []
                    assert not [t for t in taints if t.effect == "NoExecute"], (name, taints)
                pods = {p.metadata.name: p for p in core.list_namespaced_pod(ns, label_selector=app.label_selector)
                        .items}
                for name in on_stopped:
                    assert name in pods and pods[name].metadata.deletion_timestamp is None, name
            finally:
                outage.undo()
