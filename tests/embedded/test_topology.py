"""``Topology``'s node-group sizes: MaxSize = the start by default (eksctl's min = max = desired), or room above it
for the Cluster Autoscaler (per zone, summed over the zones a group spans); it survives the trip to the cluster
process and is never below the start."""

from __future__ import annotations

import pytest

from pytest_azchaos.embedded.topology import Topology


def test_groups_have_no_room_by_default() -> None:
    topology = Topology.make(zones=3, nodes_per_zone=2)
    assert (topology.group_max_size(2), topology.group_max_size(6, zones=3)) == (2, 6)


def test_room_per_zone_is_summed_over_the_zones_a_group_spans() -> None:
    topology = Topology.make(zones=3, nodes_per_zone=2, max_nodes_per_zone=4)
    assert (topology.group_max_size(2), topology.group_max_size(6, zones=3)) == (4, 12)


def test_max_nodes_per_zone_sets_the_room_and_survives_to_dict() -> None:
    topology = Topology.make(zones=3, nodes_per_zone=2, max_nodes_per_zone=5)
    again = Topology.from_dict(topology.to_dict())
    assert (again.max_nodes_per_zone, again.group_max_size(2), again.group_max_size(6, zones=3)) == (5, 5, 15)


def test_max_nodes_per_zone_below_the_start_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match="max_nodes_per_zone 1 is below nodes_per_zone 2"):
        Topology.make(zones=3, nodes_per_zone=2, max_nodes_per_zone=1)
