"""AZ-EBS-DRAIN: a stateful pod whose EBS volume is in the lost zone does not move to an empty disk. What it
does instead depends on how the zone is lost, and the oracle says so before the fault:

* drain: the pod is recreated and waits Pending with the scheduler's volume node-affinity reason;
* power-off (the zone's instances stop) or partition (its subnets cut off by a network ACL): the node is tainted,
  not deleted; the pod is evicted after its toleration and stays Terminating on the unreachable node (no
  out-of-service taint), so the StatefulSet does not recreate it; the check names the upstream remedy
  (non-graceful node shutdown; under a partition the old container still runs, so only once it is stopped);
* power-off of a Karpenter node: Karpenter replaces the stopped node (drained, NodeClaim deleted), so the pod is
  deleted with it, recreated, and waits Pending for its zone like after a drain (Karpenter is fenced out of it).

Either way its claim stays on the same volume and no new volume appears.
"""

from __future__ import annotations

import pytest

from pytest_azchaos.chaos.facade import ChaosUnsupported
from pytest_azchaos.checks.ebs import judge_volume_zone_lost
from pytest_azchaos.kube.topology import ZoneMap
from pytest_azchaos.kube.wait import wait_until

EXPECTED = {"drain": "pending", "power-off": "terminating", "partition": "terminating"}


def _pod_in(app, zones, zone):
    for pod in app.pods():
        if zones.zone_of(pod.spec.node_name) == zone:
            return pod
    pytest.skip(f"no replica of {app.name} runs in {zone}")


@pytest.mark.azchaos_destructive
@pytest.mark.parametrize("flavour", ["drain", "power-off", "partition"])
def test_az_ebs_drain_pod_waits_for_its_zone(flavour, request, azchaos_cluster, azchaos_deploy_stateful, azchaos_zone,
                                             azchaos_zones, azchaos_chaos, azchaos_run, azchaos_profile,
                                             azchaos_predict, azchaos_check):
    # The profile's node-loss toleration (as the echo app has), so a power-off's eviction shows in the test's time.
    app = azchaos_deploy_stateful(node_loss_toleration=azchaos_profile.app_node_loss_toleration)
    core = azchaos_cluster.core
    aws = request.getfixturevalue("azchaos_aws") if flavour != "drain" else None
    pod = _pod_in(app, azchaos_zones, azchaos_zone)
    name, node = pod.metadata.name, pod.spec.node_name
    claim = f"data-{name}"
    pv = core.read_namespaced_persistent_volume_claim(claim, app.namespace).spec.volume_name
    pvs_before = {p.metadata.name for p in core.list_persistent_volume().items}
    prediction = azchaos_predict(app, flavour, azchaos_zone)
    expected = prediction.outcome_of(name)
    # On a stopped Karpenter node the pod is deleted with its node and recreated: it waits Pending for its zone.
    wanted = "pending" if expected is not None and expected.node_replaced else EXPECTED[flavour]
    assert expected is not None and expected.outcome == wanted, (
        f"unexpected: the oracle predicts {expected.line() if expected else 'nothing'} for {name} under a "
        f"{flavour}, not {wanted}:\n{prediction}")
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
    result = judge_volume_zone_lost(core, app.namespace, name, claim, pv, node, azchaos_zone, flavour, prediction,
                                    azchaos_profile.volume_wait_timeout, hold=azchaos_profile.volume_wait_timeout / 3,
                                    zones=azchaos_zones, progress=azchaos_run.progress)
    azchaos_check(result)
    assert result.figures.get("agrees"), f"unexpected: {result.figures.get('observed')}, the oracle predicted " \
                                         f"{prediction.summary}"
    new = {p.metadata.name for p in core.list_persistent_volume().items} - pvs_before
    assert not new, f"new PV(s) appeared while the zone was lost: {sorted(new)}"
    if aws is not None:  # leave the zone as found: instances started, nodes Ready, for the next test
        azchaos_chaos.undo_all()
        back = wait_until(lambda: ZoneMap.read(core).nodes_in(azchaos_zone),
                          lambda nodes: bool(nodes) and all(n.ready for n in nodes),
                          timeout=azchaos_profile.zone_return_timeout, what=f"nodes of {azchaos_zone} Ready again",
                          progress=azchaos_run.progress)
        assert back.ok, back.describe()
