"""DefaultPreemption, as far as the FailedScheduling text and a nomination need.

Nodes whose failure is UnschedulableAndUnresolvable are "Preemption is not helpful for scheduling".
On the others the pods of lower priority are removed; with none it is "No preemption victims found
for incoming pod", and if the pod still does not fit, the filter's own reasons are reported. If it
fits, the fewest victims are kept (reprieved in priority order) and the best node is nominated.
Nothing is evicted here; PodDisruptionBudgets are not considered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

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


def preempt(pod: Obj, infos: list[NodeInfo], statuses: Mapping[str, Status],
            fits_with: Callable[[NodeInfo, NodeInfo], Status | None]) -> PreemptionOutcome:
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
    candidates: list[tuple[NodeInfo, list[Obj]]] = []
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
        victims = []
        for candidate in lower:  # reprieve the most important pods first
            trial = NodeInfo.build(info.node, [*reduced.pods, candidate])
            if fits_with(info, trial) is None:
                reduced = trial
            else:
                victims.append(candidate)
        candidates.append((info, victims))
    if not candidates:
        return PreemptionOutcome("preemption: " + fit_error(len(infos), results))
    order = {info.name: i for i, info in enumerate(infos)}

    def rank(item: tuple[NodeInfo, list[Obj]]) -> tuple[int, int, int, int]:
        info, victims = item
        priorities = [priority_of(v) for v in victims]
        return (max(priorities, default=-(2**63)), sum(priorities), len(victims), order[info.name])

    best, victims = min(candidates, key=rank)
    return PreemptionOutcome("", Nomination(best.name, tuple(_key(v) for v in victims)))
