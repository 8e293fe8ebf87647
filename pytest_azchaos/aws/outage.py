"""The zone outage fault: a whole Availability Zone's instances stop, and nothing replaces them.

Order (as AWS's own AZ-failure guidance for Auto Scaling does it):

1. validate everything first (region holds the zone, every instance exists and is in the zone, every
   Auto Scaling group involved covers only that zone) -- an error here has changed nothing;
2. record the undo in the ledger (instances this run stops, processes this run suspends);
3. suspend the zone's groups' ``Launch``, ``Terminate``, ``AZRebalance``, ``HealthCheck``,
   ``ReplaceUnhealthy`` (or the ``suspend_processes`` asked for; only those not already suspended: only what
   this run changed is undone);
4. stop the zone's running instances, and wait (tenacity) until they are ``stopped``.

A group whose ``HealthCheck``/``ReplaceUnhealthy`` stay active terminates the stopped instances even with
``Launch`` suspended (EC2 Auto Scaling user guide, "How suspended processes affect other processes"). The outage
watches for that (``outage_watch``): ``ZoneOutage.watch()`` and the undo name each terminated instance, its node,
its group and the group's scaling activity for it.

Undo: start those instances (a terminated one cannot be: it is reported, not retried), wait until ``running``,
then resume exactly the processes this run suspended (resuming first would let the groups replace the
still-stopped instances).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from .asg import OUTAGE_PROCESSES, groups_of, left_active, validate_processes
from .context import AwsContext
from .errors import AwsConfigError, AwsError, AwsSafetyError, AwsTimeoutError, UnknownInstanceError
from .inventory import Instance, describe_instances, parse_provider_id
from .kube_objects import get, name_of
from .outage_watch import GONE_STATES, StoppedWatch, Termination, describe_tolerant

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
    #: Stopped instances that could not be started: terminated (or gone) while the zone was out.
    terminated: tuple[Termination, ...] = ()


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
    watcher: StoppedWatch | None = None
    _watching: tuple[threading.Thread, threading.Event] | None = field(default=None, repr=False)

    @property
    def active(self) -> dict[str, list[str]]:
        """Group -> the processes that terminate stopped instances (HealthCheck, ReplaceUnhealthy) left active."""
        return {g: list(p) for g, p in (self.undo_record.get("active") or {}).items() if p}

    def watch(self) -> list[Termination]:
        """Look at the stopped instances now: every one found terminated, gone or out of its group so far (a
        Karpenter instance's termination is expected and not listed)."""
        if self.watcher is None:
            self.watcher = watch_of(self.undo_record)
        return self.watcher.poll(self.ctx)

    @property
    def terminated(self) -> list[Termination]:
        """What ``watch()``, the background watch and the undo found so far (no AWS call)."""
        return self.watcher.terminations() if self.watcher else []

    def start_watching(self, every: float) -> None:
        """Poll the stopped instances every ``every`` seconds in a daemon thread until ``stop_watching()`` (or the
        undo), so a termination is seen when it happens, not only when someone looks. A failed look is skipped:
        ``watch()`` (the check's look) reports our side's errors."""
        if self._watching is not None or not self.stopped:
            return
        if self.watcher is None:
            self.watcher = watch_of(self.undo_record)
        watcher, stop = self.watcher, threading.Event()

        def loop() -> None:
            while not stop.wait(every):
                try:
                    watcher.poll(self.ctx)
                except Exception:  # our side; the next look (or the check's) tries again
                    continue

        thread = threading.Thread(target=loop, name=f"azchaos-outage-watch-{self.zone}", daemon=True)
        thread.start()
        self._watching = (thread, stop)

    def stop_watching(self) -> None:
        """End the background watch (idempotent)."""
        if self._watching is not None:
            thread, stop = self._watching
            stop.set()
            thread.join(timeout=30)
            self._watching = None

    def undo(self) -> UndoResult:
        """Start the instances, resume the processes, mark the ledger entry done (idempotent)."""
        self.stop_watching()
        if self.result is None or not self.result.ok:
            if self.watcher is None:
                self.watcher = watch_of(self.undo_record)
            self.result = undo_zone_outage(self.undo_record, self.ctx, watcher=self.watcher)
            if self.result.ok:
                self.ledger.done(self.entry_id, self.result.action + (
                    f": {self.result.detail}" if self.result.detail else ""))
        return self.result

    def describe(self) -> str:
        parts = [f"zone outage {self.zone}: stopped {len(self.stopped)} instance(s) ({', '.join(self.stopped)})"]
        if self.already_stopped:
            parts.append(f"already stopped before the run (left alone): {', '.join(self.already_stopped)}")
        parts.append("suspended " + ("; ".join(f"{g}: {','.join(p)}" for g, p in self.suspended.items()) or "nothing"))
        if self.active:
            parts.append("left active (they terminate stopped instances): " + "; ".join(
                f"{g}: {','.join(p)}" for g, p in self.active.items()))
        if self.terminated:
            parts.append("terminated while stopped: " + "; ".join(t.describe() for t in self.terminated))
        return "; ".join(parts)


def watch_of(undo: dict[str, Any]) -> StoppedWatch:
    """The watch over an outage's stopped instances, from its undo record (so ``azchaos restore`` has it too)."""
    return StoppedWatch(list(undo.get("instances") or []), dict(undo.get("nodes") or {}),
                        dict(undo.get("groups") or {}), {g: list(p) for g, p in (undo.get("active") or {}).items()},
                        frozenset(undo.get("replaceable") or ()))


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
                instance_ids: Iterable[str] = (), wait: bool = True, replaceable: Iterable[str] = (),
                suspend_processes: Iterable[str] = OUTAGE_PROCESSES, watch_every: float | None = None) -> ZoneOutage:
    """Take ``zone`` away: the instances of ``nodes`` in it (plus ``instance_ids``) stop, their groups freeze.
    ``replaceable``: instances whose provisioner terminates them once stopped (Karpenter's interruption handling):
    terminated counts as stopped, and their absence at undo is expected, not a failure.
    ``suspend_processes``: the Auto Scaling processes to suspend (default ``OUTAGE_PROCESSES``; an unknown name is
    a ``ValueError`` naming the valid ones, before anything). Leaving ``HealthCheck``/``ReplaceUnhealthy`` active
    lets the groups terminate the stopped instances: ``ZoneOutage.watch()`` and the undo report them;
    ``watch_every``: also watch them in the background every so many seconds until the undo (``stop_watching``)."""
    asked = validate_processes(suspend_processes)
    replace_ids = sorted(set(replaceable))
    nodes = list(nodes)
    _, found, groups = check_outage(ctx, zone, nodes=nodes, instance_ids=instance_ids)
    running = sorted(i.id for i in found.values() if i.state in ("running", "pending"))
    already = sorted(i.id for i in found.values() if i.id not in running)
    suspend = {g.name: [p for p in asked if p not in g.suspended] for g in groups}
    active = {g.name: left_active(g.suspended, asked) for g in groups}
    by_instance = {i: g.name for g in groups for i in g.instance_ids if i in found}
    node_names = {iid: name_of(n) for n in nodes
                  for iid in zone_instance_ids([n], zone) if iid in running}
    undo: dict[str, Any] = {"region": ctx.region, "zone": zone, "instances": running, "processes": suspend,
                            "nodes": node_names, "groups": {i: g for i, g in by_instance.items() if i in running},
                            "active": {g: p for g, p in active.items() if p}}
    if tuple(asked) != OUTAGE_PROCESSES:
        undo["suspend_processes"] = list(asked)
    if replace_ids:
        undo["replaceable"] = replace_ids
    entry_id = ledger.record(KIND, undo, f"zone/{zone}")
    for name, processes in suspend.items():
        if processes:
            ctx.autoscaling.suspend_processes(AutoScalingGroupName=name, ScalingProcesses=processes)
    outage = ZoneOutage(ctx, ledger, entry_id, zone, running, already, suspend, undo)
    outage.watcher = watch_of(undo)
    if running:
        ctx.ec2.stop_instances(InstanceIds=running)
        if wait:
            # A group left with HealthCheck/ReplaceUnhealthy active may terminate an instance before it is stopped.
            kept = [i for i in running if i not in replace_ids]
            seen = wait_for_states(ctx, kept, {"stopped", *GONE_STATES}, f"instances of {zone} to stop")
            outage.watcher.poll(ctx, seen)
            replaced = [i for i in running if i in replace_ids]
            if replaced:
                wait_for_states(ctx, replaced, {"stopped", "shutting-down", "terminated"},
                                f"Karpenter's instances of {zone} to stop")
    if watch_every:
        outage.start_watching(watch_every)
    return outage


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
    return describe_tolerant(ctx, ids)


