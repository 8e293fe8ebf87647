"""ReplicaSet controller (upstream ``pkg/controller/replicaset``): keep ``spec.replicas`` pods.

Creates pods from the template, deletes surplus ones in ``getPodsToDelete`` order, adopts
matching orphans, and writes status (replicas, fullyLabeled, ready, available, terminating).
Pods being deleted do not count as replicas; they show in ``terminatingReplicas``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from typing import Any

from ..apiserver.errors import ApiError, quiet
from ..apiserver.selectors import set_selector_matches
from ..apiserver.store import Event
from ..objects import parse_time
from .base import Controller
from .events import EventRecorder
from .workload import (
    PODS,
    REPLICASETS,
    available_in,
    claim,
    controller_ref,
    is_active,
    is_available,
    is_finished,
    is_ready,
    is_terminating,
    later,
    pod_from_template,
    pod_owner_keys,
    ready_since,
    write_status,
)

Obj = dict[str, Any]
BURST_REPLICAS = 500
_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


class ReplicaSetController(Controller):
    name = "replicaset-controller"

    def __init__(self, store: Any):
        super().__init__(store)
        self.recorder = EventRecorder(store, "replicaset-controller")

    def on_event(self, ev: Event) -> None:
        if ev.key == REPLICASETS.key:
            self.enqueue((ev.namespace, ev.obj["metadata"]["name"]))
        elif ev.key == PODS.key:
            for key in pod_owner_keys(self.store, ev, "ReplicaSet", REPLICASETS.key):
                self.enqueue(key)

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        ns, name = key
        rs = self.store.peek(REPLICASETS.key, ns, name)
        if rs is None:
            return
        spec = rs.get("spec") or {}
        pods = claim(self.store, rs, PODS.key, list(self.store.scan(PODS.key, ns)), spec.get("selector"), PODS)
        active = [p for p in pods if is_active(p)]
        if not rs["metadata"].get("deletionTimestamp") and self._manage(rs, active):
            rs = self.store.peek(REPLICASETS.key, ns, name) or rs
            uid = rs["metadata"]["uid"]
            pods = [p for p in self.store.scan(PODS.key, ns)
                    if (r := controller_ref(p)) and r.get("uid") == uid]
            active = [p for p in pods if is_active(p)]
        min_ready = int(spec.get("minReadySeconds") or 0)
        write_status(self.store, REPLICASETS, rs, self._status(rs, pods, active, min_ready))
        wait = available_in(active, min_ready)
        if wait is not None:
            later(wait, self.enqueue, key)

    # ------------------------------------------------------------ replicas

    def _manage(self, rs: Obj, active: list[Obj]) -> bool:
        want = int((rs.get("spec") or {}).get("replicas", 1))
        diff = len(active) - want
        ns = rs["metadata"]["namespace"]
        if diff < 0:
            template = (rs.get("spec") or {}).get("template") or {}
            for _ in range(min(-diff, BURST_REPLICAS)):
                body = pod_from_template(rs, template)
                try:
                    pod = self.store.create(PODS, ns, body)
                except ApiError as e:
                    self.recorder.warning(rs, "FailedCreate", f"Error creating: {e.message}")
                    if e.code in (403, 404):
                        break
                    continue
                self.recorder.normal(rs, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}")
            return True
        if diff > 0:
            for pod in self._pods_to_delete(rs, active, diff):
                pname = pod["metadata"]["name"]
                done = quiet(lambda pname=pname: self.store.delete(PODS, ns, pname))
                if done is not None:
                    self.recorder.normal(rs, "SuccessfulDelete", f"Deleted pod: {pname}")
            return True
        return False

    def _pods_to_delete(self, rs: Obj, active: list[Obj], count: int) -> list[Obj]:
        """``getPodsToDelete``: rank by ActivePodsWithRanks and take the first ``count``."""
        related = self._related_pods(rs)
        on_node = Counter(p["spec"].get("nodeName") for p in related if p["spec"].get("nodeName"))

        def rank(p: Obj) -> tuple[Any, ...]:
            node = p["spec"].get("nodeName")
            phase = (p.get("status") or {}).get("phase", "Pending")
            ready = is_ready(p)
            since = ready_since(p) or 0.0
            restarts = sum(int(c.get("restartCount") or 0)
                           for c in (p.get("status") or {}).get("containerStatuses") or [])
            created = parse_time(p["metadata"].get("creationTimestamp")) or 0.0
            return (1 if node else 0, _PHASE_RANK.get(phase, 3), 1 if ready else 0,
                    -(on_node[node] if node else 0), -since if ready else 0.0, -restarts, -created,
                    p["metadata"]["name"])

        return sorted(active, key=rank)[:count]

    def _related_pods(self, rs: Obj) -> list[Obj]:
        """Active pods of this RS and of its sibling RSes (same controlling owner)."""
        ns = rs["metadata"]["namespace"]
        owner = controller_ref(rs)
        uids = {rs["metadata"]["uid"]}
        if owner is not None:
            for other in self.store.scan(REPLICASETS.key, ns):
                ref = controller_ref(other)
                if ref and ref.get("uid") == owner.get("uid"):
                    uids.add(other["metadata"]["uid"])
        return [p for p in self.store.scan(PODS.key, ns)
                if is_active(p) and (r := controller_ref(p)) and r.get("uid") in uids]

    # ------------------------------------------------------------ status

    @staticmethod
    def _status(rs: Obj, pods: list[Obj], active: list[Obj], min_ready: int) -> Obj:
        tlabels = (((rs.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
        fully = sum(1 for p in active if set_selector_matches(tlabels, p["metadata"].get("labels")))
        ready = sum(1 for p in active if is_ready(p))
        available = sum(1 for p in active if is_available(p, min_ready))
        terminating = sum(1 for p in pods if is_terminating(p) and not is_finished(p))
        status: Obj = {"replicas": len(active)}
        if fully:
            status["fullyLabeledReplicas"] = fully
        if ready:
            status["readyReplicas"] = ready
        if available:
            status["availableReplicas"] = available
        status["terminatingReplicas"] = terminating
        status["observedGeneration"] = int(rs["metadata"].get("generation", 1))
        conditions = (rs.get("status") or {}).get("conditions")
        if conditions:
            status["conditions"] = conditions
        return status

