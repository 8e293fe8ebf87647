"""Karpenter's objects in ``kube-system``, as its Helm chart installs them (getting started: namespace
``kube-system``).

Chart ``oci://public.ecr.aws/karpenter/karpenter`` defaults (``charts/karpenter/values.yaml``, templates
``deployment.yaml`` / ``poddisruptionbudget.yaml``): Deployment ``karpenter`` with 2 replicas, selector labels
``app.kubernetes.io/name`` / ``app.kubernetes.io/instance`` = ``karpenter``, never on its own nodes (required node
affinity ``karpenter.sh/nodepool DoesNotExist``), one per host (required pod anti-affinity on the hostname), spread
over zones (``maxSkew: 1`` on ``topology.kubernetes.io/zone``), ``system-cluster-critical``, tolerating
``CriticalAddonsOnly``, no resources set; container ``controller`` with ports ``http-metrics`` 8080 and ``http``
8081 (``/healthz``, ``/readyz``); PodDisruptionBudget ``karpenter`` ``maxUnavailable: 1``. Karpenter acts only while
one of these pods runs (``images/karpenter.py``): a zone loss that takes both takes Karpenter.
"""

from __future__ import annotations

from typing import Any

from ..apiserver.resources import REGISTRY
from ..apiserver.store import Store
from ..images.karpenter import HEALTH_PORT, KARPENTER_REPOSITORY, METRICS_PORT

Obj = dict[str, Any]
NAMESPACE = "kube-system"
NAME = "karpenter"
VERSION = "1.12.0"
SELECTOR = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": NAME}
LABELS = {"helm.sh/chart": f"karpenter-{VERSION}", **SELECTOR, "app.kubernetes.io/version": VERSION,
          "app.kubernetes.io/managed-by": "Helm"}


def deployment(cluster_name: str, replicas: int = 2) -> Obj:
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 30, "timeoutSeconds": 30}
    return {
        "metadata": {"name": NAME, "labels": dict(LABELS)},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "strategy": {"rollingUpdate": {"maxUnavailable": 1}},
            "selector": {"matchLabels": dict(SELECTOR)},
            "template": {
                "metadata": {"labels": dict(SELECTOR)},
                "spec": {
                    "serviceAccountName": NAME,
                    "securityContext": {"fsGroup": 65532},
                    "priorityClassName": "system-cluster-critical",
                    "dnsPolicy": "ClusterFirst",
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "affinity": {
                        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"}]}]}},
                        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": dict(SELECTOR)}}]}},
                    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                                   "whenUnsatisfiable": "DoNotSchedule",
                                                   "labelSelector": {"matchLabels": dict(SELECTOR)}}],
                    "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}],
                    "containers": [{
                        "name": "controller",
                        "image": f"{KARPENTER_REPOSITORY}:{VERSION}",
                        "imagePullPolicy": "IfNotPresent",
                        "env": [{"name": "CLUSTER_NAME", "value": cluster_name},
                                {"name": "METRICS_PORT", "value": str(METRICS_PORT)},
                                {"name": "HEALTH_PROBE_PORT", "value": str(HEALTH_PORT)},
                                {"name": "BATCH_MAX_DURATION", "value": "10s"},
                                {"name": "BATCH_IDLE_DURATION", "value": "1s"}],
                        "ports": [{"name": "http-metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
                                  {"name": "http", "containerPort": HEALTH_PORT, "protocol": "TCP"}],
                        "livenessProbe": probe,
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"},
                                           "initialDelaySeconds": 5, "timeoutSeconds": 30},
                        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                            "capabilities": {"drop": ["ALL"]}},
                    }],
                },
            },
        },
    }


def install_karpenter(store: Store, cluster_name: str) -> None:
    """Create the chart's objects (the Deployment's controllers and the scheduler do the rest)."""
    for group, plural, obj in (
            ("", "serviceaccounts", {"metadata": {"name": NAME, "labels": dict(LABELS)}}),
            ("policy", "poddisruptionbudgets", {"metadata": {"name": NAME, "labels": dict(LABELS)},
                                                "spec": {"maxUnavailable": 1,
                                                         "selector": {"matchLabels": dict(SELECTOR)}}}),
            ("apps", "deployments", deployment(cluster_name))):
        rtype = REGISTRY.lookup(group, "v1", plural)
        assert rtype is not None, plural
        store.create(rtype, NAMESPACE, obj)
