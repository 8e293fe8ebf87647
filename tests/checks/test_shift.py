"""AZ-SHIFT's negative control: an app whose replicas all run in the shifted zone keeps its endpoints there (EKS's
fail safe), so a zonal shift cannot move its traffic; the check fails naming the rule."""

from __future__ import annotations

import pytest

from pytest_azchaos.apps import EchoSpec
from pytest_azchaos.checks import CheckFailed
from pytest_azchaos.checks.shift import endpoints_leave, shift_before
from pytest_azchaos.kube.topology import ZoneMap
from pytest_azchaos.kube.wait import wait_until

from ..docs.capture import capture_failure

pytestmark = pytest.mark.azchaos_destructive


def test_an_app_all_in_the_shifted_zone_fails_az_shift_naming_the_fail_safe(
        azchaos_cluster, azchaos_deploy, azchaos_zones, azchaos_chaos, azchaos_aws, azchaos_profile, azchaos_check):
    zone = azchaos_zones.zones()[0]
    app = azchaos_deploy(EchoSpec(replicas=2, pdb_max_unavailable=None, spread="one-zone", pinned_zone=zone))
    core = azchaos_cluster.core
    before = shift_before(core, app.namespace, app.label_selector, zone, azchaos_zones)
    assert len(before.pods_in_zone) == 2, before
    azchaos_chaos.zonal_shift(zone, aws=azchaos_aws)
    budget = azchaos_profile.zonal_shift_spacing + azchaos_profile.cloud_poll_interval + 2
    with pytest.raises(CheckFailed, match=rf"AZ-SHIFT FAILED: AZ-SHIFT cannot move the traffic of .*all its 2 "
                                          rf"endpoint\(s\) are in {zone}, and EKS keeps a Service's endpoints") as e:
        azchaos_check(endpoints_leave(core, app.namespace, app.service, app.label_selector, before, budget))
    capture_failure("AZ-SHIFT", e.value)
    azchaos_chaos.undo_all()  # cancel; EKS uncordons the zone with its endpoints, before the next test guards zones
    uncordoned = wait_until(lambda: [n.name for n in ZoneMap.read(core).nodes_in(zone) if n.unschedulable],
                            lambda cordoned: not cordoned, timeout=budget + 10, what=f"{zone} uncordoned")
    assert uncordoned.ok, f"{zone} still cordoned after the cancel: {uncordoned.last}"
