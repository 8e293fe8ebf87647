"""The zonal shift fault: an ARC zonal shift of the EKS cluster (its managed resource) away from one zone.

EKS then cordons the zone's nodes, takes the zone's endpoints out of EndpointSlices (unless all of a Service's
endpoints are there), launches nothing there and evicts nothing (eks-flavours-facts.md §5).

Order:

1. check (read-only): the zone's AZ ID, the cluster's managed resource, and no active zonal shift or autoshift
   practice run on it -- one in another zone during our fault would take two zones away (refused, naming it);
2. record the undo in the ledger: cancel the active shift of the resource whose comment carries our run id
   (found by its comment, so a run killed between the record and the start leaves nothing behind either);
3. StartZonalShift with an expiry (the safety net if nothing ever cancels it) and that comment.

Undo: wait until ``spacing`` (EKS: 60 s between operations) has passed since the shift started, then cancel
it. Idempotent: a shift already cancelled or expired is done.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from .context import AwsContext
from .errors import AwsConfigError, AwsError, AwsSafetyError
from .outage import LedgerLike, UndoResult

KIND = "aws.zonal-shift"
EKS_ARN_PREFIX = "arn:aws:eks:"


def _message(e: ClientError) -> str:
    err = e.response.get("Error", {})
    return f"{err.get('Code', '')}: {err.get('Message', e)}"


def _arc(ctx: AwsContext) -> Any:
    return ctx.client("arc-zonal-shift")


def run_comment(run_id: str, zone: str) -> str:
    """The shift's comment: names our run (how the undo finds it), at most 128 characters."""
    return f"azchaos run {run_id}: zonal shift test of {zone}"[:128]


@dataclass(frozen=True)
class ShiftPlan:
    """What a zonal shift of ``zone`` would do: the managed resource (the EKS cluster's ARN) and the AZ ID."""

    zone: str
    zone_id: str
    resource: str


def zone_id(ctx: AwsContext, zone: str) -> str:
    """The AZ ID (``use1-az1``) of zone name ``zone``: ARC names zones by ID."""
    ctx.check_zones([zone])
    try:
        zones = ctx.ec2.describe_availability_zones(ZoneNames=[zone])["AvailabilityZones"]
    except ClientError as e:
        raise AwsError(f"cannot look up zone {zone} ({_message(e)}) in {ctx.describe()}; nothing was changed") from None
    if not zones:
        raise AwsError(f"zone {zone} is not in {ctx.describe()}; nothing was changed")
    return str(zones[0]["ZoneId"])


def cluster_resource(ctx: AwsContext, cluster_name: str | None = None) -> str:
    """The ARN of the EKS cluster as an ARC managed resource (ListManagedResources), or an error naming the fix."""
    arns = eks_resources(ctx, cluster_name)
    if len(arns) != 1:
        found = ", ".join(sorted(arns)) or "none"
        raise AwsError(f"need exactly one EKS cluster among the ARC managed resources of {ctx.describe()}, found "
                       f"{found}: enable zonal shift on the cluster (aws eks update-cluster-config "
                       "--zonal-shift-config enabled=true) or name it (cluster_name=); nothing was changed")
    return arns[0]


def eks_resources(ctx: AwsContext, cluster_name: str | None = None) -> list[str]:
    """The ARNs of the EKS clusters (only ``cluster_name``'s, if given) among the ARC managed resources."""
    arns: list[str] = []
    arc = _arc(ctx)
    try:
        for page in arc.get_paginator("list_managed_resources").paginate():
            arns += [r["arn"] for r in page.get("items") or [] if str(r.get("arn", "")).startswith(EKS_ARN_PREFIX)]
    except (EndpointConnectionError, ConnectTimeoutError) as e:
        raise AwsConfigError(f"cannot reach AWS at {ctx.describe()} ({e}): check AWS_ENDPOINT_URL and the network; "
                             "nothing was changed") from None
    except ClientError as e:
        raise AwsError(f"cannot list ARC managed resources ({_message(e)}) in {ctx.describe()}: the role needs "
                       "arc-zonal-shift:ListManagedResources; nothing was changed") from None
    if cluster_name:
        arns = [a for a in arns if a.endswith(f":cluster/{cluster_name}")]
    return arns


def active_shifts(ctx: AwsContext, resource: str) -> list[dict[str, Any]]:
    """Active zonal shifts, practice runs included, and autoshifts on ``resource`` (GetManagedResource)."""
    arc = _arc(ctx)
    try:
        got = arc.get_managed_resource(resourceIdentifier=resource)
    except ClientError as e:
        raise AwsError(f"cannot read ARC managed resource {resource} ({_message(e)}); the role needs "
                       "arc-zonal-shift:GetManagedResource; nothing was changed") from None
    shifts = [dict(s) for s in got.get("zonalShifts") or []]
    shifts += [{"shiftType": "ZONAL_AUTOSHIFT", "awayFrom": a.get("awayFrom"), "zonalShiftId": "(autoshift)",
                "comment": ""} for a in got.get("autoshifts") or []]
    return shifts


def describe_shift(s: dict[str, Any]) -> str:
    kind = {"PRACTICE_RUN": "autoshift practice run", "ZONAL_AUTOSHIFT": "zonal autoshift",
            "FIS_EXPERIMENT": "FIS zonal shift"}.get(str(s.get("shiftType")), "zonal shift")
    comment = f" ({s['comment']!r})" if s.get("comment") else ""
    return f"{kind} {s.get('zonalShiftId')} away from {s.get('awayFrom')}{comment}"


