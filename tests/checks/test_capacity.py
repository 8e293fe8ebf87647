"""AZ-CAPACITY's judgement over constructed observations (pods, new nodes, the provisioners' events verbatim)."""

from __future__ import annotations

from datetime import UTC, datetime

from pytest_azchaos.aws.asg import AutoScalingGroup
from pytest_azchaos.checks.capacity import (
    CapacityObservation,
    NewNode,
    PodState,
    could_not_help,
    judge_capacity,
    no_headroom,
)
from pytest_azchaos.checks.evidence import EventView
from pytest_azchaos.provisioners.detect import Provisioner, classify

ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
LOST = "us-east-1a"
SCHEDULER = ("0/6 nodes are available: 2 node(s) were unschedulable, 4 Insufficient cpu. no new claims to deallocate, "
             "preemption: 0/6 nodes are available: 2 Preemption is not helpful for scheduling, 4 No preemption victims "
             "found for incoming pod.")
KARPENTER_LIMITS = ('Failed to schedule pod, incompatible with nodepool "default", daemonset overhead={"pods":"0"}, '
                    "no instance type met the scheduling requirements or had enough resources or had a required "
                    "offering")
KARPENTER_ZONE = ('Failed to schedule pod, incompatible with nodepool "default", daemonset overhead={"pods":"0"}, '
                  "incompatible requirements, key topology.kubernetes.io/zone, topology.kubernetes.io/zone In "
                  "[us-east-1b us-east-1c] not in topology.kubernetes.io/zone In [us-east-1a]; incompatible with "
                  'nodepool "spot", daemonset overhead={"cpu":"100m","pods":"1"}, did not tolerate '
                  "spot=true:NoSchedule")
VOLUME_CONFLICT = ("0/7 nodes are available: 2 node(s) were unschedulable, 5 node(s) didn't match PersistentVolume's "
                   "node affinity. no new claims to deallocate, preemption: 0/7 nodes are available: 7 Preemption is "
                   "not helpful for scheduling.")


def event(reason: str, message: str, name: str = "echo-x", kind: str = "Pod", source: str = "karpenter",
          etype: str = "Warning") -> EventView:
    return EventView(datetime(2026, 12, 7, 11, 0, tzinfo=UTC), etype, reason, kind, name, "ns", message, 1, source)


def running(name: str, zone: str, node: str | None = None, volume: str | None = None, ready: bool = True) -> PodState:
    return PodState(name, node or f"node-{zone[-1]}", zone, ready, "Running", (volume,) if volume else ())


def pending(name: str, volume: str | None = None, message: str = SCHEDULER) -> PodState:
    return PodState(name, None, None, False, "Pending", (volume,) if volume else (), message)


def obs(pods: list[PodState], seen: list[str], new: list[NewNode] | None = None, events: list[EventView] | None = None,
        provisioner: str = "karpenter", expected: int | None = None, read_error: str = "") -> CapacityObservation:
    return CapacityObservation(provisioner, LOST, ZONES, len(pods) if expected is None else expected, tuple(pods),
                               tuple(seen), tuple(new or ()), tuple(events or ()), waited_s=12.0, budget_s=60.0,
                               elapsed_s=None if read_error else 9.5, read_error=read_error)


def test_pending_pods_ready_on_new_nodes_in_surviving_zones_pass() -> None:
    new = [NewNode("ip-10-0-9-1", "us-east-1b", "NodePool default", True)]
    result = judge_capacity(obs([running("echo-1", "us-east-1b"), running("echo-x", "us-east-1b", "ip-10-0-9-1")],
                                ["echo-x"], new))
    assert result.passed, result.message()
    assert "1 Pending pod(s) Ready where they can run" in result.summary and "us-east-1b: 1" in result.summary


def test_a_pod_still_pending_fails_naming_the_nodepool_and_karpenters_reason() -> None:
    result = judge_capacity(obs([running("echo-1", "us-east-1b"), pending("echo-x")], ["echo-x"],
                                events=[event("FailedScheduling", KARPENTER_LIMITS)]))
    assert not result.passed and not result.inconclusive
    assert "pod echo-x still Pending" in result.summary
    text = result.message()
    assert "NodePool default could not help pod echo-x: no instance type met" in text, text
    assert f"FailedScheduling: {SCHEDULER}" in text, text
    assert "no new node joined the cluster" in text, text


def test_every_nodepool_in_karpenters_message_is_named_with_its_own_reason() -> None:
    lines = could_not_help(obs([pending("echo-x")], ["echo-x"], events=[event("FailedScheduling", KARPENTER_ZONE)]),
                           ["echo-x"])
    assert lines == [
        "NodePool default could not help pod echo-x: incompatible requirements, key topology.kubernetes.io/zone, "
        "topology.kubernetes.io/zone In [us-east-1b us-east-1c] not in topology.kubernetes.io/zone In [us-east-1a]",
        "NodePool spot could not help pod echo-x: did not tolerate spot=true:NoSchedule"], lines


def test_upstream_limits_wording_names_the_nodepool() -> None:
    message = 'all available instance types exceed limits for nodepool: "default"'
    lines = could_not_help(obs([pending("echo-x")], ["echo-x"], events=[event("FailedScheduling", message)]),
                           ["echo-x"])
    assert lines == [f"NodePool default could not help pod echo-x: {message}"], lines


