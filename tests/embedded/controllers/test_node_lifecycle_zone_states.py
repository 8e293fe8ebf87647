"""The embedded node lifecycle controller's zone disruption states agree with upstream and with the oracle."""

from __future__ import annotations

import pytest

from pytest_azchaos.embedded.apiserver.store import Store
from pytest_azchaos.embedded.controllers.node_lifecycle import NodeLifecycleController
from pytest_azchaos.oracle.lifecycle import compute_zone_state, zone_eviction_rate
from pytest_azchaos.timing import Profile

REAL = Profile.by_name("realistic")


def _controller() -> NodeLifecycleController:
    return NodeLifecycleController(Store(), REAL)


def _conditions(ready: int, not_ready: int) -> list:
    return [{"type": "Ready", "status": "True"}] * ready + [{"type": "Ready", "status": "Unknown"}] * not_ready


@pytest.mark.parametrize(("ready", "not_ready"), [(0, 4), (1, 3), (2, 2), (1, 2), (2, 3), (3, 3), (45, 55)])
def test_zone_state_matches_the_oracle(ready: int, not_ready: int) -> None:
    assert _controller().compute_zone_state(_conditions(ready, not_ready)) == \
        compute_zone_state(ready, not_ready, REAL.unhealthy_zone_threshold)


@pytest.mark.parametrize("size", [4, 50, 51])
def test_partial_disruption_stops_evictions_in_zones_of_50_nodes_or_fewer(size: int) -> None:
    rate = _controller()._zone_rate(size, "PartialDisruption")
    assert rate == zone_eviction_rate("PartialDisruption", size, REAL)
    assert rate == (REAL.secondary_node_eviction_rate if size > 50 else 0.0)


def test_full_disruption_evicts_at_the_normal_rate() -> None:
    assert _controller()._zone_rate(4, "FullDisruption") == REAL.node_eviction_rate
