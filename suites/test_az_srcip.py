"""AZ-SRCIP: under ``Local`` the pod sees the client's address on every request; under ``Cluster`` a node's."""

from __future__ import annotations

import pytest

from pytest_azchaos.apps.target_app import needs, traffic_policy
from pytest_azchaos.checks.source_ip import source_ip_preserved, source_ip_snat
from pytest_azchaos.traffic.window import settle


@pytest.mark.parametrize("azchaos_app", [{"traffic_policy": "Local"}, {"traffic_policy": "Cluster"}],
                         indirect=True, ids=["Local", "Cluster"])
def test_az_srcip_client_address_as_the_policy_says(azchaos_app, azchaos_target, azchaos_zones, azchaos_traffic,
                                                    azchaos_check):
    reason = needs(azchaos_target, "echo", "AZ-SRCIP")
    if reason:
        pytest.skip(reason)
    app = azchaos_app
    prober = azchaos_traffic.start(app)
    settle(2)
    recording = prober.stop()
    nodes = {n.address: n.name for n in azchaos_zones.nodes if n.address}
    if traffic_policy(app) == "Local":
        azchaos_check(source_ip_preserved(recording, nodes))
    else:
        azchaos_check(source_ip_snat(recording, nodes))
