"""AZ-EBS-DRAIN after a power-off or partition (``judge_stuck``) and the oracle comparison in EBS results."""

from __future__ import annotations

import datetime

from kubernetes import client

from pytest_azchaos.checks.ebs import _compared, judge_stuck, judge_waiting, pod_outcome
from pytest_azchaos.oracle import Fault, predict
from pytest_azchaos.timing import Profile

from ..oracle.builders import nodes, state
from ..oracle.builders import pod as raw_pod
from ..oracle.builders import pv as raw_pv
from ..oracle.builders import pvc as raw_pvc
from .test_ebs import NEW_WORDING, ZONES, pod, pvc

REMEDY = "taint it node.kubernetes.io/out-of-service"


def terminating(p: client.V1Pod) -> client.V1Pod:
    p.metadata.deletion_timestamp = datetime.datetime(2026, 12, 7, tzinfo=datetime.UTC)
    return p


def test_pod_terminating_on_its_unreachable_node_passes_and_names_the_remedy() -> None:
    result = judge_stuck(terminating(pod()), pvc(), ["pv-1"], "pv-1", "node-a1", "us-east-1a", ZONES,
                         expect_terminating=True, remedy=REMEDY)
    assert result.passed, result.message()
    assert "stays Terminating on its unreachable node node-a1" in result.summary and REMEDY in result.summary


def test_pod_not_yet_terminating_fails_when_its_eviction_was_due() -> None:
    result = judge_stuck(pod(), pvc(), ["pv-1"], "pv-1", "node-a1", "us-east-1a", ZONES, expect_terminating=True)
    assert not result.passed and "is not Terminating on node-a1" in result.summary


def test_pod_pending_after_a_power_off_fails_it_is_not_a_drain() -> None:
    result = judge_stuck(pod(node=None, ready=False), pvc(), ["pv-1"], "pv-1", "node-a1", "us-east-1a", ZONES,
                         expect_terminating=True)
    assert not result.passed
    assert "should stay on its unreachable node node-a1 (the node is tainted, not deleted)" in result.summary


def test_pod_outcome_names_what_became_of_the_pod() -> None:
    assert [pod_outcome(p, ZONES, "us-east-1a") for p in (None, pod(node=None), pod(node="node-b1"), pod(),
                                                          terminating(pod()))] == \
        ["gone", "pending", "moves", "stays", "terminating"]


def _sts_prediction(kind: str):  # the StatefulSet pod data-0 on n-a1 with its volume in zone a
    s = state(nodes(), [raw_pod("data-0", "n-a1", kind="StatefulSet", claim="data-data-0")],
              pvcs={"ns/data-data-0": raw_pvc("data-data-0", "pv-1")}, pvs={"pv-1": raw_pv("pv-1", "a")})
    return predict(s, Fault.of(kind, "a"), Profile.by_name("fast"))


def test_pending_as_predicted_after_a_drain_agrees() -> None:
    result = _compared(judge_waiting(pod(node=None, ready=False), pvc(), ["pv-1"], "pv-1", NEW_WORDING, ZONES),
                       _sts_prediction("drain"), "data-0")
    assert result.figures["agrees"] is True and result.summary.endswith("as the oracle predicted")


def test_pending_when_terminating_was_predicted_reads_unexpected() -> None:
    result = _compared(judge_waiting(pod(node=None, ready=False), pvc(), ["pv-1"], "pv-1", NEW_WORDING, ZONES),
                       _sts_prediction("power-off"), "data-0")
    assert result.figures["agrees"] is False
    assert "unexpected: the oracle predicted only 0/1 replica(s) Ready outside a" in result.summary
