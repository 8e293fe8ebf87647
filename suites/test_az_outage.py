"""AZ-OUTAGE: stop a zone's instances through the AWS API under traffic: nodes go NotReady, pods are evicted
and come back elsewhere in time, the service stays inside the outage budget; then the zone's capacity comes back
(the same instances: none terminated by its Auto Scaling group meanwhile) and the zone rejoins."""

from __future__ import annotations

import time

import pytest

from pytest_azchaos.chaos.facade import ChaosUnsupported
from pytest_azchaos.checks.downtime import zero_downtime
from pytest_azchaos.checks.outage_capacity import instances_came_back
from pytest_azchaos.checks.rescheduled import rescheduled
from pytest_azchaos.kube.topology import ZoneMap
from pytest_azchaos.kube.wait import wait_until
from pytest_azchaos.traffic.window import fault_window, settle

# Until the load balancer sees the stopped targets fail their health checks, new flows to that zone's
# address fail. The budget: the probe's traffic for the profile's unhealthy-detection time plus 2 s.
EXTRA_SECONDS = 2.0


@pytest.mark.azchaos_destructive
def test_az_outage_zone_instances_stopped_service_recovers_and_zone_rejoins(
        azchaos_cluster, azchaos_echo_app, azchaos_zone, azchaos_zones, azchaos_traffic, azchaos_chaos, azchaos_aws,
        azchaos_profile, azchaos_run, azchaos_settings, azchaos_predict, azchaos_check):
    app = azchaos_echo_app
    core = azchaos_cluster.core
    replicas = app.desired_replicas()
    zones_before = app.pod_zones(azchaos_zones)  # pods on the lost nodes are gone afterwards
    lost_pods = [p.metadata.name for p in app.pods() if azchaos_zones.zone_of(p.spec.node_name) == azchaos_zone]
    prediction = azchaos_predict(app, "power-off", azchaos_zone)
    prober = azchaos_traffic.start(app)
    settle(1)
    since = time.time()
    with fault_window(prober) as window:
        try:
            outage = azchaos_chaos.zone_outage(azchaos_zone, azchaos_aws)
        except ChaosUnsupported as e:  # EKS Auto Mode: no StopInstances; nothing was changed
            pytest.skip(str(e))
    toleration = app.spec.node_loss_toleration if app.spec.node_loss_toleration is not None else 300
    recover = rescheduled(core, app.namespace, app.label_selector, azchaos_zone, replicas,
                          timeout=azchaos_profile.taint_eviction_after(toleration)
                          + azchaos_profile.reschedule_timeout, zones=azchaos_zones,
                          since=since, progress=azchaos_run.progress, check_id="AZ-OUTAGE", predicted=prediction)
    settle(2)
    recording = prober.stop()
    allowed = int(azchaos_settings.rate * (azchaos_profile.lb_unhealthy_after(app.spec.traffic_policy == "Local")
                                           + EXTRA_SECONDS))
    azchaos_check(zero_downtime(recording, max_failed=allowed, during=(window[0], None), check_id="AZ-OUTAGE",
                                core=core, namespace=app.namespace,
                                pod_zones={**zones_before, **app.pod_zones(azchaos_zones)}))
    azchaos_check(recover)
    assert recover.figures.get("agrees"), f"unexpected: {recover.figures.get('observed')}; the oracle predicted " \
                                          f"{prediction.summary}"
    # Power-off, not drain: the evicted pods stay Terminating on their unreachable nodes until the zone returns.
    still = {p.metadata.name: p for p in core.list_namespaced_pod(app.namespace, label_selector=app.label_selector)
             .items if p.metadata.name in lost_pods}
    predicted_terminating = [p.pod for p in prediction.pods if p.outcome in ("moves", "pending", "terminating")
                             and not p.node_replaced]
    not_terminating = [n for n in predicted_terminating
                       if n not in still or still[n].metadata.deletion_timestamp is None]
    assert not not_terminating, (f"unexpected: pod(s) {', '.join(not_terminating)} of the stopped zone are not "
                                 "Terminating on their unreachable nodes (gone or still running); the oracle "
                                 f"predicted:\n{prediction}")
    # On Karpenter's nodes the stop is a replacement: those pods are deleted with their node, not left Terminating.
    kept = sorted(p.pod for p in prediction.pods if p.node_replaced and p.pod in still)
    assert not kept, (f"unexpected: pod(s) {', '.join(kept)} of stopped Karpenter nodes still exist (Karpenter "
                      f"replaces a stopped node: drained, NodeClaim deleted, instance terminated); the oracle "
                      f"predicted:\n{prediction}")
    azchaos_chaos.undo_all()  # start the instances, resume the groups
    azchaos_check(instances_came_back(outage))  # none terminated while stopped (a group's ReplaceUnhealthy)
    rejoined = wait_until(lambda: ZoneMap.read(core).nodes_in(azchaos_zone),
                          lambda nodes: bool(nodes) and all(n.ready for n in nodes),
                          timeout=azchaos_profile.zone_return_timeout,
                          what=f"nodes of {azchaos_zone} Ready again", progress=azchaos_run.progress)
    assert rejoined.ok, rejoined.describe()
