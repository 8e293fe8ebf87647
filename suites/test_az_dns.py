"""AZ-DNS: cluster DNS keeps answering from every surviving zone while a zone is drained.

One agnhost prober pod per zone (``azchaos_in_cluster_traffic``) asks ``/dial`` for the sample app's Service by
name (``echo.NAMESPACE``, through the pod's own resolver: the cluster DNS) and by ClusterIP, 20 times a second per
zone and target, before, during and after the drain. Lookups from every zone but the drained one must keep
answering within the profile's budget (``checks.dns.dns_budget``); the failed lookups are counted per zone in the
report, and a failure names where CoreDNS ran before the fault. The prober pods are bare pods, which a drain
leaves in place, so the drained zone's view is reported too (not judged).
"""

from __future__ import annotations

import pytest
from kubernetes import client

from pytest_azchaos.checks.addons import addons, coredns_placement
from pytest_azchaos.checks.dns import dns_answers, dns_budget
from pytest_azchaos.traffic.in_cluster import DialTarget
from pytest_azchaos.traffic.window import fault_window, settle

RATE = 20.0


@pytest.mark.azchaos_destructive
def test_az_dns_lookups_from_every_surviving_zone_keep_answering_during_a_drain(
        azchaos_cluster, azchaos_echo_app, azchaos_zone, azchaos_zones, azchaos_in_cluster_traffic, azchaos_chaos,
        azchaos_profile, azchaos_run, azchaos_check):
    app = azchaos_echo_app
    # AZ-ADDONS as a preflight: what the add-ons' placement predicts for this fault, printed (not judged here).
    azchaos_run.progress.note(f"AZ-ADDONS preflight: {addons(azchaos_cluster.core, azchaos_zones).summary}")
    coredns = coredns_placement(azchaos_cluster.core, client.AppsV1Api(azchaos_cluster.api), azchaos_zones)
    budget = dns_budget(azchaos_profile, "drain")
    azchaos_in_cluster_traffic.deploy()
    run = azchaos_in_cluster_traffic.start(DialTarget.service(azchaos_cluster.core, app.namespace, app.service),
                                           rate=RATE)
    settle(1)
    with fault_window(run) as window:
        azchaos_chaos.drain_zone(azchaos_zone)
    settle(budget + 1)
    recording = run.stop()
    azchaos_check(dns_answers(recording, azchaos_zone, budget, coredns_before=coredns, during=(window[0], None)))
