"""AZ-PARTITION: cut a zone's subnets off with a deny-all network ACL (as FIS's disrupt-connectivity does) under
traffic. The zone's instances keep running (split brain): the service keeps serving through the other zones after
the detection window, the zone's nodes go NotReady, Deployments are replaced elsewhere, StatefulSet pods stay
Terminating on their volumes; once the ACL is gone the zone heals without a second writer on any volume."""

from __future__ import annotations

import time

import pytest

from pytest_azchaos.checks.partition import (
    WriterWatch,
    healed,
    serves_through,
    stateful_held,
    stateful_pods_in,
    zone_unreachable,
)
from pytest_azchaos.checks.rescheduled import rescheduled
from pytest_azchaos.traffic.window import fault_window, settle


@pytest.mark.azchaos_destructive
@pytest.mark.parametrize("azchaos_echo_app", [{"traffic_policy": "Cluster"}, {"traffic_policy": "Local"}],
                         indirect=True, ids=["Cluster", "Local"])
def test_az_partition_service_keeps_serving_and_split_brain_expectations_hold(
        azchaos_cluster, azchaos_echo_app, azchaos_deploy_stateful, azchaos_zone, azchaos_zones, azchaos_traffic,
        azchaos_chaos, azchaos_aws, azchaos_profile, azchaos_run, azchaos_predict, azchaos_check):
    app = azchaos_echo_app
    profile = azchaos_profile
    core = azchaos_cluster.core
    toleration = profile.app_node_loss_toleration
    stateful = azchaos_deploy_stateful(node_loss_toleration=toleration)
    held = stateful_pods_in(core, stateful.namespace, stateful.label_selector, azchaos_zone, azchaos_zones)
    if not held:
        pytest.skip(f"no StatefulSet pod of {stateful.name} runs in {azchaos_zone}")
    replicas = app.desired_replicas()
    zones_before = app.pod_zones(azchaos_zones)
    local = app.spec.traffic_policy == "Local"
    # What Kubernetes will do, predicted from the cluster's state before the fault (the oracle).
    predicted = azchaos_predict(app, "partition", azchaos_zone)
    predicted_held = azchaos_predict(stateful, "partition", azchaos_zone)
    watch = WriterWatch(core, stateful.namespace, interval=profile.cloud_poll_interval).start()
    prober = azchaos_traffic.start(app)
    settle(1)
    since = time.time()
    with fault_window(prober) as window:
        partition = azchaos_chaos.zone_partition(azchaos_zone, aws=azchaos_aws)
    cut = prober.elapsed_at(partition.cut_at)  # after the checks and the ledger: the detection window starts here
    azchaos_check(zone_unreachable(core, azchaos_zone, profile.partition_detection_window(local)
                                   + profile.heartbeat_loss_detection(), progress=azchaos_run.progress))
    evicted_after = profile.taint_eviction_after(toleration)
    recover = azchaos_check(rescheduled(core, app.namespace, app.label_selector, azchaos_zone, replicas,
                                        timeout=evicted_after + profile.reschedule_timeout, zones=azchaos_zones,
                                        since=since, progress=azchaos_run.progress, check_id="AZ-PARTITION",
                                        predicted=predicted))
    assert recover.figures.get("agrees"), (f"unexpected: {recover.figures.get('observed')}; the oracle predicted "
                                           f"{predicted.summary}")
    held_result = azchaos_check(stateful_held(core, stateful.namespace, held,
                                              evicted_after + profile.cloud_poll_interval,
                                              progress=azchaos_run.progress, predicted=predicted_held))
    assert held_result.figures.get("agrees"), (f"unexpected: {held_result.figures.get('observed')}; the oracle "
                                               f"predicted {predicted_held.summary}")
    settle(2)
    recording = prober.stop()
    assert window[0] is not None and window[0] <= cut
    azchaos_check(serves_through(recording, cut, profile.partition_detection_window(local), core=core,
                                 namespace=app.namespace,
                                 pod_zones={**zones_before, **app.pod_zones(azchaos_zones)}))
    azchaos_chaos.undo_all()  # the original network ACLs back on the zone's subnets
    azchaos_check(healed(core, stateful.namespace, azchaos_zone, held,
                         profile.zone_return_timeout + profile.stateful_ready_timeout, progress=azchaos_run.progress))
    azchaos_check(watch.stop().judge())
