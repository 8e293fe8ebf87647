"""Event recording: the old client-go recorder (count, aggregation) and the events.k8s.io/v1 recorder.

The recorders run in the cluster process; here they write into a real ``Store`` (the apiserver's
backend, no HTTP involved) and the results are read back as stored. The last test reads controller
events of the running embedded cluster through the official client.
"""

from __future__ import annotations

import re

import pytest

from pytest_azchaos.embedded.apiserver.resources import REGISTRY
from pytest_azchaos.embedded.apiserver.store import Store
from pytest_azchaos.embedded.controllers.events import EventRecorder, EventsV1Recorder


@pytest.fixture
def store() -> Store:
    s = Store()
    s.create(REGISTRY.lookup("", "v1", "namespaces"), "", {"metadata": {"name": "ns"}})
    return s


@pytest.fixture
def pod(store: Store) -> dict:
    return store.create(REGISTRY.lookup("", "v1", "pods"), "ns",
                        {"metadata": {"name": "web-1"}, "spec": {"containers": [{"name": "c", "image": "x"}]}})


def events(store: Store) -> list[dict]:
    return sorted(store.scan("events", "ns"), key=lambda e: e["metadata"]["name"])


def test_event_has_the_old_recorder_shape(store: Store, pod: dict) -> None:
    EventRecorder(store, "taint-eviction-controller").event(pod, "Normal", "TaintManagerEviction",
                                                            "Marking for deletion Pod ns/web-1")
    (ev,) = events(store)
    assert re.fullmatch(r"web-1\.[0-9a-f]{16}", ev["metadata"]["name"])
    assert ev["involvedObject"] == {"kind": "Pod", "namespace": "ns", "name": "web-1", "uid": pod["metadata"]["uid"],
                                    "apiVersion": "v1", "resourceVersion": pod["metadata"]["resourceVersion"]}
    assert ev["source"] == {"component": "taint-eviction-controller"}
    assert ev["count"] == 1
    assert ev["firstTimestamp"] == ev["lastTimestamp"] is not None
    assert ev["eventTime"] is None
    assert (ev["reportingComponent"], ev["reportingInstance"]) == ("taint-eviction-controller", "")


def test_same_event_twice_increments_count_on_one_object(store: Store, pod: dict) -> None:
    rec = EventRecorder(store, "node-controller")
    rec.event(pod, "Warning", "NodeNotReady", "Node is not ready")
    rec.event(pod, "Warning", "NodeNotReady", "Node is not ready")
    (ev,) = events(store)
    assert ev["count"] == 2


def test_different_message_is_a_new_object(store: Store, pod: dict) -> None:
    rec = EventRecorder(store, "node-controller")
    rec.event(pod, "Warning", "NodeNotReady", "Node is not ready")
    rec.event(pod, "Warning", "NodeNotReady", "Node is still not ready")
    assert [e["count"] for e in events(store)] == [1, 1]


def test_tenth_similar_message_is_combined(store: Store, pod: dict) -> None:
    rec = EventRecorder(store, "kubelet", "node-1")
    for i in range(12):
        rec.event(pod, "Warning", "BackOff", f"message {i}")
    msgs = [e["message"] for e in events(store)]
    combined = [m for m in msgs if m.startswith("(combined from similar events): ")]
    assert len(msgs) == 10
    assert combined == ["(combined from similar events): message 11"]
    (ev,) = [e for e in events(store) if e["message"] == combined[0]]
    assert ev["count"] == 3


def test_host_is_recorded_as_source_and_reporting_instance(store: Store, pod: dict) -> None:
    EventRecorder(store, "kubelet", "node-1").event(pod, "Normal", "Pulled", "pulled")
    (ev,) = events(store)
    assert ev["source"] == {"component": "kubelet", "host": "node-1"}
    assert ev["reportingInstance"] == "node-1"


def test_reference_without_uid_is_kept_as_given(store: Store) -> None:
    ref = {"kind": "Pod", "namespace": "ns", "name": "gone", "apiVersion": "v1"}
    EventRecorder(store, "taint-eviction-controller").event(ref, "Normal", "TaintManagerEviction",
                                                            "Cancelling deletion of Pod ns/gone")
    (ev,) = events(store)
    assert ev["involvedObject"] == ref


def test_cluster_scoped_object_events_go_to_default(store: Store) -> None:
    store.create(REGISTRY.lookup("", "v1", "namespaces"), "", {"metadata": {"name": "default"}})
    ref = {"kind": "Node", "name": "n1", "uid": "u1", "apiVersion": "v1"}
    EventRecorder(store, "node-controller").event(ref, "Normal", "NodeNotReady", "Node n1 status is now: NodeNotReady")
    (ev,) = list(store.scan("events", "default"))
    assert ev["involvedObject"] == ref


def test_events_v1_recorder_shape(store: Store, pod: dict) -> None:
    EventsV1Recorder(store, "default-scheduler", "default-scheduler-host").eventf(
        pod, None, "Normal", "Scheduled", "Binding", "Successfully assigned ns/web-1 to node-a1")
    (ev,) = events(store)
    assert re.fullmatch(r"web-1\.[0-9a-f]{16}", ev["metadata"]["name"])
    assert ev["source"] == {}
    assert ev["firstTimestamp"] is None and ev["lastTimestamp"] is None
    assert "count" not in ev
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", ev["eventTime"])
    assert (ev["action"], ev["reportingComponent"], ev["reportingInstance"]) == (
        "Binding", "default-scheduler", "default-scheduler-host")


def test_events_v1_repeat_becomes_a_series(store: Store, pod: dict) -> None:
    rec = EventsV1Recorder(store, "default-scheduler", "h")
    for _ in range(2):
        rec.eventf(pod, None, "Warning", "FailedScheduling", "Scheduling", "0/6 nodes are available")
    (ev,) = events(store)
    assert ev["series"]["count"] == 2


def test_events_v1_changed_object_version_is_a_new_event(store: Store, pod: dict) -> None:
    rec = EventsV1Recorder(store, "default-scheduler", "h")
    rec.eventf(pod, None, "Warning", "FailedScheduling", "Scheduling", "0/6 nodes are available")
    newer = dict(pod, metadata=dict(pod["metadata"], resourceVersion="999999"))
    rec.eventf(newer, None, "Warning", "FailedScheduling", "Scheduling", "0/6 nodes are available")
    assert [e.get("series") for e in events(store)] == [None, None]


def test_node_controller_registers_nodes_with_old_style_events(core) -> None:
    evs = core.list_namespaced_event("default", field_selector="reason=RegisteredNode").items
    nodes = {n.metadata.name for n in core.list_node().items}
    # Every node has its event; a node another test on this session cluster added and removed keeps its event
    # (events outlive their object, as upstream's one-hour TTL).
    assert nodes <= {e.involved_object.name for e in evs}
    for e in evs:
        assert e.source.component == "node-controller"
        assert e.count == 1
        name = e.involved_object.name
        assert e.message == f"Node {name} event: Registered Node {name} in Controller"
