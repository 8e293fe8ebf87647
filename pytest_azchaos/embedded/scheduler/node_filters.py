"""The per-node filters that need no cross-node state, in default-profile order.

NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts and NodeResourcesFit, each
returning ``None`` (fits) or a ``Status`` with upstream's reason strings and codes.
"""

from __future__ import annotations

from collections.abc import Callable

from ..rules.node_affinity import has_required_node_affinity, required_node_affinity_matches
from ..rules.tolerations import tolerated, untolerated_taints
from .matching import Obj
from .model import NodeInfo, Status, host_ports, reject
from .resources import pod_requests

UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}

ERR_UNSCHEDULABLE = "node(s) were unschedulable"
ERR_NODE_NAME = "node(s) didn't match the requested node name"
ERR_TAINT = "node(s) had untolerated taint(s)"
ERR_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
ERR_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports"
ERR_TOO_MANY_PODS = "Too many pods"


def node_unschedulable(pod: Obj, info: NodeInfo) -> Status | None:
    """A cordoned node (``spec.unschedulable``) fits only pods tolerating the unschedulable taint."""
    if not info.unschedulable:
        return None
    if tolerated(UNSCHEDULABLE_TAINT, (pod.get("spec") or {}).get("tolerations") or []):
        return None
    return reject("NodeUnschedulable", ERR_UNSCHEDULABLE, resolvable=False)


def node_name(pod: Obj, info: NodeInfo) -> Status | None:
    wanted = (pod.get("spec") or {}).get("nodeName")
    if wanted and wanted != info.name:
        return reject("NodeName", ERR_NODE_NAME, resolvable=False)
    return None


def taint_toleration(pod: Obj, info: NodeInfo) -> Status | None:
    """Any NoSchedule/NoExecute taint the pod does not tolerate (v1.35+ generic wording)."""
    if info.taints and untolerated_taints(info.node, pod, ("NoSchedule", "NoExecute")):
        return reject("TaintToleration", ERR_TAINT, resolvable=False)
    return None


def node_affinity(pod: Obj, info: NodeInfo) -> Status | None:
    if not required_node_affinity_matches(pod, info.node):
        return reject("NodeAffinity", ERR_NODE_AFFINITY, resolvable=False)
    return None


def _ports_conflict(want: tuple[str, str, int], have: tuple[str, str, int]) -> bool:
    ip_a, proto_a, port_a = want
    ip_b, proto_b, port_b = have
    if port_a != port_b or proto_a != proto_b:
        return False
    return ip_a == ip_b or "0.0.0.0" in (ip_a, ip_b)


def node_ports(pod: Obj, info: NodeInfo) -> Status | None:
    wanted = host_ports(pod)
    if not wanted:
        return None
    used = info.used_ports()
    if any(_ports_conflict(w, u) for w in wanted for u in used):
        return reject("NodePorts", ERR_NODE_PORTS)
    return None


def node_resources_fit(pod: Obj, info: NodeInfo) -> Status | None:
    """Pod count, then cpu, memory, ephemeral-storage and extended resources against allocatable.

    A request larger than the node's whole allocatable is unresolvable (preemption cannot help).
    """
    reasons: list[str] = []
    unresolvable = False
    allowed_pods = info.allocatable.get("pods", 0)
    if len(info.pods) + 1 > allowed_pods:
        reasons.append(ERR_TOO_MANY_PODS)
    request = pod_requests(pod)
    ordered = ["cpu", "memory", "ephemeral-storage"]
    ordered += sorted(k for k in request if k not in ordered and k != "pods")
    for resource in ordered:
        wanted = request.get(resource, 0)
        if wanted <= 0:
            continue
        allocatable = info.allocatable.get(resource, 0)
        if wanted > allocatable - info.requested.get(resource, 0):
            reasons.append(f"Insufficient {resource}")
            unresolvable = unresolvable or wanted > allocatable
    if reasons:
        return reject("NodeResourcesFit", *reasons, resolvable=not unresolvable)
    return None


ERR_AFFINITY_CONFLICT = "pod affinity terms conflict"


def node_affinity_pre_filter(pod: Obj) -> tuple[set[str] | None, Status | None]:
    """NodeAffinity's PreFilter: ``matchFields metadata.name In`` in every term narrows the candidate nodes.

    Returns the allowed node names (None = all) or a rejection when the terms cannot agree on any node.
    Nodes left out are reported as ``node(s) didn't satisfy plugin(s) [NodeAffinity]`` (DaemonSet pods).
    """
    required = ((((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if not required:
        return None, None
    names: set[str] | None = None
    for term in required.get("nodeSelectorTerms") or []:
        term_names: set[str] | None = None
        for field_req in term.get("matchFields") or []:
            if field_req.get("key") == "metadata.name" and field_req.get("operator") == "In":
                values = set(field_req.get("values") or [])
                term_names = values if term_names is None else term_names & values
        if term_names is None:
            return None, None
        names = term_names if names is None else names | term_names
    if names is not None and not names:
        return None, reject("NodeAffinity", ERR_AFFINITY_CONFLICT, resolvable=False)
    return names, None


def outside_pre_filter_result(plugins: list[str]) -> Status:
    """The status of nodes a PreFilter result left out (``SetAbsentNodesStatus``)."""
    owner = plugins[0] if len(plugins) == 1 else ""
    return reject(owner, f"node(s) didn't satisfy plugin(s) [{' '.join(sorted(plugins))}]", resolvable=False)


def applicable(pod: Obj) -> tuple[Callable[[Obj, NodeInfo], Status | None], ...]:
    """The filters above that can reject this pod at all, in order (the others pass every node)."""
    spec = pod.get("spec") or {}
    out: list[Callable[[Obj, NodeInfo], Status | None]] = [node_unschedulable]
    if spec.get("nodeName"):
        out.append(node_name)
    out.append(taint_toleration)
    if has_required_node_affinity(pod):
        out.append(node_affinity)
    if host_ports(pod):
        out.append(node_ports)
    out.append(node_resources_fit)
    return tuple(out)
