"""Taint-based eviction: pods on a node with NoExecute taints (upstream ``pkg/controller/tainteviction``).

``TaintEvictionController`` (events from ``taint-eviction-controller``): pods on a node with
NoExecute taints go after the smallest ``tolerationSeconds`` of the tolerations they use (at once
if one taint is not tolerated, never if none has seconds): event ``TaintManagerEviction`` "Marking
for deletion Pod ns/name", condition ``DisruptionTarget`` ``DeletionByTaintManager``, then a
graceful delete; removing the taint cancels a pending deletion ("Cancelling deletion of Pod ns/name").
The taints themselves come from :mod:`.node_lifecycle` (or anyone else).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from typing import Any

from ..apiserver.errors import quiet
from ..apiserver.resources import REGISTRY
from ..apiserver.store import Event, Store
from ..objects import now_rfc3339
from ..rules.tolerations import matching_tolerations
from .base import Controller
from .events import EventRecorder
from .workload import pod_ref, pods_on_node

log = logging.getLogger(__name__)
Obj = dict[str, Any]

PODS = REGISTRY.lookup("", "v1", "pods")
assert PODS is not None


def min_toleration_seconds(taints: list[Obj], tolerations: list[Obj]) -> float | None:
    """0 when a taint is not tolerated, None when tolerated forever, else the smallest tolerationSeconds."""
    used: list[Obj] = []
    for taint in taints:
        match = matching_tolerations(taint, tolerations)
        if not match:
            return 0.0
        used.extend(match)
    seconds = [max(float(t["tolerationSeconds"]), 0.0) for t in used if t.get("tolerationSeconds") is not None]
    return min(seconds) if seconds else None


class TaintEvictionController(Controller):
    name = "taint-eviction-controller"

    def __init__(self, store: Store):
        super().__init__(store)
        self.recorder = EventRecorder(store, "taint-eviction-controller")
        # "ns/name" -> (created loop time, fire loop time, timer or None once done)
        self.work: dict[str, tuple[float, float, asyncio.TimerHandle | None]] = {}

    def on_event(self, ev: Event) -> None:
        if ev.key == "nodes":
            old = [t for t in ((ev.old or {}).get("spec") or {}).get("taints") or () if t.get("effect") == "NoExecute"]
            new = [t for t in (ev.obj.get("spec") or {}).get("taints") or () if t.get("effect") == "NoExecute"]
            if ev.type == "DELETED" or _taint_keys(old) != _taint_keys(new) or (ev.type == "ADDED" and new):
                self.enqueue(("node", ev.obj["metadata"]["name"]))
        elif ev.key == "pods":
            meta = ev.obj["metadata"]
            if ev.type == "DELETED":
                self.enqueue(("pod", ev.namespace, meta["name"]))
                return
            spec, old_spec = ev.obj.get("spec") or {}, (ev.old or {}).get("spec") or {}
            if spec.get("nodeName") and (ev.old is None or spec.get("nodeName") != old_spec.get("nodeName")
                                         or spec.get("tolerations") != old_spec.get("tolerations")):
                self.enqueue(("pod", ev.namespace, meta["name"]))

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        now = asyncio.get_running_loop().time()
        if key[0] == "node":
            node = self.store.peek("nodes", "", key[1])
            taints = _no_execute(node)
            for pod in pods_on_node(self.store, key[1]):
                self.process_pod(pod, taints, now)
        else:
            _, ns, name = key
            pod = self.store.peek("pods", ns, name)
            if pod is None:
                self.cancel(f"{ns}/{name}", emit=True)
                return
            node = self.store.peek("nodes", "", pod["spec"].get("nodeName") or "")
            self.process_pod(pod, _no_execute(node), now)

    def process_pod(self, pod: Obj, taints: list[Obj], now: float) -> None:
        meta = pod["metadata"]
        key = f"{meta.get('namespace', '')}/{meta['name']}"
        if not taints:
            self.cancel(key, emit=True)
            return
        seconds = min_toleration_seconds(taints, (pod.get("spec") or {}).get("tolerations") or [])
        if seconds is None:
            self.cancel(key, emit=True)
            return
        start = now
        existing = self.work.get(key)
        if existing is not None:
            if existing[2] is None:
                return  # already done; upstream's queue ignores new work for the same pod
            start = existing[0]
            if start + seconds < now + seconds:
                return  # upstream keeps the eviction scheduled when the taints were first seen
            self.cancel(key, emit=True)
        fire = start + seconds
        handle = asyncio.get_running_loop().call_at(fire, self._fire, key)
        self.work[key] = (start, fire, handle)

    def cancel(self, key: str, emit: bool) -> None:
        item = self.work.pop(key, None)
        if item is None or item[2] is None:
            return
        item[2].cancel()
        if emit:
            ns, name = key.split("/", 1)
            self.recorder.event({"kind": "Pod", "namespace": ns, "name": name, "apiVersion": "v1"}, "Normal",
                                "TaintManagerEviction", f"Cancelling deletion of Pod {key}")

    def _fire(self, key: str) -> None:
        item = self.work.get(key)
        if item is None:
            return
        self.work[key] = (item[0], item[1], None)
        ns, name = key.split("/", 1)
        try:
            self.evict(ns, name)
        except Exception as e:  # recorded, as Controller does for sync errors
            log.exception("%s: evicting %s failed", self.name, key)
            self.errors.append(e)

    def evict(self, ns: str, name: str) -> None:
        pod = self.store.peek("pods", ns, name)
        if pod is None:
            return
        self.recorder.event(pod_ref(pod), "Normal", "TaintManagerEviction", f"Marking for deletion Pod {ns}/{name}")

        def mark(p: Obj) -> Obj | None:
            conds = p.setdefault("status", {}).setdefault("conditions", [])
            old = next((c for c in conds if c.get("type") == "DisruptionTarget"), None)
            new = {"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                   "lastTransitionTime": now_rfc3339(), "reason": "DeletionByTaintManager",
                   "message": "Taint manager: deleting due to NoExecute taint"}
            if old is None:
                conds.append(new)
                return p
            if old.get("status") == "True":
                new["lastTransitionTime"] = old.get("lastTransitionTime")
            if all(old.get(k) == new[k] for k in ("status", "reason", "message")):
                return None
            conds[conds.index(old)] = new
            return p

        quiet(lambda: self.store.guaranteed_update(PODS, ns, name, mark, subresource="status"))
        quiet(lambda: self.store.delete(PODS, ns, name))


def _no_execute(node: Obj | None) -> list[Obj]:
    return [t for t in ((node or {}).get("spec") or {}).get("taints") or () if t.get("effect") == "NoExecute"]


def _taint_keys(taints: list[Obj]) -> list[tuple[str, str, str]]:
    return sorted((t.get("key", ""), t.get("value", ""), t.get("effect", "")) for t in taints)
