"""Auto Scaling groups as the zone-outage fault and the preflight see them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .context import AwsContext

#: What a zone outage suspends so nothing replaces, rebalances or health-replaces the stopped instances.
OUTAGE_PROCESSES = ("Launch", "Terminate", "AZRebalance", "HealthCheck", "ReplaceUnhealthy")
#: Every process SuspendProcesses accepts (EC2 Auto Scaling API, ``ScalingProcesses``).
SCALING_PROCESSES = ("Launch", "Terminate", "AddToLoadBalancer", "AlarmNotification", "AZRebalance", "HealthCheck",
                     "InstanceRefresh", "ReplaceUnhealthy", "ScheduledActions")
#: Left active, these terminate a stopped instance: "with Launch suspended, ReplaceUnhealthy continues to terminate
#: unhealthy instances, but does not launch replacements", and the EC2 health check fails an instance that is not
#: running (EC2 Auto Scaling user guide: "How suspended processes affect other processes", "Health checks").
KEEPS_STOPPED = ("HealthCheck", "ReplaceUnhealthy")


def left_active(already: Iterable[str], asked: Iterable[str]) -> list[str]:
    """The processes of ``KEEPS_STOPPED`` a group keeps through an outage that suspends ``asked`` (``already``: what
    the group had suspended): non-empty means it terminates the stopped instances."""
    off = set(already) | set(asked)
    return [p for p in KEEPS_STOPPED if p not in off]


def validate_processes(processes: Iterable[str]) -> tuple[str, ...]:
    """``processes`` as a tuple in the API's spelling, or ``ValueError`` naming the valid ones (nothing touched)."""
    if isinstance(processes, str):
        processes = (processes,)
    asked = tuple(dict.fromkeys(processes))
    unknown = [p for p in asked if p not in SCALING_PROCESSES]
    if unknown:
        raise ValueError(f"unknown Auto Scaling process(es) {', '.join(map(repr, unknown))} in suspend_processes: "
                         f"valid ones are {', '.join(SCALING_PROCESSES)} (default "
                         f"{', '.join(OUTAGE_PROCESSES)}); nothing was changed")
    return asked


@dataclass(frozen=True)
class AutoScalingGroup:
    name: str
    zones: tuple[str, ...]
    min_size: int
    max_size: int
    desired: int
    instance_ids: tuple[str, ...]
    suspended: frozenset[str]

    @property
    def single_zone(self) -> bool:
        return len(self.zones) == 1

    @property
    def headroom(self) -> int:
        return self.max_size - self.desired


def describe_groups(ctx: AwsContext, names: Iterable[str] | None = None) -> list[AutoScalingGroup]:
    """The region's groups (or only ``names``)."""
    kw = {"AutoScalingGroupNames": sorted(set(names))} if names is not None else {}
    if names is not None and not kw["AutoScalingGroupNames"]:
        return []
    out = []
    for page in ctx.autoscaling.get_paginator("describe_auto_scaling_groups").paginate(**kw):
        for g in page["AutoScalingGroups"]:
            out.append(AutoScalingGroup(
                g["AutoScalingGroupName"], tuple(sorted(g.get("AvailabilityZones") or [])), g["MinSize"],
                g["MaxSize"], g["DesiredCapacity"], tuple(i["InstanceId"] for i in g.get("Instances") or []),
                frozenset(p["ProcessName"] for p in g.get("SuspendedProcesses") or [])))
    return out


def groups_of(ctx: AwsContext, instance_ids: Iterable[str]) -> list[AutoScalingGroup]:
    """The groups holding any of ``instance_ids``."""
    ids = set(instance_ids)
    return [g for g in describe_groups(ctx) if ids & set(g.instance_ids)]


def set_max_size(ctx: AwsContext, name: str, max_size: int) -> bool:
    """Set a group's MaxSize (the node-group fence and its undo); False when the group no longer exists."""
    if not ctx.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]:
        return False
    ctx.autoscaling.update_auto_scaling_group(AutoScalingGroupName=name, MaxSize=max_size)
    return True
