"""Pod garbage collection of orphans (upstream ``pkg/controller/podgc``, ``gcOrphaned``).

A pod bound to a node that does not exist is put in quarantine: its node name is checked again after
``quarantine`` seconds (upstream ``quarantineTime``, 40 s), and if the node is still missing every pod
bound to it is marked Failed with the condition ``DisruptionTarget`` (reason ``DeletionByPodGC``,
message ``PodGC: node no longer exists``) through the status subresource, then deleted with grace 0
(``markFailedAndDeletePodWithCondition``). Pods already Succeeded or Failed keep their phase.

Upstream finds orphans on a ``gcCheckPeriod`` (20 s) pass; here a pod or node event starts the
quarantine at once, so an orphan goes between ``quarantine`` seconds (this emulator) and
``quarantine + 20`` seconds (upstream) after its node went.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from typing import Any

from ..apiserver.errors import ApiError
from ..apiserver.resources import REGISTRY
from ..apiserver.store import Event, Store
from ..objects import now_rfc3339
from .base import Controller

log = logging.getLogger(__name__)

PODS = REGISTRY.lookup("", "v1", "pods")
assert PODS is not None

QUARANTINE_SECONDS = 40.0  # gc_controller.go quarantineTime
CONDITION = {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC",
             "message": "PodGC: node no longer exists"}

Obj = dict[str, Any]


class PodGCController(Controller):
    """Deletes pods whose node is gone, after a quarantine (see the module docstring)."""

    name = "pod-garbage-collector"

    def __init__(self, store: Store, quarantine: float = QUARANTINE_SECONDS):
        super().__init__(store)
        self.quarantine = quarantine
        self._timers: dict[str, asyncio.TimerHandle] = {}  # node name -> its quarantine's end

    def on_event(self, ev: Event) -> None:
        if ev.key == "pods" and ev.type != "DELETED":
            node = (ev.obj.get("spec") or {}).get("nodeName")
            if node and node not in self._timers and self.store.peek("nodes", "", node) is None:
                self._quarantine(node)
        elif ev.key == "nodes" and ev.type == "DELETED":
            node = ev.obj["metadata"]["name"]
            if node not in self._timers and any(self._bound_to(node)):
                self._quarantine(node)

    def _quarantine(self, node: str) -> None:
        loop = asyncio.get_running_loop()
        self._timers[node] = loop.call_later(self.quarantine, self._quarantine_over, node)

    def _quarantine_over(self, node: str) -> None:
        self._timers.pop(node, None)
        self.enqueue(node)

    def _bound_to(self, node: str) -> list[Obj]:
        return [p for p in self.store.scan("pods") if (p.get("spec") or {}).get("nodeName") == node]

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, str)
        if self.store.peek("nodes", "", key) is not None:  # the node showed up during the quarantine
            return
        for pod in self._bound_to(key):
            meta = pod["metadata"]
            try:
                self._mark_failed_and_delete(meta["namespace"], meta["name"], meta["uid"],
                                             (pod.get("status") or {}).get("phase"))
            except ApiError as e:
                if e.code not in (404, 409):  # gone already, or replaced by a pod of the same name
                    raise

    def _mark_failed_and_delete(self, namespace: str, name: str, uid: str, phase: str | None) -> None:
        log.info("PodGC is force deleting Pod %s/%s (node no longer exists)", namespace, name)
        if phase not in ("Succeeded", "Failed"):
            def mutate(pod: Obj) -> Obj:
                if pod["metadata"]["uid"] != uid:  # another pod of the same name: not this orphan
                    raise ApiError(409, "Conflict", "the pod was replaced")
                status = pod.setdefault("status", {})
                status["phase"] = "Failed"
                conditions = status.setdefault("conditions", [])
                cond = {"type": CONDITION["type"], "status": CONDITION["status"], "lastProbeTime": None,
                        "lastTransitionTime": now_rfc3339(), "reason": CONDITION["reason"],
                        "message": CONDITION["message"]}
                for i, c in enumerate(conditions):
                    if c.get("type") == CONDITION["type"]:
                        conditions[i] = cond
                        break
                else:
                    conditions.append(cond)
                return pod

            self.store.guaranteed_update(PODS, namespace, name, mutate, "status")
        self.store.delete(PODS, namespace, name, 0, {"uid": uid}, None)
