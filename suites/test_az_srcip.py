"""AZ-SRCIP: under ``Local`` the pod sees the client's address on every request; under ``Cluster`` a node's. With ip
targets the target group's ``preserve_client_ip.enabled`` decides instead (off: the check fails naming it)."""

from __future__ import annotations

import pytest

from pytest_azchaos.apps.target_app import needs, traffic_policy
from pytest_azchaos.checks.source_ip import TargetFacts, source_ip_for_targets
from pytest_azchaos.lb.service import target_facts
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
    # ip targets (LBC, Auto Mode) bypass kube-proxy: the target group's preserve_client_ip decides, not the policy.
    facts = target_facts(app.cluster, app.namespace, app.service, None) if app.service else TargetFacts()
    azchaos_check(source_ip_for_targets(recording, nodes, traffic_policy(app), facts))
