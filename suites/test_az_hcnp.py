"""AZ-HCNP: under ``Local`` the healthCheckNodePort answers 200 only on nodes with local endpoints."""

from __future__ import annotations

import pytest

from pytest_azchaos.checks.health_check_node_port import health_check_node_port


@pytest.mark.azchaos_app(traffic_policy="Local", replicas=3)
def test_az_hcnp_answers_200_only_where_endpoints_are(azchaos_cluster, azchaos_app, azchaos_zones,
                                                      azchaos_run, azchaos_profile, azchaos_check):
    app = azchaos_app
    if not app.service:
        pytest.skip("AZ-HCNP reads the Service's healthCheckNodePort: the target is reached without a Service "
                    "(ingress= or url=); add service=NAME to --azchaos-target")
    azchaos_check(health_check_node_port(azchaos_cluster.core, app.namespace, app.service, azchaos_zones,
                                         timeout=azchaos_profile.hcnp_settle_timeout, progress=azchaos_run.progress))
