"""Which lost nodes an outage's Auto Scaling groups terminate, so their Node objects are deleted.

A zone outage stops the zone's instances. A group that keeps ``HealthCheck`` and ``ReplaceUnhealthy`` active
(neither suspended by the outage nor already) fails the stopped instance's EC2 health check and terminates it,
"``ReplaceUnhealthy`` continues to terminate unhealthy instances, but does not launch replacements" while
``Launch`` is suspended (EC2 Auto Scaling user guide, "How suspended processes affect other processes"; facts
``eks-flavours-facts.md`` §3). A terminated instance no longer exists for the cloud provider: cloud-provider-aws's
``InstanceExistsByProviderID`` answers false for an instance in state ``terminated``
(``k8s.io/cloud-provider-aws pkg/providers/v1/aws.go``), and the cloud node lifecycle controller then deletes its
Node ("deleting node since it is no longer present in cloud provider",
``k8s.io/cloud-provider controllers/nodelifecycle/node_lifecycle_controller.go`` ``MonitorNodes``); pod GC
deletes the pods bound to the missing node (``gcOrphaned``). So a stateful pod there is recreated and waits
Pending for its volume's zone, not Terminating on an unreachable node. With both processes suspended (the
outage's default) nothing is terminated: the plain power-off story holds.

Pure: the groups come in as plain objects (``aws.asg.AutoScalingGroup`` or any with ``name``, ``instance_ids``,
``suspended``); ``read.predict_for`` looks them up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..aws.asg import left_active
from ..aws.inventory import parse_provider_id
from .model import Obj, name_of


@dataclass(frozen=True)
class GroupTermination:
    """A lost node whose group's health replacement stays active through the outage: it terminates ``instance``."""

    group: str
    instance: str
    #: HealthCheck / ReplaceUnhealthy, whichever neither the outage nor the group already suspends.
    active: tuple[str, ...]
    #: What the outage suspends in the group (this run's ask plus what was already suspended).
    suspended: tuple[str, ...]

    def describe(self) -> str:
        return (f"Auto Scaling group {self.group} terminates its stopped instance {self.instance} "
                f"({', '.join(self.active)} left active; suspended: {', '.join(self.suspended) or 'nothing'})")


def terminated_by_groups(nodes: Iterable[Obj], groups: Iterable[Any], asked: Iterable[str]
                         ) -> dict[str, GroupTermination]:
    """Node name -> its group's termination, for each node whose instance is in a group that the outage
    (suspending ``asked``) leaves with HealthCheck or ReplaceUnhealthy active."""
    asked = tuple(asked)
    by_instance: dict[str, Any] = {}
    for g in groups:
        for iid in g.instance_ids:
            by_instance[iid] = g
    out: dict[str, GroupTermination] = {}
    for node in nodes:
        parsed = parse_provider_id((node.get("spec") or {}).get("providerID"))
        iid = parsed[1] if parsed else None
        group = by_instance.get(iid or "")
        if group is None or iid is None:
            continue
        active = tuple(left_active(group.suspended, asked))
        if active:
            suspended = tuple(dict.fromkeys([*asked, *sorted(group.suspended)]))
            out[name_of(node)] = GroupTermination(group.name, iid, active, suspended)
    return out

