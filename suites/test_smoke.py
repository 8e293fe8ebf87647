"""AZ-SMOKE: the cluster under test answers and spreads its nodes over zones."""

from __future__ import annotations

from pytest_azchaos.kube.cluster import Cluster


def test_api_answers_with_nodes_in_zones(azchaos_cluster: Cluster) -> None:
    zones = azchaos_cluster.nodes_by_zone()
    assert zones, "no node carries the topology.kubernetes.io/zone label"
    total = sum(len(nodes) for nodes in zones.values())
    print(f"{total} nodes in {len(zones)} zones: " + ", ".join(f"{z}={len(n)}" for z, n in zones.items()))
    assert len(zones) >= 3, f"nodes span only {len(zones)} zone(s): {zones}"
