"""Auto Scaling groups as the zone-outage fault and the preflight see them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .context import AwsContext

#: What a zone outage suspends so nothing replaces, rebalances or health-replaces the stopped instances.
OUTAGE_PROCESSES = ("Launch", "Terminate", "AZRebalance", "HealthCheck", "ReplaceUnhealthy")


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
