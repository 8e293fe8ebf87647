"""AZ-EBS-RETURN: when the zone comes back, the pod returns on the same volume and reads back its data.

Per flavour, as the oracle predicts before the fault: after a drain the pod waited Pending and is scheduled
back once the zone is uncordoned; after a power-off or a partition it stayed Terminating on its unreachable node,
and once the instance runs (or the network ACL is gone) again the kubelet finishes that pod and the StatefulSet
recreates it there, on its volume.
"""

from __future__ import annotations

import pytest

from pytest_azchaos.chaos.facade import ChaosUnsupported
from pytest_azchaos.checks.ebs import judge_volume_zone_lost, returned_on_volume
from pytest_azchaos.provisioners.detect import detect

EXPECTED = {"drain": "pending", "power-off": "terminating", "partition": "terminating"}


@pytest.mark.azchaos_destructive
@pytest.mark.parametrize("flavour", ["drain", "power-off", "partition"])
def test_az_ebs_return_pod_comes_back_with_its_data(flavour, request, azchaos_cluster, azchaos_deploy_stateful,
                                                    azchaos_zone, azchaos_zones, azchaos_chaos, azchaos_run,
                                                    azchaos_profile, azchaos_predict, azchaos_check):
    app = azchaos_deploy_stateful(node_loss_toleration=azchaos_profile.app_node_loss_toleration)
    core = azchaos_cluster.core
    aws = request.getfixturevalue("azchaos_aws") if flavour != "drain" else None
    pod = next((p for p in app.pods() if azchaos_zones.zone_of(p.spec.node_name) == azchaos_zone), None)
    if pod is None:
        pytest.skip(f"no replica of {app.name} runs in {azchaos_zone}")
    name, node = pod.metadata.name, pod.spec.node_name
    claim = f"data-{name}"
    pv = core.read_namespaced_persistent_volume_claim(claim, app.namespace).spec.volume_name
    marker = f"written-by-{azchaos_run.run_id}"
    wrote = app.exec(name, ["sh", "-c", f"echo {marker} > {app.spec.mount_path}/marker"])
    assert wrote.exit_code == 0, wrote.output
    prediction = azchaos_predict(app, flavour, azchaos_zone)
    expected = prediction.outcome_of(name)
    # On a stopped Karpenter node the pod is deleted with its node and recreated: it waits Pending for its zone.
    wanted = "pending" if expected is not None and expected.node_replaced else EXPECTED[flavour]
    assert expected is not None and expected.outcome == wanted, (
        f"unexpected: the oracle predicts {expected.line() if expected else 'nothing'} for {name}:\n{prediction}")
    # The zone is lost until the pod shows the state the oracle predicted; only then does it come back.
    if flavour == "drain":
        # The zone is lost: on Karpenter its NodePools are fenced out of it too (a cordoned zone is invisible to
        # Karpenter, which would launch a node for the pod in its volume's zone and undo the loss).
        azchaos_chaos.drain_zone(azchaos_zone, keep_provisioner_out=True)
    elif flavour == "power-off":
        try:
            azchaos_chaos.zone_outage(azchaos_zone, aws)
        except ChaosUnsupported as e:  # EKS Auto Mode: no StopInstances; nothing was changed
            pytest.skip(str(e))
    else:
        azchaos_chaos.zone_partition(azchaos_zone, aws=aws)
    lost = judge_volume_zone_lost(core, app.namespace, name, claim, pv, node, azchaos_zone, flavour, prediction,
                                  azchaos_profile.volume_wait_timeout, zones=azchaos_zones,
                                  progress=azchaos_run.progress)
    assert lost.passed and lost.figures.get("agrees"), lost.message()
    azchaos_chaos.undo_all()  # the zone comes back
    timeout = azchaos_profile.volume_return_timeout + (azchaos_profile.zone_return_timeout if aws else 0)
    # Where "back" is follows the provisioner: on Karpenter the stopped node was replaced, so a new node in the
    # volume's zone is the return; node groups restart their instances.
    provisioner = detect(azchaos_cluster.api).kind
    result = returned_on_volume(core, app.namespace, name, claim, pv, azchaos_zone, timeout=timeout,
                                zones=azchaos_zones, progress=azchaos_run.progress, old_node=node,
                                provisioner=provisioner)
    read = app.exec(name, ["cat", f"{app.spec.mount_path}/marker"]) if result.passed else None
    if read is not None:
        result = returned_on_volume(core, app.namespace, name, claim, pv, azchaos_zone, timeout=5,
                                    zones=azchaos_zones, expected_data=marker, read_back=read.output.strip(),
                                    old_node=node, provisioner=provisioner)
    azchaos_check(result)
