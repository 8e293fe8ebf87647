"""AZ-EBS-DRAIN: in a drained zone the stateful pod waits Pending with the volume-affinity reason;
its claim stays on the same volume, no new volume appears, the pod does not move."""

from __future__ import annotations

import pytest

from pytest_azchaos.checks.ebs import waits_for_volume


def _pod_in(app, zones, zone):
    for pod in app.pods():
        if zones.zone_of(pod.spec.node_name) == zone:
            return pod
    pytest.skip(f"no replica of {app.name} runs in {zone}")


@pytest.mark.azchaos_destructive
def test_az_ebs_drain_pod_waits_for_its_zone(azchaos_cluster, azchaos_stateful_app, azchaos_zone, azchaos_zones,
                                             azchaos_chaos, azchaos_run, azchaos_profile, azchaos_check):
    app = azchaos_stateful_app
    core = azchaos_cluster.core
    pod = _pod_in(app, azchaos_zones, azchaos_zone)
    claim = f"data-{pod.metadata.name}"
    pv = core.read_namespaced_persistent_volume_claim(claim, app.namespace).spec.volume_name
    pvs_before = {p.metadata.name for p in core.list_persistent_volume().items}
    azchaos_chaos.drain_zone(azchaos_zone)
    azchaos_check(waits_for_volume(core, app.namespace, pod.metadata.name, claim, pv,
                                   timeout=azchaos_profile.volume_wait_timeout,
                                   zones=azchaos_zones, progress=azchaos_run.progress))
    new = {p.metadata.name for p in core.list_persistent_volume().items} - pvs_before
    assert not new, f"new PV(s) appeared while the zone was drained: {sorted(new)}"
