"""The embedded default scheduler, end to end: binding, FailedScheduling, retries."""

from __future__ import annotations

from kubernetes import client

from ..waiting import wait_for

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"


def _pod(name: str, cpu: str | None = None, **spec: object) -> client.V1Pod:
    resources = client.V1ResourceRequirements(requests={"cpu": cpu}) if cpu else None
    container = client.V1Container(name="c", image=AGNHOST, args=["pause"], resources=resources)
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name), spec=client.V1PodSpec(containers=[container], **spec))


def _events(core: client.CoreV1Api, ns: str, pod: str, reason: str) -> list[client.CoreV1Event]:
    return [e for e in core.list_namespaced_event(ns).items
            if e.involved_object.name == pod and e.reason == reason]


def test_a_pod_that_fits_is_bound_with_a_scheduled_event(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("fits"))
    pod = wait_for(lambda: core.read_namespaced_pod("fits", namespace), lambda p: bool(p.spec.node_name),
                   what="binding")
    scheduled = {c.type: c.status for c in pod.status.conditions or []}.get("PodScheduled")
    assert scheduled == "True"
    events = wait_for(lambda: _events(core, namespace, "fits", "Scheduled"), bool, what="Scheduled event")
    assert events[0].message == f"Successfully assigned {namespace}/fits to {pod.spec.node_name}"
    assert events[0].reporting_component == "default-scheduler"


def test_a_pod_that_fits_nowhere_gets_the_upstream_failed_scheduling_message(core: client.CoreV1Api,
                                                                           namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("huge", cpu="3"))
    events = wait_for(lambda: _events(core, namespace, "huge", "FailedScheduling"), bool, what="FailedScheduling")
    assert events[0].message == (
        "0/6 nodes are available: 6 Insufficient cpu. no new claims to deallocate, preemption: 0/6 nodes are "
        "available: 6 Preemption is not helpful for scheduling.")
    pod = core.read_namespaced_pod("huge", namespace)
    cond = next(c for c in pod.status.conditions if c.type == "PodScheduled")
    assert (cond.status, cond.reason) == ("False", "Unschedulable")
    assert pod.spec.node_name is None


def test_an_unschedulable_pod_is_retried_when_a_node_changes(core: client.CoreV1Api, namespace: str) -> None:
    zone_a = [n.metadata.name for n in core.list_node().items
              if n.metadata.labels["topology.kubernetes.io/zone"] == "us-east-1a"]
    core.create_namespaced_pod(namespace, _pod("picky", node_selector={"azchaos-test/pick": namespace}))
    wait_for(lambda: _events(core, namespace, "picky", "FailedScheduling"), bool, what="FailedScheduling")
    core.patch_node(zone_a[0], {"metadata": {"labels": {"azchaos-test/pick": namespace}}})
    try:
        pod = wait_for(lambda: core.read_namespaced_pod("picky", namespace), lambda p: bool(p.spec.node_name),
                       what="binding after the label appeared")
        assert pod.spec.node_name == zone_a[0]
    finally:
        core.patch_node(zone_a[0], {"metadata": {"labels": {"azchaos-test/pick": None}}})


def test_a_pod_naming_another_scheduler_is_left_alone(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("other", scheduler_name="my-scheduler"))
    core.create_namespaced_pod(namespace, _pod("mine"))
    wait_for(lambda: core.read_namespaced_pod("mine", namespace), lambda p: bool(p.spec.node_name))
    assert core.read_namespaced_pod("other", namespace).spec.node_name is None
