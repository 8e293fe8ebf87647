"""The chaostoolkit ``zone_partition`` action through chaoslib's runner: the ACL swap, then ``undo_faults`` as the
rollback puts the original ACLs back and deletes ours."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from chaoslib.experiment import run_experiment

from pytest_azchaos.aws import AwsContext

from .test_interop import experiment, failures, ours


def test_zone_partition_action_cuts_the_zone_and_undo_faults_restores_the_original_acls(cluster, zone, ns):
    aws = AwsContext.for_kubeconfig(cluster.kubeconfig)

    def associations() -> dict[str, str]:
        return {a["SubnetId"]: acl["NetworkAclId"] for acl in aws.ec2.describe_network_acls()["NetworkAcls"]
                for a in acl.get("Associations") or []}

    before = associations()
    conf = {"kubeconfig_path": str(cluster.kubeconfig), "azchaos_run_id": f"ctk-partition-{ns}"}
    journal = run_experiment(experiment("our partition", [ours("zone_partition", zone=zone)],
                                        [ours("undo_faults")], conf), settings={})
    assert journal["status"] == "completed" and not failures(journal), failures(journal)
    out = journal["run"][0]["output"]
    assert out["zone"] == zone and out["network_acl"].startswith("acl-") and "deny-all" in out["summary"]
    undone = journal["rollbacks"][0]["output"]["undone"]
    assert undone and all(line.startswith("ok") for line in undone), undone
    assert associations() == before
    with pytest.raises(ClientError):
        aws.ec2.describe_network_acls(NetworkAclIds=[out["network_acl"]])
