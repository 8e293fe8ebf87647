"""Before an AWS fault: is the AWS side shaped for a zone to go away?

- every node maps to an existing instance in the node's zone (providerID);
- zones that hold EBS volumes of the workload have an Auto Scaling group of their own (a multi-zone
  group cannot be told to bring capacity back in the zone the volume is pinned to);
- spare capacity: what the groups of each zone can still add (max - desired), and how many instances
  run there, so a check can decide whether the surviving zones can take the lost replicas.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .asg import AutoScalingGroup, groups_of
from .context import AwsContext
from .ebs import pv_volumes
from .inventory import NodeInstance, node_instances


@dataclass
class ZoneCapacity:
    zone: str
    running: int = 0
    groups: list[AutoScalingGroup] = field(default_factory=list)

    @property
    def headroom(self) -> int:
        return sum(g.headroom for g in self.groups)

    @property
    def has_own_group(self) -> bool:
        return any(g.single_zone for g in self.groups)


@dataclass
class AwsPreflight:
    nodes: list[NodeInstance]
    zones: dict[str, ZoneCapacity]
    ebs_zones: set[str]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        lines = [f"{z}: {c.running} running, groups "
                 + (", ".join(f"{g.name} ({g.desired}/{g.max_size}, zones {','.join(g.zones)})" for g in c.groups)
                    or "none") + f", headroom {c.headroom}" for z, c in sorted(self.zones.items())]
        return "\n".join(lines + [f"problem: {p}" for p in self.problems])


def preflight(ctx: AwsContext, nodes: Iterable[Any], pvs: Iterable[Any] = (),
              outage_zone: str | None = None) -> AwsPreflight:
    """Check the AWS side of ``nodes`` (and of EBS ``pvs``); ``outage_zone``: the zone about to go away."""
    rows = node_instances(ctx, nodes)
    problems = [f"node {r.node} has no AWS providerID (aws:///<zone>/<instance-id>); is this an EKS/AWS node?"
                for r in rows if r.instance_id is None]
    zones: dict[str, ZoneCapacity] = {}
    for r in rows:
        if r.zone:
            cap = zones.setdefault(r.zone, ZoneCapacity(r.zone))
            if r.instance is not None and r.instance.state == "running":
                cap.running += 1
        if r.instance is not None and r.zone and r.instance.zone != r.zone:
            problems.append(f"node {r.node} says zone {r.zone} but its instance {r.instance_id} is in "
                            f"{r.instance.zone}")
    for g in groups_of(ctx, [r.instance_id for r in rows if r.instance_id]):
        for z in g.zones:
            if z in zones:
                zones[z].groups.append(g)
    ebs_zones = {v.volume_zone for v in pv_volumes(ctx, pvs) if v.volume_zone}
    for z in sorted(ebs_zones):
        own = zones.get(z)
        if own is None or not own.has_own_group:
            problems.append(f"zone {z} holds EBS volumes but has no Auto Scaling group of its own (one node group "
                            f"per zone): capacity cannot be brought back where the volumes are pinned")
    if outage_zone is not None:
        survivors = [c for z, c in zones.items() if z != outage_zone and c.running]
        if len(survivors) < 2:
            problems.append(f"taking {outage_zone} away leaves {len(survivors)} zone(s) with running instances; "
                            "at least 2 must remain")
    return AwsPreflight(rows, zones, ebs_zones, problems)
