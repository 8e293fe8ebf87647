"""What a destructive test would touch, read from the cluster (and AWS) without changing anything.

``--azchaos-dry-run`` is the first thing an SRE runs against staging: it must name the zone the test
resolves to, its nodes, the pods a drain would evict (per namespace, with the PodDisruptionBudgets that
gate them), and the EC2 instances and Auto Scaling groups an outage would stop and suspend.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from ..aws.asg import OUTAGE_PROCESSES
from ..checks.evidence import selector_matches
from ..kube.cluster import Cluster
from ..kube.topology import ZoneMap
from .drain import default_skip
from .target import choose_zone

if TYPE_CHECKING:
    from ..settings import Settings


@dataclass
class ZonePlan:
    """Everything in one zone that a fault would touch, as read right now."""

    zone: str
    zones: list[str]
    nodes: list[str]
    already_cordoned: list[str]
    evicted: dict[str, list[str]] = field(default_factory=dict)  # namespace -> pods
    kept: dict[str, str] = field(default_factory=dict)  # namespace/pod -> why a drain leaves it
    budgets: list[str] = field(default_factory=list)  # "ns/pdb (disruptionsAllowed=n) gates k pod(s)"
    instances: list[str] = field(default_factory=list)  # "i-... (node, state, group)"
    groups: list[str] = field(default_factory=list)
    subnets: list[str] = field(default_factory=list)  # "subnet-... (now on acl-...)" a partition would cut off
    aws_note: str = ""

    def describe(self) -> str:
        lines = [f"zone {self.zone} (of {', '.join(self.zones)}): {len(self.nodes)} node(s) would be cordoned: "
                 + ", ".join(n + (" (already cordoned: left as is)" if n in self.already_cordoned else "")
                             for n in self.nodes)]
        count = sum(len(p) for p in self.evicted.values())
        lines.append(f"{count} pod(s) would be evicted by a drain (or lost in an outage):")
        for ns in sorted(self.evicted):
            lines.append(f"  {ns}: {', '.join(sorted(self.evicted[ns]))}")
        if self.kept:
            lines.append(f"{len(self.kept)} pod(s) a drain leaves alone: "
                         + "; ".join(f"{k} ({why})" for k, why in sorted(self.kept.items())))
        lines.append("PodDisruptionBudgets gating them: " + ("; ".join(self.budgets) or "none"))
        if self.instances:
            lines.append("an outage would stop instance(s): " + ", ".join(self.instances))
            lines.append(f"and suspend {', '.join(OUTAGE_PROCESSES)} of group(s): "
                         + (", ".join(self.groups) or "none (instances in no Auto Scaling group)"))
        if self.subnets:
            lines.append("a partition would swap a deny-all network ACL onto subnet(s): " + ", ".join(self.subnets)
                         + " (and the zone's load-balancer subnets with include_load_balancer)")
        if self.aws_note:
            lines.append(self.aws_note)
        return "\n".join(lines)


def plan_zone_loss(cluster: Cluster, wanted: str | None, *, aws: Any = None) -> ZonePlan:
    """Read what taking ``wanted`` (a zone name, ``auto`` or None) away would touch. Read-only."""
    zones = ZoneMap.read(cluster.core)
    zone = choose_zone(zones, None if wanted == "random" else wanted)
    nodes = zones.nodes_in(zone)
    names = {n.name for n in nodes}
    plan = ZonePlan(zone, zones.zones(), sorted(names), sorted(n.name for n in nodes if n.unschedulable))
    evicted: dict[str, list[Any]] = defaultdict(list)
    api = cluster.api
    for pod in cluster.core.list_pod_for_all_namespaces(field_selector="status.phase!=Succeeded,"
                                                                       "status.phase!=Failed").items:
        if pod.spec.node_name not in names:
            continue
        why = default_skip(api.sanitize_for_serialization(pod))
        key = f"{pod.metadata.namespace}/{pod.metadata.name}"
        if why:
            plan.kept[key] = why
        else:
            evicted[pod.metadata.namespace].append(pod)
    plan.evicted = {ns: [p.metadata.name for p in pods] for ns, pods in evicted.items()}
    from kubernetes import client

    for ns, pods in sorted(evicted.items()):
        for pdb in client.PolicyV1Api(api).list_namespaced_pod_disruption_budget(ns).items:
            if pdb.spec is None or pdb.metadata is None:
                continue
            selector = api.sanitize_for_serialization(pdb.spec.selector) if pdb.spec.selector else None
            gated = [p for p in pods if selector is not None and selector_matches(selector, p.metadata.labels or {})]
            if gated:
                allowed = pdb.status.disruptions_allowed if pdb.status else None
                plan.budgets.append(f"{ns}/{pdb.metadata.name} (disruptionsAllowed={allowed}) gates "
                                    f"{len(gated)} of them")
    if aws is None:
        plan.aws_note = "AWS: not read (no AWS access configured for this cluster)"
        return plan
    from ..aws.inventory import node_instances

    try:
        rows = node_instances(aws, [n for n in cluster.core.list_node().items if n.metadata.name in names])
    except Exception as e:  # read-only listing: say what could not be read, touch nothing
        plan.aws_note = f"AWS: could not read the zone's instances: {e}"
        return plan
    plan.instances = [f"{r.instance_id} ({r.node}, {r.instance.state if r.instance else 'not found'}"
                      + (f", group {r.instance.asg}" if r.instance and r.instance.asg else "") + ")"
                      for r in rows if r.instance_id]
    plan.groups = sorted({r.instance.asg for r in rows if r.instance and r.instance.asg})
    from ..aws.partition import check_partition

    try:
        partition = check_partition(aws, zone, nodes=cluster.core.list_node().items)
    except Exception as e:  # read-only listing: say what could not be read, touch nothing
        plan.aws_note = f"AWS: could not read the zone's subnets and network ACLs: {e}"
        return plan
    plan.subnets = [f"{s} (now on {partition.associations[s][0]})" for s in partition.subnets]
    return plan


_PLANS = pytest.StashKey["dict[str, str]"]()


def listing_for(config: pytest.Config, settings: Settings, item: pytest.Item) -> str:
    """The dry-run skip reason of a destructive test: exactly what it would touch, read once per zone.
    Bad input (an unknown zone) raises ``ChaosInputError``: a dry run that would pass on it proves nothing."""
    marker = item.get_closest_marker("azchaos_zone")
    wanted = marker.args[0] if marker and marker.args else settings.zone
    head = f"dry run of {item.nodeid}: run without --azchaos-dry-run to execute. "
    if settings.uses_embedded:
        return head + ("it would start the embedded cluster and take zone " + (wanted or "auto (the first)")
                       + " away; nothing outside that cluster is touched")
    plans = config.stash.setdefault(_PLANS, {})
    key = str(wanted)
    if key not in plans:
        plans[key] = _read_plan(settings, wanted)
    return head + "It would take away " + plans[key]


def _read_plan(settings: Settings, wanted: str | None) -> str:
    from ..aws import AwsConfigError, AwsContext

    assert settings.kubeconfig is not None
    cluster = Cluster(settings.kubeconfig, settings.context)
    try:
        try:
            aws = AwsContext.for_kubeconfig(settings.kubeconfig)
        except AwsConfigError:
            aws = None
        note = ("" if settings.context_allowed(cluster.context_name) else
                f"\n(and it would be refused: context {cluster.context_name!r} is not allowed; allow it with "
                "--azchaos-allow-context)")
        return plan_zone_loss(cluster, wanted, aws=aws).describe() + note
    finally:
        cluster.close()
