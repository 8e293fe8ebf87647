"""AZ-TOPOROUTE: with ``trafficDistribution: PreferSameZone`` surviving zones stay zone-local, and the clients of
the drained zone fall back to the other zones with no refused or dropped connection.

A ClusterIP Service ``toporoute`` (``trafficDistribution: PreferSameZone``) selects the sample app's pods; one
prober pod per zone (bare pods, which a drain leaves in place) sends ``/dial`` requests to its ClusterIP, 20 a
second per zone, through kube-proxy on its own node. After the drain (and the endpoint propagation delay), each
surviving zone's requests must be served by pods of that zone, and the drained zone's by the others, none failing.
"""

from __future__ import annotations

import pytest

from pytest_azchaos.checks.toporoute import topology_routing
from pytest_azchaos.traffic.in_cluster import DialTarget
from pytest_azchaos.traffic.window import fault_window, settle

RATE = 20.0
SERVICE = "toporoute"


def routed_service(core, namespace: str, app, name: str = SERVICE, **spec) -> object:
    """A ClusterIP Service over ``app``'s pods with routing knobs ``spec`` (trafficDistribution ...), created."""
    port = app.port
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": dict(app.selector), "ports": [{"port": port, "targetPort": port, "protocol": "TCP"}],
                     **spec}}
    return core.create_namespaced_service(namespace, body)


@pytest.mark.azchaos_destructive
def test_az_toporoute_prefer_same_zone_stays_local_and_falls_back_when_a_zone_is_drained(
        azchaos_cluster, azchaos_echo_app, azchaos_zone, azchaos_zones, azchaos_in_cluster_traffic, azchaos_chaos,
        azchaos_profile, azchaos_check):
    app = azchaos_echo_app
    core = azchaos_cluster.core
    routed_service(core, app.namespace, app, trafficDistribution="PreferSameZone")
    azchaos_in_cluster_traffic.deploy()
    pod_zones = app.pod_zones(azchaos_zones)
    run = azchaos_in_cluster_traffic.start([t for t in DialTarget.service(core, app.namespace, SERVICE)
                                            if t.kind == "service-ip"], rate=RATE)
    settle(1 + azchaos_profile.endpoint_propagation_delay)
    with fault_window(run) as window:
        azchaos_chaos.drain_zone(azchaos_zone)
    settled = (window[1] or 0.0) + azchaos_profile.endpoint_propagation_delay + 1
    settle(azchaos_profile.endpoint_propagation_delay + 4)
    recording = run.stop()
    pod_zones.update(app.pod_zones(azchaos_zones))
    service = core.read_namespaced_service(SERVICE, app.namespace)
    azchaos_check(topology_routing(recording, pod_zones, azchaos_zone, service=service, during=(settled, None),
                                   refused_since=window[0]))
