"""zero_downtime over constructed recordings, and with real events from the embedded cluster."""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from pytest_azchaos.checks import CheckFailed, require
from pytest_azchaos.checks.downtime import zero_downtime

from ..docs.capture import capture_failure
from ..embedded.waiting import wait_for
from .conftest import AGNHOST
from .records import failed, recording

ZONES = {"echo-0": "us-east-1a", "echo-1": "us-east-1b", "echo-2": "us-east-1c"}


def outage(seq: int, due: float) -> dict[str, object]:
    """Requests due in 2.0..2.5 s are reset, 2.5..3.0 s time out; echo-0 serves nothing after 2 s."""
    if 2.0 <= due < 2.5:
        return failed("reset")
    if 2.5 <= due < 3.0:
        return failed("timeout", "TimeoutError: ")
    if due >= 2.0 and seq % 3 == 0:
        return {"pod": "echo-1"}
    return {}


def test_clean_recording_passes() -> None:
    result = zero_downtime(recording(100))
    assert result.passed, result.message()
    assert result.figures["failed_requests"] == 0
    assert result.figures["requests"] == 100


def test_failure_window_is_named_with_duration_and_error_classes() -> None:
    result = zero_downtime(recording(50, shape=outage), pod_zones=ZONES)
    assert not result.passed
    msg = result.message()
    assert msg.startswith("AZ-DRAIN FAILED: 10 of 50 requests failed")
    assert "failure window t=2.000s..2.902s (0.902s): 10 failed (5 reset, 5 timeout)" in msg
    assert ("failed request #20 t=2.000s -> 127.200.0.1:80: reset after 2ms: ConnectionResetError: [Errno 104] "
            "Connection reset by peer") in msg
    assert "served per zone overall:" in msg


def test_shares_before_and_during_show_where_traffic_went() -> None:
    result = zero_downtime(recording(50, shape=outage), during=(2.0, None), pod_zones=ZONES)
    msg = result.message()
    assert "served per pod before: echo-0 7 (35%), echo-1 7 (35%), echo-2 6 (30%)" in msg
    assert "served per pod during: echo-1 14 (70%), echo-2 6 (30%)" in msg
    assert "served per zone during: us-east-1b 14 (70%), us-east-1c 6 (30%)" in msg


def test_failures_outside_the_window_do_not_count() -> None:
    result = zero_downtime(recording(50, shape=outage), during=(3.0, 5.0))
    assert result.passed, result.message()
    assert result.figures["requests"] == 20


def test_budget_fraction_allows_a_few_failures() -> None:
    assert zero_downtime(recording(50, shape=outage), budget=0.2).passed
    result = zero_downtime(recording(50, shape=outage), budget=0.1)
    assert not result.passed
    assert "allowed 5 (10.00%)" in result.summary


def test_max_failed_is_an_absolute_budget() -> None:
    assert zero_downtime(recording(50, shape=outage), max_failed=10).passed
    result = zero_downtime(recording(50, shape=outage), max_failed=9, check_id="AZ-PODKILL")
    assert not result.passed
    assert result.summary.endswith("allowed max 9")
    assert result.message().startswith("AZ-PODKILL FAILED")


def test_only_the_first_failed_requests_are_listed_in_full() -> None:
    result = zero_downtime(recording(50, shape=outage), show_failed=3)
    assert sum(line.startswith("failed request") for line in result.evidence) == 3
    assert "... and 7 more failed request(s)" in result.evidence


def test_an_empty_recording_fails_rather_than_passing_vacuously() -> None:
    result = zero_downtime(recording(0))
    assert not result.passed
    assert "no requests were sent" in result.summary


def test_require_raises_with_the_evidence() -> None:
    with pytest.raises(CheckFailed, match=r"failure window t=2\.000s"):
        require(zero_downtime(recording(50, shape=outage)))


def test_failure_message_carries_the_events_that_explain_it(core: client.CoreV1Api, namespace: str) -> None:
    """A real pod is killed in the embedded cluster; its Killing event shows up next to the failure window."""
    start = time.time() - 1
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="victim"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image=AGNHOST, args=["pause"])])))
    wait_for(lambda: core.read_namespaced_pod("victim", namespace), lambda p: p.status.phase == "Running",
             what="victim Running")
    core.delete_namespaced_pod("victim", namespace, grace_period_seconds=1)
    wait_for(lambda: [e for e in core.list_namespaced_event(namespace).items if e.reason == "Killing"], bool,
             what="Killing event")
    result = zero_downtime(recording(50, wall_start=start, shape=outage), core=core, namespace=namespace)
    assert not result.passed
    killing = [line for line in result.evidence if "Killing pod/victim" in line]
    assert killing, result.message()
    assert killing[0].endswith("Stopping container c")
    assert not any("Scheduled" in line for line in result.evidence)  # only explaining events


def test_events_before_the_recording_are_left_out(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="earlier"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="registry.invalid/nope:1")])))
    wait_for(lambda: [e for e in core.list_namespaced_event(namespace).items if e.type == "Warning"], bool,
             what="a Warning event")
    result = zero_downtime(recording(50, wall_start=time.time() + 5, shape=outage), core=core, namespace=namespace)
    assert not any("earlier" in line for line in result.evidence), result.message()
    assert f"no explaining events in namespace {namespace} since the window began" in result.evidence


def test_killing_the_only_replica_under_real_traffic_fails_with_window_and_events(
        core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str) -> None:
    """The one-replica negative control through the embedded NLB: the kill shows as a window plus its events."""
    from pytest_azchaos.traffic import Prober, ProbeTarget

    from .conftest import lb_app

    addresses = lb_app(core, apps, namespace, "one", 1)
    time.sleep(1.5)
    prober = Prober(ProbeTarget(addresses, 8080), rate=100).start()
    time.sleep(0.5)
    fault = prober.elapsed()
    victim = core.list_namespaced_pod(namespace, label_selector="app=one").items[0].metadata.name
    core.delete_namespaced_pod(victim, namespace, grace_period_seconds=1)
    wait_for(lambda: core.list_namespaced_pod(namespace, label_selector="app=one").items,
             lambda ps: any(p.metadata.name != victim and any(c.type == "Ready" and c.status == "True"
                                                              for c in p.status.conditions or []) for p in ps),
             timeout=20, what="replacement Ready")
    time.sleep(1.0)
    rec = prober.stop()
    result = zero_downtime(rec, during=(fault, None), core=core, namespace=namespace, check_id="AZ-PODKILL")
    assert not result.passed
    msg = result.message()
    assert result.figures["failed_requests"] > 0
    assert "failure window t=" in msg
    assert f"served per pod before: {victim} " in msg
    assert f"Normal Killing pod/{victim} [kubelet]: Stopping container echo" in msg, msg
    assert "Normal SuccessfulCreate replicaset/one-" in msg  # the replacement asked for
    capture_failure("AZ-PODKILL", result)
