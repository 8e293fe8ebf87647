"""The evidence helpers against real events of the embedded cluster, and label selector matching."""

from __future__ import annotations

import time

from kubernetes import client

from pytest_azchaos.checks.evidence import events_for, explaining, failed_scheduling, node_events, selector_matches
from pytest_azchaos.kube.topology import ZONE_LABEL

from ..embedded.waiting import wait_for
from .conftest import AGNHOST


def unschedulable_pod(core: client.CoreV1Api, namespace: str, name: str) -> None:
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(node_selector={ZONE_LABEL: "nowhere"},
                              containers=[client.V1Container(name="c", image=AGNHOST, args=["pause"])])))


def test_events_for_names_filters_by_object_and_reason(core: client.CoreV1Api, namespace: str) -> None:
    unschedulable_pod(core, namespace, "lost-a")
    unschedulable_pod(core, namespace, "lost-b")
    wait_for(lambda: failed_scheduling(core, namespace, ["lost-a", "lost-b"]), lambda m: len(m) == 2,
             what="FailedScheduling for both")
    only_a = events_for(core, namespace, ["lost-a"], reasons=["FailedScheduling"])
    assert {(e.kind, e.name, e.type) for e in only_a} == {("Pod", "lost-a", "Warning")}
    line = only_a[0].describe()
    assert "Warning FailedScheduling pod/lost-a [default-scheduler]: 0/6 nodes are available: 6 node(s) didn't " \
           "match Pod's node affinity/selector." in line
    assert explaining(only_a) == only_a


def test_events_before_since_are_dropped(core: client.CoreV1Api, namespace: str) -> None:
    unschedulable_pod(core, namespace, "old")
    wait_for(lambda: failed_scheduling(core, namespace, ["old"]), bool, what="FailedScheduling")
    assert events_for(core, namespace, since=time.time() - 60)
    assert events_for(core, namespace, since=time.time() + 5) == []


def test_node_events_come_from_the_default_namespace(core: client.CoreV1Api) -> None:
    node = core.list_node().items[0].metadata.name
    events = node_events(core, [node])
    assert events and all(e.kind == "Node" and e.name == node for e in events)
    assert "RegisteredNode" in {e.reason for e in events}


def test_selector_matching_follows_label_selector_semantics() -> None:
    labels = {"app": "echo", "tier": "web"}
    assert selector_matches(client.V1LabelSelector(match_labels={"app": "echo"}), labels)
    assert not selector_matches(client.V1LabelSelector(match_labels={"app": "other"}), labels)
    expr = client.V1LabelSelectorRequirement
    assert selector_matches(client.V1LabelSelector(match_expressions=[expr(key="tier", operator="In",
                                                                          values=["web", "api"])]), labels)
    assert not selector_matches(client.V1LabelSelector(match_expressions=[expr(key="tier", operator="NotIn",
                                                                              values=["web"])]), labels)
    assert selector_matches(client.V1LabelSelector(match_expressions=[expr(key="gone", operator="DoesNotExist")]),
                            labels)
    assert not selector_matches(client.V1LabelSelector(match_expressions=[expr(key="gone", operator="Exists")]),
                                labels)
    assert selector_matches(client.V1LabelSelector(), labels)  # empty selects everything
    assert not selector_matches(None, labels)  # no selector selects nothing