def test_a_new_node_in_the_zone_taken_away_fails_naming_the_refill() -> None:
    new = [NewNode("ip-10-0-9-1", LOST, "NodePool default", True)]
    result = judge_capacity(obs([running("echo-x", LOST, "ip-10-0-9-1")], ["echo-x"], new))
    assert not result.passed
    assert f"pod echo-x runs on ip-10-0-9-1 in {LOST}, the zone taken away" in result.summary, result.summary
    assert f"NodePool default launched ip-10-0-9-1 into {LOST}" in result.message()


def test_a_stateful_pod_back_in_its_volume_zone_on_a_new_node_passes() -> None:
    new = [NewNode("ip-10-0-9-1", LOST, "node group ng-us-east-1a", True)]
    result = judge_capacity(obs([running("store-0", LOST, "ip-10-0-9-1", volume=LOST),
                                 running("store-1", "us-east-1b", volume="us-east-1b")], ["store-0"], new,
                                provisioner="node-groups"))
    assert result.passed, result.message()


def test_regional_group_node_in_another_zone_fails_naming_the_group_and_the_volume_zone() -> None:
    new = [NewNode("ip-10-0-9-1", "us-east-1c", "node group ng-regional", True)]
    events = [event("TriggeredScaleUp", "pod triggered scale-up: [{eks-ng-regional-1234 3->4 (max: 9)}]",
                    "store-0", source="cluster-autoscaler", etype="Normal"),
              event("FailedScheduling", SCHEDULER, "store-0", source="default-scheduler"),
              event("TriggeredScaleUp", "pod triggered scale-up: [{eks-ng-regional-1234 4->5 (max: 9)}]",
                    "store-0", source="cluster-autoscaler", etype="Normal"),
              event("FailedScheduling", VOLUME_CONFLICT, "store-0", source="default-scheduler")]
    result = judge_capacity(obs([pending("store-0", volume=LOST, message=VOLUME_CONFLICT)], ["store-0"], new, events,
                                provisioner="node-groups"))
    assert not result.passed
    assert f"pod store-0 still Pending (its volume is in {LOST})" in result.summary, result.summary
    text = result.message()
    assert ("node group eks-ng-regional-1234 could not help pod store-0: it scaled 3->4, 4->5 (max 9) but its new "
            f"node(s) ip-10-0-9-1 landed in us-east-1c; pod store-0's volume is in {LOST}") in result.summary, text
    assert SCHEDULER not in text, "only the scheduler's latest verdict is shown"
    assert "new node ip-10-0-9-1 in us-east-1c (Ready) from node group ng-regional" in text, text
    assert f"FailedScheduling: {VOLUME_CONFLICT}" in text, text


def test_autoscaler_refusal_is_quoted() -> None:
    message = "pod didn't trigger scale-up: 3 max node group size reached"
    result = judge_capacity(obs([pending("echo-x")], ["echo-x"], provisioner="node-groups",
                                events=[event("NotTriggerScaleUp", message, source="cluster-autoscaler",
                                              etype="Normal")]))
    assert f"the Cluster Autoscaler scaled up no node group for pod echo-x: {message}" in result.message()


def test_workload_short_of_replicas_fails_even_when_seen_pods_run() -> None:
    result = judge_capacity(obs([running("echo-x", "us-east-1b")], ["echo-x"], expected=2))
    assert not result.passed and "only 1/2 pods Ready where they can run" in result.summary


def test_nothing_pending_cannot_pass() -> None:
    result = judge_capacity(obs([running("echo-1", "us-east-1b")], []))
    assert not result.passed and "no pod was Pending" in result.summary


def test_our_read_failure_makes_a_failure_inconclusive() -> None:
    result = judge_capacity(obs([pending("echo-x")], ["echo-x"], read_error="the Kubernetes API failed 3 time(s)"))
    assert result.verdict == "inconclusive" and "API failed" in result.inconclusive


def test_node_groups_without_an_autoscaler_are_not_applicable_naming_why() -> None:
    node = {"metadata": {"labels": {"eks.amazonaws.com/nodegroup": "ng-us-east-1a"}}}
    found = classify([node], None)
    assert found.kind == "node-groups" and "without the Cluster Autoscaler" in found.adds_capacity()
    assert classify([node], None, autoscaler="kube-system/cluster-autoscaler").adds_capacity() == ""
    assert Provisioner("karpenter", ("default",)).adds_capacity() == ""


def test_a_pod_never_evicted_from_the_zone_taken_away_is_not_called_a_refill() -> None:
    result = judge_capacity(obs([running("echo-x", LOST, "node-a")], ["echo-x"]))
    assert not result.passed
    assert "on a node that was there before (never moved: the drain did not evict it)" in result.summary, result.summary


def test_node_groups_all_at_max_size_leave_the_autoscaler_nothing_to_add() -> None:
    full = [AutoScalingGroup(f"eks-ng-{z}", (z,), 2, 2, 2, (), frozenset()) for z in ZONES]
    assert no_headroom(full).startswith("the Cluster Autoscaler runs but every node group is at its MaxSize "
                                        "(eks-ng-us-east-1a 2/2, ")
    assert no_headroom([*full[:2], AutoScalingGroup("eks-ng-c", ("us-east-1c",), 2, 3, 2, (), frozenset())]) == ""
    assert no_headroom([]) == ""
