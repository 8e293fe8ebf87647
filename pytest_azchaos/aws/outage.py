"""The zone outage fault: a whole Availability Zone's instances stop, and nothing replaces them.

Order (as AWS's own AZ-failure guidance for Auto Scaling does it):

1. validate everything first (region holds the zone, every instance exists and is in the zone, every
   Auto Scaling group involved covers only that zone) -- an error here has changed nothing;
2. record the undo in the ledger (instances this run stops, processes this run suspends);
3. suspend the zone's groups' ``Launch``, ``Terminate``, ``AZRebalance``, ``HealthCheck``,
   ``ReplaceUnhealthy`` (only those not already suspended: only what this run changed is undone);
4. stop the zone's running instances, and wait (tenacity) until they are ``stopped``.

Undo: start those instances, wait until ``running``, then resume exactly the processes this run
suspended (resuming first would let the groups replace the still-stopped instances).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from .asg import OUTAGE_PROCESSES, groups_of
from .context import AwsContext
from .errors import AwsConfigError, AwsError, AwsSafetyError, AwsTimeoutError, UnknownInstanceError
from .inventory import Instance, describe_instances, parse_provider_id
from .kube_objects import get

KIND = "aws.zone-outage"
TRANSITIONAL = ("pending", "stopping", "shutting-down")


class LedgerLike(Protocol):
    run_id: str

    def record(self, kind: str, undo: dict[str, Any], target: str) -> str: ...

    def done(self, entry_id: str, outcome: str = "") -> None: ...


@dataclass(frozen=True)
class UndoResult:
    ok: bool
    action: str
    detail: str = ""


@dataclass
class ZoneOutage:
    """One zone outage in progress: what this run stopped and suspended, and its ledger entry."""

    ctx: AwsContext
    ledger: LedgerLike
    entry_id: str
    zone: str
    stopped: list[str]
    already_stopped: list[str]
    suspended: dict[str, list[str]]
    undo_record: dict[str, Any] = field(default_factory=dict)
    result: UndoResult | None = None

    def undo(self) -> UndoResult:
        """Start the instances, resume the processes, mark the ledger entry done (idempotent)."""
        if self.result is None or not self.result.ok:
            self.result = undo_zone_outage(self.undo_record, self.ctx)
            if self.result.ok:
                self.ledger.done(self.entry_id, self.result.action)
        return self.result

    def describe(self) -> str:
        parts = [f"zone outage {self.zone}: stopped {len(self.stopped)} instance(s) ({', '.join(self.stopped)})"]
        if self.already_stopped:
            parts.append(f"already stopped before the run (left alone): {', '.join(self.already_stopped)}")
        parts.append("suspended " + ("; ".join(f"{g}: {','.join(p)}" for g, p in self.suspended.items()) or "nothing"))
        return "; ".join(parts)


def zone_instance_ids(nodes: Iterable[Any], zone: str) -> list[str]:
    """Instance ids of the nodes (dicts or client models) whose providerID puts them in ``zone``."""
    out = []
    for node in nodes:
        parsed = parse_provider_id(get(node, "spec", "providerID"))
        if parsed and parsed[0] == zone:
            out.append(parsed[1])
    return sorted(out)


def check_outage(ctx: AwsContext, zone: str, *, nodes: Iterable[Any] = (),
                 instance_ids: Iterable[str] = ()) -> tuple[list[str], dict[str, Any], list[Any]]:
    """Read-only: can ``zone`` be taken away here? Its instance ids, the instances and their groups, or an
    ``AwsError`` naming the fix (wrong region, unreachable endpoint, no instances, multi-zone groups).
    Called before anything is written (the lock, the ledger), and again by ``zone_outage``."""
    ctx.check_zones([zone])
    ids = sorted(set(zone_instance_ids(nodes, zone)) | set(instance_ids))
    if not ids:
        raise AwsError(f"no instances to stop in zone {zone}: no node has a providerID aws:///{zone}/i-...; "
                       "check the zone name; nothing was changed")
    try:
        found = describe_instances(ctx, ids)
    except (EndpointConnectionError, ConnectTimeoutError) as e:
        raise AwsConfigError(f"cannot reach AWS at {ctx.describe()} ({e}): check AWS_ENDPOINT_URL and the network "
                             "(for the embedded cluster: <kubeconfig>.aws.json, written while it runs); nothing "
                             "was changed") from None
    elsewhere = sorted(f"{i.id} (in {i.zone})" for i in found.values() if i.zone != zone)
    if elsewhere:
        raise UnknownInstanceError(f"instance(s) {', '.join(elsewhere)} are not in zone {zone}; "
                                   "nothing was changed")
    groups = groups_of(ctx, ids)
    multi = [f"{g.name} (zones {', '.join(g.zones)})" for g in groups if not g.single_zone]
    if multi:
        raise AwsSafetyError(f"Auto Scaling group(s) {'; '.join(multi)} span several zones: suspending them would "
                             "freeze capacity outside " + zone + "; use one node group per zone. Nothing was changed")
    return ids, found, groups


def zone_outage(ctx: AwsContext, ledger: LedgerLike, zone: str, *, nodes: Iterable[Any] = (),
                instance_ids: Iterable[str] = (), wait: bool = True, replaceable: Iterable[str] = ()) -> ZoneOutage:
    """Take ``zone`` away: the instances of ``nodes`` in it (plus ``instance_ids``) stop, their groups freeze.
    ``replaceable``: instances whose provisioner terminates them once stopped (Karpenter's interruption handling):
    terminated counts as stopped, and their absence at undo is expected, not a failure."""
    replace_ids = sorted(set(replaceable))
    _, found, groups = check_outage(ctx, zone, nodes=nodes, instance_ids=instance_ids)
    running = sorted(i.id for i in found.values() if i.state in ("running", "pending"))
    already = sorted(i.id for i in found.values() if i.id not in running)
    suspend = {g.name: [p for p in OUTAGE_PROCESSES if p not in g.suspended] for g in groups}
    undo = {"region": ctx.region, "zone": zone, "instances": running, "processes": suspend}
    if replace_ids:
        undo["replaceable"] = replace_ids
    entry_id = ledger.record(KIND, undo, f"zone/{zone}")
    for name, processes in suspend.items():
        if processes:
            ctx.autoscaling.suspend_processes(AutoScalingGroupName=name, ScalingProcesses=processes)
    if running:
        ctx.ec2.stop_instances(InstanceIds=running)
        if wait:
            kept = [i for i in running if i not in replace_ids]
            wait_for_states(ctx, kept, {"stopped"}, f"instances of {zone} to stop")
            replaced = [i for i in running if i in replace_ids]
            if replaced:
                wait_for_states(ctx, replaced, {"stopped", "shutting-down", "terminated"},
                                f"Karpenter's instances of {zone} to stop")
    return ZoneOutage(ctx, ledger, entry_id, zone, running, already, suspend, undo)


def wait_for_states(ctx: AwsContext, ids: list[str], states: set[str], what: str) -> dict[str, Instance]:
    """Poll DescribeInstances (tenacity) until every instance is in one of ``states``."""
    last: dict[str, Instance] = {}

    def poll() -> bool:
        last.clear()
        last.update(_describe_tolerant(ctx, ids))
        return all(i.state in states for i in last.values())

    try:
        Retrying(stop=stop_after_delay(ctx.state_timeout), wait=wait_fixed(ctx.poll_interval),
                 retry=retry_if_result(lambda ok: not ok))(poll)
    except RetryError:
        seen = ", ".join(f"{i.id}={i.state}" for i in last.values())
        raise AwsTimeoutError(f"timed out after {ctx.state_timeout:g}s waiting for {what}; last seen: {seen}") from None
    return dict(last)


def _describe_tolerant(ctx: AwsContext, ids: list[str]) -> dict[str, Instance]:
    """Like ``describe_instances`` but instances that are gone are simply absent."""
    try:
        return describe_instances(ctx, ids)
    except UnknownInstanceError:
        out = {}
        for iid in ids:
            try:
                out.update(describe_instances(ctx, [iid]))
            except UnknownInstanceError:
                continue
        return out


def undo_zone_outage(undo: dict[str, Any], ctx: AwsContext) -> UndoResult:
    """Start the instances the outage stopped, then resume the processes it suspended. Idempotent."""
    ids = list(undo.get("instances") or [])
    notes = []
    if ids:
        found = wait_for_states(ctx, ids, {"running", "stopped", "terminated"} | {"shutting-down"},
                                "stopping instances to settle")
        gone = sorted(set(ids) - {i for i, inst in found.items() if inst.state not in ("terminated", "shutting-down")})
        expected = set(undo.get("replaceable") or [])
        if set(gone) - expected:
            notes.append(f"cannot start {', '.join(sorted(set(gone) - expected))}: terminated or gone")
        to_start = sorted(i for i, inst in found.items() if inst.state == "stopped")
        if to_start:
            ctx.ec2.start_instances(InstanceIds=to_start)
        alive = sorted(set(ids) - set(gone))
        if alive:
            wait_for_states(ctx, alive, {"running"}, f"instances of {undo.get('zone')} to run again")
    for name, processes in (undo.get("processes") or {}).items():
        if not processes:
            continue
        try:
            ctx.autoscaling.resume_processes(AutoScalingGroupName=name, ScalingProcesses=list(processes))
        except ClientError as e:
            notes.append(f"cannot resume {name}: {e.response.get('Error', {}).get('Message', e)}")
    action = f"started {len(ids)} instance(s) in {undo.get('zone')}, resumed processes of " \
             f"{len([p for p in (undo.get('processes') or {}).values() if p])} group(s)"
    return UndoResult(not notes, action, "; ".join(notes))


#: Undo kinds this module defines -> ``fn(undo_dict, aws_context)``.
UNDO_HANDLERS = {KIND: undo_zone_outage}


def register_with_ledger() -> None:
    """Make ``Ledger.replay`` / ``azchaos restore`` able to undo zone outages."""
    from .ledger_hooks import register_aws_undo

    register_aws_undo(KIND, undo_zone_outage)
