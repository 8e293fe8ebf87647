"""Watching a zone outage's stopped instances: which were terminated (or left their Auto Scaling group) meanwhile,
when, and, if the group says, why.

An Auto Scaling group whose ``HealthCheck`` and ``ReplaceUnhealthy`` stay active terminates a stopped instance even
with ``Launch`` suspended ("ReplaceUnhealthy continues to terminate unhealthy instances, but does not launch
replacements", EC2 Auto Scaling user guide, "How suspended processes affect other processes"); such an instance
cannot be started again, so the zone's capacity does not come back as the same instances. The group's scaling
activity for it (``DescribeScalingActivities``) is quoted verbatim when there is one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from .asg import describe_groups
from .context import AwsContext
from .errors import UnknownInstanceError
from .inventory import Instance, describe_instances

GONE_STATES = ("shutting-down", "terminated")


@dataclass(frozen=True)
class Termination:
    """A stopped instance this run can no longer start (``state``: terminated, shutting-down, gone = no longer
    described at all) or that left its group (``detached``), with what the group said about it."""

    instance_id: str
    state: str
    seen_at: str
    node: str = ""
    group: str = ""
    #: The group's processes that terminate stopped instances (HealthCheck, ReplaceUnhealthy) left active.
    active: tuple[str, ...] = ()
    #: The group's scaling activity for the instance, verbatim: StartTime, Description, Cause.
    when: str = ""
    activity: str = ""
    cause: str = ""

    def by(self) -> str:
        """Who terminated it, as far as the evidence goes."""
        if self.activity or self.cause:
            return f"group {self.group or '?'}'s scaling activity \"{self.activity}\"" + (
                f" (cause: \"{self.cause}\")" if self.cause else "")
        if self.active:
            return (f"group {self.group}'s health replacement ({', '.join(self.active)} not suspended, so "
                    "ReplaceUnhealthy terminates an instance that is not running)")
        return "something outside this run (the group's HealthCheck and ReplaceUnhealthy were suspended)"

    def describe(self) -> str:
        node = f" (node {self.node})" if self.node else ""
        group = f" in group {self.group}" if self.group else ""
        what = {"detached": "left its group", "gone": "is gone (no longer described by EC2)"}.get(
            self.state, f"was {self.state}")
        when = f" at {self.when}" if self.when else f" (seen by {self.seen_at})"
        return f"{self.instance_id}{node}{group} {what}{when}, by {self.by()}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Termination:
        return cls(**{**d, "active": tuple(d.get("active") or ())})


@dataclass
class StoppedWatch:
    """The instances an outage stopped, with their nodes and groups; ``poll()`` adds what happened to them."""

    ids: list[str]
    nodes: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    active: dict[str, list[str]] = field(default_factory=dict)
    #: Instances whose provisioner replaces them once stopped (Karpenter): their termination is expected.
    expected: frozenset[str] = frozenset()
    found: dict[str, Termination] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def poll(self, ctx: AwsContext, seen: Mapping[str, Instance] | None = None) -> list[Termination]:
        """Look at the instances (``seen``: a DescribeInstances answer already at hand); record new terminations
        and departures from their group. Returns every termination found so far, oldest first. Thread-safe (the
        outage's background watch and the main thread both poll)."""
        watched = [i for i in self.ids if i not in self.expected]
        if not watched:
            return []
        with self._lock:
            return self._poll(ctx, watched, seen)

    def terminations(self) -> list[Termination]:
        """What was found so far, oldest first (no AWS call)."""
        with self._lock:
            return sorted(self.found.values(), key=lambda t: (t.when or t.seen_at, t.instance_id))

    def _poll(self, ctx: AwsContext, watched: list[str], seen: Mapping[str, Instance] | None) -> list[Termination]:
        now = dict(seen) if seen is not None else describe_tolerant(ctx, watched)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        fresh: dict[str, str] = {}
        for iid in watched:
            inst = now.get(iid)
            if iid in self.found:
                if self.found[iid].state == "shutting-down" and inst is not None and inst.state == "terminated":
                    self.found[iid] = replace(self.found[iid], state="terminated")
                continue
            if inst is None:
                fresh[iid] = "gone"
            elif inst.state in GONE_STATES:
                fresh[iid] = inst.state
        members = self._members(ctx, [i for i in watched if i not in self.found and i not in fresh
                                      and self.groups.get(i)])
        for iid in members:
            fresh[iid] = "detached"
        activities = self._activities(ctx, {self.groups.get(i, "") for i in fresh} - {""})
        for iid, state in fresh.items():
            group = self.groups.get(iid, "")
            act = activities.get(iid, {})
            self.found[iid] = Termination(
                iid, state, stamp, self.nodes.get(iid, ""), group, tuple(self.active.get(group) or ()),
                _text(act.get("StartTime")), act.get("Description", ""), act.get("Cause", ""))
        return sorted(self.found.values(), key=lambda t: (t.when or t.seen_at, t.instance_id))

    def _members(self, ctx: AwsContext, ids: list[str]) -> dict[str, str]:
        """Of ``ids`` (still described as not terminated), those no longer in the group they were in."""
        names = {self.groups[i] for i in ids}
        if not names:
            return {}
        try:
            groups = {g.name: set(g.instance_ids) for g in describe_groups(ctx, names)}
        except ClientError:
            return {}
        return {i: self.groups[i] for i in ids if self.groups[i] in groups and i not in groups[self.groups[i]]}

    @staticmethod
    def _activities(ctx: AwsContext, groups: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Instance id -> the newest scaling activity of its group naming it (DescribeScalingActivities)."""
        out: dict[str, dict[str, Any]] = {}
        for name in sorted(groups):
            try:
                acts = ctx.autoscaling.describe_scaling_activities(AutoScalingGroupName=name,
                                                                   MaxRecords=100).get("Activities") or []
            except ClientError:  # not allowed, or not served: the instance's state is evidence enough
                continue
            for act in acts:  # newest first, as AWS lists them
                text = f"{act.get('Description', '')} {act.get('Cause', '')}"
                for word in text.replace(",", " ").replace(".", " ").split():
                    if word.startswith("i-") and word not in out:
                        out[word] = act
        return out


def describe_tolerant(ctx: AwsContext, ids: Iterable[str]) -> dict[str, Instance]:
    """Like ``describe_instances`` but instances that are gone are simply absent."""
    ids = sorted(set(ids))
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


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    return str(value or "")
