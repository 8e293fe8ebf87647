"""AZ-CORDON on the package's own cluster: pods created after a zone is cordoned avoid it."""

from __future__ import annotations

import time

from kubernetes import client

from pytest_azchaos.checks.cordon import new_pods_avoid
from pytest_azchaos.kube.topology import ZONE_LABEL

from ..docs.capture import capture_failure
from ..embedded.waiting import wait_for
from .conftest import echo_deployment

ZONE = "us-east-1a"
TOLERATE_CORDON = [client.V1Toleration(key="node.kubernetes.io/unschedulable", operator="Exists",
                                       effect="NoSchedule")]


def test_new_pods_avoid_the_cordoned_zone(own_core: client.CoreV1Api, own_apps: client.AppsV1Api, own_ns: str,
                                          cordon_zone) -> None:
    cordon_zone(ZONE)
    since = time.time()
    own_apps.create_namespaced_deployment(own_ns, echo_deployment("avoid", 4))
    result = new_pods_avoid(own_core, own_ns, "app=avoid", ZONE, since, timeout=10)
    assert result.passed, result.message()
    assert result.figures == {"new_pods": 4, "in_cordoned_zone": 0, "elsewhere": 4, "pending": 0}
    assert result.summary == f"all 4 placed new pod(s) avoided {ZONE}"


def test_pods_tolerating_the_cordon_land_in_the_zone_and_fail(own_core: client.CoreV1Api, own_apps: client.AppsV1Api,
                                                              own_ns: str, cordon_zone) -> None:
    nodes = cordon_zone(ZONE)
    since = time.time()
    own_apps.create_namespaced_deployment(own_ns, echo_deployment(
        "intrude", 2, node_selector={ZONE_LABEL: ZONE}, tolerations=TOLERATE_CORDON))
    result = new_pods_avoid(own_core, own_ns, "app=intrude", ZONE, since, timeout=10)
    assert not result.passed
    msg = result.message()
    assert f"AZ-CORDON FAILED: 2 of 2 pods created since the cordon were placed in {ZONE}; nodes " in msg
    assert "were cordoned when the zone map was read" in msg
    intruders = [line for line in result.evidence if line.startswith("new pod in cordoned zone intrude-")]
    assert len(intruders) == 2
    assert all(any(n in line for n in nodes) and f"({ZONE})" in line for line in intruders)
    capture_failure("AZ-CORDON", result)


def test_pending_new_pods_are_listed_with_their_failed_scheduling(own_core: client.CoreV1Api,
                                                                  own_apps: client.AppsV1Api, own_ns: str,
                                                                  cordon_zone) -> None:
    cordon_zone(ZONE)
    since = time.time()
    own_apps.create_namespaced_deployment(own_ns, echo_deployment("waiting", 1, node_selector={ZONE_LABEL: ZONE}))
    wait_for(lambda: [e for e in own_core.list_namespaced_event(own_ns).items if e.reason == "FailedScheduling"],
             bool, what="FailedScheduling")
    result = new_pods_avoid(own_core, own_ns, "app=waiting", ZONE, since)
    assert not result.passed
    assert result.summary == "only 0 new pod(s) of app=waiting were placed since the cordon (need 1); 1 Pending"
    pending = [line for line in result.evidence if " Pending: FailedScheduling: " in line]
    assert pending[0].endswith(
        "0/6 nodes are available: 2 node(s) were unschedulable, 4 node(s) didn't match Pod's node affinity/selector. "
        "no new claims to deallocate, preemption: 0/6 nodes are available: 6 Preemption is not helpful for "
        "scheduling.")


def test_pods_created_before_the_cordon_are_not_judged(own_core: client.CoreV1Api, own_apps: client.AppsV1Api,
                                                       own_ns: str, cordon_zone) -> None:
    own_apps.create_namespaced_deployment(own_ns, echo_deployment("old", 3))
    wait_for(lambda: own_core.list_namespaced_pod(own_ns, label_selector="app=old").items,
             lambda ps: len(ps) == 3 and all(p.spec.node_name for p in ps), what="3 old pods scheduled")
    time.sleep(1.1)  # creationTimestamp has second precision
    cordon_zone(ZONE)
    result = new_pods_avoid(own_core, own_ns, "app=old", ZONE, time.time())
    assert not result.passed
    assert result.figures["new_pods"] == 0
