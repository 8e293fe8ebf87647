"""DefaultPreemption: the FailedScheduling text, the nominated node and its victims.

Nodes whose failure is UnschedulableAndUnresolvable are "Preemption is not helpful for scheduling".
On the others the pods of lower priority are removed; with none it is "No preemption victims found
for incoming pod", and if the pod still does not fit, the filter's own reasons are reported. If it
fits, the fewest victims are kept: pods whose eviction would violate a PodDisruptionBudget are
reprieved first, then the others, each group in priority order (``selectVictimsOnNode``). The node
is chosen as ``pickOneNodeForPreemption`` does: fewest PDB violations, then the lowest highest
victim priority, the lowest sum of priorities, the fewest victims. Acting on the nomination
(condition, event, deletion) belongs to the control plane that calls this.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..apiserver.selectors import label_selector_matches
from .fit_error import fit_error
from .matching import Obj
from .model import UNSCHEDULABLE, NodeInfo, Nomination, Status, name_of, namespace_of, priority_of, reject

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"

@dataclass(frozen=True)
class PreemptionOutcome:
    message: str
    nomination: Nomination | None = None


def _key(pod: Obj) -> str:
    return f"{namespace_of(pod)}/{name_of(pod)}"


def terminating_by_preemption(pod: Obj) -> bool:
    """A victim already on its way out: deleting, with ``DisruptionTarget`` reason ``PreemptionByScheduler``."""
    if not (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "DisruptionTarget":
            return condition.get("status") == "True" and condition.get("reason") == "PreemptionByScheduler"
    return False


def split_by_pdb_violation(pods: list[Obj], pdbs: Sequence[Obj]) -> tuple[list[Obj], list[Obj]]:
    """``filterPodsWithPDBViolation``: (violating, non-violating), each in the order given.

    Each matching PDB's ``disruptionsAllowed`` is spent pod by pod; a pod that drives one below zero
    violates it. Pods already in a PDB's ``disruptedPods`` are not counted.
    """
    allowed = [int((pdb.get("status") or {}).get("disruptionsAllowed") or 0) for pdb in pdbs]
    violating: list[Obj] = []
    others: list[Obj] = []
    for pod in pods:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        violated = False
        if labels:
            for i, pdb in enumerate(pdbs):
                if namespace_of(pdb) != namespace_of(pod):
                    continue
                selector = (pdb.get("spec") or {}).get("selector")
                if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
                    continue  # an empty selector selects nothing here
                if not label_selector_matches(selector, labels):
                    continue
                if name_of(pod) in ((pdb.get("status") or {}).get("disruptedPods") or {}):
                    continue
                allowed[i] -= 1
                if allowed[i] < 0:
                    violated = True
        (violating if violated else others).append(pod)
    return violating, others


def preempt(pod: Obj, infos: list[NodeInfo], statuses: Mapping[str, Status],
            fits_with: Callable[[NodeInfo, NodeInfo], Status | None],
            pdbs: Sequence[Obj] = ()) -> PreemptionOutcome:
    """``fits_with(original, reduced)`` runs the filters on ``reduced`` (the node with fewer pods)."""
    if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
        return PreemptionOutcome("preemption: not eligible due to preemptionPolicy=Never.")
    own = priority_of(pod)
    nominated = (pod.get("status") or {}).get("nominatedNodeName")
    nominated_status = statuses.get(nominated or "")
    if nominated and (nominated_status is None or nominated_status.code == UNSCHEDULABLE):
        for info in infos:
            if info.name == nominated and any(priority_of(p) < own and terminating_by_preemption(p) for p in info.pods):
                return PreemptionOutcome("preemption: not eligible due to a terminating pod on the nominated node.")
    results: dict[str, Status] = {}
    candidates: list[tuple[NodeInfo, list[Obj], int]] = []
    for info in infos:
        status = statuses.get(info.name)
        if status is None or status.code != UNSCHEDULABLE:
            results[info.name] = reject("DefaultPreemption", NOT_HELPFUL, resolvable=False)
            continue
        lower = sorted((p for p in info.pods if priority_of(p) < own), key=priority_of, reverse=True)
        if not lower:
            results[info.name] = reject("DefaultPreemption", NO_VICTIMS, resolvable=False)
            continue
        reduced = info.without(lower)
        failure = fits_with(info, reduced)
        if failure is not None:
            results[info.name] = failure
            continue
        victims: list[Obj] = []
        violating, others = split_by_pdb_violation(lower, pdbs)
        num_violating = 0
        for group, violates in ((violating, True), (others, False)):
            for candidate in group:  # reprieve the most important pods first
                trial = NodeInfo.build(info.node, [*reduced.pods, candidate])
                if fits_with(info, trial) is None:
                    reduced = trial
                else:
                    victims.append(candidate)
                    num_violating += violates
        candidates.append((info, victims, num_violating))
    if not candidates:
        return PreemptionOutcome("preemption: " + fit_error(len(infos), results))
    order = {info.name: i for i, info in enumerate(infos)}

    def rank(item: tuple[NodeInfo, list[Obj], int]) -> tuple[int, int, int, int, int]:
        info, victims, num_violating = item
        priorities = [priority_of(v) for v in victims]
        return (num_violating, max(priorities, default=-(2**63)), sum(priorities), len(victims), order[info.name])

    best, victims, _ = min(candidates, key=rank)
    return PreemptionOutcome("", Nomination(best.name, tuple(_key(v) for v in victims)))