def shifts_elsewhere(ctx: AwsContext, zone: str, *, cluster_name: str | None = None) -> list[str]:
    """Read-only preflight of every fault: the active zonal shifts, autoshift practice runs and autoshifts that take
    the cluster away from a zone other than ``zone``, described (taking ``zone`` away then loses two zones). Empty
    when the cluster is no ARC managed resource (zonal shift not enabled: nothing can be active); AwsError when
    that cannot be told (several EKS clusters and no name, no permission)."""
    if not eks_resources(ctx, cluster_name):
        return []
    resource = cluster_resource(ctx, cluster_name)
    az = zone_id(ctx, zone)
    return [describe_shift(s) for s in active_shifts(ctx, resource) if s.get("awayFrom") != az]


def check_shift(ctx: AwsContext, zone: str, *, cluster_name: str | None = None) -> ShiftPlan:
    """Read-only: what a zonal shift of ``zone`` would do, or an error naming the fix. Refuses while any shift
    or practice run is active on the cluster: in another zone it would take two zones away during our fault."""
    az = zone_id(ctx, zone)
    resource = cluster_resource(ctx, cluster_name)
    active = active_shifts(ctx, resource)
    others = [s for s in active if s.get("awayFrom") != az]
    if others:
        raise AwsSafetyError(f"{describe_shift(others[0])} is active on {resource}: a zonal shift of {zone} ({az}) "
                             "now would take two zones away; wait for it to end (or cancel it); nothing was changed")
    if active:
        raise AwsSafetyError(f"{describe_shift(active[0])} is already active on {resource}: {zone} is shifted "
                             "away by someone else, so there is nothing for us to start or undo; nothing was changed")
    return ShiftPlan(zone, az, resource)


@dataclass
class ZonalShiftFault:
    """One zonal shift in progress and its ledger entry."""

    ctx: AwsContext
    ledger: LedgerLike
    entry_id: str
    plan: ShiftPlan
    shift: dict[str, Any]
    undo_record: dict[str, Any] = field(default_factory=dict)
    result: UndoResult | None = None

    @property
    def zone(self) -> str:
        return self.plan.zone

    @property
    def shift_id(self) -> str:
        return str(self.shift["zonalShiftId"])

    def undo(self) -> UndoResult:
        """Cancel the shift (after the spacing EKS asks for); mark the ledger entry done. Idempotent."""
        if self.result is None or not self.result.ok:
            self.result = undo_zonal_shift(self.undo_record, self.ctx)
            if self.result.ok:
                self.ledger.done(self.entry_id, self.result.action)
        return self.result

    def describe(self) -> str:
        return (f"zonal shift {self.shift_id} of {self.plan.resource} away from {self.zone} ({self.plan.zone_id}), "
                f"expiring {self.shift.get('expiryTime')}")


def zonal_shift(ctx: AwsContext, ledger: LedgerLike, zone: str, *, expires_in: str = "30m",
                spacing: float = 60.0, cluster_name: str | None = None) -> ZonalShiftFault:
    """Shift the cluster away from ``zone`` for ``expires_in`` at most (ARC's ``20m``/``2h`` form); the cancel is
    in the ledger before the shift starts. ``spacing``: seconds the undo waits after the start (EKS: 60)."""
    plan = check_shift(ctx, zone, cluster_name=cluster_name)
    comment = run_comment(ledger.run_id, zone)
    undo = {"region": ctx.region, "zone": zone, "zone_id": plan.zone_id, "resource": plan.resource,
            "comment": comment, "spacing": spacing}
    entry_id = ledger.record(KIND, undo, f"zone/{zone}")
    arc = _arc(ctx)
    try:
        shift = arc.start_zonal_shift(resourceIdentifier=plan.resource, awayFrom=plan.zone_id,
                                            expiresIn=expires_in, comment=comment)
    except ClientError as e:
        raise AwsError(f"StartZonalShift of {plan.resource} away from {zone} ({plan.zone_id}) failed: "
                       f"{_message(e)}") from None
    shift.pop("ResponseMetadata", None)
    return ZonalShiftFault(ctx, ledger, entry_id, plan, shift, undo)


def _epoch(t: Any) -> float:
    return t.timestamp() if isinstance(t, datetime) else float(t)


def undo_zonal_shift(undo: dict[str, Any], ctx: AwsContext) -> UndoResult:
    """Cancel the active shift of ``undo['resource']`` whose comment is ours, ``spacing`` after its start."""
    arc = _arc(ctx)
    try:
        items = arc.list_zonal_shifts(status="ACTIVE", resourceIdentifier=undo["resource"]).get("items") or []
    except ClientError as e:
        return UndoResult(False, "", f"cannot list zonal shifts of {undo['resource']}: {_message(e)}")
    ours = [s for s in items if s.get("comment") == undo["comment"]]
    notes, cancelled = [], 0
    for s in ours:
        wait = _epoch(s["startTime"]) + float(undo.get("spacing") or 0) - time.time()
        if wait > 0:
            time.sleep(wait)
        try:
            arc.cancel_zonal_shift(zonalShiftId=s["zonalShiftId"])
            cancelled += 1
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ConflictException":  # ended meanwhile: done
                notes.append(f"cannot cancel zonal shift {s['zonalShiftId']}: {_message(e)}")
    action = f"cancelled {cancelled} zonal shift(s) of {undo['resource']} away from {undo.get('zone')}"
    return UndoResult(not notes, action, "; ".join(notes))


#: Undo kinds this module defines -> ``fn(undo_dict, aws_context)``.
UNDO_HANDLERS = {KIND: undo_zonal_shift}


def register_with_ledger() -> None:
    """Make ``Ledger.replay`` / ``azchaos restore`` able to cancel zonal shifts."""
    from .ledger_hooks import register_aws_undo

    register_aws_undo(KIND, undo_zonal_shift)
