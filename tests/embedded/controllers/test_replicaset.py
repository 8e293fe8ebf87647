"""ReplicaSet controller against the embedded cluster, through the official client."""

from __future__ import annotations

from typing import Any

from .podsim import pods_of, ready_all, set_ready, template, wait_for

LABELS = {"app": "rs-test"}
SELECTOR = "app=rs-test"


def _rs(apps: Any, namespace: str, replicas: int, name: str = "web") -> Any:
    body = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": LABELS}, "template": template(LABELS)}}
    return apps.create_namespaced_replica_set(namespace, body)


def test_creates_pods_with_controller_owner_reference_and_events(apps, core, namespace):
    rs = _rs(apps, namespace, 3)
    pods = wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) == 3 and pods_of(core, namespace, SELECTOR))
    for p in pods:
        assert p.metadata.name.startswith("web-") and len(p.metadata.name) == len("web-") + 5
        ref = p.metadata.owner_references[0]
        assert (ref.kind, ref.name, ref.uid, ref.controller, ref.block_owner_deletion) == \
            ("ReplicaSet", "web", rs.metadata.uid, True, True)
    events = wait_for(lambda: [e for e in core.list_namespaced_event(namespace).items
                               if e.reason == "SuccessfulCreate"] or None)
    ev = events[0]
    assert ev.source.component == "replicaset-controller" and ev.count == 1 and ev.first_timestamp
    assert {e.message for e in events} == {f"Created pod: {p.metadata.name}" for p in pods}


def test_status_counts_ready_and_available_pods(apps, core, namespace):
    _rs(apps, namespace, 2)
    wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) == 2)
    ready_all(core, namespace, SELECTOR)
    st = wait_for(lambda: (s := apps.read_namespaced_replica_set("web", namespace).status).available_replicas == 2
                  and s)
    assert (st.replicas, st.fully_labeled_replicas, st.ready_replicas, st.observed_generation) == (2, 2, 2, 1)


def test_scale_down_deletes_not_ready_pods_first(apps, core, namespace):
    _rs(apps, namespace, 3)
    pods = wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) == 3 and pods_of(core, namespace, SELECTOR))
    ready = [p.metadata.name for p in pods[:2]]
    for name in ready:
        set_ready(core, namespace, name)
    wait_for(lambda: apps.read_namespaced_replica_set("web", namespace).status.ready_replicas == 2)
    apps.patch_namespaced_replica_set_scale("web", namespace, {"spec": {"replicas": 2}})
    left = wait_for(lambda: (n := [p.metadata.name for p in pods_of(core, namespace, SELECTOR)]) and len(n) == 2
                    and n)
    assert sorted(left) == sorted(ready)
    msgs = [e.message for e in core.list_namespaced_event(namespace).items if e.reason == "SuccessfulDelete"]
    assert msgs == [f"Deleted pod: {pods[2].metadata.name}"]


def test_deleted_pod_is_replaced(apps, core, namespace):
    _rs(apps, namespace, 2)
    pods = wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) == 2 and pods_of(core, namespace, SELECTOR))
    core.delete_namespaced_pod(pods[0].metadata.name, namespace)
    now = wait_for(lambda: (n := {p.metadata.name for p in pods_of(core, namespace, SELECTOR)}) and len(n) == 2
                   and pods[0].metadata.name not in n and n)
    assert pods[1].metadata.name in now


def test_scale_up_creates_missing_pods(apps, core, namespace):
    _rs(apps, namespace, 1)
    wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) == 1)
    apps.patch_namespaced_replica_set("web", namespace, {"spec": {"replicas": 4}})
    wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) == 4)
    st = wait_for(lambda: (s := apps.read_namespaced_replica_set("web", namespace).status).replicas == 4 and s)
    assert st.observed_generation == 2


def test_orphan_pod_matching_the_selector_is_adopted(apps, core, namespace):
    core.create_namespaced_pod(namespace, {"metadata": {"name": "orphan", "labels": LABELS},
                                           "spec": template(LABELS)["spec"]})
    rs = _rs(apps, namespace, 1)
    pod = wait_for(lambda: (p := core.read_namespaced_pod("orphan", namespace)).metadata.owner_references and p)
    assert pod.metadata.owner_references[0].uid == rs.metadata.uid
    wait_for(lambda: apps.read_namespaced_replica_set("web", namespace).status.replicas == 1)
    assert [p.metadata.name for p in pods_of(core, namespace, SELECTOR)] == ["orphan"]


def test_terminating_pods_are_not_replicas(apps, core, namespace):
    _rs(apps, namespace, 1)
    pod = wait_for(lambda: pods_of(core, namespace, SELECTOR))[0]
    name = pod.metadata.name
    core.patch_namespaced_pod(name, namespace, {"metadata": {"finalizers": ["azchaos.test/hold"]}})
    core.delete_namespaced_pod(name, namespace)
    st = wait_for(lambda: (s := apps.read_namespaced_replica_set("web", namespace).status).terminating_replicas == 1
                  and s.replicas == 1 and s)
    assert name not in [p.metadata.name for p in pods_of(core, namespace, SELECTOR)]
    core.patch_namespaced_pod(name, namespace, {"metadata": {"finalizers": None}})
    wait_for(lambda: apps.read_namespaced_replica_set("web", namespace).status.terminating_replicas == 0)
    assert st.replicas == 1
