"""AZ-SHIFT: an ARC zonal shift of the EKS cluster away from a zone under traffic. EKS takes the zone's endpoints out
of the EndpointSlices, evicts nothing and launches nothing there; traffic keeps flowing through the other zones;
after the cancel the zone's endpoints return (eks-flavours-facts.md §5)."""

from __future__ import annotations

import pytest

from pytest_azchaos.checks.downtime import zero_downtime
from pytest_azchaos.checks.shift import endpoints_leave, endpoints_return, shift_before
from pytest_azchaos.traffic.window import fault_window, settle


@pytest.mark.azchaos_destructive
def test_az_shift_endpoints_leave_nothing_is_evicted_and_traffic_keeps_flowing(
        azchaos_cluster, azchaos_app, azchaos_zone, azchaos_zones, azchaos_traffic, azchaos_chaos, azchaos_aws,
        azchaos_settings, azchaos_profile, azchaos_run, azchaos_check):
    app = azchaos_app
    profile = azchaos_profile
    core = azchaos_cluster.core
    if not app.service:
        pytest.skip(f"AZ-SHIFT judges a Service's EndpointSlices and {app.name} has no Service")
    before = shift_before(core, app.namespace, app.label_selector, azchaos_zone, azchaos_zones)
    # EKS applies an operation within its 60 s spacing; then the EndpointSlice change reaches the data plane.
    settle_time = profile.zonal_shift_spacing + profile.cloud_poll_interval + profile.endpoint_propagation_delay
    prober = azchaos_traffic.start(app)
    settle(1)
    with fault_window(prober) as window:
        azchaos_chaos.zonal_shift(azchaos_zone, aws=azchaos_aws)
    azchaos_check(endpoints_leave(core, app.namespace, app.service, app.label_selector, before,
                                  settle_time + profile.cordon_settle_timeout, progress=azchaos_run.progress))
    settle(2)
    recording = prober.stop()
    assert window[0] is not None
    azchaos_check(zero_downtime(recording, azchaos_settings.error_budget, check_id="AZ-SHIFT", core=core,
                                namespace=app.namespace, pod_zones=app.pod_zones(azchaos_zones)))
    azchaos_chaos.undo_all()  # cancel the shift
    azchaos_check(endpoints_return(core, app.namespace, app.service, azchaos_zone,
                                   settle_time + profile.zone_return_timeout, progress=azchaos_run.progress))
