"""The Cluster Autoscaler's loop (cloud provider ``aws``), acting only while its pod's container runs.

The embedded AWS account starts lazily (``cloud/moto_server.py``); the loop starts it itself as soon as a pod is
Unschedulable, so a scale-up never waits for some other client to touch AWS first (``_needs_aws``).

Every ``ca_scan_interval`` (upstream ``--scan-interval`` 10 s) it discovers the node groups by their ASG tags
(``--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/<cluster>``)
through the Auto Scaling API, then:

- **scale-up**: Pending pods the scheduler marked Unschedulable, minus those that fit a node already on its way
  (desired capacity above the group's registered nodes: "upcoming" template nodes), are simulated with the
  scheduler's filters on each group's template node. The template is built as ``cloudprovider/aws``
  ``getAsgTemplate`` builds it: the instance type's resources and, for the zone label, the group's first
  Availability Zone (``az := asg.AvailabilityZones[0]``; for a multi-AZ group it logs ``Found multiple
  availability zones for ASG %q; using %s for failure-domain.beta.kubernetes.io/zone label``), plus the pods of
  the DaemonSets. Volume node affinity of bound PVs is part of the simulation. A group at its MaxSize is skipped
  (``max node group size reached``). The option helping the most pods wins (ties: group name); with
  ``--balance-similar-node-groups`` the new nodes are spread over similar groups (same instance type and
  labels but zone and node group) that fit the same pods, smallest first. The group's desired capacity is
  raised with SetDesiredCapacity, nothing else: an ASG with ``Launch`` suspended accepts it and launches nothing
  (the node stays "upcoming").
- **scale-down**: a node annotated ``cluster-autoscaler.kubernetes.io/scale-down-disabled: "true"`` is skipped
  before anything else (upstream ``eligibility.HasNoScaleDownAnnotation``; any other value does not count); a node
  of a discovered group with no pods but DaemonSet and mirror pods, Ready, is unneeded;
  after ``ca_scale_down_unneeded_time`` (``--scale-down-unneeded-time`` 10 min; and not within
  ``ca_scale_down_delay_after_add`` of a scale-up) it is tainted ``ToBeDeletedByClusterAutoscaler`` and its
  instance terminated with TerminateInstanceInAutoScalingGroup(ShouldDecrementDesiredCapacity=true), never below
  the group's MinSize. (Upstream also moves pods off under-utilized nodes; not modelled.)

Events, verbatim from upstream (kubernetes/autoscaler ``cluster-autoscaler/processors/status/
eventing_scale_up_processor.go``; ``ScaleUpInfo.String`` is ``{%v %d->%d (max: %d)}`` and ``%v`` of the list
joins them with spaces in brackets; ``core/scaledown/actuation/actuator.go``):

- on each pod that triggered a scale-up: Normal ``TriggeredScaleUp``
  ``pod triggered scale-up: [{eks-ng-us-east-1a-<uuid> 1->2 (max: 3)}]``;
- on each pod left unschedulable when no scale-up happened in the loop: Normal ``NotTriggerScaleUp``
  ``pod didn't trigger scale-up: `` + ``ReasonsMessage``: per reason, ``<number of node groups> <reason>``, joined
  with ``, `` (Go map order upstream; sorted here), e.g. ``pod didn't trigger scale-up: 1 max node group size
  reached, 2 node(s) didn't match PersistentVolume's node affinity``; reasons are the filter reasons of the
  scheduler the autoscaler vendors (its minor is the cluster's, v1.36: VolumeBinding says ``didn't match
  PersistentVolume's node affinity`` since v1.33, ``had volume node affinity conflict`` before) on the template
  node, or ``max node group size reached`` for a group at its MaxSize;
- on a node being removed: Normal ``ScaleDown`` ``marked the node as toBeDeleted/unschedulable``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..apiserver.store import now_rfc3339
from ..cloud.api_errors import caught
from ..controllers.events import EventRecorder
from ..scheduler.model import NodeInfo, VolumeState, Workloads, assigned_pods
from ..scheduler.scheduler import Cycle
from ..scheduler.volumes import VolumeBinding
from ..topology import NodeSpec, Topology, node_object
from .addon import discovery_tags

if TYPE_CHECKING:
    from ..cluster import EmbeddedCluster

log = logging.getLogger(__name__)
Obj = dict[str, Any]
ZONE = "topology.kubernetes.io/zone"
MAX_SIZE_REACHED = "max node group size reached"
TO_BE_DELETED = "ToBeDeletedByClusterAutoscaler"
#: Node annotation that keeps a node out of scale-down when its value is exactly "true" (core/scaledown/eligibility).
SCALE_DOWN_DISABLED = "cluster-autoscaler.kubernetes.io/scale-down-disabled"
# Labels --balance-similar-node-groups ignores when comparing groups (nodegroupset/compare_nodegroups.go and the
# AWS processor's extra ignored labels).
IGNORED_LABELS = ("kubernetes.io/hostname", ZONE, "topology.ebs.csi.aws.com/zone",
                  "failure-domain.beta.kubernetes.io/zone", "eks.amazonaws.com/nodegroup",
                  "eks.amazonaws.com/sourceLaunchTemplateId", "eks.amazonaws.com/sourceLaunchTemplateVersion",
                  "alpha.eksctl.io/nodegroup-name", "k8s.amazonaws.com/eniConfig", "topology.k8s.aws/zone-id")


@dataclass
class Group:
    """One discovered ASG as DescribeAutoScalingGroups answers it."""

    name: str
    min_size: int
    max_size: int
    desired: int
    zones: list[str]
    instances: list[str]
    nodegroup: str
    suspended: set[str] = field(default_factory=set)


def _unschedulable(pod: Obj) -> bool:
    if (pod.get("spec") or {}).get("nodeName") or pod["metadata"].get("deletionTimestamp"):
        return False
    return any(c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason") == "Unschedulable"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _is_daemon_or_mirror(pod: Obj) -> bool:
    owners = pod["metadata"].get("ownerReferences") or []
    annotations = pod["metadata"].get("annotations") or {}
    return any(o.get("kind") == "DaemonSet" for o in owners) or "kubernetes.io/config.mirror" in annotations


def _instance_of(node: Obj) -> str:
    return str((node.get("spec") or {}).get("providerID") or "").rsplit("/", 1)[-1]


def _ready(node: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])


def scale_up_infos(plan: list[tuple[Group, int]]) -> str:
    """``%v`` of upstream's ``[]ScaleUpInfo``: ``[{name cur->new (max: m)} ...]``."""
    return "[" + " ".join(f"{{{g.name} {g.desired}->{new} (max: {g.max_size})}}" for g, new in plan) + "]"


