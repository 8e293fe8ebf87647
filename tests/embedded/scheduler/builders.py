"""API objects for the scheduler's unit tests: the golden cluster's nodes, pods, and replica sets.

The golden cluster (``golden/README.md``): six nodes ``node-a1 node-a2`` (zone-a), ``node-b*``,
``node-c*``, each cpu 2, memory 8Gi, pods 110, ephemeral-storage 100Gi.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from pytest_azchaos.embedded.scheduler import ScheduleResult, VolumeState, Workloads, schedule
from tests.golden_data import golden_path

ZONES = {"node-a1": "zone-a", "node-a2": "zone-a", "node-b1": "zone-b", "node-b2": "zone-b",
         "node-c1": "zone-c", "node-c2": "zone-c"}
DEFAULT_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
]
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                       "timeAdded": "2026-11-22T07:23:44Z"}


def node(name: str, zone: str, cpu: str = "2", memory: str = "8Gi", pods: str = "110",
         labels: dict[str, str] | None = None, taints: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    resources = {"cpu": cpu, "memory": memory, "pods": pods, "ephemeral-storage": "100Gi"}
    all_labels = {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone, "kubernetes.io/os": "linux",
                  "kubernetes.io/arch": "amd64", "realk8s/fake-node": "true"}
    all_labels.update(labels or {})
    spec: dict[str, Any] = {}
    if taints:
        spec["taints"] = [dict(t) for t in taints]
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": all_labels}, "spec": spec,
            "status": {"capacity": dict(resources), "allocatable": dict(resources)}}


def golden_nodes(**kwargs: Any) -> list[dict[str, Any]]:
    return [node(name, zone, **kwargs) for name, zone in ZONES.items()]


def cordon(n: dict[str, Any], taint: bool = True) -> dict[str, Any]:
    """``spec.unschedulable`` plus, as the node lifecycle controller adds within milliseconds, the taint."""
    n["spec"]["unschedulable"] = True
    if taint:
        n["spec"].setdefault("taints", []).append(dict(UNSCHEDULABLE_TAINT))
    return n


def pod(name: str, namespace: str = "default", cpu: str | None = None, memory: str | None = None,
        labels: dict[str, str] | None = None, node_name: str | None = None, **spec: Any) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: dict[str, Any] = {"name": "c", "image": "nginx"}
    if requests:
        container["resources"] = {"requests": requests}
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod",
                            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
                            "spec": {"containers": [container], "tolerations": copy.deepcopy(DEFAULT_TOLERATIONS),
                                     **spec}}
    if node_name:
        body["spec"]["nodeName"] = node_name
    return body


def admitted(body: dict[str, Any], namespace: str) -> dict[str, Any]:
    """A pod body as the API server stores it: namespace set and the default NoExecute tolerations added."""
    out = copy.deepcopy(body)
    out.setdefault("metadata", {})["namespace"] = namespace
    tolerations = out.setdefault("spec", {}).setdefault("tolerations", [])
    tolerations.extend(copy.deepcopy(DEFAULT_TOLERATIONS))
    return out


class ReplicaSetPods:
    """The pods a ReplicaSet (from a Deployment body) stamps out, and the ReplicaSet itself."""

    def __init__(self, deployment: dict[str, Any], namespace: str, pod_template_hash: str = "5d9c7b6f8") -> None:
        self.namespace = namespace
        self.name = f"{deployment['metadata']['name']}-{pod_template_hash}"
        selector = copy.deepcopy(deployment["spec"]["selector"])
        selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_template_hash
        self.replica_set = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                            "metadata": {"name": self.name, "namespace": namespace, "uid": f"uid-{self.name}"},
                            "spec": {"selector": selector}}
        self.template = deployment["spec"]["template"]
        self.hash = pod_template_hash
        self.count = 0

    def new_pod(self) -> dict[str, Any]:
        self.count += 1
        body = admitted({"metadata": copy.deepcopy(self.template.get("metadata") or {}),
                         "spec": copy.deepcopy(self.template["spec"])}, self.namespace)
        meta = body["metadata"]
        meta["name"] = f"{self.name}-{self.count:05d}"
        meta.setdefault("labels", {})["pod-template-hash"] = self.hash
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": self.name,
                                    "uid": f"uid-{self.name}", "controller": True, "blockOwnerDeletion": True}]
        return body

    @property
    def workloads(self) -> Workloads:
        return Workloads(replica_sets=(self.replica_set,))


def place(new_pods: Iterable[dict[str, Any]], nodes: list[dict[str, Any]], existing: list[dict[str, Any]],
          workloads: Workloads | None = None, volumes: VolumeState | None = None) -> list[ScheduleResult]:
    """Schedule pods one after the other, binding each to its chosen node as the scheduler would."""
    results = []
    for p in new_pods:
        result = schedule(p, nodes, existing, volumes, workloads)
        results.append(result)
        if result.node:
            p["spec"]["nodeName"] = result.node
            existing.append(p)
    return results


def per_node(results: Iterable[ScheduleResult]) -> dict[str, int]:
    return dict(Counter(r.node for r in results if r.node))


def load_golden(relative: str) -> dict[str, Any]:
    return json.loads(golden_path(relative).read_text())


def step(case: dict[str, Any], label_prefix: str) -> dict[str, Any]:
    """The first step whose label starts with ``label_prefix``."""
    return next(s for s in case["steps"] if s["label"].startswith(label_prefix))
