"""A small agnhost Deployment for the oracle's negative controls, with the scheduling knobs they need."""

from __future__ import annotations

from typing import Any

from pytest_azchaos.apps.echo import AGNHOST
from pytest_azchaos.apps.security import restricted_container_security, restricted_pod_security

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"


def spread_on(key: str, *, honor: bool, name: str) -> dict[str, Any]:
    c: dict[str, Any] = {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "DoNotSchedule",
                         "labelSelector": {"matchLabels": {"app": name}}}
    if honor:
        c["nodeTaintsPolicy"] = "Honor"
    return c


def deployment(name: str, replicas: int, *, spread: list[dict[str, Any]] | None = None,
               anti_affinity_per_host: bool = False, tolerate: int | None = None) -> dict[str, Any]:
    """``replicas`` agnhost netexec pods labelled ``app=<name>`` (restricted security, 1 s readiness)."""
    pod: dict[str, Any] = {
        "securityContext": restricted_pod_security(1000),
        "containers": [{"name": "web", "image": AGNHOST, "args": ["netexec", "--http-port=8080"],
                        "securityContext": restricted_container_security(),
                        "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}},
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}, "periodSeconds": 1}}]}
    if spread:
        pod["topologySpreadConstraints"] = spread
    if anti_affinity_per_host:
        pod["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": HOST, "labelSelector": {"matchLabels": {"app": name}}}]}}
    if tolerate is not None:
        pod["tolerations"] = [{"key": k, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": tolerate}
                              for k in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": pod}}}
