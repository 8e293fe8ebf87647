"""AZ-BALANCE: under ``Local`` with evenly placed pods, requests per pod stay within a stated spread."""

from __future__ import annotations

import pytest

from pytest_azchaos.checks.spread import balance
from pytest_azchaos.traffic.window import settle


@pytest.mark.azchaos_app(traffic_policy="Local", replicas=6, cross_zone=True)
def test_az_balance_requests_spread_evenly_over_pods(azchaos_echo_app, azchaos_zones, azchaos_traffic,
                                                     azchaos_check):
    app = azchaos_echo_app
    prober = azchaos_traffic.start(app, rate=100)
    settle(4)
    recording = prober.stop()
    nodes = {p.metadata.name: p.spec.node_name for p in app.pods()}
    azchaos_check(balance(recording, app.pod_zones(azchaos_zones), tolerance=0.5, pod_nodes=nodes))