def undo_zone_outage(undo: dict[str, Any], ctx: AwsContext, *, watcher: StoppedWatch | None = None) -> UndoResult:
    """Start the instances the outage stopped, then resume exactly the processes it suspended. Idempotent.
    An instance terminated meanwhile cannot be started: it is reported (``terminated``, and named in ``detail``)
    and the undo is still ok, as nothing of this run's is left to undo (a group whose ``Launch`` is resumed
    replaces it). Only a failure to start or resume makes it not ok."""
    ids = list(undo.get("instances") or [])
    watcher = watcher or watch_of(undo)
    notes: list[str] = []
    if ids:
        found = wait_for_states(ctx, ids, {"running", "stopped", *GONE_STATES}, "stopping instances to settle")
        watcher.poll(ctx, found)
        for _ in range(3):  # a group may terminate an instance between our look and the start: look again
            to_start = sorted(i for i, inst in found.items() if inst.state == "stopped")
            if not to_start:
                break
            try:
                ctx.ec2.start_instances(InstanceIds=to_start)
                break
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") != "IncorrectInstanceState":
                    notes.append(f"cannot start {', '.join(to_start)}: {e.response.get('Error', {}).get('Message', e)}")
                    break
                found = describe_tolerant(ctx, ids)
                watcher.poll(ctx, found)
        alive = sorted(i for i, inst in found.items() if inst.state not in GONE_STATES)
        if alive:
            settled = wait_for_states(ctx, alive, {"running", *GONE_STATES},
                                      f"instances of {undo.get('zone')} to run again")
            watcher.poll(ctx, settled)
    for name, processes in (undo.get("processes") or {}).items():
        if not processes:
            continue
        try:
            ctx.autoscaling.resume_processes(AutoScalingGroupName=name, ScalingProcesses=list(processes))
        except ClientError as e:
            notes.append(f"cannot resume {name}: {e.response.get('Error', {}).get('Message', e)}")
    lost = tuple(watcher.terminations())
    action = f"started {len(ids) - len([t for t in lost if t.state != 'detached'])} of {len(ids)} instance(s) " \
             f"in {undo.get('zone')}, resumed processes of " \
             f"{len([p for p in (undo.get('processes') or {}).values() if p])} group(s)"
    detail = "; ".join(notes + [f"not started: {t.describe()}" for t in lost if t.state != "detached"]
                       + [f"started but no longer in its group: {t.describe()}" for t in lost if t.state == "detached"])
    return UndoResult(not notes, action, detail, lost)


#: Undo kinds this module defines -> ``fn(undo_dict, aws_context)``.
UNDO_HANDLERS = {KIND: undo_zone_outage}


def register_with_ledger() -> None:
    """Make ``Ledger.replay`` / ``azchaos restore`` able to undo zone outages."""
    from .ledger_hooks import register_aws_undo

    register_aws_undo(KIND, undo_zone_outage)
