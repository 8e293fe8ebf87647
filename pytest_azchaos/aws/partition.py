"""The zone partition fault: a deny-all network ACL swapped onto a zone's subnets, as FIS's
``aws:network:disrupt-connectivity`` (scope ``all``) does it. The zone's instances keep running (split
brain): their kubelets lose the regional API server, flows across the subnets' boundary fail, traffic
inside a subnet still flows (ACLs filter only what crosses it).

Order:

1. validate (region holds the zone, the zone's nodes have instances in one VPC, every subnet has an
   association) -- an error here has changed nothing;
2. record the undo in the ledger: each subnet's original ACL, and the tag our ACL will carry;
3. create the deny-all ACL (a new custom ACL denies everything: only the ``*`` rules), tagged with the run;
4. replace each subnet's association with it.

Undo: each subnet still on one of our ACLs goes back to exactly its original ACL (a subnet someone else
moved meanwhile is left alone and reported); then our ACLs are deleted. The ACL is found by its tag, so
a run killed between steps 3 and 4 leaves nothing behind either.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from ..wellknown import RUN_ID_LABEL
from .context import AwsContext
from .errors import AwsConfigError, AwsError, AwsSafetyError
from .outage import LedgerLike, UndoResult, zone_instance_ids

KIND = "aws.zone-partition"
ZONE_TAG = "azchaos.io/partitioned-zone"


@dataclass(frozen=True)
class PartitionPlan:
    """What a partition of ``zone`` would touch: the VPC, the node subnets, the load balancers' subnets there,
    and each subnet's current ACL association."""

    zone: str
    vpc_id: str
    node_subnets: list[str]
    lb_subnets: list[str]
    associations: dict[str, tuple[str, str]]  # subnet -> (network ACL id, association id)

    @property
    def subnets(self) -> list[str]:
        return sorted(set(self.node_subnets) | set(self.lb_subnets))


@dataclass
class ZonePartition:
    """One zone partition in progress: our ACL, the subnets it was swapped onto, and the ledger entry."""

    ctx: AwsContext
    ledger: LedgerLike
    entry_id: str
    plan: PartitionPlan
    acl_id: str
    undo_record: dict[str, Any] = field(default_factory=dict)
    result: UndoResult | None = None
    #: ``time.monotonic()`` just before the first subnet was swapped: when the cut began, after the checks and the
    #: ledger (a detection window counts from here, not from when the fault was asked for).
    cut_at: float = 0.0

    @property
    def zone(self) -> str:
        return self.plan.zone

    def undo(self) -> UndoResult:
        """Re-associate the original ACLs, delete ours, mark the ledger entry done (idempotent)."""
        if self.result is None or not self.result.ok:
            self.result = undo_zone_partition(self.undo_record, self.ctx)
            if self.result.ok:
                self.ledger.done(self.entry_id, self.result.action)
        return self.result

    def describe(self) -> str:
        lbs = f", load-balancer subnet(s) {', '.join(self.plan.lb_subnets)}" if self.plan.lb_subnets else ""
        return (f"zone partition {self.zone}: deny-all network ACL {self.acl_id} on node subnet(s) "
                f"{', '.join(self.plan.node_subnets)}{lbs} (VPC {self.plan.vpc_id})")


@contextlib.contextmanager
def _reaching(ctx: AwsContext) -> Iterator[None]:
    """An unreachable endpoint becomes an ``AwsConfigError`` naming the fix."""
    try:
        yield
    except (EndpointConnectionError, ConnectTimeoutError) as e:
        raise AwsConfigError(f"cannot reach AWS at {ctx.describe()} ({e}): check AWS_ENDPOINT_URL and the network "
                             "(for the embedded cluster: <kubeconfig>.aws.json, written while it runs); nothing "
                             "was changed") from None


