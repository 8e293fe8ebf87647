"""The scheduler's data: plugin statuses, per-node snapshots, cluster state and the result.

Status codes follow the framework: ``UNSCHEDULABLE`` reasons may be fixed by preemption,
``UNRESOLVABLE`` (UnschedulableAndUnresolvable) ones never are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .resources import Resources, node_allocatable, pod_requests

Obj = Mapping[str, Any]

UNSCHEDULABLE = "Unschedulable"
UNRESOLVABLE = "UnschedulableAndUnresolvable"


@dataclass(frozen=True)
class Status:
    """A rejection by one plugin: its code, reasons (as shown in the message) and plugin name."""

    code: str
    reasons: tuple[str, ...]
    plugin: str = ""

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)


def reject(plugin: str, *reasons: str, resolvable: bool = True) -> Status:
    return Status(UNSCHEDULABLE if resolvable else UNRESOLVABLE, tuple(reasons), plugin)


def name_of(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def namespace_of(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("namespace") or "default"


def is_terminating(pod: Obj) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def priority_of(pod: Obj) -> int:
    return int((pod.get("spec") or {}).get("priority") or 0)


@dataclass
class NodeInfo:
    """One node with the pods assigned to it and what they request (``framework.NodeInfo``).

    Like upstream's, it also keeps the pods that carry pod (anti-)affinity terms, so InterPodAffinity
    reads only those, and it memoizes how many of its pods a spreading selector matches: a snapshot
    node is rebuilt when its pods change, so the memo lives exactly as long as it is true.
    """

    node: Obj
    pods: list[Obj] = field(default_factory=list)
    allocatable: Resources = field(default_factory=dict)
    requested: Resources = field(default_factory=dict)
    non_zero_requested: Resources = field(default_factory=dict)
    pods_with_affinity: list[Obj] = field(default_factory=list)
    _matching: dict[Any, int] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, node: Obj, pods: list[Obj]) -> NodeInfo:
        info = cls(node=node, allocatable=node_allocatable(node))
        for pod in pods:
            info.add_pod(pod)
        return info

    # The node's own facts, read once: a NodeInfo is rebuilt whenever its node changes.
    @cached_property
    def name(self) -> str:
        return name_of(self.node)

    @cached_property
    def labels(self) -> Mapping[str, str]:
        return dict((self.node.get("metadata") or {}).get("labels") or {})

    @cached_property
    def taints(self) -> tuple[Obj, ...]:
        return tuple((self.node.get("spec") or {}).get("taints") or ())

    @cached_property
    def unschedulable(self) -> bool:
        return bool((self.node.get("spec") or {}).get("unschedulable"))

    def add_pod(self, pod: Obj) -> None:
        self.pods.append(pod)
        self._matching.clear()
        if has_pod_affinity(pod):
            self.pods_with_affinity.append(pod)
        for target, non_zero in ((self.requested, False), (self.non_zero_requested, True)):
            for name, value in pod_requests(pod, non_zero=non_zero).items():
                target[name] = target.get(name, 0) + value

    def count_matching(self, key: Any, match: Any) -> int:
        """How many of the node's pods ``match(pod)`` accepts; ``key`` names the predicate for the memo."""
        count = self._matching.get(key)
        if count is None:
            count = self._matching[key] = sum(1 for pod in self.pods if match(pod))
        return count

    def without(self, victims: list[Obj]) -> NodeInfo:
        ids = {id(v) for v in victims}
        return NodeInfo.build(self.node, [p for p in self.pods if id(p) not in ids])

    def used_ports(self) -> list[tuple[str, str, int]]:
        """(hostIP, protocol, hostPort) of every host port the node's pods hold."""
        used = []
        for pod in self.pods:
            used.extend(host_ports(pod))
        return used


def has_pod_affinity(pod: Obj) -> bool:
    """Whether the pod carries pod affinity or anti-affinity terms (``framework.PodsWithAffinity``)."""
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    return bool(affinity.get("podAffinity") or affinity.get("podAntiAffinity"))


def host_ports(pod: Obj) -> list[tuple[str, str, int]]:
    spec = pod.get("spec") or {}
    ports = []
    for container in list(spec.get("initContainers") or []) + list(spec.get("containers") or []):
        for port in container.get("ports") or []:
            host_port = int(port.get("hostPort") or 0)
            if host_port > 0:
                ports.append((port.get("hostIP") or "0.0.0.0", port.get("protocol") or "TCP", host_port))
    return ports


@dataclass(frozen=True)
class VolumeState:
    """The storage objects the volume filters read: PVCs (any namespace), PVs and StorageClasses."""

    claims: tuple[Obj, ...] = ()
    volumes: tuple[Obj, ...] = ()
    classes: tuple[Obj, ...] = ()

    def claim(self, namespace: str, name: str) -> Obj | None:
        for pvc in self.claims:
            if name_of(pvc) == name and namespace_of(pvc) == namespace:
                return pvc
        return None

    def volume(self, name: str) -> Obj | None:
        return next((pv for pv in self.volumes if name_of(pv) == name), None)

    def storage_class(self, name: str) -> Obj | None:
        return next((sc for sc in self.classes if name_of(sc) == name), None)

    def default_class(self) -> Obj | None:
        for sc in self.classes:
            annotations = (sc.get("metadata") or {}).get("annotations") or {}
            if annotations.get("storageclass.kubernetes.io/is-default-class") == "true":
                return sc
        return None


@dataclass(frozen=True)
class Workloads:
    """Objects whose selectors define a pod's default spreading: Services, RCs, ReplicaSets, StatefulSets."""

    services: tuple[Obj, ...] = ()
    replication_controllers: tuple[Obj, ...] = ()
    replica_sets: tuple[Obj, ...] = ()
    stateful_sets: tuple[Obj, ...] = ()
    namespace_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Nomination:
    """Preemption succeeded: the pod is nominated to ``node`` once ``victims`` are gone."""

    node: str
    victims: tuple[str, ...]  # "namespace/name"


@dataclass(frozen=True)
class ScheduleResult:
    """The outcome of one scheduling cycle.

    ``node`` is the chosen node (None when unschedulable); ``message`` the FailedScheduling text;
    ``reasons`` the first failing filter's reasons per node; ``tied`` the nodes sharing the top score
    (upstream picks one of them at random); ``nominated`` set when preemption found victims.
    """

    node: str | None
    message: str | None = None
    reasons: Mapping[str, str] = field(default_factory=dict)
    statuses: Mapping[str, Status] = field(default_factory=dict)
    scores: Mapping[str, int] = field(default_factory=dict)
    tied: tuple[str, ...] = ()
    nominated: Nomination | None = None
    evaluated: int = 0  # nodes the filters ran on (upstream stops early on big clusters)

    @property
    def scheduled(self) -> bool:
        return self.node is not None


def assigned_pods(pods: list[Obj]) -> dict[str, list[Obj]]:
    """Pods that hold node resources, grouped by ``spec.nodeName`` (terminal pods free theirs)."""
    by_node: dict[str, list[Obj]] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        phase = (pod.get("status") or {}).get("phase")
        if node and phase not in ("Succeeded", "Failed"):
            by_node.setdefault(node, []).append(pod)
    return by_node
