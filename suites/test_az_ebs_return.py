"""AZ-EBS-RETURN: when the zone comes back, the pod returns on the same volume and reads back its data."""

from __future__ import annotations

import pytest

from pytest_azchaos.checks.ebs import returned_on_volume


@pytest.mark.azchaos_destructive
def test_az_ebs_return_pod_comes_back_with_its_data(azchaos_cluster, azchaos_stateful_app, azchaos_zone,
                                                    azchaos_zones, azchaos_chaos, azchaos_run, azchaos_profile,
                                                    azchaos_check):
    app = azchaos_stateful_app
    core = azchaos_cluster.core
    pod = next((p for p in app.pods() if azchaos_zones.zone_of(p.spec.node_name) == azchaos_zone), None)
    if pod is None:
        pytest.skip(f"no replica of {app.name} runs in {azchaos_zone}")
    name = pod.metadata.name
    claim = f"data-{name}"
    pv = core.read_namespaced_persistent_volume_claim(claim, app.namespace).spec.volume_name
    marker = f"written-by-{azchaos_run.run_id}"
    wrote = app.exec(name, ["sh", "-c", f"echo {marker} > {app.spec.mount_path}/marker"])
    assert wrote.exit_code == 0, wrote.output
    azchaos_chaos.drain_zone(azchaos_zone)
    azchaos_chaos.undo_all()  # the zone comes back
    result = returned_on_volume(core, app.namespace, name, claim, pv, azchaos_zone,
                                timeout=azchaos_profile.volume_return_timeout, zones=azchaos_zones,
                                progress=azchaos_run.progress)
    read = app.exec(name, ["cat", f"{app.spec.mount_path}/marker"]) if result.passed else None
    if read is not None:
        result = returned_on_volume(core, app.namespace, name, claim, pv, azchaos_zone, timeout=5,
                                    zones=azchaos_zones, expected_data=marker, read_back=read.output.strip())
    azchaos_check(result)
