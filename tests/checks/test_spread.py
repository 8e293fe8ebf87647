"""AZ-TOPO against the embedded cluster: a spread Deployment passes, one pinned to a zone fails."""

from __future__ import annotations

from kubernetes import client

from pytest_azchaos.checks.spread import spread
from pytest_azchaos.kube.topology import ZONE_LABEL, ZoneMap

from ..embedded.waiting import wait_for
from .conftest import echo_deployment, wait_ready


def test_spread_deployment_passes(core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str) -> None:
    apps.create_namespaced_deployment(namespace, echo_deployment("spread", 6))
    wait_ready(core, namespace, "spread", 6)
    result = spread(core, namespace, "app=spread")
    assert result.passed, result.message()
    assert result.figures["per_zone"] == {"us-east-1a": 2, "us-east-1b": 2, "us-east-1c": 2}


def test_all_replicas_in_one_zone_fail_with_per_zone_counts(core: client.CoreV1Api, apps: client.AppsV1Api,
                                                              namespace: str) -> None:
    apps.create_namespaced_deployment(namespace, echo_deployment("pinned", 3, node_selector={
        ZONE_LABEL: "us-east-1b"}))
    wait_ready(core, namespace, "pinned", 3)
    result = spread(core, namespace, "app=pinned")
    assert not result.passed
    msg = result.message()
    assert "AZ-TOPO FAILED: zone skew 3 > 1" in msg
    assert "pods per zone: us-east-1a: 0, us-east-1b: 3, us-east-1c: 0 (skew 3, max 1)" in msg
    assert "us-east-1a: no pods" in msg
    assert "zones: us-east-1a: 2 node(s); us-east-1b: 2 node(s); us-east-1c: 2 node(s)" in msg


def test_pending_pods_are_listed_with_the_scheduler_message(core: client.CoreV1Api, apps: client.AppsV1Api,
                                                            namespace: str) -> None:
    apps.create_namespaced_deployment(namespace, echo_deployment("nowhere", 2, node_selector={
        ZONE_LABEL: "us-east-1z"}))
    wait_for(lambda: [e for e in core.list_namespaced_event(namespace).items if e.reason == "FailedScheduling"],
             lambda evs: len({e.involved_object.name for e in evs}) == 2, what="FailedScheduling for both pods")
    result = spread(core, namespace, "app=nowhere")
    assert not result.passed
    assert result.summary == "2 of 2 pod(s) not scheduled"
    pending = [line for line in result.evidence if " Pending: FailedScheduling: " in line]
    assert len(pending) == 2
    assert pending[0].endswith(
        "0/6 nodes are available: 6 node(s) didn't match Pod's node affinity/selector. no new claims to deallocate, "
        "preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling.")


def test_too_few_zones_fail(core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str) -> None:
    apps.create_namespaced_deployment(namespace, echo_deployment("few", 3))
    wait_ready(core, namespace, "few", 3)
    result = spread(core, namespace, "app=few", min_zones=4)
    assert not result.passed
    assert "only 3 zone(s) with Ready schedulable nodes, need 4" in result.summary
    assert ZoneMap.read(core).zones() == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_no_pods_fail(core: client.CoreV1Api, namespace: str) -> None:
    result = spread(core, namespace, "app=absent")
    assert not result.passed
    assert f"no pods match app=absent in {namespace}" in result.summary
