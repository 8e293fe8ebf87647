"""The AWS Load Balancer Controller's objects in ``kube-system``, as its Helm chart installs them.

Chart ``eks/aws-load-balancer-controller`` defaults (``helm/aws-load-balancer-controller/values.yaml``,
templates ``deployment.yaml`` / ``webhook.yaml``): Deployment ``aws-load-balancer-controller`` with
2 replicas, scheduled like any pod (a preferred anti-affinity per node only, so both replicas may sit in
the zone that is lost), container port 9443 ``webhook-server``, liveness ``/healthz`` on 61779;
Service ``aws-load-balancer-webhook-service`` (443 -> ``webhook-server``); MutatingWebhookConfiguration
``aws-load-balancer-webhook``: ``mpod.elbv2.k8s.aws`` (pods, namespaces labelled
``elbv2.k8s.aws/pod-readiness-gate-inject: enabled``, ``failurePolicy: Ignore`` since v2.11.0) and
``mservice.elbv2.k8s.aws`` (Services, ``failurePolicy: Fail``; ``enableServiceMutatorWebhook: true``
since v2.5.0), both on CREATE, excluding the controller's own pods.
"""

from __future__ import annotations

from typing import Any

from ..apiserver.resources import REGISTRY
from ..apiserver.store import Store
from ..images.aws_lbc import HEALTH_PORT, LBC_REPOSITORY, WEBHOOK_PORT
from .model import READINESS_GATE_INJECT
from .webhooks import MUTATING_WEBHOOKS, serve_webhook_configurations

Obj = dict[str, Any]
NAMESPACE = "kube-system"
NAME = "aws-load-balancer-controller"
WEBHOOK_SERVICE = "aws-load-balancer-webhook-service"
WEBHOOK_CONFIGURATION = "aws-load-balancer-webhook"
IMAGE_TAG = "v2.13.4"
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": NAME}
_NOT_SELF = {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "NotIn", "values": [NAME]}]}


def deployment(cluster_name: str, replicas: int = 2) -> Obj:
    return {
        "metadata": {"name": NAME, "labels": {**LABELS, "app.kubernetes.io/version": IMAGE_TAG}},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": dict(LABELS)},
            "template": {
                "metadata": {"labels": dict(LABELS), "annotations": {"prometheus.io/port": "8080",
                                                                     "prometheus.io/scrape": "true"}},
                "spec": {
                    "serviceAccountName": NAME,
                    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                        "weight": 100, "podAffinityTerm": {
                            "labelSelector": {"matchExpressions": [
                                {"key": "app.kubernetes.io/name", "operator": "In", "values": [NAME]}]},
                            "topologyKey": "kubernetes.io/hostname"}}]}},
                    "containers": [{
                        "name": NAME,
                        "image": f"{LBC_REPOSITORY}:{IMAGE_TAG}",
                        "imagePullPolicy": "IfNotPresent",
                        "args": [f"--cluster-name={cluster_name}", "--ingress-class=alb"],
                        "ports": [{"name": "webhook-server", "containerPort": WEBHOOK_PORT, "protocol": "TCP"},
                                  {"name": "metrics-server", "containerPort": 8080, "protocol": "TCP"}],
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": HEALTH_PORT, "scheme": "HTTP"},
                                          "initialDelaySeconds": 30, "timeoutSeconds": 10, "failureThreshold": 2},
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": HEALTH_PORT, "scheme": "HTTP"},
                                           "initialDelaySeconds": 0, "periodSeconds": 1, "timeoutSeconds": 10,
                                           "successThreshold": 1, "failureThreshold": 2},
                        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "runAsNonRoot": True},
                    }],
                    "priorityClassName": "system-cluster-critical",
                    "securityContext": {"fsGroup": 65534},
                    "terminationGracePeriodSeconds": 10,
                },
            },
        },
    }


def webhook_service() -> Obj:
    return {"metadata": {"name": WEBHOOK_SERVICE, "labels": {**LABELS, "prometheus.io/service-monitor": "false"}},
            "spec": {"selector": dict(LABELS),
                     "ports": [{"name": "webhook-server", "port": 443, "targetPort": "webhook-server"}]}}


def webhook_configuration() -> Obj:
    def hook(name: str, path: str, resource: str, failure: str, ns_selector: Obj | None) -> Obj:
        out: Obj = {
            "name": name,
            "admissionReviewVersions": ["v1beta1"],
            "clientConfig": {"service": {"name": WEBHOOK_SERVICE, "namespace": NAMESPACE, "path": path,
                                         "port": 443}},
            "failurePolicy": failure,
            "matchPolicy": "Equivalent",
            "objectSelector": _NOT_SELF,
            "reinvocationPolicy": "Never",
            "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                       "resources": [resource], "scope": "*"}],
            "sideEffects": "None",
            "timeoutSeconds": 10,
        }
        out["namespaceSelector"] = ns_selector or {}
        return out

    return {"metadata": {"name": WEBHOOK_CONFIGURATION, "labels": dict(LABELS)},
            "webhooks": [
                hook("mpod.elbv2.k8s.aws", "/mutate-v1-pod", "pods", "Ignore",
                     {"matchExpressions": [{"key": READINESS_GATE_INJECT, "operator": "In", "values": ["enabled"]}]}),
                hook("mservice.elbv2.k8s.aws", "/mutate-v1-service", "services", "Fail", None)]}


def install_lbc(store: Store, cluster_name: str) -> None:
    """Create the chart's objects (the Deployment's controllers and the scheduler do the rest)."""
    serve_webhook_configurations()
    for rtype, obj in (
            (REGISTRY.lookup("", "v1", "serviceaccounts"), {"metadata": {"name": NAME, "labels": dict(LABELS)}}),
            (REGISTRY.lookup("", "v1", "services"), webhook_service()),
            (REGISTRY.lookup("apps", "v1", "deployments"), deployment(cluster_name))):
        assert rtype is not None
        store.create(rtype, NAMESPACE, obj)
    store.create(MUTATING_WEBHOOKS, "", webhook_configuration())
