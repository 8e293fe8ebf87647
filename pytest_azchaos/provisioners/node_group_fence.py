"""Keep the Cluster Autoscaler out of a drained zone: each single-zone Auto Scaling group of that zone gets its MaxSize
lowered to its desired capacity, so the autoscaler counts it as ``max node group size reached`` and grows the other
zones' groups. The autoscaler does not see cordons: its template node of the drained zone's group fits the Pending
pods as well as any, and it would add the replacements' nodes straight back into the zone the test took away.

Each group's MaxSize is recorded in the ledger BEFORE it is changed and put back by ``undo`` and by ``azchaos
restore`` after a kill -9. A group spanning several zones cannot be kept out of one: it is left alone and named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..aws.asg import AutoScalingGroup, set_max_size
from ..aws.context import AwsContext
from ..aws.ledger_hooks import register_aws_undo

KIND = "aws.node-group-fence"


@dataclass(frozen=True)
class _Undone:
    ok: bool
    action: str
    detail: str = ""


@dataclass
class NodeGroupFence:
    """The groups this run capped, their MaxSize before, and the groups spanning zones it could not cap."""

    ctx: AwsContext
    ledger: Any
    zone: str
    before: dict[str, int] = field(default_factory=dict)  # group -> MaxSize before
    entries: dict[str, str] = field(default_factory=dict)
    spanning: list[str] = field(default_factory=list)

    def describe(self) -> str:
        capped = ", ".join(f"{g} (MaxSize {m} -> its desired capacity)" for g, m in sorted(self.before.items()))
        text = f"Cluster Autoscaler kept out of {self.zone}: {capped or 'no single-zone group there'}"
        if self.spanning:
            text += f"; group(s) spanning zones left as they are: {', '.join(self.spanning)}"
        return text

    def undo(self) -> list[str]:
        notes = []
        for name, max_size in self.before.items():
            result = restore_max_size(self.ctx, name, max_size)
            notes.append(result.action)
            self.ledger.done(self.entries[name], result.action)
        return notes


def fence_node_groups(ctx: AwsContext, ledger: Any, zone: str, groups: list[AutoScalingGroup]) -> NodeGroupFence:
    """Record, then cap, each single-zone group of ``zone`` that could still grow."""
    fence = NodeGroupFence(ctx, ledger, zone)
    for g in groups:
        if zone not in g.zones:
            continue
        if not g.single_zone:
            fence.spanning.append(g.name)
            continue
        if g.max_size <= g.desired:
            continue
        fence.entries[g.name] = ledger.record(KIND, {"group": g.name, "max_size": g.max_size, "zone": zone,
                                                     "region": ctx.region}, f"asg/{g.name}")
        fence.before[g.name] = g.max_size
        set_max_size(ctx, g.name, g.desired)
    return fence


def restore_max_size(ctx: AwsContext, name: str, max_size: int) -> _Undone:
    """Put the recorded MaxSize back (idempotent; a group deleted meanwhile is left deleted)."""
    if not set_max_size(ctx, name, max_size):
        return _Undone(True, f"Auto Scaling group {name} is gone; nothing to restore")
    return _Undone(True, f"restored Auto Scaling group {name} MaxSize {max_size}")


def _undo(record: dict[str, Any], ctx: AwsContext) -> _Undone:
    return restore_max_size(ctx, record["group"], int(record["max_size"]))


register_aws_undo(KIND, _undo)
