"""AZ-OUTAGE, the zone's capacity: the instances a zone outage stopped are the ones that come back.

An Auto Scaling group whose ``HealthCheck`` and ``ReplaceUnhealthy`` stay active terminates stopped instances even
with ``Launch`` suspended (EC2 Auto Scaling user guide, "How suspended processes affect other processes"), so "the
same instances come back" is false there: this check fails naming each terminated instance, its node, its group,
the group's scaling activity for it (verbatim) and the processes left active. Looking at AWS failing is our side:
inconclusive, never a pass.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws.errors import AwsError
from .result import CheckResult

CHECK_ID = "AZ-OUTAGE"


def instances_came_back(outage: Any) -> CheckResult:
    """Judge ``outage`` (an ``aws.ZoneOutage``, during the fault or after its undo): pass when none of the instances
    it stopped was terminated, vanished or left its group meanwhile (a Karpenter instance's replacement is
    expected and not counted)."""
    try:
        lost = outage.watch()
    except (AwsError, ClientError, BotoCoreError) as e:
        return CheckResult(CHECK_ID, False, f"the instances stopped in {outage.zone} could not be looked at",
                           (f"{type(e).__name__}: {e}",), {"stopped": len(outage.stopped)},
                           f"DescribeInstances/DescribeAutoScalingGroups failed: {e}")
    suspended = "; ".join(f"{g}: {', '.join(p) or 'nothing new'}" for g, p in outage.suspended.items()) or "nothing"
    active = outage.active
    figures = {"stopped": len(outage.stopped), "terminated": len([t for t in lost if t.state != "detached"]),
               "left_group": len([t for t in lost if t.state == "detached"]), "zone": outage.zone}
    if not lost:
        return CheckResult(CHECK_ID, True, f"all {len(outage.stopped)} instance(s) stopped in {outage.zone} are still "
                           "there to start (none terminated or out of its group)",
                           (f"suspended: {suspended}",), figures)
    by_group: dict[str, list[Any]] = {}
    for t in lost:
        by_group.setdefault(t.group, []).append(t)
    parts = []
    for group, items in by_group.items():
        names = ", ".join(f"{t.instance_id}" + (f" (node {t.node})" if t.node else "") for t in items)
        verb = "left" if all(t.state == "detached" for t in items) else "were terminated by"
        if verb == "left":
            parts.append(f"instances {names} left group {group or '?'}")
            continue
        if active.get(group):
            who = (f"the group's health replacement: {', '.join(active[group])} were not suspended (this run "
                   f"suspended {', '.join(outage.suspended.get(group) or []) or 'nothing'}), and ReplaceUnhealthy "
                   "terminates an instance that is not running even while Launch is suspended")
        else:
            who = "something outside this run (HealthCheck and ReplaceUnhealthy were suspended)"
        parts.append(f"instances {names} in group {group or '(none)'} {verb} {who}")
    summary = f"the zone's capacity did not come back: {'; '.join(parts)}"
    evidence = [t.describe() for t in lost]
    evidence.append(f"suspended by this run: {suspended}")
    if active:
        evidence.append("left active: " + "; ".join(f"{g}: {', '.join(p)}" for g, p in active.items())
                        + " -- suspend HealthCheck and ReplaceUnhealthy too (zone_outage's default) to keep the "
                        "stopped instances, or expect new instances instead of the same ones")
    return CheckResult(CHECK_ID, False, summary, tuple(evidence), figures)
