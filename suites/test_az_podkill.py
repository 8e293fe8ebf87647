"""AZ-PODKILL: kill pods abruptly (one, or all in a zone): replacements Ready in time, downtime inside budget."""

from __future__ import annotations

import time

import pytest

from pytest_azchaos.checks.downtime import zero_downtime
from pytest_azchaos.checks.rescheduled import rescheduled
from pytest_azchaos.traffic.window import fault_window, settle

# Killing with grace 0 drops the connections in flight on the killed pods, and kube-proxy needs the
# endpoint propagation time to stop sending new ones there. The budget: at most this many seconds' worth
# of the probe's traffic may fail.
KILL_BUDGET_SECONDS = 2.0


@pytest.mark.azchaos_destructive
@pytest.mark.parametrize("scope", ["one-pod", "whole-zone"])
def test_az_podkill_replacements_ready_and_downtime_in_budget(
        azchaos_cluster, azchaos_app, azchaos_zone, azchaos_zones, azchaos_traffic, azchaos_chaos,
        azchaos_run, azchaos_settings, azchaos_profile, scope, azchaos_check):
    app = azchaos_app
    replicas = app.desired_replicas()
    prober = azchaos_traffic.start(app)
    settle(1)
    since = time.time()
    with fault_window(prober) as window:
        if scope == "one-pod":
            azchaos_chaos.kill_pods(app, count=1)
        else:
            azchaos_chaos.kill_pods(app, zone=azchaos_zone)
    back = rescheduled(azchaos_cluster.core, app.namespace, app.label_selector, None, replicas,
                       timeout=azchaos_profile.reschedule_timeout, zones=azchaos_zones, since=since,
                       progress=azchaos_run.progress, check_id="AZ-PODKILL")
    settle(2)
    recording = prober.stop()
    azchaos_check(back)
    allowed = int(azchaos_settings.rate * KILL_BUDGET_SECONDS)
    azchaos_check(zero_downtime(recording, max_failed=allowed, during=(window[0], None), check_id="AZ-PODKILL",
                                core=azchaos_cluster.core, namespace=app.namespace))
