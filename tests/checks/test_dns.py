"""AZ-DNS over real in-cluster lookups: it passes while CoreDNS survives the fault, and fails naming CoreDNS's
placement when every replica was in the lost zone (the negative control)."""

from __future__ import annotations

import pytest
from kubernetes import client

from pytest_azchaos.apps.app import App
from pytest_azchaos.checks import CheckFailed
from pytest_azchaos.checks.addons import coredns_placement
from pytest_azchaos.checks.dns import dns_answers, dns_budget
from pytest_azchaos.traffic.in_cluster import DialTarget
from pytest_azchaos.traffic.window import fault_window, settle

from ..docs.capture import capture_failure
from .in_cluster_helpers import coredns_changed

pytestmark = pytest.mark.azchaos_destructive


def test_coredns_pinned_to_the_lost_zone_fails_az_dns_naming_its_placement(
        azchaos_cluster, azchaos_echo_app, azchaos_zones, azchaos_in_cluster_traffic, azchaos_chaos, azchaos_profile,
        azchaos_check):
    zone = azchaos_zones.zones()[0]
    app = azchaos_echo_app
    budget = dns_budget(azchaos_profile, "kill")
    azchaos_in_cluster_traffic.deploy()
    with coredns_changed(azchaos_cluster.api, zone=zone):
        coredns = coredns_placement(azchaos_cluster.core, client.AppsV1Api(azchaos_cluster.api), azchaos_zones)
        assert coredns is not None and set(coredns.zones()) == {zone}, coredns
        run = azchaos_in_cluster_traffic.start(DialTarget.service(azchaos_cluster.core, app.namespace, app.service),
                                               rate=10)
        settle(1)
        # The zone is lost for CoreDNS: cordoned, its pods gone; the pinned replacements cannot run elsewhere.
        with fault_window(run) as window:
            azchaos_chaos.cordon_zone(zone)
            azchaos_chaos.kill_pods(App(azchaos_cluster, "kube-system", "coredns", {"k8s-app": "kube-dns"}), zone=zone)
        settle(budget + 4)
        recording = run.stop()
    with pytest.raises(CheckFailed, match=r"AZ-DNS FAILED: lookups from us-east-1[bc] (failed for|were still)") as e:
        azchaos_check(dns_answers(recording, zone, budget, coredns_before=coredns, during=(window[0], None)))
    message = str(e.value)
    assert f"every CoreDNS replica was in {zone} before the fault" in message
    assert "Deployment kube-system/coredns: coredns-" in message
    assert "failed_lookups" not in message  # figures stay figures; the evidence lists each zone's counts
    assert all(f"{z} (surviving): " in message for z in azchaos_zones.zones()[1:])
    capture_failure("AZ-DNS", e.value)


def test_lookups_from_surviving_zones_keep_answering_when_coredns_survives(
        azchaos_cluster, azchaos_echo_app, azchaos_zones, azchaos_in_cluster_traffic, azchaos_chaos, azchaos_profile,
        azchaos_check):
    app = azchaos_echo_app
    coredns = coredns_placement(azchaos_cluster.core, client.AppsV1Api(azchaos_cluster.api), azchaos_zones)
    assert coredns is not None
    # Lose a zone holding one CoreDNS replica: the other keeps answering once its endpoint is gone.
    zone = sorted(coredns.zones())[0]
    budget = dns_budget(azchaos_profile, "kill")
    azchaos_in_cluster_traffic.deploy()
    run = azchaos_in_cluster_traffic.start(DialTarget.service(azchaos_cluster.core, app.namespace, app.service),
                                           rate=10)
    settle(1)
    with fault_window(run) as window:
        azchaos_chaos.cordon_zone(zone)
        azchaos_chaos.kill_pods(App(azchaos_cluster, "kube-system", "coredns", {"k8s-app": "kube-dns"}), zone=zone)
    settle(budget + 2)
    recording = run.stop()
    result = azchaos_check(dns_answers(recording, zone, budget, coredns_before=coredns, during=(window[0], None)))
    assert sum(result.figures["lookups"].values()) > 0
