"""AZ-TOPO: nodes span at least 3 zones and the workload is spread (max skew 1) before any fault."""

from __future__ import annotations

from pytest_azchaos.checks.spread import spread


def test_az_topo_workload_spread_over_three_zones(azchaos_cluster, azchaos_app, azchaos_zones, azchaos_check):
    app = azchaos_app
    azchaos_check(spread(azchaos_cluster.core, app.namespace, app.label_selector, azchaos_zones, max_skew=1,
                         min_zones=3, check_id="AZ-TOPO"))
