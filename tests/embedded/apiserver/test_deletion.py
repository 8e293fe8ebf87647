"""Deletion semantics: graceful pod deletion, finalizers, preconditions, namespace termination."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

Obj = dict[str, Any]
HOLD = "example.com/hold"
# Pods are bound to a node no kubelet runs (accepted, as upstream does), so nothing finishes their deletion
# behind the test's back; unbound pods name a scheduler that does not exist, so they stay unbound.
NO_SCHEDULER = "no-such-scheduler"


def _status(exc: ApiException) -> Obj:
    return json.loads(exc.body)


def _pod(name: str, node: str | None = None, grace: int | None = None) -> client.V1Pod:
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name),
                        spec=client.V1PodSpec(node_name=node, termination_grace_period_seconds=grace,
                                              scheduler_name=NO_SCHEDULER,
                                              containers=[client.V1Container(name="c", image="nginx")]))


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _gone(read: Callable[[], Any]) -> Callable[[], bool]:
    def check() -> bool:
        try:
            read()
        except ApiException as e:
            if e.status == 404:
                return True
            raise
        return False
    return check


@pytest.fixture(scope="module")
def node() -> str:
    return "ghost-node-without-kubelet"


# ---------------------------------------------------------------- pods


def test_bound_pod_delete_is_graceful_with_spec_grace_period(core, namespace, node):
    core.create_namespaced_pod(namespace, _pod("p", node, grace=45))
    before = datetime.now(UTC).replace(microsecond=0)
    out = core.delete_namespaced_pod("p", namespace)
    assert out.metadata.deletion_grace_period_seconds == 45
    assert before + timedelta(seconds=44) <= out.metadata.deletion_timestamp <= before + timedelta(seconds=47)
    assert out.metadata.generation == 2
    pod = core.read_namespaced_pod("p", namespace)
    assert pod.metadata.deletion_timestamp == out.metadata.deletion_timestamp
    core.delete_namespaced_pod("p", namespace, grace_period_seconds=0)


def test_bound_pod_delete_uses_requested_grace_period(core, namespace, node):
    core.create_namespaced_pod(namespace, _pod("p", node))
    out = core.delete_namespaced_pod("p", namespace, grace_period_seconds=7)
    assert out.metadata.deletion_grace_period_seconds == 7
    core.delete_namespaced_pod("p", namespace, grace_period_seconds=0)


def test_bound_pod_default_grace_period_is_30(core, namespace, node):
    core.create_namespaced_pod(namespace, _pod("p", node))
    out = core.delete_namespaced_pod("p", namespace)
    assert out.metadata.deletion_grace_period_seconds == 30
    core.delete_namespaced_pod("p", namespace, grace_period_seconds=0)


def test_second_delete_with_grace_zero_removes_terminating_pod(core, namespace, node):
    core.create_namespaced_pod(namespace, _pod("p", node))
    core.delete_namespaced_pod("p", namespace)
    core.delete_namespaced_pod("p", namespace, grace_period_seconds=0)
    assert _gone(lambda: core.read_namespaced_pod("p", namespace))()


def test_second_delete_with_longer_grace_keeps_deletion_timestamp(core, namespace, node):
    core.create_namespaced_pod(namespace, _pod("p", node, grace=10))
    first = core.delete_namespaced_pod("p", namespace)
    again = core.delete_namespaced_pod("p", namespace, grace_period_seconds=60)
    assert again.metadata.deletion_timestamp == first.metadata.deletion_timestamp
    assert again.metadata.deletion_grace_period_seconds == 10
    core.delete_namespaced_pod("p", namespace, grace_period_seconds=0)


def test_unbound_pod_is_deleted_at_once(core, namespace):
    core.create_namespaced_pod(namespace, _pod("p", grace=45))
    core.delete_namespaced_pod("p", namespace)
    assert _gone(lambda: core.read_namespaced_pod("p", namespace))()


# ---------------------------------------------------------------- finalizers


def test_finalizer_keeps_object_until_removed(core, namespace):
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="held", finalizers=[HOLD])))
    core.delete_namespaced_config_map("held", namespace)
    cm = core.read_namespaced_config_map("held", namespace)
    assert cm.metadata.deletion_timestamp is not None
    assert cm.metadata.deletion_grace_period_seconds == 0
    assert cm.metadata.finalizers == [HOLD]
    core.patch_namespaced_config_map("held", namespace, {"metadata": {"finalizers": None}})
    assert _gone(lambda: core.read_namespaced_config_map("held", namespace))()


def test_terminating_object_accepts_updates_but_keeps_deletion_timestamp(core, namespace):
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="held", finalizers=[HOLD])))
    core.delete_namespaced_config_map("held", namespace)
    cm = core.patch_namespaced_config_map("held", namespace, {"data": {"a": "1"}})
    assert cm.data == {"a": "1"} and cm.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", namespace, {"metadata": {"finalizers": None}})


def test_no_new_finalizers_once_deleting(core, namespace):
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="held", finalizers=[HOLD])))
    core.delete_namespaced_config_map("held", namespace)
    with pytest.raises(ApiException) as e:
        core.patch_namespaced_config_map("held", namespace, {"metadata": {"finalizers": [HOLD, "example.com/late"]}})
    assert e.value.status == 422
    assert _status(e.value)["message"] == (
        'ConfigMap "held" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object '
        'is being deleted, found new finalizers []string{"example.com/late"}')
    core.patch_namespaced_config_map("held", namespace, {"metadata": {"finalizers": None}})


# ---------------------------------------------------------------- preconditions


def test_delete_precondition_uid_mismatch_is_conflict(core, namespace):
    cm = core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dup")))
    wrong = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(ApiException) as e:
        core.delete_namespaced_config_map("dup", namespace,
                                          body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=wrong)))
    assert e.value.status == 409
    assert _status(e.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'Operation cannot be fulfilled on ConfigMap "dup": the UID in the precondition ({wrong}) does '
                   f"not match the UID in record ({cm.metadata.uid}). The object might have been deleted and then "
                   "recreated",
        "reason": "Conflict", "details": {"name": "dup", "kind": "ConfigMap"}, "code": 409}


def test_delete_precondition_resource_version_mismatch_is_conflict(core, namespace):
    cm = core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dup")))
    with pytest.raises(ApiException) as e:
        core.delete_namespaced_config_map(
            "dup", namespace, body=client.V1DeleteOptions(preconditions=client.V1Preconditions(resource_version="1")))
    assert e.value.status == 409
    assert _status(e.value)["message"] == (
        'Operation cannot be fulfilled on ConfigMap "dup": the ResourceVersion in the precondition (1) does not '
        f"match the ResourceVersion in record ({cm.metadata.resource_version}). The object might have been modified")


def test_delete_with_matching_preconditions_succeeds(core, namespace):
    cm = core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dup")))
    out = core.delete_namespaced_config_map("dup", namespace, body=client.V1DeleteOptions(
        preconditions=client.V1Preconditions(uid=cm.metadata.uid, resource_version=cm.metadata.resource_version)))
    assert out["status"] == "Success"  # the client returns DELETE answers as plain dicts
    assert out["details"] == {"name": "dup", "kind": "configmaps", "uid": cm.metadata.uid}


def test_delete_missing_object_is_not_found(core, namespace):
    with pytest.raises(ApiException) as e:
        core.delete_namespaced_config_map("nope", namespace)
    assert e.value.status == 404
    assert _status(e.value)["message"] == 'configmaps "nope" not found'


# ---------------------------------------------------------------- namespaces


@pytest.fixture
def doomed(core) -> str:
    """A namespace the test deletes itself."""
    name = "doomed-" + uuid.uuid4().hex[:8]
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


def test_namespace_delete_answers_terminating_namespace(core, doomed):
    out = core.delete_namespace(doomed)  # a plain dict with this client
    assert out["kind"] == "Namespace"
    assert out["status"] == {"phase": "Terminating"}
    assert out["metadata"]["deletionTimestamp"]
    assert "deletionGracePeriodSeconds" not in out["metadata"]
    assert out["spec"] == {"finalizers": ["kubernetes"]}


def test_namespace_delete_removes_content_then_namespace(core, doomed, node):
    core.create_namespaced_config_map(doomed, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="a")))
    core.create_namespaced_pod(doomed, _pod("unbound"))
    core.create_namespaced_pod(doomed, _pod("bound", node))
    core.delete_namespace(doomed)
    # The bound pod is deleted gracefully and waits for its kubelet; force it as the kubelet would.
    assert _eventually(lambda: core.read_namespaced_pod("bound", doomed).metadata.deletion_timestamp is not None)
    core.delete_namespaced_pod("bound", doomed, grace_period_seconds=0)
    assert _eventually(_gone(lambda: core.read_namespace(doomed)))
    assert core.list_namespaced_config_map(doomed).items == []
    assert core.list_namespaced_pod(doomed).items == []


def test_create_in_terminating_namespace_is_forbidden(core, doomed):
    core.create_namespaced_config_map(doomed, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="held", finalizers=[HOLD])))
    core.delete_namespace(doomed)
    with pytest.raises(ApiException) as e:
        core.create_namespaced_config_map(doomed, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="late")))
    assert e.value.status == 403
    assert _status(e.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'configmaps "late" is forbidden: unable to create new content in namespace {doomed} because it '
                   "is being terminated",
        "reason": "Forbidden",
        "details": {"name": "late", "kind": "configmaps",
                    "causes": [{"reason": "NamespaceTerminating", "message": f"namespace {doomed} is being terminated",
                                "field": "metadata.namespace"}]},
        "code": 403}
    core.patch_namespaced_config_map("held", doomed, {"metadata": {"finalizers": None}})
    assert _eventually(_gone(lambda: core.read_namespace(doomed)))


def test_namespace_waits_for_finalized_content(core, doomed):
    core.create_namespaced_config_map(doomed, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="held", finalizers=[HOLD])))
    core.delete_namespace(doomed)
    time.sleep(0.3)
    assert core.read_namespace(doomed).status.phase == "Terminating"
    assert core.read_namespaced_config_map("held", doomed).metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", doomed, {"metadata": {"finalizers": None}})
    assert _eventually(_gone(lambda: core.read_namespace(doomed)))


def _conditions(core, name: str) -> dict[str, tuple[str, str, str]]:
    ns = core.read_namespace(name)
    return {c.type: (c.status, c.reason, c.message) for c in ns.status.conditions or ()}


def test_terminating_namespace_reports_finalizer_held_content(core, doomed):
    core.create_namespaced_config_map(doomed, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="held", finalizers=[HOLD])))
    core.delete_namespace(doomed)
    assert _eventually(lambda: "NamespaceFinalizersRemaining" in _conditions(core, doomed))
    conds = _conditions(core, doomed)
    assert list(conds) == ["NamespaceDeletionDiscoveryFailure", "NamespaceDeletionGroupVersionParsingFailure",
                           "NamespaceDeletionContentFailure", "NamespaceContentRemaining",
                           "NamespaceFinalizersRemaining"]
    assert conds["NamespaceContentRemaining"] == (
        "True", "SomeResourcesRemain", "Some resources are remaining: configmaps. has 1 resource instances")
    assert conds["NamespaceFinalizersRemaining"] == (
        "True", "SomeFinalizersRemain",
        f"Some content in the namespace has finalizers remaining: {HOLD} in 1 resource instances")
    assert conds["NamespaceDeletionContentFailure"][0] == "False"
    core.patch_namespaced_config_map("held", doomed, {"metadata": {"finalizers": None}})
    assert _eventually(_gone(lambda: core.read_namespace(doomed)))


def test_terminating_namespace_reports_pods_left_after_their_grace_period(core, doomed, node):
    core.create_namespaced_pod(doomed, _pod("stuck", node, grace=1))
    core.delete_namespace(doomed)
    # Inside the grace period (golden namespace-terminating, 6 s): nothing is reported as remaining.
    assert _eventually(lambda: "NamespaceContentRemaining" in _conditions(core, doomed))
    assert _conditions(core, doomed)["NamespaceContentRemaining"] == (
        "False", "ContentRemoved", "All content successfully removed")
    # Past it, with no kubelet to finish the pod: the content failure of the golden transcript.
    assert _eventually(lambda: _conditions(core, doomed)["NamespaceDeletionContentFailure"][0] == "True")
    assert _conditions(core, doomed)["NamespaceDeletionContentFailure"] == (
        "True", "ContentDeletionFailed",
        "Failed to delete all resource types, 1 remaining: unexpected items still remain in namespace: "
        f"{doomed} for gvr: /v1, Resource=pods")
    core.delete_namespaced_pod("stuck", doomed, grace_period_seconds=0)
    assert _eventually(_gone(lambda: core.read_namespace(doomed)))
