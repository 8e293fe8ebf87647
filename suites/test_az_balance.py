"""AZ-BALANCE: under ``Local`` with evenly placed pods, requests per pod stay within a stated spread."""

from __future__ import annotations

import pytest

from pytest_azchaos.apps.target_app import needs
from pytest_azchaos.checks.spread import balance
from pytest_azchaos.traffic.window import settle


@pytest.mark.azchaos_app(traffic_policy="Local", replicas=6, cross_zone=True)
def test_az_balance_requests_spread_evenly_over_pods(azchaos_app, azchaos_target, azchaos_zones, azchaos_traffic,
                                                     azchaos_check):
    reason = needs(azchaos_target, "pod-header", "AZ-BALANCE")
    if reason:
        pytest.skip(reason)
    app = azchaos_app
    prober = azchaos_traffic.start(app, rate=100)
    settle(4)
    recording = prober.stop()
    nodes = {p.metadata.name: p.spec.node_name for p in app.pods()}
    azchaos_check(balance(recording, app.pod_zones(azchaos_zones), tolerance=0.5, pod_nodes=nodes))
