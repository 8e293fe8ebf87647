"""Helpers for the in-cluster checks' tests: CoreDNS changed for one test and always put back."""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kubernetes import client

from pytest_azchaos.wellknown import ZONE_LABEL

NAMESPACE, NAME = "kube-system", "coredns"


def _coredns_settled(apps: client.AppsV1Api, core: client.CoreV1Api, want: int, zone: str | None) -> bool:
    d = apps.read_namespaced_deployment(NAME, NAMESPACE)
    if (d.status.updated_replicas or 0) < want or (d.status.ready_replicas or 0) < want:
        return False
    pods = [p for p in core.list_namespaced_pod(NAMESPACE, label_selector="k8s-app=kube-dns").items
            if p.metadata.deletion_timestamp is None]
    if len(pods) != want:
        return False
    if zone is None:
        return True
    zones = {n.metadata.name: n.metadata.labels.get(ZONE_LABEL) for n in core.list_node().items}
    return all(zones.get(p.spec.node_name) == zone for p in pods)


def wait_coredns(apps: client.AppsV1Api, core: client.CoreV1Api, want: int, zone: str | None = None,
                 timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not _coredns_settled(apps, core, want, zone):
        if time.monotonic() > deadline:
            pods = [(p.metadata.name, p.spec.node_name, p.status.phase)
                    for p in core.list_namespaced_pod(NAMESPACE, label_selector="k8s-app=kube-dns").items]
            raise AssertionError(f"CoreDNS did not settle to {want} Ready pod(s) in {zone or 'any zone'}: {pods}")
        time.sleep(0.3)


@contextmanager
def coredns_changed(api: Any, *, zone: str | None = None, replicas: int | None = None) -> Iterator[None]:
    """CoreDNS pinned to ``zone`` (required nodeAffinity) and/or scaled to ``replicas`` for the block; its
    affinity and replicas are put back afterwards whatever happens (kube-system is never left changed)."""
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    raw = api.sanitize_for_serialization(apps.read_namespaced_deployment(NAME, NAMESPACE))
    affinity = copy.deepcopy(raw["spec"]["template"]["spec"].get("affinity"))
    before = raw["spec"]["replicas"]
    ops: list[dict[str, Any]] = []
    if zone is not None:
        pinned = copy.deepcopy(affinity or {})
        pinned["nodeAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": ZONE_LABEL, "operator": "In", "values": [zone]}]}]}}
        ops.append({"op": "add", "path": "/spec/template/spec/affinity", "value": pinned})
    if replicas is not None:
        ops.append({"op": "replace", "path": "/spec/replicas", "value": replicas})
    try:
        apps.patch_namespaced_deployment(NAME, NAMESPACE, ops, _content_type="application/json-patch+json")
        wait_coredns(apps, core, replicas or before, zone)
        yield
    finally:
        restore = [{"op": "replace", "path": "/spec/replicas", "value": before}]
        restore.append({"op": "add", "path": "/spec/template/spec/affinity", "value": affinity} if affinity
                       else {"op": "remove", "path": "/spec/template/spec/affinity"})
        apps.patch_namespaced_deployment(NAME, NAMESPACE, restore, _content_type="application/json-patch+json")
        with contextlib.suppress(AssertionError):  # a zone still cordoned by the test may slow it; never mask
            wait_coredns(apps, core, before)
