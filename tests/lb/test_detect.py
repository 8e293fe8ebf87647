"""Which controller takes the sample Service: read from a running embedded cluster (legacy today), and from the
objects the LBC's Helm chart and an Auto Mode cluster serve (their upstream shapes, as API answers)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_azchaos.lb.detect import LbChoiceError, choose, detect
from pytest_azchaos.lb.flavours import AUTO_MODE_CLASS, LBC_CLASS

# The chart's MutatingWebhookConfiguration (helm/aws-load-balancer-controller/templates/webhook.yaml, v2.x defaults:
# enableServiceMutatorWebhook true, failurePolicy Fail) and its Deployment, as the API serves them.
LBC_WEBHOOKS = {"kind": "MutatingWebhookConfigurationList", "items": [{
    "metadata": {"name": "aws-load-balancer-webhook"},
    "webhooks": [
        {"name": "mpod.elbv2.k8s.aws", "failurePolicy": "Fail",
         "clientConfig": {"service": {"name": "aws-load-balancer-webhook-service", "namespace": "kube-system",
                                      "path": "/mutate-v1-pod"}},
         "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}]},
        {"name": "mservice.elbv2.k8s.aws", "failurePolicy": "Fail",
         "clientConfig": {"service": {"name": "aws-load-balancer-webhook-service", "namespace": "kube-system",
                                      "path": "/mutate-v1-service"}},
         "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["services"]}]},
    ]}]}
LBC_DEPLOYMENT = {"metadata": {"name": "aws-load-balancer-controller", "namespace": "kube-system"},
                  "spec": {"replicas": 2, "template": {"spec": {"containers": [
                      {"name": "aws-load-balancer-controller", "args": ["--cluster-name=demo",
                                                                        "--ingress-class=alb"]}]}}},
                  "status": {"readyReplicas": 2}}


class Answers:
    """API answers by path (404 for the rest): what a cluster with these objects serves."""

    def __init__(self) -> None:
        self.paths: dict[str, Any] = {}

    def add(self, path: str, doc: Any) -> Answers:
        self.paths[path] = doc
        return self

    def get_json(self, path: str, query: dict[str, str] | None = None, timeout: float = 5.0) -> tuple[int, Any]:
        doc = self.paths.get(path)
        if isinstance(doc, int):
            return doc, {"kind": "Status", "code": doc}
        return (200, doc) if doc is not None else (404, {"kind": "Status", "code": 404})


def _lbc() -> Answers:
    return (Answers().add("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", LBC_WEBHOOKS)
            .add("/apis/apps/v1/namespaces/kube-system/deployments/aws-load-balancer-controller", LBC_DEPLOYMENT))


def _auto_mode() -> Answers:
    return (Answers().add("/apis/eks.amazonaws.com", {"preferredVersion": {"groupVersion": "eks.amazonaws.com/v1"}})
            .add("/apis/eks.amazonaws.com/v1", {"resources": [{"name": "nodeclasses"}, {"name": "nodediagnostics"}]}))


def test_embedded_legacy_cluster_is_detected_as_legacy(plugin_cluster: Any) -> None:
    found = detect(plugin_cluster)
    assert found.controller == "legacy" and not found.lbc_present and not found.auto_mode, found
    assert choose("auto", "internet-facing", found).flavour == "legacy"


def test_lbc_is_refused_where_no_lbc_runs_naming_the_install(plugin_cluster: Any) -> None:
    with pytest.raises(LbChoiceError, match=r"needs the AWS Load Balancer Controller.*helm chart"):
        choose("lbc-ip", "internet-facing", detect(plugin_cluster))
    with pytest.raises(LbChoiceError, match="needs an EKS Auto Mode cluster"):
        choose("auto-mode", "internet-facing", detect(plugin_cluster))


def test_lbc_service_mutator_decides_and_legacy_is_refused_naming_the_class() -> None:
    found = detect(_lbc())
    assert found.controller == "lbc" and found.stamped_class == LBC_CLASS and found.failure_policy == "Fail"
    assert found.webhook == "aws-load-balancer-webhook/mservice.elbv2.k8s.aws" and found.lbc_ready == "2/2"
    assert choose("auto", "internet-facing", found).flavour == "lbc-instance"
    assert choose("lbc-ip", "internal", found).target_type == "ip"
    with pytest.raises(LbChoiceError, match=f"loadBalancerClass {LBC_CLASS}.*--azchaos-lb lbc-instance or lbc-ip"):
        choose("legacy", "internet-facing", found)


def test_lbc_without_its_service_mutator_leaves_class_less_services_to_legacy() -> None:
    webhooks = {"items": [{"metadata": {"name": "aws-load-balancer-webhook"},
                           "webhooks": [LBC_WEBHOOKS["items"][0]["webhooks"][0]]}]}  # type: ignore[index]
    found = detect(Answers().add("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", webhooks))
    assert found.controller == "legacy" and found.lbc_present and found.stamped_class is None
    assert choose("lbc-instance", "internet-facing", found).load_balancer_class == LBC_CLASS


def test_auto_mode_markers_decide_and_its_class_is_the_default() -> None:
    found = detect(_auto_mode())
    assert found.controller == "auto-mode" and found.stamped_class == AUTO_MODE_CLASS
    assert choose("auto", "internet-facing", found).flavour == "auto-mode"
    with pytest.raises(LbChoiceError, match="use --azchaos-lb auto-mode"):
        choose("legacy", "internet-facing", found)


def test_a_forbidden_webhook_list_is_said_never_read_as_absent() -> None:
    found = detect(Answers().add("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", 403))
    assert any("403" in u for u in found.unknown) and "could not read" in found.describe()
    assert choose("lbc-ip", "internet-facing", found).flavour == "lbc-ip"  # not refused on what we could not see
