"""AZ-EBS-BIND: stateful pods' PVs are in their node's zone, and the EBS volumes' AZ agrees (boto3)."""

from __future__ import annotations

from pytest_azchaos.checks.ebs import volumes_in_node_zone
from pytest_azchaos.checks.result import CheckResult


def test_az_ebs_bind_volumes_live_in_their_pods_zone(azchaos_cluster, azchaos_stateful_app, azchaos_zones,
                                                     azchaos_check, azchaos_aws):
    app = azchaos_stateful_app
    core = azchaos_cluster.core
    azchaos_check(volumes_in_node_zone(core, app.namespace, app.label_selector, azchaos_zones))
    from pytest_azchaos.aws import pv_volumes

    claims = {c.spec.volume_name for c in core.list_namespaced_persistent_volume_claim(app.namespace).items}
    pvs = [pv for pv in core.list_persistent_volume().items if pv.metadata.name in claims]
    rows = pv_volumes(azchaos_aws, pvs)
    wrong = [f"{r.pv} ({r.claim}): PV pins {r.pv_zone}, EBS volume {r.volume_id} is in {r.volume_zone}"
             for r in rows if not r.agrees]
    azchaos_check(CheckResult(
        "AZ-EBS-BIND", not wrong and len(rows) == len(pvs),
        f"{len(rows)} EBS volume(s) are in their PV's zone" if not wrong else f"{len(wrong)} volume(s) disagree",
        tuple(wrong or [f"{r.pv}: {r.volume_id} in {r.volume_zone}" for r in rows]), {"volumes": len(rows)}))
