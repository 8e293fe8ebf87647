"""AZ-CAPACITY: when the surviving zones lack room for the lost zone's replacements (or a stateful pod needs its
volume's zone back), the node provisioner adds capacity where the Pending pods can run, within the profile's
``capacity_timeout``.

Expectations follow the provisioner (``provisioners.detect``): Karpenter / EKS Auto Mode (NodePools) and the Cluster
Autoscaler over node groups add nodes; node groups without an autoscaler, or with every group at its MaxSize, add
none, so the check skips naming why.

* stateless: the echo app sized to fill every node (one pod per node); a drained zone's replacements find no room in
  the surviving zones. Karpenter is kept out of the drained zone first (a cordoned zone is invisible to it), so
  its new nodes must appear in the surviving zones.
* stateful: a StatefulSet pod whose EBS volume is in the drained zone can only run there: the provisioner must add a
  node in the volume's zone (per-zone node groups can; one group spanning zones cannot choose the zone). One replica,
  pinned to the zone: a zone spread alone leaves the zone out when it has no node at that moment (Karpenter and
  Auto Mode remove the nodes a drain emptied), and the test would have nothing to judge.
"""

from __future__ import annotations

import time

import pytest

from pytest_azchaos.checks.capacity import capacity_added, filling_size, instance_ids, no_headroom
from pytest_azchaos.provisioners.detect import detect
from pytest_azchaos.wellknown import ZONE_LABEL


def _provisioner(cluster):
    found = detect(cluster.api)
    why = found.adds_capacity()
    if not why and found.kind == "node-groups":
        why = no_headroom(_groups(cluster))
    if why:
        pytest.skip(f"AZ-CAPACITY is not applicable: {why}")
    return found


def _groups(cluster):
    """The nodes' Auto Scaling groups, or none when this cluster's AWS account cannot be read (the check then goes
    ahead; the autoscaler's own events say what it could not do)."""
    from pytest_azchaos.aws import AwsConfigError, AwsContext
    from pytest_azchaos.aws.asg import groups_of

    try:
        return groups_of(AwsContext.for_kubeconfig(cluster.kubeconfig), instance_ids(cluster.core.list_node().items))
    except AwsConfigError:
        return []


@pytest.mark.azchaos_destructive
@pytest.mark.azchaos_check("AZ-CAPACITY")
def test_az_capacity_replacements_without_room_get_new_nodes_in_surviving_zones(
        azchaos_cluster, azchaos_deploy, azchaos_zone, azchaos_zones, azchaos_chaos, azchaos_profile, azchaos_run,
        azchaos_check):
    core = azchaos_cluster.core
    provisioner = _provisioner(azchaos_cluster)
    azchaos_run.progress.note(provisioner.describe())
    replicas, cpu = filling_size(core.list_node().items)
    app = azchaos_deploy(name="filler", replicas=replicas, cpu_request=cpu)
    nodes_before = [n.metadata.name for n in core.list_node().items]
    since = time.time()
    azchaos_chaos.drain_zone(azchaos_zone, keep_provisioner_out=True)
    azchaos_check(capacity_added(core, app.namespace, app.label_selector, azchaos_zone, replicas,
                                 azchaos_profile.capacity_timeout, provisioner=provisioner.kind,
                                 nodes_before=nodes_before, since=since, zones=azchaos_zones,
                                 progress=azchaos_run.progress))


@pytest.mark.azchaos_destructive
@pytest.mark.azchaos_check("AZ-CAPACITY")
def test_az_capacity_stateful_pod_gets_a_node_in_its_volume_zone(
        azchaos_cluster, azchaos_deploy_stateful, azchaos_zone, azchaos_zones, azchaos_chaos, azchaos_profile,
        azchaos_run, azchaos_check):
    core = azchaos_cluster.core
    provisioner = _provisioner(azchaos_cluster)
    azchaos_run.progress.note(provisioner.describe())
    app = azchaos_deploy_stateful(replicas=1, node_selector={ZONE_LABEL: azchaos_zone})
    nodes_before = [n.metadata.name for n in core.list_node().items]
    since = time.time()
    azchaos_chaos.drain_zone(azchaos_zone)  # the volume's zone is what the pod needs: nothing is fenced
    azchaos_check(capacity_added(core, app.namespace, app.label_selector, azchaos_zone, app.desired_replicas(),
                                 azchaos_profile.capacity_timeout, provisioner=provisioner.kind,
                                 nodes_before=nodes_before, since=since, zones=azchaos_zones,
                                 progress=azchaos_run.progress))
