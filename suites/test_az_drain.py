"""AZ-DRAIN: drain every node of one zone under traffic, with zero failed requests.
AZ-RESCHED: afterwards all replicas are Ready on the other zones in time, still spread.

Runs on the sample app, or once per --azchaos-target (the variant matching its Service's traffic policy)."""

from __future__ import annotations

import time

import pytest

from pytest_azchaos.checks.downtime import zero_downtime
from pytest_azchaos.checks.preflight import preflight
from pytest_azchaos.checks.rescheduled import rescheduled
from pytest_azchaos.traffic.window import fault_window, settle


@pytest.mark.azchaos_destructive
@pytest.mark.parametrize("azchaos_app", [{"traffic_policy": "Cluster"}, {"traffic_policy": "Local"}],
                         indirect=True, ids=["Cluster", "Local"])
def test_az_drain_zone_under_traffic_loses_nothing_and_reschedules(
        azchaos_cluster, azchaos_app, azchaos_target, azchaos_zone, azchaos_zones, azchaos_traffic, azchaos_chaos,
        azchaos_settings, azchaos_profile, azchaos_run, azchaos_check):
    app = azchaos_app
    # A target's own shape (fewer replicas than zones, no PDB) is a finding, not a reason to skip: the drain
    # shows what it costs. The cluster's (zones, spare capacity) still decides whether the test means anything.
    own = azchaos_target is None
    pre = preflight(azchaos_cluster.core, app.namespace, app.label_selector, zone=azchaos_zone, zones=azchaos_zones,
                    need_pdb=own, replicas_at_least_zones=own)
    if not pre.ok:
        pytest.skip("preflight: " + "; ".join(pre.reasons))
    replicas = app.desired_replicas()
    zones_before = app.pod_zones(azchaos_zones)  # the drained pods are gone afterwards
    prober = azchaos_traffic.start(app)
    settle(1)
    with fault_window(prober) as window:
        since = time.time()
        report = azchaos_chaos.drain_zone(azchaos_zone)
    resched = rescheduled(azchaos_cluster.core, app.namespace, app.label_selector, azchaos_zone, replicas,
                          timeout=azchaos_profile.reschedule_timeout, zones=azchaos_zones, since=since,
                          progress=azchaos_run.progress)
    settle(2)
    recording = prober.stop()
    azchaos_check(zero_downtime(recording, azchaos_settings.error_budget, during=(window[0], None),
                                check_id="AZ-DRAIN", core=azchaos_cluster.core, namespace=app.namespace,
                                pod_zones={**zones_before, **app.pod_zones(azchaos_zones)}))
    azchaos_check(resched)
    assert report.not_evicted == [], report.describe()
