"""AZ-TOPOROUTE's negative control: a Service with ``internalTrafficPolicy: Local`` never falls back, so the drained
zone's clients (on nodes without a local endpoint) lose their requests and the check fails naming the policy."""

from __future__ import annotations

import pytest

from pytest_azchaos.checks import CheckFailed
from pytest_azchaos.checks.toporoute import topology_routing
from pytest_azchaos.traffic.in_cluster import DialTarget
from pytest_azchaos.traffic.window import fault_window, settle
from suites.test_az_toporoute import routed_service

from ..docs.capture import capture_failure

pytestmark = pytest.mark.azchaos_destructive


def _drained_run(cluster, app, zone, traffic, chaos, profile, name):
    pod_zones = app.pod_zones()
    traffic.deploy()
    run = traffic.start([t for t in DialTarget.service(cluster.core, app.namespace, name) if t.kind == "service-ip"],
                        rate=10)
    settle(1 + profile.endpoint_propagation_delay)
    with fault_window(run) as window:
        chaos.drain_zone(zone)
    settled = (window[1] or 0.0) + profile.endpoint_propagation_delay + 1
    settle(profile.endpoint_propagation_delay + 4)
    recording = run.stop()
    pod_zones.update(app.pod_zones())
    return recording, pod_zones, settled


def test_internal_traffic_policy_local_fails_az_toporoute_naming_it(
        azchaos_cluster, azchaos_echo_app, azchaos_zones, azchaos_in_cluster_traffic, azchaos_chaos, azchaos_profile,
        azchaos_check):
    app, zone = azchaos_echo_app, azchaos_zones.zones()[0]
    routed_service(azchaos_cluster.core, app.namespace, app, "local-only", internalTrafficPolicy="Local")
    recording, pod_zones, settled = _drained_run(azchaos_cluster, app, zone, azchaos_in_cluster_traffic,
                                                 azchaos_chaos, azchaos_profile, "local-only")
    service = azchaos_cluster.core.read_namespaced_service("local-only", app.namespace)
    with pytest.raises(CheckFailed, match=rf"AZ-TOPOROUTE FAILED: Service {app.namespace}/local-only: .*clients in "
                       rf"{zone} did not fall back: \d+ of \d+ request\(s\) failed \(\d+ timeout\)") as e:
        azchaos_check(topology_routing(recording, pod_zones, zone, service=service, during=(settled, None)))
    assert "internalTrafficPolicy: Local never falls back" in str(e.value)
    assert "internalTrafficPolicy Local" in str(e.value)  # the evidence names the Service's knobs
    capture_failure("AZ-TOPOROUTE", e.value)


def test_a_service_without_traffic_distribution_fails_az_toporoute_as_not_zone_local(
        azchaos_cluster, azchaos_echo_app, azchaos_zones, azchaos_in_cluster_traffic, azchaos_chaos, azchaos_profile,
        azchaos_check):
    app, zone = azchaos_echo_app, azchaos_zones.zones()[0]
    routed_service(azchaos_cluster.core, app.namespace, app, "spread")
    recording, pod_zones, settled = _drained_run(azchaos_cluster, app, zone, azchaos_in_cluster_traffic,
                                                 azchaos_chaos, azchaos_profile, "spread")
    service = azchaos_cluster.core.read_namespaced_service("spread", app.namespace)
    with pytest.raises(CheckFailed, match="is not routed zone-locally \\(it has no trafficDistribution\\)"):
        azchaos_check(topology_routing(recording, pod_zones, zone, service=service, during=(settled, None)))


def test_a_connection_refused_while_the_endpoints_go_fails_az_toporoute():
    from pytest_azchaos.traffic.recording import Recording, RequestRecord

    recording = Recording()
    for i, zone in enumerate(("a", "b", "c")):
        recording.add(RequestRecord(i, 1.0, 1.0, 0.01, "10.0.0.1:80", 200, pod=f"p-{zone}", source_zone=zone,
                                    kind="service-ip"))
        recording.add(RequestRecord(10 + i, 9.0, 9.0, 0.01, "10.0.0.1:80", 200,
                                    pod="p-b" if zone == "a" else f"p-{zone}", source_zone=zone, kind="service-ip"))
    recording.add(RequestRecord(20, 3.0, 3.0, 0.001, "10.0.0.1:80", None, "refused",
                                'Get "http://10.0.0.1:80/hostname": dial tcp 10.0.0.1:80: connect: connection refused',
                                source_zone="a", kind="service-ip"))
    pods = {"p-a": "a", "p-b": "b", "p-c": "c"}
    assert topology_routing(recording, pods, "a", during=(8.0, None)).passed  # after the fault settled: fine
    result = topology_routing(recording, pods, "a", during=(8.0, None), refused_since=2.0)
    assert not result.passed
    assert "1 connection(s) refused during the fault (clients in a: 1; first at t=3.00s" in result.summary
