"""Owner-reference garbage collection: Background, Foreground and Orphan propagation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

HOLD = "example.com/hold"
NO_SCHEDULER = "no-such-scheduler"


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _exists(read: Callable[[], Any]) -> bool:
    try:
        read()
    except ApiException as e:
        if e.status == 404:
            return False
        raise
    return True


def _ref(owner: Any, kind: str, api_version: str, block: bool | None = None,
         controller: bool | None = None) -> client.V1OwnerReference:
    return client.V1OwnerReference(api_version=api_version, kind=kind, name=owner.metadata.name,
                                   uid=owner.metadata.uid, block_owner_deletion=block, controller=controller)


def _cm(core, ns: str, name: str, owners: list[client.V1OwnerReference] | None = None,
        finalizers: list[str] | None = None) -> client.V1ConfigMap:
    return core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(
        name=name, owner_references=owners, finalizers=finalizers)))


def _delete(core, ns: str, name: str, policy: str | None) -> None:
    core.delete_namespaced_config_map(name, ns, body=client.V1DeleteOptions(propagation_policy=policy))


def _cm_exists(core, ns: str, name: str) -> bool:
    return _exists(lambda: core.read_namespaced_config_map(name, ns))


def _release(core, ns: str, name: str) -> None:
    core.patch_namespaced_config_map(name, ns, {"metadata": {"finalizers": None}})


# ---------------------------------------------------------------- ConfigMaps owning ConfigMaps


@pytest.mark.parametrize("policy", ["Background", None], ids=["explicit", "default"])
def test_background_deletes_dependents_after_owner(core, namespace, policy):
    owner = _cm(core, namespace, "owner")
    for name in ("dep-1", "dep-2"):
        _cm(core, namespace, name, [_ref(owner, "ConfigMap", "v1")])
    _delete(core, namespace, "owner", policy)
    assert not _cm_exists(core, namespace, "owner")  # the owner goes at once
    assert _eventually(lambda: not _cm_exists(core, namespace, "dep-1") and not _cm_exists(core, namespace, "dep-2"))


def test_foreground_owner_waits_for_blocking_dependents(core, namespace):
    owner = _cm(core, namespace, "owner")
    _cm(core, namespace, "dep", [_ref(owner, "ConfigMap", "v1", block=True)], finalizers=[HOLD])
    _delete(core, namespace, "owner", "Foreground")
    assert _eventually(lambda: core.read_namespaced_config_map("dep", namespace).metadata.deletion_timestamp
                       is not None)
    time.sleep(0.2)
    waiting = core.read_namespaced_config_map("owner", namespace)
    assert waiting.metadata.deletion_timestamp is not None
    assert waiting.metadata.finalizers == ["foregroundDeletion"]
    _release(core, namespace, "dep")
    assert _eventually(lambda: not _cm_exists(core, namespace, "owner"))


def test_foreground_does_not_wait_for_non_blocking_dependents(core, namespace):
    owner = _cm(core, namespace, "owner")
    _cm(core, namespace, "dep", [_ref(owner, "ConfigMap", "v1")], finalizers=[HOLD])
    _delete(core, namespace, "owner", "Foreground")
    assert _eventually(lambda: not _cm_exists(core, namespace, "owner"))
    assert _eventually(lambda: core.read_namespaced_config_map("dep", namespace).metadata.deletion_timestamp
                       is not None)
    _release(core, namespace, "dep")


def test_foreground_delete_answers_owner_with_finalizer(core, namespace):
    _cm(core, namespace, "owner")
    out = core.delete_namespaced_config_map("owner", namespace,
                                            body=client.V1DeleteOptions(propagation_policy="Foreground"))
    assert out["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert out["metadata"]["deletionTimestamp"]
    assert out["metadata"]["deletionGracePeriodSeconds"] == 0
    assert _eventually(lambda: not _cm_exists(core, namespace, "owner"))


def test_orphan_keeps_dependents_without_the_owner_reference(core, namespace):
    owner = _cm(core, namespace, "owner")
    other = _cm(core, namespace, "other")
    _cm(core, namespace, "dep", [_ref(owner, "ConfigMap", "v1"), _ref(other, "ConfigMap", "v1")])
    _cm(core, namespace, "only", [_ref(owner, "ConfigMap", "v1", block=True)])
    _delete(core, namespace, "owner", "Orphan")
    assert _eventually(lambda: not _cm_exists(core, namespace, "owner"))
    time.sleep(0.2)
    assert [r.name for r in core.read_namespaced_config_map("dep", namespace).metadata.owner_references] == ["other"]
    only = core.read_namespaced_config_map("only", namespace)
    assert only.metadata.owner_references is None
    assert only.metadata.deletion_timestamp is None


def test_dependent_with_another_live_owner_only_loses_the_reference(core, namespace):
    owner = _cm(core, namespace, "owner")
    other = _cm(core, namespace, "other")
    _cm(core, namespace, "dep", [_ref(owner, "ConfigMap", "v1"), _ref(other, "ConfigMap", "v1")])
    _delete(core, namespace, "owner", "Background")
    assert _eventually(lambda: [r.name for r in core.read_namespaced_config_map("dep", namespace)
                                .metadata.owner_references] == ["other"])
    assert core.read_namespaced_config_map("dep", namespace).metadata.deletion_timestamp is None


def test_dependent_of_a_missing_owner_is_collected(core, namespace):
    ghost = client.V1OwnerReference(api_version="v1", kind="ConfigMap", name="ghost",
                                    uid="00000000-0000-0000-0000-000000000001")
    _cm(core, namespace, "orphaned", [ghost])
    assert _eventually(lambda: not _cm_exists(core, namespace, "orphaned"))


# ---------------------------------------------------------------- a ReplicaSet owning Pods


@pytest.fixture
def replicaset(apps, core, namespace) -> client.V1ReplicaSet:
    """A ReplicaSet of 2 with its two pods (created with its controller reference, never scheduled)."""
    labels = {"app": "gc"}
    template = client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels),
        spec=client.V1PodSpec(scheduler_name=NO_SCHEDULER, containers=[client.V1Container(name="c", image="nginx")]))
    rs = apps.create_namespaced_replica_set(namespace, client.V1ReplicaSet(
        metadata=client.V1ObjectMeta(name="rs"),
        spec=client.V1ReplicaSetSpec(replicas=2, selector=client.V1LabelSelector(match_labels=labels),
                                     template=template)))
    ref = _ref(rs, "ReplicaSet", "apps/v1", block=True, controller=True)
    for name in ("rs-a", "rs-b"):
        try:
            core.create_namespaced_pod(namespace, client.V1Pod(
                metadata=client.V1ObjectMeta(name=name, labels=labels, owner_references=[ref]), spec=template.spec))
        except ApiException as e:
            if e.status != 409:
                raise
    return rs


def _owned_pods(core, namespace: str, rs: client.V1ReplicaSet) -> list[client.V1Pod]:
    return [p for p in core.list_namespaced_pod(namespace).items
            if any(r.uid == rs.metadata.uid for r in p.metadata.owner_references or ())]


def test_replicaset_background_deletion_deletes_its_pods(apps, core, namespace, replicaset):
    assert len(_owned_pods(core, namespace, replicaset)) >= 2
    apps.delete_namespaced_replica_set("rs", namespace, propagation_policy="Background")
    assert _eventually(lambda: core.list_namespaced_pod(namespace).items == [])


def test_replicaset_foreground_deletion_removes_pods_before_the_replicaset(apps, core, namespace, replicaset):
    out = apps.delete_namespaced_replica_set("rs", namespace, propagation_policy="Foreground")
    assert out["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert _eventually(lambda: not _exists(lambda: apps.read_namespaced_replica_set("rs", namespace)))
    assert core.list_namespaced_pod(namespace).items == []


def test_replicaset_orphan_deletion_keeps_pods(apps, core, namespace, replicaset):
    names = sorted(p.metadata.name for p in _owned_pods(core, namespace, replicaset))
    apps.delete_namespaced_replica_set("rs", namespace, propagation_policy="Orphan")
    assert _eventually(lambda: not _exists(lambda: apps.read_namespaced_replica_set("rs", namespace)))
    pods = core.list_namespaced_pod(namespace).items
    assert sorted(p.metadata.name for p in pods) == names
    assert all(p.metadata.owner_references is None and p.metadata.deletion_timestamp is None for p in pods)
