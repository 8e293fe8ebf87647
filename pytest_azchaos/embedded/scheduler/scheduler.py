"""One scheduling cycle of the default v1.36 profile: PreFilter, Filter, PostFilter, Score, select.

``schedule(pod, nodes, pods)`` is pure: it reads API dicts and returns a ``ScheduleResult``; binding,
events and retries belong to the control plane that calls it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from . import interpod_affinity, node_filters, scoring, topology_spread
from .fit_error import NO_CLAIMS_TO_DEALLOCATE, NO_NODES, PREFILTER_POSTFILTER, fit_error
from .matching import Obj
from .model import NodeInfo, ScheduleResult, Status, VolumeState, Workloads, assigned_pods, name_of, namespace_of
from .preemption import preempt
from .volumes import PodClaims, VolumeBinding, volume_zone

NodeFilter = Callable[[Obj, NodeInfo], Status | None]
SIMPLE_FILTERS: tuple[NodeFilter, ...] = (
    node_filters.node_unschedulable,
    node_filters.node_name,
    node_filters.taint_toleration,
    node_filters.node_affinity,
    node_filters.node_ports,
    node_filters.node_resources_fit,
)


@dataclass
class Cycle:
    """What PreFilter computed for one pod over one snapshot, used by every Filter call."""

    pod: Obj
    infos: list[NodeInfo]
    workloads: Workloads
    binding: VolumeBinding
    claims: PodClaims | None
    spread: topology_spread.FilterState
    affinity: interpod_affinity.FilterState
    simple_filters: tuple[NodeFilter, ...] = SIMPLE_FILTERS

    @classmethod
    def prepare(cls, pod: Obj, infos: list[NodeInfo], workloads: Workloads, binding: VolumeBinding,
                claims: PodClaims | None) -> Cycle:
        return cls(pod, infos, workloads, binding, claims,
                   topology_spread.pre_filter(pod, infos),
                   interpod_affinity.pre_filter(pod, infos, workloads),
                   node_filters.applicable(pod))

    def filter(self, info: NodeInfo) -> Status | None:
        """Every filter in order; the first failure is the node's status. Filters that cannot reject
        this pod (no claims, no spread constraints, no affinity terms anywhere) are not called."""
        for check in self.simple_filters:
            status = check(self.pod, info)
            if status is not None:
                return status
        if self.claims is not None:
            status = self.binding.filter(self.pod, self.claims, info)
            if status is not None:
                return status
            status = volume_zone(self.binding, self.claims, info)
            if status is not None:
                return status
        if self.spread.constraints:
            status = topology_spread.filter_node(self.pod, info, self.spread)
            if status is not None:
                return status
        if self.affinity.needed:
            return interpod_affinity.filter_node(self.pod, info, self.affinity, self.workloads)
        return None

    def with_node(self, original: NodeInfo, replacement: NodeInfo) -> Cycle:
        """The same cycle over a snapshot where one node's pods changed (for preemption's dry run)."""
        infos = [replacement if i is original else i for i in self.infos]
        return Cycle.prepare(self.pod, infos, self.workloads, self.binding, self.claims)


# Upstream's adaptive percentageOfNodesToScore (schedule_one.go numFeasibleNodesToFind).
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
BASE_PERCENTAGE_OF_NODES_TO_SCORE = 50


def num_feasible_nodes_to_find(num_all_nodes: int, percentage: int = 0) -> int:
    """How many feasible nodes a cycle looks for before it stops filtering (all of them below 100 nodes)."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND or percentage >= 100:
        return num_all_nodes
    if percentage <= 0:
        percentage = max(BASE_PERCENTAGE_OF_NODES_TO_SCORE - num_all_nodes // 125,
                         MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(num_all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


def _seed(pod: Obj) -> str:
    meta = pod.get("metadata") or {}
    return f"{namespace_of(pod)}/{meta.get('name') or meta.get('generateName') or ''}/{meta.get('uid') or ''}"


def score_nodes(pod: Obj, feasible: list[NodeInfo], infos: list[NodeInfo], workloads: Workloads) -> dict[str, int]:
    """Weighted sum of the default profile's scores per feasible node."""
    per_plugin: dict[str, Mapping[str, int]] = {
        "TaintToleration": scoring.taint_toleration(pod, feasible),
        "NodeAffinity": scoring.node_affinity(pod, feasible),
        "PodTopologySpread": topology_spread.score(pod, feasible, infos, workloads),
        "InterPodAffinity": interpod_affinity.score(pod, feasible, infos, workloads),
        "NodeResourcesFit": scoring.least_allocated(pod, feasible),
        "NodeResourcesBalancedAllocation": scoring.balanced_allocation(pod, feasible),
    }
    totals = {info.name: 0 for info in feasible}
    for plugin, scores in per_plugin.items():
        weight = scoring.WEIGHTS[plugin]
        for name, value in scores.items():
            if value and name in totals:
                totals[name] += weight * value
    return totals


def schedule(
    pod: Obj,
    nodes: Sequence[Obj],
    pods: Sequence[Obj],
    volumes: VolumeState | None = None,
    workloads: Workloads | None = None,
    *,
    rng: random.Random | None = None,
    volume_binding: VolumeBinding | None = None,
    node_infos: Sequence[NodeInfo] | None = None,
    start_index: int = 0,
    pdbs: Sequence[Obj] = (),
) -> ScheduleResult:
    """Choose a node for ``pod`` among ``nodes`` given the ``pods`` already bound to nodes.

    Unschedulable pods get upstream's FailedScheduling message; ties between the best-scored nodes
    are broken by ``rng`` (default: seeded from the pod's identity, so a run is reproducible).
    ``node_infos`` is a prebuilt snapshot (then ``nodes`` and ``pods`` are not read), kept up to date
    incrementally by the caller. As upstream, with 100 nodes or more filtering stops once
    ``num_feasible_nodes_to_find`` feasible nodes are found, starting at ``start_index`` (the caller
    rotates it by ``ScheduleResult.evaluated`` so every node gets its turn). ``pdbs`` are the
    PodDisruptionBudgets preemption tries not to violate.
    """
    workloads = workloads or Workloads()
    binding = volume_binding or VolumeBinding(volumes)
    if node_infos is not None:
        infos = list(node_infos)
    else:
        by_node = assigned_pods([p for p in pods if p is not pod])
        infos = [NodeInfo.build(n, by_node.get(name_of(n), [])) for n in nodes]
    if not infos:
        return ScheduleResult(None, NO_NODES)

    claims: PodClaims | None = None
    allowed, rejected = node_filters.node_affinity_pre_filter(pod)
    if rejected is None:
        claims, rejected = binding.claims(pod)
    if rejected is not None:
        everywhere = {info.name: rejected for info in infos}
        message = fit_error(len(infos), everywhere, pre_filter_msg=rejected.message,
                            post_filter_msg=PREFILTER_POSTFILTER)
        return ScheduleResult(None, message, {n: rejected.message for n in everywhere}, everywhere)

    cycle = Cycle.prepare(pod, infos, workloads, binding, claims)
    statuses: dict[str, Status] = {}
    feasible: list[NodeInfo] = []
    to_find = num_feasible_nodes_to_find(len(infos))
    start = start_index % len(infos)
    evaluated = 0
    for info in infos[start:] + infos[:start]:
        if len(feasible) >= to_find:
            break
        evaluated += 1
        if allowed is not None and info.name not in allowed:
            statuses[info.name] = node_filters.outside_pre_filter_result(["NodeAffinity"])
            continue
        status = cycle.filter(info)
        if status is None:
            feasible.append(info)
        else:
            statuses[info.name] = status
    reasons = {name: status.message for name, status in statuses.items()}

    if not feasible:
        outcome = preempt(pod, infos, statuses, lambda orig, reduced: cycle.with_node(orig, reduced).filter(reduced),
                          pdbs)
        if outcome.nomination is not None:
            return ScheduleResult(None, fit_error(len(infos), statuses), reasons, statuses,
                                  nominated=outcome.nomination)
        post = f"{NO_CLAIMS_TO_DEALLOCATE}, {outcome.message}"
        return ScheduleResult(None, fit_error(len(infos), statuses, post_filter_msg=post), reasons, statuses)

    if len(feasible) == 1:
        return ScheduleResult(feasible[0].name, None, reasons, statuses, {}, (feasible[0].name,), evaluated=evaluated)
    scores = score_nodes(pod, feasible, infos, workloads)
    best = max(scores.values())
    tied = tuple(info.name for info in feasible if scores[info.name] == best)
    chooser = rng or random.Random(_seed(pod))
    return ScheduleResult(chooser.choice(tied), None, reasons, statuses, scores, tied, evaluated=evaluated)
