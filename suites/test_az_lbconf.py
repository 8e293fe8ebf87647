"""AZ-LBCONF: the load balancer's real configuration (AWS) and the shutdown the app needs for it: a terminating pod
keeps serving at least as long as its load balancer keeps sending it new connections.

Runs on the sample app (its preStop comes from the same window, so it passes unless the window was mis-computed)
or once per --azchaos-target, whose own preStop and grace period are judged."""

from __future__ import annotations

import pytest

from pytest_azchaos.checks.lb_config import lb_config_of_app


@pytest.mark.azchaos_check("AZ-LBCONF")
@pytest.mark.parametrize("azchaos_app", [{"traffic_policy": "Cluster"}, {"traffic_policy": "Local"}],
                         indirect=True, ids=["Cluster", "Local"])
def test_az_lbconf_shutdown_covers_the_load_balancers_window(azchaos_app, azchaos_aws, azchaos_profile,
                                                             azchaos_check):
    if not azchaos_app.service:
        pytest.skip("the target has no LoadBalancer Service to judge")
    azchaos_check(lb_config_of_app(azchaos_app, azchaos_aws, azchaos_profile))
