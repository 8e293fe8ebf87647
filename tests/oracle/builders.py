"""Literal API objects for the oracle's unit tests: nodes in zones, Deployment/StatefulSet pods, PDBs, volumes."""

from __future__ import annotations

from typing import Any

from pytest_azchaos.oracle import ClusterState

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"
NS = "ns"
APP = {"app": "web"}

Obj = dict[str, Any]


def node(name: str, zone: str, *, cpu: str = "1930m", pods: str = "29", ready: bool = True) -> Obj:
    return {"metadata": {"name": name, "labels": {ZONE: zone, HOST: name}}, "spec": {},
            "status": {"allocatable": {"cpu": cpu, "memory": "7220172Ki", "pods": pods},
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def nodes(per_zone: int = 2, zones: str = "abc", **kw: Any) -> list[Obj]:
    return [node(f"n-{z}{i}", z, **kw) for z in zones for i in range(1, per_zone + 1)]


def spread(*, honor: bool = True, max_skew: int = 1, min_domains: int | None = None, key: str = ZONE) -> Obj:
    c: Obj = {"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": "DoNotSchedule",
              "labelSelector": {"matchLabels": dict(APP)}}
    if honor:
        c["nodeTaintsPolicy"] = "Honor"
    if min_domains is not None:
        c["minDomains"] = min_domains
    return c


def anti_affinity(key: str = HOST) -> Obj:
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"topologyKey": key, "labelSelector": {"matchLabels": dict(APP)}}]}}


def pod(name: str, node_name: str | None, *, kind: str = "ReplicaSet", cpu: str = "50m",
        tolerate: int | None = 2, spread_with: Obj | None = None, affinity: Obj | None = None,
        claim: str | None = None, ready: bool = True) -> Obj:
    spec: Obj = {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]}
    if node_name:
        spec["nodeName"] = node_name
    if tolerate is not None:
        spec["tolerations"] = [{"key": k, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": tolerate}
                               for k in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")]
    if spread_with is not None:
        spec["topologySpreadConstraints"] = [spread_with]
    if affinity is not None:
        spec["affinity"] = affinity
    if claim:
        spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
    owners = [{"kind": kind, "name": "web", "controller": True}] if kind else []
    return {"metadata": {"name": name, "namespace": NS, "labels": dict(APP), "ownerReferences": owners},
            "spec": spec, "status": {"phase": "Running" if node_name else "Pending",
                                     "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def pdb(*, max_unavailable: int | str | None = None, min_available: int | str | None = None) -> Obj:
    spec: Obj = {"selector": {"matchLabels": dict(APP)}}
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    if min_available is not None:
        spec["minAvailable"] = min_available
    return {"metadata": {"name": "web", "namespace": NS}, "spec": spec}


def pvc(claim: str, pv: str) -> Obj:
    return {"metadata": {"name": claim, "namespace": NS}, "spec": {"volumeName": pv}, "status": {"phase": "Bound"}}


def pv(name: str, zone: str) -> Obj:
    return {"metadata": {"name": name}, "spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": ZONE, "operator": "In", "values": [zone]}]}]}}}}


def state(node_list: list[Obj], pod_list: list[Obj], **kw: Any) -> ClusterState:
    return ClusterState(node_list, pod_list, [f"{NS}/{p['metadata']['name']}" for p in pod_list], **kw)


def one_per_node(node_list: list[Obj], **kw: Any) -> list[Obj]:
    return [pod(f"web-{i}", n["metadata"]["name"], **kw) for i, n in enumerate(node_list)]
