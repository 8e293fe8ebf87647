"""The FailedScheduling text's shape: counts sorted as plain strings, PreFilter and PostFilter parts."""

from __future__ import annotations

from pytest_azchaos.embedded.scheduler import schedule
from pytest_azchaos.embedded.scheduler.fit_error import fit_error
from pytest_azchaos.embedded.scheduler.model import reject

from .builders import node, pod


def test_counts_sort_as_strings_so_ten_comes_before_two() -> None:
    statuses = {f"n{i}": reject("X", "node(s) were unschedulable", resolvable=False) for i in range(10)}
    statuses |= {"m1": reject("X", "Insufficient cpu"), "m2": reject("X", "Insufficient cpu")}
    assert fit_error(12, statuses) == "0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient cpu."


def test_equal_counts_sort_alphabetically_by_reason() -> None:
    nodes = [node(f"n{i}", "z", cpu="1") for i in range(2)]
    nodes += [node(f"t{i}", "z", taints=[{"key": "k", "effect": "NoSchedule"}]) for i in range(2)]
    nodes += [node(f"u{i}", "z") for i in range(2)]
    for n in nodes[4:]:
        n["spec"]["unschedulable"] = True
    result = schedule(pod("p", cpu="1500m"), nodes, [])
    assert result.message == (
        "0/6 nodes are available: 2 Insufficient cpu, 2 node(s) had untolerated taint(s), "
        "2 node(s) were unschedulable. no new claims to deallocate, preemption: 0/6 nodes are available: "
        "6 Preemption is not helpful for scheduling.")


def test_one_node_with_two_reasons_counts_each() -> None:
    result = schedule(pod("p", cpu="3", memory="9Gi"), [node("n", "z")], [])
    assert result.message.startswith("0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.")
    assert result.reasons == {"n": "Insufficient cpu, Insufficient memory"}


def test_no_nodes_at_all() -> None:
    assert schedule(pod("p"), [], []).message == "no nodes available to schedule pods"


def test_prefilter_rejection_has_no_per_node_counts_and_ends_in_not_found() -> None:
    assert fit_error(3, {}, pre_filter_msg="pod has unbound immediate PersistentVolumeClaims",
                     post_filter_msg="not found") == (
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found")
