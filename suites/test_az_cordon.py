"""AZ-CORDON: cordon a zone: running pods keep serving, new pods avoid the zone."""

from __future__ import annotations

import time

import pytest

from pytest_azchaos.checks.cordon import new_pods_avoid
from pytest_azchaos.checks.downtime import zero_downtime
from pytest_azchaos.traffic.window import settle


@pytest.mark.azchaos_destructive
def test_az_cordon_zone_keeps_serving_and_new_pods_avoid_it(
        azchaos_cluster, azchaos_app, azchaos_target, azchaos_zone, azchaos_zones, azchaos_traffic, azchaos_chaos,
        azchaos_settings, azchaos_profile, azchaos_check):
    app = azchaos_app
    if azchaos_target is not None:
        pytest.skip(f"AZ-CORDON scales the workload up by 3 replicas to see where new pods land, and the plugin "
                    f"never changes a target's spec: {azchaos_target.id} is left alone (the sample app runs it "
                    "without --azchaos-target)")
    prober = azchaos_traffic.start(app)
    settle(1)
    azchaos_chaos.cordon_zone(azchaos_zone)
    since = time.time()
    azchaos_cluster.apps.patch_namespaced_deployment_scale(app.name, app.namespace,
                                                           {"spec": {"replicas": app.desired_replicas() + 3}})
    azchaos_check(new_pods_avoid(azchaos_cluster.core, app.namespace, app.label_selector, azchaos_zone, since,
                                 zones=azchaos_zones, min_new=3,
                                 timeout=azchaos_profile.cordon_settle_timeout, check_id="AZ-CORDON"))
    settle(1)
    recording = prober.stop()
    azchaos_check(zero_downtime(recording, azchaos_settings.error_budget, check_id="AZ-CORDON",
                                core=azchaos_cluster.core, namespace=app.namespace))
