"""AZ-RESCHED on the package's own cluster: a zone is cordoned and its pods removed, as a drain would.

A hard zone spread without ``nodeTaintsPolicy: Honor`` still counts the cordoned zone as a domain,
so the replacements stay Pending (the design's negative control); with ``Honor`` they land elsewhere.
"""

from __future__ import annotations

import time

from kubernetes import client

from pytest_azchaos.checks.rescheduled import rescheduled
from pytest_azchaos.kube.topology import ZoneMap

from .conftest import echo_deployment, wait_ready, zone_spread

LOST = "us-east-1a"


def lose_zone(core: client.CoreV1Api, ns: str, app: str, cordon_zone) -> float:
    """Cordon the zone and delete the app's pods there (what a drain does); return when it began."""
    began = time.time()
    nodes = set(cordon_zone(LOST))
    for p in core.list_namespaced_pod(ns, label_selector=f"app={app}").items:
        if p.spec.node_name in nodes:
            core.delete_namespaced_pod(p.metadata.name, ns, grace_period_seconds=0)
    return began


def test_replicas_come_back_outside_the_lost_zone(own_core: client.CoreV1Api, own_apps: client.AppsV1Api,
                                                  own_ns: str, cordon_zone) -> None:
    own_apps.create_namespaced_deployment(own_ns, echo_deployment("back", 3, spread=zone_spread("back", True)))
    wait_ready(own_core, own_ns, "back", 3)
    began = lose_zone(own_core, own_ns, "back", cordon_zone)
    result = rescheduled(own_core, own_ns, "app=back", LOST, 3, timeout=15, since=began)
    assert result.passed, result.message()
    assert 0 < result.figures["time_to_recover_s"] < 15
    assert result.figures["ready_per_zone"] in ({"us-east-1b": 2, "us-east-1c": 1}, {"us-east-1b": 1, "us-east-1c": 2})
    assert result.summary.startswith(f"3/3 pods Ready outside {LOST} after ")


def test_spread_without_honor_stays_pending_with_the_scheduler_message(
        own_core: client.CoreV1Api, own_apps: client.AppsV1Api, own_ns: str, cordon_zone) -> None:
    own_apps.create_namespaced_deployment(own_ns, echo_deployment("stuck", 3, spread=zone_spread("stuck", False)))
    wait_ready(own_core, own_ns, "stuck", 3)
    began = lose_zone(own_core, own_ns, "stuck", cordon_zone)
    result = rescheduled(own_core, own_ns, "app=stuck", LOST, 3, timeout=3, zones=ZoneMap.read(own_core),
                         since=began)
    assert not result.passed
    msg = result.message()
    assert "AZ-RESCHED FAILED: only 2/3 pods Ready after 3." in msg
    assert "Ready per zone: us-east-1b: 1, us-east-1c: 1 (skew 0, max 1)" in msg
    assert "zones: us-east-1a: 2 node(s), 2 cordoned; us-east-1b: 2 node(s); us-east-1c: 2 node(s)" in msg
    pending = [line for line in result.evidence if " Pending: FailedScheduling: " in line]
    assert len(pending) == 1, msg
    assert pending[0].endswith(
        "0/6 nodes are available: 2 node(s) were unschedulable, 4 node(s) didn't match pod topology spread "
        "constraints. no new claims to deallocate, preemption: 0/6 nodes are available: 2 Preemption is not helpful "
        "for scheduling, 4 No preemption victims found for incoming pod.")
    assert any("FailedScheduling pod/stuck-" in line for line in result.evidence)  # the event itself
    assert result.figures["time_to_recover_s"] is None


def test_a_pod_left_in_the_lost_zone_fails(own_core: client.CoreV1Api, own_apps: client.AppsV1Api,
                                           own_ns: str) -> None:
    own_apps.create_namespaced_deployment(own_ns, echo_deployment("stay", 3))
    wait_ready(own_core, own_ns, "stay", 3)
    result = rescheduled(own_core, own_ns, "app=stay", LOST, 3, timeout=1)
    assert not result.passed
    assert f"1 pod(s) still in {LOST}" in result.summary
    assert any(line.startswith("pod in lost zone stay-") and f"({LOST}), Running, Ready" in line
               for line in result.evidence), result.message()
