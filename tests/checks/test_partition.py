"""AZ-PARTITION's judgements on constructed data, and its negative control on the embedded cluster: a one-zone
app under a zone partition fails, showing the failure window."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pytest_azchaos.apps import EchoSpec
from pytest_azchaos.checks import CheckFailed
from pytest_azchaos.checks.partition import HeldPod, WriterWatch, judge_held, serves_through
from pytest_azchaos.checks.rescheduled import rescheduled
from pytest_azchaos.traffic.window import fault_window, settle

from ..docs.capture import capture_failure
from .records import failed, recording

NODE = "ip-10-0-1-1"


def _failing_between(start: float, end: float):
    return lambda i, due: failed("timeout", "TimeoutError") if start <= due < end else {}


def test_serves_through_passes_when_failures_stop_inside_the_detection_window() -> None:
    rec = recording(200, rate=10.0, shape=_failing_between(5.0, 8.0))
    result = serves_through(rec, fault_start=5.0, detection_window=4.0)
    assert result.passed, result.message()
    assert result.figures["failed_after_window"] == 0 and result.figures["failed_requests"] == 30


def test_serves_through_fails_naming_the_failure_window_when_failures_outlast_it() -> None:
    rec = recording(300, rate=10.0, shape=_failing_between(5.0, 20.0))
    result = serves_through(rec, fault_start=5.0, detection_window=4.0)
    assert not result.passed
    assert "110 of 210 requests failed after the 4.0s detection window" in result.summary
    assert any(line.startswith("failure window t=5.000s..") for line in result.evidence), result.evidence


def test_serves_through_without_traffic_after_the_window_is_not_a_pass() -> None:
    result = serves_through(recording(50, rate=10.0), fault_start=4.0, detection_window=4.0)
    assert not result.passed and "nothing to judge" in result.summary


def _pod(name: str, uid: str, node: str, deleting: bool) -> SimpleNamespace:
    return SimpleNamespace(metadata=SimpleNamespace(name=name, uid=uid, deletion_timestamp="t" if deleting else None),
                           spec=SimpleNamespace(node_name=node))


HELD = [HeldPod("store-0", "u0", NODE, ("data-store-0",), ("pv-0",))]


def test_held_stateful_pod_terminating_on_its_node_with_its_volume_passes() -> None:
    result = judge_held(HELD, {"store-0": _pod("store-0", "u0", NODE, True)}, {"pv-0": {NODE}})
    assert result.passed, result.message()


def test_held_stateful_pod_replaced_elsewhere_fails_naming_the_new_pod() -> None:
    result = judge_held(HELD, {"store-0": _pod("store-0", "u1", "ip-10-0-2-1", False)}, {"pv-0": {NODE}})
    assert not result.passed and "replaced by a new pod (uid u1) on ip-10-0-2-1" in result.message()


def test_held_stateful_pod_whose_volume_left_the_node_fails() -> None:
    result = judge_held(HELD, {"store-0": _pod("store-0", "u0", NODE, True)}, {"pv-0": set()})
    assert not result.passed and "volume pv-0 attached to no node, expected" in result.message()


def test_writer_watch_reports_a_volume_attached_to_two_nodes() -> None:
    watch = WriterWatch(core=None, namespace="x")
    watch.samples = 3
    watch.violations.append("t=1.0s volume pv-0 attached to 2 nodes: ['a', 'b']")
    result = watch.judge()
    assert not result.passed and "attached to 2 nodes" in result.message()


def test_writer_watch_without_samples_is_inconclusive() -> None:
    result = WriterWatch(core=None, namespace="x").judge()
    assert result.verdict == "inconclusive"


@pytest.mark.azchaos_destructive
def test_one_zone_app_under_partition_fails_az_partition_showing_the_failure_window(
        azchaos_cluster, azchaos_deploy, azchaos_traffic, azchaos_chaos, azchaos_zones, azchaos_aws, azchaos_profile,
        azchaos_predict, azchaos_run, azchaos_check):
    zone = azchaos_zones.zones()[0]
    app = azchaos_deploy(EchoSpec(replicas=2, spread="one-zone", pinned_zone=zone, pdb_max_unavailable=None))
    detection = azchaos_profile.partition_detection_window(False)
    predicted = azchaos_predict(app, "partition", zone)
    assert not predicted.recovers, predicted.summary
    prober = azchaos_traffic.start(app)
    settle(1)
    with fault_window(prober) as window:
        azchaos_chaos.zone_partition(zone, aws=azchaos_aws)
    settle(detection + 3)
    recording_ = prober.stop()
    assert window[0] is not None
    with pytest.raises(CheckFailed, match=r"AZ-PARTITION FAILED: \d+ of \d+ requests failed after the") as failed_:
        azchaos_check(serves_through(recording_, window[0], detection, core=azchaos_cluster.core,
                                     namespace=app.namespace))
    assert "failure window t=" in str(failed_.value)
    capture_failure("AZ-PARTITION", failed_.value)
    # The replacements have nowhere to go, as the oracle said before the fault.
    stranded = rescheduled(azchaos_cluster.core, app.namespace, app.label_selector, zone, 2,
                           timeout=azchaos_profile.taint_eviction_after(app.spec.node_loss_toleration) + 2,
                           zones=azchaos_zones, progress=azchaos_run.progress, check_id="AZ-PARTITION",
                           predicted=predicted)
    with pytest.raises(CheckFailed, match=r"AZ-PARTITION FAILED: only 0/2 pods Ready.*expected because"):
        azchaos_check(stranded)
    assert stranded.figures.get("agrees"), stranded.figures
