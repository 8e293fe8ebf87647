"""The API server's mutating webhook dispatch (``lbc/webhooks.py``) on a real Store: which webhooks apply, how a
failed call is worded, what each failure policy does."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_azchaos.embedded.apiserver.errors import ApiError
from pytest_azchaos.embedded.apiserver.resources import REGISTRY
from pytest_azchaos.embedded.apiserver.store import Store
from pytest_azchaos.embedded.lbc.addon import webhook_configuration
from pytest_azchaos.embedded.lbc.webhooks import (
    MUTATING_WEBHOOKS,
    WebhookDispatcher,
    WebhookServers,
)

POD_IP = "127.241.0.7"


def _rt(group: str, plural: str) -> Any:
    rtype = REGISTRY.lookup(group, "v1", plural)
    assert rtype is not None
    return rtype


def _store(ready: bool = True) -> tuple[Store, WebhookServers]:
    store = Store()  # MUTATING_WEBHOOKS stays out of this process's REGISTRY (discovery tests read it)
    for ns, labels in (("kube-system", {}), ("shop", {"elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"}),
                       ("plain", {})):
        store.create(_rt("", "namespaces"), "", {"metadata": {"name": ns, "labels": labels}})
    store.create(_rt("", "services"), "kube-system", {"metadata": {"name": "aws-load-balancer-webhook-service"},
                                                       "spec": {"ports": [{"name": "webhook-server", "port": 443,
                                                                           "targetPort": 9443}]}})
    store.create(_rt("discovery.k8s.io", "endpointslices"), "kube-system", {
        "metadata": {"name": "aws-load-balancer-webhook-service-x",
                     "labels": {"kubernetes.io/service-name": "aws-load-balancer-webhook-service"}},
        "addressType": "IPv4", "ports": [{"name": "webhook-server", "port": 9443, "protocol": "TCP"}],
        "endpoints": [{"addresses": [POD_IP], "conditions": {"ready": ready}}]})
    store.create(MUTATING_WEBHOOKS, "", webhook_configuration())
    servers = WebhookServers()
    store.admission_hooks.append(WebhookDispatcher(store, servers))
    return store, servers


def _lb(name: str = "web") -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}


def test_nothing_listening_on_the_endpoint_is_a_refused_connection() -> None:
    store, _ = _store()
    with pytest.raises(ApiError) as e:
        store.create(_rt("", "services"), "shop", _lb())
    assert e.value.code == 500 and e.value.message == (
        'Internal error occurred: failed calling webhook "mservice.elbv2.k8s.aws": failed to call webhook: Post '
        '"https://aws-load-balancer-webhook-service.kube-system.svc:443/mutate-v1-service?timeout=10s": dial tcp '
        f'{POD_IP}:9443: connect: connection refused'), e.value.message


def test_a_not_ready_endpoint_is_no_endpoint() -> None:
    store, _ = _store(ready=False)
    with pytest.raises(ApiError) as e:
        store.create(_rt("", "services"), "shop", _lb())
    assert e.value.message.endswith('no endpoints available for service "aws-load-balancer-webhook-service"')


def test_the_answer_patch_is_applied() -> None:
    store, servers = _store()
    servers.bind(POD_IP, 9443, lambda path, req: {"allowed": True, "patch": [
        {"op": "add", "path": "/spec/loadBalancerClass", "value": "service.k8s.aws/nlb"}]})
    created = store.create(_rt("", "services"), "shop", _lb())
    assert created["spec"]["loadBalancerClass"] == "service.k8s.aws/nlb" and created["metadata"]["uid"]


def test_pod_webhook_failure_is_ignored_and_applies_only_in_labelled_namespaces() -> None:
    store, servers = _store()
    calls: list[str] = []
    servers.bind(POD_IP, 9443, lambda path, req: calls.append(req["namespace"]) or {"allowed": True})

    def pod(name: str) -> dict[str, Any]:
        return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "x"}]}}

    store.create(_rt("", "pods"), "plain", pod("p"))
    assert calls == [], "namespaceSelector: only labelled namespaces"
    store.create(_rt("", "pods"), "shop", pod("p"))
    assert calls == ["shop"]
    servers.unbind(POD_IP, 9443)
    store.create(_rt("", "pods"), "shop", pod("q"))  # failurePolicy Ignore: created all the same
