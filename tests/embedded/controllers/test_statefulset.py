"""StatefulSet controller against the embedded cluster: ordinals, claims, ordered creation, revisions."""

from __future__ import annotations

from typing import Any

from .podsim import pods_of, set_ready, template, wait_for

LABELS = {"app": "db"}
SELECTOR = "app=db"


def _sts(apps: Any, namespace: str, replicas: int = 3, policy: str = "OrderedReady", **extra: Any) -> Any:
    spec: dict[str, Any] = {"replicas": replicas, "serviceName": "db", "podManagementPolicy": policy,
                            "selector": {"matchLabels": LABELS}, "template": template(LABELS),
                            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}
    spec.update(extra)
    return apps.create_namespaced_stateful_set(namespace, {"apiVersion": "apps/v1", "kind": "StatefulSet",
                                                           "metadata": {"name": "db"}, "spec": spec})


def _names(core: Any, namespace: str) -> list[str]:
    return [p.metadata.name for p in pods_of(core, namespace, SELECTOR)]


def test_ordered_ready_creates_next_ordinal_only_after_previous_is_ready(apps, core, namespace):
    _sts(apps, namespace, 3)
    wait_for(lambda: _names(core, namespace) == ["db-0"])
    assert _names(core, namespace) == ["db-0"]
    set_ready(core, namespace, "db-0")
    wait_for(lambda: _names(core, namespace) == ["db-0", "db-1"])
    set_ready(core, namespace, "db-1")
    wait_for(lambda: _names(core, namespace) == ["db-0", "db-1", "db-2"])
    set_ready(core, namespace, "db-2")
    st = wait_for(lambda: (s := apps.read_namespaced_stateful_set("db", namespace).status).ready_replicas == 3 and s)
    assert (st.replicas, st.current_replicas, st.updated_replicas, st.available_replicas) == (3, 3, 3, 3)
    assert st.current_revision == st.update_revision and st.current_revision.startswith("db-")
    assert st.collision_count == 0 and st.observed_generation == 1


def test_pod_identity_labels_hostname_and_claim_volume(apps, core, namespace):
    _sts(apps, namespace, 1)
    pod = wait_for(lambda: pods_of(core, namespace, SELECTOR))[0]
    rev = wait_for(lambda: apps.read_namespaced_stateful_set("db", namespace).status.update_revision)
    assert pod.metadata.labels == {"app": "db", "apps.kubernetes.io/pod-index": "0",
                                   "controller-revision-hash": rev, "statefulset.kubernetes.io/pod-name": "db-0"}
    assert (pod.spec.hostname, pod.spec.subdomain) == ("db-0", "db")
    assert pod.spec.volumes[0].name == "data"
    assert pod.spec.volumes[0].persistent_volume_claim.claim_name == "data-db-0"
    crs = apps.list_namespaced_controller_revision(namespace).items
    assert [(c.metadata.name, c.revision) for c in crs] == [(rev, 1)]
    msgs = sorted(e.message for e in core.list_namespaced_event(namespace).items if e.reason == "SuccessfulCreate")
    assert msgs == ["Create Claim data-db-0 Pod db-0 in StatefulSet db success",
                    "Create Pod db-0 in StatefulSet db successful"]


def test_claim_per_ordinal_is_kept_and_pod_recreated_after_delete(apps, core, namespace):
    _sts(apps, namespace, 2, "Parallel")
    wait_for(lambda: _names(core, namespace) == ["db-0", "db-1"])
    claims = sorted(c.metadata.name for c in core.list_namespaced_persistent_volume_claim(namespace).items)
    assert claims == ["data-db-0", "data-db-1"]
    pvc = core.read_namespaced_persistent_volume_claim("data-db-1", namespace)
    assert pvc.metadata.labels == {"app": "db"} and not pvc.metadata.owner_references
    old_uid = core.read_namespaced_pod("db-1", namespace).metadata.uid
    core.delete_namespaced_pod("db-1", namespace)
    pod = wait_for(lambda: (p := [x for x in pods_of(core, namespace, SELECTOR) if x.metadata.name == "db-1"])
                   and p[0].metadata.uid != old_uid and p[0])
    assert pod.spec.volumes[0].persistent_volume_claim.claim_name == "data-db-1"
    assert core.read_namespaced_persistent_volume_claim("data-db-1", namespace).metadata.uid == pvc.metadata.uid


def test_scale_down_removes_highest_ordinal_first(apps, core, namespace):
    _sts(apps, namespace, 3, "Parallel")
    wait_for(lambda: len(_names(core, namespace)) == 3)
    for n in ("db-0", "db-1", "db-2"):
        set_ready(core, namespace, n)
    apps.patch_namespaced_stateful_set_scale("db", namespace, {"spec": {"replicas": 1}})
    wait_for(lambda: _names(core, namespace) == ["db-0"])
    assert len(core.list_namespaced_persistent_volume_claim(namespace).items) == 3


def test_retention_policy_delete_sets_owner_reference_on_claims(apps, core, namespace):
    sts = _sts(apps, namespace, 1, persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete",
                                                                          "whenScaled": "Retain"})
    wait_for(lambda: _names(core, namespace) == ["db-0"])
    pvc = wait_for(lambda: (c := core.read_namespaced_persistent_volume_claim("data-db-0", namespace))
                   .metadata.owner_references and c)
    assert [(r.kind, r.uid) for r in pvc.metadata.owner_references] == [("StatefulSet", sts.metadata.uid)]


def test_rolling_update_replaces_pods_in_reverse_ordinal_order(apps, core, namespace):
    _sts(apps, namespace, 2)
    wait_for(lambda: _names(core, namespace) == ["db-0"])
    set_ready(core, namespace, "db-0")
    wait_for(lambda: _names(core, namespace) == ["db-0", "db-1"])
    set_ready(core, namespace, "db-1")
    old = wait_for(lambda: (s := apps.read_namespaced_stateful_set("db", namespace).status).ready_replicas == 2
                   and s.update_revision)
    apps.patch_namespaced_stateful_set("db", namespace, {"spec": {"template": {"metadata": {
        "annotations": {"rev": "2"}}}}})
    new = wait_for(lambda: (r := apps.read_namespaced_stateful_set("db", namespace).status.update_revision) != old
                   and r)

    def rev(name: str) -> Any:
        p = [x for x in pods_of(core, namespace, SELECTOR) if x.metadata.name == name]
        return p and p[0].metadata.labels["controller-revision-hash"]

    wait_for(lambda: rev("db-1") == new)
    assert rev("db-0") == old
    set_ready(core, namespace, "db-1")
    wait_for(lambda: rev("db-0") == new)
    set_ready(core, namespace, "db-0")
    st = wait_for(lambda: (s := apps.read_namespaced_stateful_set("db", namespace).status).current_revision == new
                  and s)
    assert (st.updated_replicas, st.current_replicas) == (2, 2)