def current_associations(ctx: AwsContext, subnets: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Subnet -> (network ACL id, association id) as DescribeNetworkAcls reports them now."""
    wanted = sorted(set(subnets))
    if not wanted:
        return {}
    out: dict[str, tuple[str, str]] = {}
    with _reaching(ctx):
        acls = ctx.ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": wanted}])
    for acl in acls["NetworkAcls"]:
        for assoc in acl.get("Associations") or []:
            if assoc.get("SubnetId") in wanted:
                out[assoc["SubnetId"]] = (acl["NetworkAclId"], assoc["NetworkAclAssociationId"])
    return out


def load_balancer_subnets(ctx: AwsContext, vpc_id: str, zone: str) -> list[str]:
    """The subnets in ``zone`` of every load balancer in ``vpc_id`` (their nodes in that zone)."""
    out = set()
    for page in ctx.elbv2.get_paginator("describe_load_balancers").paginate():
        for lb in page["LoadBalancers"]:
            if lb.get("VpcId") != vpc_id:
                continue
            for az in lb.get("AvailabilityZones") or []:
                if az.get("ZoneName") == zone and az.get("SubnetId"):
                    out.add(az["SubnetId"])
    return sorted(out)


def check_partition(ctx: AwsContext, zone: str, *, nodes: Iterable[Any] = (), instance_ids: Iterable[str] = (),
                    include_load_balancer: bool = False) -> PartitionPlan:
    """Read-only: what partitioning ``zone`` would touch, or an ``AwsError`` naming the fix. Called before the
    lock and the ledger are written, and again by ``zone_partition``."""
    ctx.check_zones([zone])
    ids = sorted(set(zone_instance_ids(nodes, zone)) | set(instance_ids))
    if not ids:
        raise AwsError(f"no instances in zone {zone}: no node has a providerID aws:///{zone}/i-...; check the zone "
                       "name; nothing was changed")
    try:
        with _reaching(ctx):
            pages = ctx.ec2.describe_instances(InstanceIds=ids)["Reservations"]
    except ClientError as e:
        raise AwsError(f"cannot describe the instances of {zone} ({e.response.get('Error', {}).get('Message', e)}) "
                       f"in {ctx.describe()}; nothing was changed") from None
    instances = [i for r in pages for i in r["Instances"]]
    elsewhere = sorted(f"{i['InstanceId']} (in {i['Placement']['AvailabilityZone']})" for i in instances
                       if i["Placement"]["AvailabilityZone"] != zone)
    if elsewhere:
        raise AwsSafetyError(f"instance(s) {', '.join(elsewhere)} are not in zone {zone}; nothing was changed")
    vpcs = sorted({i.get("VpcId") or "" for i in instances})
    if len(vpcs) != 1 or not vpcs[0]:
        raise AwsSafetyError(f"the instances of {zone} are in VPC(s) {vpcs}, not one: a partition swaps ACLs within "
                             "one VPC; nothing was changed")
    node_subnets = sorted({i["SubnetId"] for i in instances if i.get("SubnetId")})
    lb_subnets = [s for s in load_balancer_subnets(ctx, vpcs[0], zone) if s not in node_subnets] \
        if include_load_balancer else []
    associations = current_associations(ctx, node_subnets + lb_subnets)
    missing = sorted(set(node_subnets + lb_subnets) - set(associations))
    if missing:
        raise AwsError(f"subnet(s) {', '.join(missing)} have no network ACL association in DescribeNetworkAcls; "
                       "nothing was changed")
    return PartitionPlan(zone, vpcs[0], node_subnets, lb_subnets, associations)


def zone_partition(ctx: AwsContext, ledger: LedgerLike, zone: str, *, nodes: Iterable[Any] = (),
                   instance_ids: Iterable[str] = (), include_load_balancer: bool = False) -> ZonePartition:
    """Cut ``zone`` off: a deny-all ACL on its node subnets (and its load balancers' subnets there when
    ``include_load_balancer``), the original associations recorded in the ledger first."""
    plan = check_partition(ctx, zone, nodes=nodes, instance_ids=instance_ids,
                           include_load_balancer=include_load_balancer)
    undo = {"region": ctx.region, "zone": zone, "vpc": plan.vpc_id, "tag": {RUN_ID_LABEL: ledger.run_id},
            "subnets": {s: plan.associations[s][0] for s in plan.subnets}}
    entry_id = ledger.record(KIND, undo, f"zone/{zone}")
    acl_id = ctx.ec2.create_network_acl(VpcId=plan.vpc_id, TagSpecifications=[{
        "ResourceType": "network-acl", "Tags": [
            {"Key": RUN_ID_LABEL, "Value": ledger.run_id}, {"Key": ZONE_TAG, "Value": zone},
            {"Key": "Name", "Value": f"azchaos-partition-{zone}"}]}])["NetworkAcl"]["NetworkAclId"]
    cut_at = time.monotonic()
    for subnet in plan.subnets:
        ctx.ec2.replace_network_acl_association(AssociationId=plan.associations[subnet][1], NetworkAclId=acl_id)
    return ZonePartition(ctx, ledger, entry_id, plan, acl_id, undo, cut_at=cut_at)


def our_acls(ctx: AwsContext, vpc_id: str, tag: dict[str, str]) -> list[str]:
    """Ids of the network ACLs in ``vpc_id`` carrying our run's tag."""
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}] + [{"Name": f"tag:{k}", "Values": [v]} for k, v in tag.items()]
    return sorted(a["NetworkAclId"] for a in ctx.ec2.describe_network_acls(Filters=filters)["NetworkAcls"])


def undo_zone_partition(undo: dict[str, Any], ctx: AwsContext) -> UndoResult:
    """Each subnet on one of our ACLs back to its original ACL; our ACLs deleted. Idempotent."""
    original: dict[str, str] = dict(undo.get("subnets") or {})
    ours = set(our_acls(ctx, undo["vpc"], dict(undo.get("tag") or {})))
    notes, moved = [], 0
    for subnet, (acl, assoc) in sorted(current_associations(ctx, original).items()):
        if acl == original[subnet]:
            continue
        if acl not in ours:
            notes.append(f"subnet {subnet} is on {acl}, neither its original {original[subnet]} nor ours: left alone")
            continue
        try:
            ctx.ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=original[subnet])
            moved += 1
        except ClientError as e:
            notes.append(f"cannot put subnet {subnet} back on {original[subnet]}: "
                         f"{e.response.get('Error', {}).get('Message', e)}")
    for acl in sorted(ours):
        try:
            ctx.ec2.delete_network_acl(NetworkAclId=acl)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "InvalidNetworkAclID.NotFound":
                notes.append(f"cannot delete network ACL {acl}: {e.response.get('Error', {}).get('Message', e)}")
    action = (f"re-associated {moved} subnet(s) of {undo.get('zone')} with their original network ACL(s), "
              f"deleted {len(ours)} partition ACL(s)")
    return UndoResult(not notes, action, "; ".join(notes))


#: Undo kinds this module defines -> ``fn(undo_dict, aws_context)``.
UNDO_HANDLERS = {KIND: undo_zone_partition}


def register_with_ledger() -> None:
    """Make ``Ledger.replay`` / ``azchaos restore`` able to undo zone partitions."""
    from .ledger_hooks import register_aws_undo

    register_aws_undo(KIND, undo_zone_partition)
