"""PodDisruptionBudget status against the embedded cluster, and evictions that honour it."""

from __future__ import annotations

from typing import Any

import requests

from .podsim import pods_of, ready_all, set_ready, template, wait_for

LABELS = {"app": "web"}
SELECTOR = "app=web"


def _rs(apps: Any, core: Any, namespace: str, replicas: int) -> None:
    apps.create_namespaced_replica_set(namespace, {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": LABELS}, "template": template(LABELS)}})
    wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) == replicas)


def _pdb(api_client: Any, namespace: str, spec: dict[str, Any]) -> Any:
    from kubernetes import client

    body = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web-pdb"},
            "spec": {"selector": {"matchLabels": LABELS}, **spec}}
    return client.PolicyV1Api(api_client).create_namespaced_pod_disruption_budget(namespace, body)


def _status(api_client: Any, namespace: str) -> Any:
    from kubernetes import client

    return client.PolicyV1Api(api_client).read_namespaced_pod_disruption_budget("web-pdb", namespace).status


def _evict(api_url: str, namespace: str, name: str) -> requests.Response:
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": namespace}}
    return requests.post(f"{api_url}/api/v1/namespaces/{namespace}/pods/{name}/eviction", json=body, timeout=10)


def test_min_available_2_with_3_ready_pods_allows_one_disruption(apps, core, api_client, namespace):
    _rs(apps, core, namespace, 3)
    ready_all(core, namespace, SELECTOR)
    _pdb(api_client, namespace, {"minAvailable": 2})
    st = wait_for(lambda: (s := _status(api_client, namespace)).current_healthy == 3 and s)
    assert (st.expected_pods, st.desired_healthy, st.disruptions_allowed, st.observed_generation) == (3, 2, 1, 1)
    cond = st.conditions[0]
    assert (cond.type, cond.status, cond.reason, cond.message, cond.observed_generation) == \
        ("DisruptionAllowed", "True", "SufficientPods", "", 1)


def test_max_unavailable_50_percent_uses_controller_scale(apps, core, api_client, namespace):
    _rs(apps, core, namespace, 4)
    names = [p.metadata.name for p in pods_of(core, namespace, SELECTOR)]
    set_ready(core, namespace, names[0])
    set_ready(core, namespace, names[1])
    _pdb(api_client, namespace, {"maxUnavailable": "50%"})
    st = wait_for(lambda: (s := _status(api_client, namespace)).current_healthy == 2 and s)
    assert (st.expected_pods, st.desired_healthy, st.disruptions_allowed) == (4, 2, 0)
    assert (st.conditions[0].status, st.conditions[0].reason) == ("False", "InsufficientPods")
    set_ready(core, namespace, names[2])
    st = wait_for(lambda: (s := _status(api_client, namespace)).current_healthy == 3 and s)
    assert (st.disruptions_allowed, st.conditions[0].reason) == (1, "SufficientPods")


def test_eviction_refused_at_zero_then_allowed_after_another_pod_is_ready(apps, core, api_client, api_url,
                                                                           namespace):
    _rs(apps, core, namespace, 3)
    ready_all(core, namespace, SELECTOR)
    _pdb(api_client, namespace, {"minAvailable": 3})
    wait_for(lambda: (s := _status(api_client, namespace)).current_healthy == 3 and s.observed_generation == 1)
    victim = pods_of(core, namespace, SELECTOR)[0].metadata.name
    refused = _evict(api_url, namespace, victim)
    assert refused.status_code == 429
    body = refused.json()
    assert body["reason"] == "TooManyRequests"
    assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert body["details"]["causes"] == [{"reason": "DisruptionBudget",
                                          "message": "The disruption budget web-pdb needs 3 healthy pods and has 3 "
                                                     "currently"}]
    apps.patch_namespaced_replica_set_scale("web", namespace, {"spec": {"replicas": 4}})
    wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) == 4)
    ready_all(core, namespace, SELECTOR)
    wait_for(lambda: _status(api_client, namespace).disruptions_allowed == 1)
    allowed = _evict(api_url, namespace, victim)
    assert allowed.status_code == 201, allowed.text
    st = wait_for(lambda: (s := _status(api_client, namespace)).current_healthy == 3 and s)
    assert st.disruptions_allowed == 0 and st.expected_pods >= 3


def test_disrupted_pods_entry_is_pruned_once_the_pod_is_gone(apps, core, api_client, api_url, namespace):
    _rs(apps, core, namespace, 2)
    ready_all(core, namespace, SELECTOR)
    _pdb(api_client, namespace, {"minAvailable": 1})
    wait_for(lambda: _status(api_client, namespace).disruptions_allowed == 1)
    victim = pods_of(core, namespace, SELECTOR)[0].metadata.name
    assert _evict(api_url, namespace, victim).status_code == 201
    st = wait_for(lambda: (s := _status(api_client, namespace)).current_healthy == 1 and s)
    assert not st.disrupted_pods