class ClusterAutoscaler:
    """Scale-up and scale-down of the node groups' ASGs while a replica of its Deployment runs."""

    name = "cluster-autoscaler"

    def __init__(self, cluster: EmbeddedCluster):
        self.cluster = cluster
        self.store = cluster.store
        self.topology: Topology = cluster.topology
        p = cluster.profile
        self.scan_interval = float(getattr(p, "ca_scan_interval", 10.0))
        self.unneeded_time = float(getattr(p, "ca_scale_down_unneeded_time", 600.0))
        self.delay_after_add = float(getattr(p, "ca_scale_down_delay_after_add", 600.0))
        self.replicas: dict[str, Callable[[str], None]] = {}  # pod IP -> its container's log
        self.tags = discovery_tags(self.topology.cluster_name)
        self.balance = True
        self.events = EventRecorder(cluster.store, "cluster-autoscaler", "")
        self.errors: list[BaseException] = []
        self._task: asyncio.Task[None] | None = None
        self._unneeded_since: dict[str, float] = {}
        self._last_scale_up = -1e9
        self._logged_multi_az: set[str] = set()
        self._disabled_logged: set[str] = set()

    # ------------------------------------------------------------------ liveness (the container)

    @property
    def up(self) -> bool:
        """Whether the autoscaler runs now: while one replica's container does."""
        return bool(self.replicas)

    def container_started(self, address: str, argv: list[str], log_line: Callable[[str], None]) -> None:
        """A replica started: its flags configure the loop (auto-discovery tags, balancing)."""
        for arg in argv:
            if arg.startswith("--node-group-auto-discovery=asg:tag="):
                self.tags = [t.split("=", 1)[0] for t in arg.split("=", 2)[2].split(",") if t]
            elif arg.startswith("--balance-similar-node-groups"):
                self.balance = arg.split("=", 1)[-1].lower() != "false" if "=" in arg else True
        self.replicas[address] = log_line

    def container_stopped(self, address: str) -> None:
        self.replicas.pop(address, None)

    def _log(self, msg: str) -> None:
        log.info("cluster-autoscaler: %s", msg)
        for line in list(self.replicas.values()):
            with contextlib.suppress(Exception):
                line(msg)

    # ------------------------------------------------------------------ loop

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.scan_interval)
            cloud = self.cluster.cloud
            if not self.up or cloud is None:
                continue
            if not cloud.ready:
                if not self._needs_aws():
                    continue
                await asyncio.to_thread(cloud.ensure_started)  # as its first DescribeAutoScalingGroups would
            try:
                await self.run_once()
            except Exception as e:  # the next scan retries; only what is not AWS failing is recorded (our bug)
                caught(self, e, "a scan")

    def _needs_aws(self) -> bool:
        """Whether a scan must reach the (lazily started) AWS account: a pod is Unschedulable. Upstream calls AWS
        from its first scan; before any Pending pod and any AWS call that answer changes nothing (no group has
        been resized, and MinSize is the size the cluster started with, so nothing can be scaled down), so the
        account is started only then and a cluster whose tests never need a node keeps its cheap start."""
        return any(_unschedulable(p) for p in self.store.scan("pods"))

    def _asg(self) -> Any:
        assert self.cluster.cloud is not None
        return self.cluster.cloud.client("autoscaling", internal=True)

    def discover(self) -> list[Group]:
        """DescribeAutoScalingGroups, keeping the groups that carry every auto-discovery tag key."""
        out = []
        for page in self._asg().get_paginator("describe_auto_scaling_groups").paginate():
            for g in page["AutoScalingGroups"]:
                tags = {t["Key"]: t.get("Value", "") for t in g.get("Tags") or []}
                if not all(k in tags for k in self.tags):
                    continue
                out.append(Group(g["AutoScalingGroupName"], int(g["MinSize"]), int(g["MaxSize"]),
                                 int(g["DesiredCapacity"]), list(g.get("AvailabilityZones") or []),
                                 [i["InstanceId"] for i in g.get("Instances") or []],
                                 tags.get("eks:nodegroup-name", g["AutoScalingGroupName"]),
                                 {p["ProcessName"] for p in g.get("SuspendedProcesses") or []}))
        return sorted(out, key=lambda g: g.name)

    async def run_once(self) -> None:
        groups = await asyncio.to_thread(self.discover)
        plan = self.scale_up(groups)
        if plan:
            for group, new in plan:
                self._log(f"executor.go:147] Scale-up: setting group {group.name} size to {new}")
                await asyncio.to_thread(lambda g=group, n=new: self._asg().set_desired_capacity(
                    AutoScalingGroupName=g.name, DesiredCapacity=n, HonorCooldown=False))
            self._last_scale_up = time.monotonic()
            return
        victims = self.scale_down(groups)
        for node_name, iid in victims:
            await asyncio.to_thread(lambda i=iid: self._asg().terminate_instance_in_auto_scaling_group(
                InstanceId=i, ShouldDecrementDesiredCapacity=True))
            self._unneeded_since.pop(node_name, None)

    # ------------------------------------------------------------------ simulation

    def template(self, group: Group, suffix: str = "") -> NodeInfo:
        """The group's template node (getAsgTemplate + buildNodeFromTemplate) with its DaemonSets' pods."""
        zone = group.zones[0] if group.zones else (self.topology.zones[0] if self.topology.zones else "")
        if len(group.zones) > 1 and group.name not in self._logged_multi_az:
            self._logged_multi_az.add(group.name)
            self._log(f'aws_manager.go:188] Found multiple availability zones for ASG "{group.name}"; using {zone} '
                      "for failure-domain.beta.kubernetes.io/zone label")
        name = f"template-node-for-{group.name}{suffix}"
        node = node_object(NodeSpec(name, zone, "", "", group.nodegroup), self.topology, now_rfc3339())
        node["spec"].pop("providerID", None)
        pods = []
        for ds in self.store.scan("daemonsets.apps"):
            spec = dict((ds["spec"].get("template") or {}).get("spec") or {})
            pods.append({"metadata": {"name": f"{ds['metadata']['name']}-template", "namespace":
                                      ds["metadata"]["namespace"], "ownerReferences": [{"kind": "DaemonSet"}]},
                         "spec": spec, "status": {"phase": "Running"}})
        return NodeInfo.build(node, pods)

    def _snapshot(self) -> tuple[list[Obj], list[NodeInfo], Workloads, VolumeBinding]:
        pods = list(self.store.scan("pods"))
        by_node = assigned_pods(pods)
        infos = [NodeInfo.build(n, by_node.get(n["metadata"]["name"], [])) for n in self.store.scan("nodes")]
        volumes = VolumeState(tuple(self.store.scan("persistentvolumeclaims")),
                              tuple(self.store.scan("persistentvolumes")),
                              tuple(self.store.scan("storageclasses.storage.k8s.io")))
        workloads = Workloads(services=tuple(self.store.scan("services")),
                              replica_sets=tuple(self.store.scan("replicasets.apps")),
                              stateful_sets=tuple(self.store.scan("statefulsets.apps")),
                              namespace_labels={n["metadata"]["name"]: n["metadata"].get("labels") or {}
                                                for n in self.store.scan("namespaces")})
        return pods, infos, workloads, VolumeBinding(volumes)

    @staticmethod
    def _fit(pod: Obj, info: NodeInfo, infos: list[NodeInfo], workloads: Workloads,
             binding: VolumeBinding) -> tuple[str, ...]:
        """The scheduler's filters for ``pod`` on ``info``: () when it fits, else the rejection reasons."""
        claims, status = binding.claims(pod)
        if status is not None:
            return status.reasons
        nodes = infos if any(i is info for i in infos) else [*infos, info]
        cycle = Cycle.prepare(pod, nodes, workloads, binding, claims)
        status = cycle.filter(info)
        return () if status is None else status.reasons

    def _registered(self, group: Group) -> int:
        ids = set(group.instances)
        return sum(1 for n in self.store.scan("nodes") if _instance_of(n) in ids)

    def scale_up(self, groups: list[Group]) -> list[tuple[Group, int]]:
        """Decide and announce a scale-up; returns [(group, new desired capacity)] (empty: none)."""
        pods, infos, workloads, binding = self._snapshot()
        pending = sorted((p for p in pods if _unschedulable(p)), key=lambda p: p["metadata"]["creationTimestamp"])
        # filter_out_schedulable: pods that fit an existing node now wait for the scheduler, not for a new node.
        pending = [p for p in pending if not any(not self._fit(p, i, infos, workloads, binding) for i in infos)]
        if not pending:
            return []
        # Pods that fit a node already coming (desired above registered) wait for it.
        upcoming = [self.template(g, f"-upcoming-{i}") for g in groups
                    for i in range(max(0, g.desired - self._registered(g)))]
        waiting = []
        for pod in pending:
            slot = next((u for u in upcoming if not self._fit(pod, u, infos, workloads, binding)), None)
            if slot is not None:
                slot.add_pod(pod)
            else:
                waiting.append(pod)
        if not waiting:
            return []
        fits: dict[str, list[Obj]] = {}
        reasons: dict[str, dict[str, tuple[str, ...]]] = {}  # pod uid -> group -> reasons
        for group in groups:
            if group.desired >= group.max_size:
                for pod in waiting:
                    reasons.setdefault(pod["metadata"]["uid"], {})[group.name] = (MAX_SIZE_REACHED,)
                continue
            template = self.template(group)
            for pod in waiting:
                why = self._fit(pod, template, infos, workloads, binding)
                if why:
                    reasons.setdefault(pod["metadata"]["uid"], {})[group.name] = why
                else:
                    fits.setdefault(group.name, []).append(pod)
        by_name = {g.name: g for g in groups}
        if not fits:
            for pod in waiting:
                counts: dict[str, int] = {}
                for why in reasons.get(pod["metadata"]["uid"], {}).values():
                    for reason in why:
                        counts[reason] = counts.get(reason, 0) + 1
                message = ", ".join(f"{n} {r}" for r, n in sorted(counts.items()))
                self.events.event(pod, "Normal", "NotTriggerScaleUp", f"pod didn't trigger scale-up: {message}")
            return []
        best = max(sorted(fits), key=lambda name: len(fits[name]))
        helped = fits[best]
        nodes = self._estimate(by_name[best], helped, infos, workloads, binding)
        members = [by_name[best]]
        if self.balance:
            uids = {p["metadata"]["uid"] for p in helped}
            members += [by_name[n] for n in sorted(fits) if n != best
                        and uids <= {p["metadata"]["uid"] for p in fits[n]}
                        and self._similar(by_name[best], by_name[n])]
        targets = {g.name: g.desired for g in members}
        for _ in range(nodes):
            room = [g for g in members if targets[g.name] < g.max_size]
            if not room:
                break
            pick = min(room, key=lambda g: (targets[g.name], g.name))
            targets[pick.name] += 1
        plan = [(g, targets[g.name]) for g in members if targets[g.name] > g.desired]
        if not plan:
            return []
        infos_text = scale_up_infos(plan)
        self._log(f"orchestrator.go:582] Final scale-up plan: {infos_text}")
        for pod in helped:
            self.events.event(pod, "Normal", "TriggeredScaleUp", f"pod triggered scale-up: {infos_text}")
        return plan

    def _estimate(self, group: Group, pods: list[Obj], infos: list[NodeInfo], workloads: Workloads,
                  binding: VolumeBinding) -> int:
        """Binpacking estimator: new template nodes the pods need, first fit."""
        new: list[NodeInfo] = []
        for pod in pods:
            slot = next((n for n in new if not self._fit(pod, n, infos, workloads, binding)), None)
            if slot is None:
                slot = self.template(group, f"-new-{len(new)}")
                new.append(slot)
            slot.add_pod(pod)
        return max(1, len(new))

    def _similar(self, a: Group, b: Group) -> bool:
        """--balance-similar-node-groups: same resources and labels but the ignored ones."""
        ta, tb = self.template(a).node, self.template(b).node

        def labels(n: Obj) -> dict[str, str]:
            return {k: v for k, v in (n["metadata"].get("labels") or {}).items() if k not in IGNORED_LABELS}

        return labels(ta) == labels(tb) and ta["status"]["allocatable"] == tb["status"]["allocatable"]

    # ------------------------------------------------------------------ scale-down

    def scale_down(self, groups: list[Group]) -> list[tuple[str, str]]:
        """Nodes unneeded for long enough: tainted and announced; returns [(node, instance id)] to terminate."""
        now = time.monotonic()
        group_of = {iid: g for g in groups for iid in g.instances}
        busy = {p["spec"].get("nodeName") for p in self.store.scan("pods")
                if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed") and not _is_daemon_or_mirror(p)}
        sizes = {g.name: g.desired for g in groups}
        out = []
        seen = set()
        for node in sorted(self.store.scan("nodes"), key=lambda n: n["metadata"]["name"]):
            name = node["metadata"]["name"]
            group = group_of.get(_instance_of(node))
            tainted = any(t.get("key") == TO_BE_DELETED for t in (node.get("spec") or {}).get("taints") or [])
            if group is None or name in busy or not _ready(node) or tainted:
                continue
            if (node["metadata"].get("annotations") or {}).get(SCALE_DOWN_DISABLED) == "true":
                # eligibility.HasNoScaleDownAnnotation, checked first: never unneeded, its clock never starts.
                if name not in self._disabled_logged:
                    self._disabled_logged.add(name)
                    self._log(f'eligibility.go] "Skipping - scale down disabled annotation found" node="{name}"')
                continue
            seen.add(name)
            since = self._unneeded_since.setdefault(name, now)
            if now - since < self.unneeded_time or now - self._last_scale_up < self.delay_after_add:
                continue
            if sizes[group.name] <= group.min_size:
                continue
            sizes[group.name] -= 1
            self._taint(name)
            self.events.event(node, "Normal", "ScaleDown", "marked the node as toBeDeleted/unschedulable")
            self._log(f"actuator.go:175] Scale-down: removing empty node {name!r}")
            out.append((name, _instance_of(node)))
        for name in set(self._unneeded_since) - seen:
            self._unneeded_since.pop(name, None)
        return out

    def _taint(self, name: str) -> None:
        nodes = self.store.registry.lookup("", "v1", "nodes")

        def mutate(n: Obj) -> Obj:
            taints = [t for t in n["spec"].get("taints") or [] if t.get("key") != TO_BE_DELETED]
            n["spec"]["taints"] = [*taints, {"key": TO_BE_DELETED, "value": str(int(time.time())),
                                             "effect": "NoSchedule"}]
            return n

        with contextlib.suppress(Exception):
            self.store.guaranteed_update(nodes, "", name, mutate)
