"""The oracle's power-off follows the outage's Auto Scaling processes: a group left with HealthCheck or
ReplaceUnhealthy active (neither suspended by the outage nor already) terminates the stopped instance, so its Node
is deleted and a stateful pod there is recreated and waits Pending for its volume's zone; the outage's default
processes keep the plain power-off story (Terminating on the unreachable node)."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_azchaos.aws import OUTAGE_PROCESSES
from pytest_azchaos.oracle import Fault, predict
from pytest_azchaos.oracle.groups import terminated_by_groups
from pytest_azchaos.timing import Profile

from .builders import nodes, pod, pv, pvc, state

FAST = Profile.by_name("fast")


@dataclass(frozen=True)
class Group:
    name: str
    instance_ids: tuple[str, ...]
    suspended: frozenset[str] = frozenset()


def _with_instances(node_list: list[dict]) -> list[dict]:
    for n in node_list:
        name = n["metadata"]["name"]
        n["spec"]["providerID"] = f"aws:///us-east-1{name[2]}/i-{name[2:]}"
    return node_list


def _stateful(asked: tuple[str, ...], already: frozenset[str] = frozenset()) -> tuple[object, dict]:
    node_list = _with_instances(nodes())
    s = state(node_list, [pod("db-0", "n-a1", kind="StatefulSet", claim="data-db-0")],
              pvcs={"ns/data-db-0": pvc("data-db-0", "pv-1")}, pvs={"pv-1": pv("pv-1", "a")})
    groups = terminated_by_groups(node_list, [Group("ng-a", ("i-a1", "i-a2"), already)], asked)
    return predict(s, Fault.of("power-off", "a"), FAST, groups=groups).outcome_of("db-0"), groups


def test_a_launch_only_outage_predicts_the_group_terminates_the_node_and_the_pod_waits_for_its_volume() -> None:
    out, groups = _stateful(("Launch",))
    assert sorted(groups) == ["n-a1", "n-a2"], groups
    assert out is not None and out.outcome == "pending" and out.node_replaced, out
    assert out.terminated_by == ("Auto Scaling group ng-a terminates its stopped instance i-a1 (HealthCheck, "
                                 "ReplaceUnhealthy left active; suspended: Launch)"), out.terminated_by
    assert "the cloud node lifecycle controller deletes node n-a1" in out.reason, out.reason
    assert "0/4 nodes are available: 4 node(s) didn't match PersistentVolume's node affinity" in out.reason, out.reason
    assert out.after_s == FAST.asg_health_check_interval + FAST.cloud_poll_interval + FAST.pod_gc_orphan_quarantine


def test_the_default_outage_processes_keep_the_pod_terminating_on_its_unreachable_node() -> None:
    out, groups = _stateful(OUTAGE_PROCESSES)
    assert groups == {}, groups
    assert out is not None and out.outcome == "terminating" and not out.node_replaced, out
    assert not out.terminated_by and "stays Terminating on the unreachable node" in out.reason, out.reason


def test_health_replacement_already_suspended_in_the_group_counts_as_suspended() -> None:
    out, groups = _stateful(("Launch", "HealthCheck"), already=frozenset({"ReplaceUnhealthy"}))
    assert groups == {} and out is not None and out.outcome == "terminating", (groups, out)


def test_one_of_the_two_left_active_is_enough_to_terminate() -> None:
    out, _ = _stateful(("Launch", "HealthCheck"))
    assert out is not None and out.outcome == "pending", out
    assert "(ReplaceUnhealthy left active; suspended: Launch, HealthCheck)" in out.terminated_by, out.terminated_by


def test_a_partition_ignores_the_groups_its_instances_still_run() -> None:
    node_list = _with_instances(nodes())
    groups = terminated_by_groups(node_list, [Group("ng-a", ("i-a1", "i-a2"))], ("Launch",))
    s = state(node_list, [pod("db-0", "n-a1", kind="StatefulSet", claim="data-db-0")],
              pvcs={"ns/data-db-0": pvc("data-db-0", "pv-1")}, pvs={"pv-1": pv("pv-1", "a")})
    out = predict(s, Fault.of("partition", "a"), FAST, groups=groups).outcome_of("db-0")
    assert out is not None and out.outcome == "terminating" and not out.node_replaced, out
