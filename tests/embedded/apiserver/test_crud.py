"""CRUD semantics of the embedded API server through the official client: every served type,
object metadata (uid, generateName, timestamps, resourceVersion), conflicts and not-found texts,
generation, the status subresource, dry-run and the two views of Events."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError

Obj = dict[str, Any]


@pytest.fixture(scope="module")
def dyn(api_client) -> DynamicClient:
    return DynamicClient(api_client)


def _status(exc: ApiException) -> Obj:
    return json.loads(exc.body)


def _pod(name: str, **spec: Any) -> client.V1Pod:
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name),
                        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")],
                                              scheduler_name="no-such-scheduler", **spec))


def _deployment(name: str, replicas: int = 1) -> Obj:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


# ---------------------------------------------------------------- a smoke over every served type

_TEMPLATE = {"metadata": {"labels": {"app": "smoke"}},
             "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
_SELECTOR = {"matchLabels": {"app": "smoke"}}

# (apiVersion, kind, namespaced, body without apiVersion/kind/metadata.name)
SMOKE: list[tuple[str, str, bool, Obj]] = [
    ("v1", "ConfigMap", True, {"data": {"a": "1"}}),
    ("v1", "Secret", True, {"data": {"a": "MQ=="}}),
    ("v1", "ServiceAccount", True, {}),
    ("v1", "Service", True, {"spec": {"ports": [{"port": 80}], "selector": {"app": "smoke"}}}),
    ("v1", "Endpoints", True, {}),
    ("v1", "Pod", True, {"spec": {"schedulerName": "none", "containers": [{"name": "c", "image": "nginx"}]}}),
    ("v1", "PersistentVolumeClaim", True,
     {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
    ("v1", "PersistentVolume", False,
     {"spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/tmp/x"}}}),
    ("v1", "Event", True, {"involvedObject": {"kind": "Pod", "name": "p", "namespace": "{ns}"},
                           "reason": "Smoke", "message": "smoke", "type": "Normal"}),
    ("v1", "Node", False, {}),
    ("apps/v1", "Deployment", True, {"spec": {"replicas": 0, "selector": _SELECTOR, "template": _TEMPLATE}}),
    ("apps/v1", "ReplicaSet", True, {"spec": {"replicas": 0, "selector": _SELECTOR, "template": _TEMPLATE}}),
    ("apps/v1", "StatefulSet", True,
     {"spec": {"replicas": 0, "serviceName": "s", "selector": _SELECTOR, "template": _TEMPLATE}}),
    ("apps/v1", "DaemonSet", True, {"spec": {"selector": _SELECTOR, "template": _TEMPLATE}}),
    ("apps/v1", "ControllerRevision", True, {"revision": 1, "data": {}}),
    ("policy/v1", "PodDisruptionBudget", True, {"spec": {"minAvailable": 1, "selector": _SELECTOR}}),
    ("discovery.k8s.io/v1", "EndpointSlice", True, {"addressType": "IPv4", "endpoints": []}),
    ("storage.k8s.io/v1", "StorageClass", False, {"provisioner": "ebs.csi.aws.com"}),
    ("storage.k8s.io/v1", "CSIDriver", False, {"spec": {}}),
    ("storage.k8s.io/v1", "CSINode", False, {"spec": {"drivers": []}}),
    ("storage.k8s.io/v1", "VolumeAttachment", False,
     {"spec": {"attacher": "ebs.csi.aws.com", "nodeName": "n", "source": {"persistentVolumeName": "pv"}}}),
    ("coordination.k8s.io/v1", "Lease", True, {"spec": {"holderIdentity": "smoke"}}),
    ("events.k8s.io/v1", "Event", True,
     {"eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "smoke", "reportingInstance": "smoke-1",
      "action": "Smoke", "reason": "Smoke", "type": "Normal", "note": "smoke",
      "regarding": {"kind": "Pod", "name": "p", "namespace": "{ns}"}}),
]


def _smoke_body(api_version: str, kind: str, name: str, namespace: str, body: Obj) -> Obj:
    text = json.dumps(body).replace("{ns}", namespace)
    out = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, **json.loads(text)}
    return out


@pytest.mark.parametrize(("api_version", "kind", "namespaced", "body"), SMOKE,
                         ids=[f"{a}-{k}" for a, k, _, _ in SMOKE])
def test_create_get_list_replace_delete_round_trip(dyn, namespace, api_version, kind, namespaced, body):
    res = dyn.resources.get(api_version=api_version, kind=kind)
    name = "smoke-" + uuid.uuid4().hex[:8]
    ns = namespace if namespaced else None
    created = res.create(body=_smoke_body(api_version, kind, name, namespace, body), namespace=ns)
    assert (created.kind, created.apiVersion, created.metadata.name) == (kind, api_version, name)

    got = res.get(name=name, namespace=ns)
    assert got.metadata.uid == created.metadata.uid

    listed = res.get(namespace=ns)
    assert listed.kind == kind + "List"
    assert name in [i.metadata.name for i in listed.items]

    obj = got.to_dict()
    obj["metadata"].setdefault("labels", {})["step"] = "replaced"
    replaced = res.replace(body=obj, namespace=ns)
    assert replaced.metadata.labels["step"] == "replaced"
    assert int(replaced.metadata.resourceVersion) > int(got.metadata.resourceVersion)

    res.delete(name=name, namespace=ns)
    try:
        left = res.get(name=name, namespace=ns)
    except NotFoundError:
        return
    # Kinds with protection finalizers (PV, PVC) wait for their controller: clear it by hand.
    assert left.metadata.deletionTimestamp is not None
    res.patch(name=name, namespace=ns, body={"metadata": {"finalizers": None}},
              content_type="application/merge-patch+json")
    with pytest.raises(NotFoundError):
        res.get(name=name, namespace=ns)


# ---------------------------------------------------------------- object metadata


def test_create_assigns_uid_and_creation_timestamp(core, namespace):
    before = datetime.now(UTC).replace(microsecond=0)
    cm = core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x")))
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", cm.metadata.uid)
    assert before <= cm.metadata.creation_timestamp <= datetime.now(UTC)


def test_generate_name_appends_five_character_suffix(core, namespace):
    cm = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(generate_name="gen-")))
    assert re.fullmatch(r"gen-[bcdfghjklmnpqrstvwxz2456789]{5}", cm.metadata.name)
    assert cm.metadata.generate_name == "gen-"
    assert core.read_namespaced_config_map(cm.metadata.name, namespace).metadata.uid == cm.metadata.uid


def test_resource_version_increases_with_every_write(core, namespace):
    cm = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x"), data={"n": "0"}))
    seen = [int(cm.metadata.resource_version)]
    for i in range(1, 4):
        cm.data = {"n": str(i)}
        cm = core.replace_namespaced_config_map("x", namespace, cm)
        seen.append(int(cm.metadata.resource_version))
    other = core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="y")))
    seen.append(int(other.metadata.resource_version))
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    listed = core.list_namespaced_config_map(namespace)
    assert int(listed.metadata.resource_version) >= seen[-1]


def test_update_with_stale_resource_version_is_conflict(core, namespace):
    cm = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x"), data={"a": "1"}))
    cm.data = {"a": "2"}
    core.replace_namespaced_config_map("x", namespace, cm)
    cm.data = {"a": "3"}
    with pytest.raises(ApiException) as e:
        core.replace_namespaced_config_map("x", namespace, cm)
    assert e.value.status == 409
    assert _status(e.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'Operation cannot be fulfilled on configmaps "x": the object has been modified; please apply '
                   "your changes to the latest version and try again",
        "reason": "Conflict", "details": {"name": "x", "kind": "configmaps"}, "code": 409}


def test_create_duplicate_is_already_exists(core, namespace):
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dup")))
    with pytest.raises(ApiException) as e:
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dup")))
    assert e.value.status == 409
    body = _status(e.value)
    assert (body["reason"], body["message"]) == ("AlreadyExists", 'configmaps "dup" already exists')
    assert body["details"] == {"name": "dup", "kind": "configmaps"}


def test_get_missing_pod_is_not_found(core, namespace):
    with pytest.raises(ApiException) as e:
        core.read_namespaced_pod("x", namespace)
    assert e.value.status == 404
    body = _status(e.value)
    assert (body["reason"], body["message"]) == ("NotFound", 'pods "x" not found')
    assert body["details"] == {"name": "x", "kind": "pods"}


def test_get_missing_deployment_names_its_group(apps, namespace):
    with pytest.raises(ApiException) as e:
        apps.read_namespaced_deployment("x", namespace)
    assert e.value.status == 404
    body = _status(e.value)
    assert body["message"] == 'deployments.apps "x" not found'
    assert body["details"] == {"name": "x", "group": "apps", "kind": "deployments"}


def test_create_in_missing_namespace_is_namespace_not_found(core):
    with pytest.raises(ApiException) as e:
        core.create_namespaced_config_map("no-such-ns", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x")))
    assert e.value.status == 404
    body = _status(e.value)
    assert body["message"] == 'namespaces "no-such-ns" not found'
    assert body["details"] == {"name": "no-such-ns", "kind": "namespaces"}


def test_list_in_missing_namespace_is_empty(core):
    assert core.list_namespaced_config_map("no-such-ns").items == []


# ---------------------------------------------------------------- generation and status


def test_generation_bumps_on_spec_change_only(apps, namespace):
    d = apps.create_namespaced_deployment(namespace, _deployment("web"))
    assert d.metadata.generation == 1
    d = apps.patch_namespaced_deployment("web", namespace, {"metadata": {"labels": {"x": "y"}}})
    assert d.metadata.generation == 1
    d = apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 3}})
    assert d.metadata.generation == 2


def test_status_write_does_not_bump_generation(apps, namespace):
    apps.create_namespaced_deployment(namespace, _deployment("web"))
    d = apps.patch_namespaced_deployment_status("web", namespace, {"status": {"observedGeneration": 1}})
    assert d.metadata.generation == 1
    assert d.status.observed_generation == 1


def test_main_resource_update_ignores_status(core, namespace):
    core.create_namespaced_pod(namespace, _pod("p"))
    pod = core.read_namespaced_pod("p", namespace)
    pod.status.phase = "Running"
    pod.metadata.labels = {"changed": "yes"}
    out = core.replace_namespaced_pod("p", namespace, pod)
    assert out.metadata.labels == {"changed": "yes"}
    assert out.status.phase == "Pending"


def test_status_update_ignores_spec_and_labels(core, namespace):
    core.create_namespaced_pod(namespace, _pod("p"))
    pod = core.read_namespaced_pod("p", namespace)
    pod.status.phase = "Running"
    pod.spec.active_deadline_seconds = 30
    pod.metadata.labels = {"changed": "yes"}
    out = core.replace_namespaced_pod_status("p", namespace, pod)
    assert out.status.phase == "Running"
    assert out.spec.active_deadline_seconds is None
    assert out.metadata.labels is None


def test_dry_run_create_stores_nothing(core, namespace):
    out = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dry"), data={"a": "1"}), dry_run="All")
    assert out.metadata.name == "dry"
    assert out.metadata.uid
    assert out.metadata.resource_version is None
    names = [c.metadata.name for c in core.list_namespaced_config_map(namespace).items]
    assert "dry" not in names


# ---------------------------------------------------------------- events: one storage, two views


def test_core_event_is_visible_through_events_v1(core, api_client, namespace):
    core.create_namespaced_event(namespace, client.CoreV1Event(
        metadata=client.V1ObjectMeta(name="ev1"), event_time=datetime.now(UTC),
        involved_object=client.V1ObjectReference(kind="Pod", name="p", namespace=namespace),
        reason="Started", message="Started container c", type="Normal", count=1,
        reporting_component="kubelet", reporting_instance="node-1",
        source=client.V1EventSource(component="kubelet")))
    ev = client.EventsV1Api(api_client).read_namespaced_event("ev1", namespace)
    assert (ev.reason, ev.note, ev.type) == ("Started", "Started container c", "Normal")
    assert (ev.reporting_controller, ev.reporting_instance) == ("kubelet", "node-1")
    assert ev.regarding.name == "p"
    assert ev.deprecated_count == 1
    assert ev.deprecated_source.component == "kubelet"


def test_old_recorder_event_in_events_v1_has_null_event_time(core, api_url, namespace):
    """As recorded (golden wffc-pvc-no-provisioner): eventTime and the deprecated timestamps are null."""
    core.create_namespaced_event(namespace, client.CoreV1Event(
        metadata=client.V1ObjectMeta(name="old"),
        involved_object=client.V1ObjectReference(kind="PersistentVolumeClaim", name="data", namespace=namespace),
        reason="WaitForFirstConsumer", message="waiting", type="Normal"))
    body = requests.get(f"{api_url}/apis/events.k8s.io/v1/namespaces/{namespace}/events/old", timeout=10).json()
    assert {k: v for k, v in body.items() if k != "metadata"} == {
        "kind": "Event", "apiVersion": "events.k8s.io/v1", "eventTime": None, "reason": "WaitForFirstConsumer",
        "regarding": {"kind": "PersistentVolumeClaim", "namespace": namespace, "name": "data"},
        "note": "waiting", "type": "Normal", "deprecatedSource": {}, "deprecatedFirstTimestamp": None,
        "deprecatedLastTimestamp": None}
    core_view = requests.get(f"{api_url}/api/v1/namespaces/{namespace}/events/old", timeout=10).json()
    assert list(core_view)[3:] == ["involvedObject", "reason", "message", "source", "firstTimestamp",
                                   "lastTimestamp", "type", "eventTime", "reportingComponent", "reportingInstance"]


def test_events_v1_event_is_visible_through_core(core, api_client, namespace):
    client.EventsV1Api(api_client).create_namespaced_event(namespace, client.EventsV1Event(
        metadata=client.V1ObjectMeta(name="ev2"), event_time=datetime.now(UTC),
        reporting_controller="default-scheduler", reporting_instance="default-scheduler-x",
        action="Scheduling", reason="FailedScheduling", type="Warning", note="0/6 nodes are available",
        regarding=client.V1ObjectReference(kind="Pod", name="p", namespace=namespace)))
    ev = core.read_namespaced_event("ev2", namespace)
    assert (ev.reason, ev.message, ev.type, ev.action) == ("FailedScheduling", "0/6 nodes are available",
                                                           "Warning", "Scheduling")
    assert ev.reporting_component == "default-scheduler"
    assert ev.involved_object.name == "p"
    assert ev.count is None and ev.first_timestamp is None


def test_events_share_one_resource_version_sequence(core, api_client, namespace):
    events_v1 = client.EventsV1Api(api_client)
    core.create_namespaced_event(namespace, client.CoreV1Event(
        metadata=client.V1ObjectMeta(name="ev3"), event_time=datetime.now(UTC),
        involved_object=client.V1ObjectReference(kind="Pod", name="p", namespace=namespace), reason="R"))
    v1 = events_v1.read_namespaced_event("ev3", namespace)
    assert v1.metadata.resource_version == core.read_namespaced_event("ev3", namespace).metadata.resource_version
    events_v1.delete_namespaced_event("ev3", namespace)
    with pytest.raises(ApiException) as e:
        core.read_namespaced_event("ev3", namespace)
    assert e.value.status == 404
