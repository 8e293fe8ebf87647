"""Subresources with behaviour of their own: pods/binding (and bindings), pods/eviction, deployments/scale."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

Obj = dict[str, Any]
NO_SCHEDULER = "no-such-scheduler"
# A node no kubelet runs: pods bound there keep the status the test writes, and stay Terminating once evicted.
GHOST_NODE = "ghost-node-without-kubelet"


def _status(exc: ApiException) -> Obj:
    return json.loads(exc.body)


def _pod(name: str, labels: dict[str, str] | None = None, node: str | None = None) -> client.V1Pod:
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name, labels=labels),
                        spec=client.V1PodSpec(node_name=node, scheduler_name=NO_SCHEDULER,
                                              containers=[client.V1Container(name="c", image="nginx")]))


def _condition(pod: client.V1Pod, ctype: str) -> client.V1PodCondition | None:
    return next((c for c in pod.status.conditions or () if c.type == ctype), None)


# ---------------------------------------------------------------- binding


def _binding(name: str, node: str) -> client.V1Binding:
    return client.V1Binding(metadata=client.V1ObjectMeta(name=name),
                            target=client.V1ObjectReference(kind="Node", name=node))


def test_pod_binding_sets_node_name_and_pod_scheduled(core, api_url, namespace):
    core.create_namespaced_pod(namespace, _pod("p"))
    r = requests.post(f"{api_url}/api/v1/namespaces/{namespace}/pods/p/binding", timeout=10,
                      json={"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
                            "target": {"kind": "Node", "name": GHOST_NODE}})
    assert r.status_code == 201
    assert r.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
    pod = core.read_namespaced_pod("p", namespace)
    assert pod.spec.node_name == GHOST_NODE
    scheduled = _condition(pod, "PodScheduled")
    assert scheduled is not None and scheduled.status == "True"


def test_bindings_collection_binds_the_named_pod(core, namespace):
    core.create_namespaced_pod(namespace, _pod("p"))
    # The client cannot parse the Status answer as a V1Binding, so keep the raw response.
    r = core.create_namespaced_binding(namespace, _binding("p", GHOST_NODE), _preload_content=False)
    assert r.status == 201
    assert core.read_namespaced_pod("p", namespace).spec.node_name == GHOST_NODE


def test_binding_an_already_bound_pod_is_conflict(core, namespace):
    core.create_namespaced_pod(namespace, _pod("p", node=GHOST_NODE))
    with pytest.raises(ApiException) as e:
        core.create_namespaced_binding(namespace, _binding("p", "other-node"), _preload_content=False)
    assert e.value.status == 409
    body = _status(e.value)
    assert body["reason"] == "Conflict"
    assert body["message"] == (f'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to '
                               f'node "{GHOST_NODE}"')
    assert body["details"] == {"name": "p", "kind": "pods/binding"}


# ---------------------------------------------------------------- eviction


def _evict(core, namespace: str, name: str) -> Any:
    return core.create_namespaced_pod_eviction(
        name, namespace, client.V1Eviction(metadata=client.V1ObjectMeta(name=name, namespace=namespace)),
        _preload_content=False)


def _running_ready(core, namespace: str, name: str, labels: dict[str, str]) -> None:
    core.create_namespaced_pod(namespace, _pod(name, labels, node=GHOST_NODE))
    core.patch_namespaced_pod_status(name, namespace, {"status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}]}})


def _pdb(api_client, namespace: str, name: str, min_available: int, status: Obj,
         labels: dict[str, str] | None = None) -> None:
    """A PDB whose status is written by hand (observedGeneration = generation), as the disruption controller
    would write it for these pods."""
    policy = client.PolicyV1Api(api_client)
    created = policy.create_namespaced_pod_disruption_budget(namespace, client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodDisruptionBudgetSpec(min_available=min_available, selector=client.V1LabelSelector(
            match_labels=labels or {"app": "web"}))))
    policy.patch_namespaced_pod_disruption_budget_status(name, namespace, {"status": {
        "observedGeneration": created.metadata.generation, **status}})


@pytest.fixture
def two_ready_pods(core, namespace) -> str:
    for name in ("web-1", "web-2"):
        _running_ready(core, namespace, name, {"app": "web"})
    return namespace


def test_evicting_a_pending_pod_succeeds(core, namespace):
    core.create_namespaced_pod(namespace, _pod("p", {"app": "web"}))
    r = _evict(core, namespace, "p")
    assert r.status == 201
    assert json.loads(r.data) == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                  "code": 201}
    with pytest.raises(ApiException) as e:
        core.read_namespaced_pod("p", namespace)
    assert e.value.status == 404


def test_eviction_refused_when_budget_allows_no_disruption(core, api_client, two_ready_pods):
    ns = two_ready_pods
    _pdb(api_client, ns, "web-pdb", 2, {"disruptionsAllowed": 0, "currentHealthy": 2, "desiredHealthy": 2,
                                         "expectedPods": 2})
    with pytest.raises(ApiException) as e:
        _evict(core, ns, "web-1")
    assert e.value.status == 429
    assert _status(e.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Cannot evict pod as it would violate the pod's disruption budget.", "reason": "TooManyRequests",
        "details": {"causes": [{"reason": "DisruptionBudget",
                                "message": "The disruption budget web-pdb needs 2 healthy pods and has 2 currently"}]},
        "code": 429}
    assert core.read_namespaced_pod("web-1", ns).metadata.deletion_timestamp is None


def test_eviction_allowed_takes_one_disruption(core, api_client, two_ready_pods):
    ns = two_ready_pods
    policy = client.PolicyV1Api(api_client)
    _pdb(api_client, ns, "web-pdb", 1, {"disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1,
                                         "expectedPods": 2})
    rv = policy.read_namespaced_pod_disruption_budget("web-pdb", ns).metadata.resource_version
    assert _evict(core, ns, "web-1").status == 201
    # A disruption controller may recompute the status right after (and drop the entry once the pod is
    # terminating), so look at the eviction's own write in the watch history.
    taken = None
    for ev in watch.Watch().stream(policy.list_namespaced_pod_disruption_budget, ns, resource_version=rv,
                                   timeout_seconds=2):
        st = ev["object"].status
        if ev["type"] == "MODIFIED" and st.disrupted_pods and "web-1" in st.disrupted_pods:
            taken = st
            break
    assert taken is not None
    assert taken.disruptions_allowed == 0
    allowed = next(c for c in taken.conditions if c.type == "DisruptionAllowed")
    assert (allowed.status, allowed.reason) == ("False", "InsufficientPods")


def test_evicted_pod_gets_disruption_target_and_graceful_deletion(core, api_client, two_ready_pods):
    ns = two_ready_pods
    _pdb(api_client, ns, "web-pdb", 1, {"disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1,
                                         "expectedPods": 2})
    _evict(core, ns, "web-1")
    pod = core.read_namespaced_pod("web-1", ns)
    target = _condition(pod, "DisruptionTarget")
    assert target is not None
    assert (target.status, target.reason, target.message) == ("True", "EvictionByEvictionAPI",
                                                              "Eviction API: evicting")
    assert pod.metadata.deletion_grace_period_seconds == 30
    core.delete_namespaced_pod("web-1", ns, grace_period_seconds=0)


def test_eviction_of_a_pod_under_two_budgets_is_internal_error(core, api_client, two_ready_pods):
    ns = two_ready_pods
    for name in ("pdb-a", "pdb-b"):
        _pdb(api_client, ns, name, 1, {"disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1,
                                       "expectedPods": 2})
    with pytest.raises(ApiException) as e:
        _evict(core, ns, "web-1")
    assert e.value.status == 500
    # eviction.go builds this Status by hand: no reason, no details.
    assert _status(e.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
        "code": 500}


def _running_unready(core, api_client, namespace: str, policy: str | None) -> None:
    core.create_namespaced_pod(namespace, _pod("sick", {"app": "web"}, node=GHOST_NODE))
    core.patch_namespaced_pod_status("sick", namespace, {"status": {
        "phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}})
    pdbs = client.PolicyV1Api(api_client)
    created = pdbs.create_namespaced_pod_disruption_budget(namespace, client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name="strict"),
        spec=client.V1PodDisruptionBudgetSpec(min_available=5, unhealthy_pod_eviction_policy=policy,
                                              selector=client.V1LabelSelector(match_labels={"app": "web"}))))
    pdbs.patch_namespaced_pod_disruption_budget_status("strict", namespace, {"status": {
        "observedGeneration": created.metadata.generation, "disruptionsAllowed": 0, "currentHealthy": 0,
        "desiredHealthy": 5, "expectedPods": 1}})


def test_unready_pod_is_protected_by_a_short_budget(core, api_client, namespace):
    _running_unready(core, api_client, namespace, None)
    with pytest.raises(ApiException) as e:
        _evict(core, namespace, "sick")
    assert e.value.status == 429
    assert _status(e.value)["details"]["causes"][0]["message"] == \
        "The disruption budget strict needs 5 healthy pods and has 0 currently"


def test_unready_pod_is_evictable_with_always_allow(core, api_client, namespace):
    _running_unready(core, api_client, namespace, "AlwaysAllow")
    assert _evict(core, namespace, "sick").status == 201
    assert core.read_namespaced_pod("sick", namespace).metadata.deletion_timestamp is not None
    core.delete_namespaced_pod("sick", namespace, grace_period_seconds=0)


def test_get_on_eviction_is_method_not_allowed(core, api_url, namespace):
    core.create_namespaced_pod(namespace, _pod("p"))
    r = requests.get(f"{api_url}/api/v1/namespaces/{namespace}/pods/p/eviction", timeout=10)
    assert r.status_code == 405
    assert r.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": "the server does not allow this method on the requested resource",
                        "reason": "MethodNotAllowed", "details": {}, "code": 405}


# ---------------------------------------------------------------- scale


@pytest.fixture
def deployment(apps, namespace) -> client.V1Deployment:
    labels = {"app": "scaled"}
    return apps.create_namespaced_deployment(namespace, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=0, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(scheduler_name=NO_SCHEDULER,
                                      containers=[client.V1Container(name="c", image="nginx")])))))


def test_read_deployment_scale(apps, namespace, deployment):
    scale = apps.read_namespaced_deployment_scale("web", namespace)
    assert (scale.kind, scale.api_version) == ("Scale", "autoscaling/v1")
    assert scale.metadata.name == "web" and scale.metadata.uid == deployment.metadata.uid
    assert scale.spec.replicas == 0
    assert scale.status.selector == "app=scaled"


def test_replace_deployment_scale_sets_replicas(apps, namespace, deployment):
    scale = apps.read_namespaced_deployment_scale("web", namespace)
    scale.spec.replicas = 3
    out = apps.replace_namespaced_deployment_scale("web", namespace, scale)
    assert out.spec.replicas == 3
    d = apps.read_namespaced_deployment("web", namespace)
    assert d.spec.replicas == 3
    assert d.metadata.generation == 2
    assert out.metadata.resource_version == d.metadata.resource_version or \
        int(d.metadata.resource_version) > int(out.metadata.resource_version)


def test_patch_deployment_scale_sets_replicas(apps, namespace, deployment):
    out = apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 2}})
    assert out.spec.replicas == 2
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 2


def test_replace_scale_with_stale_resource_version_is_conflict(apps, namespace, deployment):
    scale = apps.read_namespaced_deployment_scale("web", namespace)
    apps.patch_namespaced_deployment("web", namespace, {"metadata": {"labels": {"touch": "1"}}})
    scale.spec.replicas = 4
    with pytest.raises(ApiException) as e:
        apps.replace_namespaced_deployment_scale("web", namespace, scale)
    assert e.value.status == 409
    assert _status(e.value)["message"] == (
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your '
        "changes to the latest version and try again")


def test_negative_scale_is_invalid(apps, namespace, deployment):
    with pytest.raises(ApiException) as e:
        apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": -1}})
    assert e.value.status == 422
    assert _status(e.value)["message"] == (
        'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0')


def test_scale_of_missing_deployment_is_not_found(apps, namespace):
    with pytest.raises(ApiException) as e:
        apps.read_namespaced_deployment_scale("nope", namespace)
    assert e.value.status == 404
    assert _status(e.value)["message"] == 'deployments.apps "nope" not found'
