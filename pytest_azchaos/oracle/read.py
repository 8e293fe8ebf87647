"""Read the state the oracle needs from a real cluster through the kubernetes client (no pytest, no writes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .model import ClusterState, Obj, pod_key


def to_json(api_client: Any, obj: Any) -> Obj:
    """A kubernetes client model as the API's JSON (camelCase keys, RFC 3339 times)."""
    out: Obj = api_client.sanitize_for_serialization(obj)
    return out


def read_state(core: Any, namespace: str, selector: str) -> ClusterState:
    """Nodes, every pod (for capacity and anti-affinity), the workload ``selector`` in ``namespace``, its
    namespace's PDBs and claims, and every PV."""
    from kubernetes import client

    api = core.api_client
    nodes = [to_json(api, n) for n in core.list_node().items]
    pods = [to_json(api, p) for p in core.list_pod_for_all_namespaces().items]
    workload = [pod_key(to_json(api, p)) for p in core.list_namespaced_pod(namespace, label_selector=selector).items]
    pdbs = [to_json(api, b) for b in client.PolicyV1Api(api).list_namespaced_pod_disruption_budget(namespace).items]
    pvcs = {f"{namespace}/{c.metadata.name}": to_json(api, c)
            for c in core.list_namespaced_persistent_volume_claim(namespace).items}
    pvs = {v.metadata.name: to_json(api, v) for v in core.list_persistent_volume().items}
    return ClusterState(nodes, pods, workload, pdbs, pvcs, pvs)


def predict_for(core: Any, namespace: str, selector: str, kind: str, zone: str, profile: Any, *,
                nodes: list[str] | None = None, drain_timeout: float | None = None, aws: Any = None,
                suspend_processes: Iterable[str] | None = None) -> Any:
    """``read_state`` then ``predict`` for fault ``kind`` (drain, power-off, partition, zonal-shift) on ``zone``.
    ``aws`` (an ``AwsContext``) with a power-off: the lost nodes' Auto Scaling groups are read, and those the
    outage (suspending ``suspend_processes``, default ``aws.OUTAGE_PROCESSES``) leaves with HealthCheck or
    ReplaceUnhealthy active are predicted to terminate their stopped instances (``groups``)."""
    from .groups import terminated_by_groups
    from .model import Fault
    from .predict import predict

    state = read_state(core, namespace, selector)
    fault = Fault.of(kind, zone, nodes)
    groups = None
    if aws is not None and fault.kind == "power-off":
        from ..aws.asg import OUTAGE_PROCESSES, groups_of
        from ..aws.outage import zone_instance_ids

        asked = OUTAGE_PROCESSES if suspend_processes is None else tuple(suspend_processes)
        groups = terminated_by_groups(state.nodes, groups_of(aws, zone_instance_ids(state.nodes, zone)), asked)
    return predict(state, fault, profile, drain_timeout=drain_timeout, groups=groups)
