"""A user's own service as a team ships it, for tests that aim the plugin at a ``--azchaos-target``: a static
site (busybox ``httpd`` serving its files and 404 for anything else) in its own namespace, with a Deployment, a
``type: LoadBalancer`` Service and a PDB. The ``site`` fixture (tests/conftest.py) deploys it."""

from __future__ import annotations

import time
from typing import Any

import requests
from kubernetes import client

from pytest_azchaos.wellknown import ZONE_LABEL

FILES = ("mkdir -p /www && echo '<h1>shop</h1>' > /www/index.html && echo ok > /www/healthz")


def static_site(replicas: int, *, spread: bool, pdb: bool, warmup: int = 0) -> list[dict[str, Any]]:
    """A static site as a team would write it: busybox httpd on 8080, files from an init container, Ready
    ``warmup`` seconds after it starts (a real service's start-up time)."""
    labels = {"app": "static"}
    pod: dict[str, Any] = {
        "terminationGracePeriodSeconds": 5,  # httpd ignores SIGTERM (PID 1): it serves until SIGKILL
        "initContainers": [{"name": "files", "image": "busybox:1.36", "command": ["sh", "-c", FILES],
                            "volumeMounts": [{"name": "www", "mountPath": "/www"}]}],
        "containers": [{"name": "httpd", "image": "busybox:1.36", "command": ["httpd", "-f", "-p", "8080", "-h",
                                                                               "/www"],
                        "ports": [{"containerPort": 8080, "name": "http"}],
                        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 1,
                                           "initialDelaySeconds": warmup},
                        "volumeMounts": [{"name": "www", "mountPath": "/www"}]}],
        "volumes": [{"name": "www", "emptyDir": {}}],
    }
    if spread:
        pod["topologySpreadConstraints"] = [{"maxSkew": 1, "topologyKey": ZONE_LABEL,
                                             "whenUnsatisfiable": "DoNotSchedule", "nodeTaintsPolicy": "Honor",
                                             "labelSelector": {"matchLabels": labels}}]
    out: list[dict[str, Any]] = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "static", "labels": labels},
         "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": pod}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "static"},
         "spec": {"type": "LoadBalancer", "selector": labels,
                  "ports": [{"port": 8080, "targetPort": "http", "protocol": "TCP"}]}},
    ]
    if pdb:
        out.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "static"},
                    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels}}})
    return out


def serving(core: client.CoreV1Api, namespace: str, replicas: int, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        pods = core.list_namespaced_pod(namespace, label_selector="app=static").items
        ready = [p for p in pods if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]
        svc = core.read_namespaced_service("static", namespace)
        ingress = (svc.status.load_balancer.ingress if svc.status.load_balancer else None) or []
        last = f"{len(ready)}/{replicas} ready, addresses {[i.ip for i in ingress]}"
        if len(ready) == replicas and ingress:
            try:
                if all(requests.get(f"http://{i.ip}:8080/index.html", timeout=1).status_code == 200 for i in ingress):
                    return str(ingress[0].ip)
            except requests.RequestException as e:
                last += f"; {e}"
        time.sleep(0.5)
    raise AssertionError(f"the static site did not serve within {timeout}s: {last}")


