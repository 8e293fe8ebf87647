"""Pod readiness gates for ip targets (AWS Load Balancer Controller, eks-flavours-facts.md §1.4).

The LBC's pod webhook injects the gate ``target-health.elbv2.k8s.aws/<binding>`` only at pod creation, only in a
namespace labelled ``elbv2.k8s.aws/pod-readiness-gate-inject: enabled``, and only when the Service's
TargetGroupBinding already exists. So in ip mode the namespace is labelled and the Service created (and its
binding waited for) before any pod; without a gate a rollout can finish while every target is still "initial".
"""

from __future__ import annotations

import time
from typing import Any

from .flavours import READINESS_GATE_LABEL, READINESS_GATE_PREFIX

TGB_PATH = "/apis/elbv2.k8s.aws/v1beta1/namespaces/{namespace}/targetgroupbindings"


def label_namespace(core: Any, namespace: str) -> None:
    """Label ``namespace`` so the LBC injects readiness gates into pods created from now on."""
    core.patch_namespace(namespace, {"metadata": {"labels": {READINESS_GATE_LABEL: "enabled"}}})


def namespace_labelled(core: Any, namespace: str) -> bool:
    labels = core.read_namespace(namespace).metadata.labels or {}
    return labels.get(READINESS_GATE_LABEL) == "enabled"


def wait_target_group_binding(api: Any, namespace: str, service: str, timeout: float, interval: float = 0.5
                              ) -> str:
    """Until the Service's TargetGroupBinding exists, or, where the API does not serve that kind, until the Service
    has its load balancer (the LBC creates the target groups with it). Returns ``""`` then, else the reason (time
    ran out), for the caller to say."""
    deadline = time.monotonic() + timeout
    while True:
        status, doc = api.get_json(TGB_PATH.format(namespace=namespace))
        if status == 404:
            status, svc = api.get_json(f"/api/v1/namespaces/{namespace}/services/{service}")
            ingress = (((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress")
                       if status == 200 and isinstance(svc, dict) else None)
            if ingress:
                return ""
            if time.monotonic() >= deadline:
                return (f"service {namespace}/{service} got no load balancer within {timeout:.0f}s (and the API serves "
                        "no elbv2.k8s.aws TargetGroupBinding to wait for)")
            time.sleep(interval)
            continue
        if status == 200 and isinstance(doc, dict):
            for item in doc.get("items") or []:
                if ((item.get("spec") or {}).get("serviceRef") or {}).get("name") == service:
                    return ""
        if time.monotonic() >= deadline:
            return f"no TargetGroupBinding for service {namespace}/{service} within {timeout:.0f}s (HTTP {status})"
        time.sleep(interval)


def gates(pod: Any) -> list[str]:
    """The LBC readiness gates of ``pod`` (condition types ``target-health.elbv2.k8s.aws/...``)."""
    return [g.condition_type for g in (pod.spec.readiness_gates or [])
            if str(g.condition_type).startswith(READINESS_GATE_PREFIX)]
