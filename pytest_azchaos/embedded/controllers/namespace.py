"""Namespace deletion (upstream ``pkg/controller/namespace``): empty a Terminating namespace, report
progress in its status conditions, then release its ``kubernetes`` finalizer.

Content is deleted with default options. What cannot go yet is reported as upstream's deleter does:
pods still inside their grace period are waited for silently; objects held by finalizers show in
``NamespaceContentRemaining`` and ``NamespaceFinalizersRemaining``; objects still there once their
grace period is over (no kubelet finished them) make ``NamespaceDeletionContentFailure`` True.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Hashable
from typing import Any

from ..apiserver.errors import ApiError, quiet
from ..apiserver.resources import REGISTRY, ResourceType
from ..apiserver.store import Event
from ..objects import now_rfc3339, parse_time
from .base import Controller

NAMESPACES = REGISTRY.lookup("", "v1", "namespaces")
assert NAMESPACES is not None

Obj = dict[str, Any]


class NamespaceController(Controller):
    name = "namespace-controller"

    def __init__(self, store: Any):
        super().__init__(store)
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def on_event(self, ev: Event) -> None:
        if ev.key == "namespaces":
            if ev.type != "DELETED" and ev.obj["metadata"].get("deletionTimestamp"):
                self.enqueue(ev.obj["metadata"]["name"])
        elif ev.namespace and (ev.type == "DELETED" or ev.obj["metadata"].get("deletionTimestamp")):
            ns = self.store.peek("namespaces", "", ev.namespace)
            if ns is not None and ns["metadata"].get("deletionTimestamp"):
                self.enqueue(ev.namespace)

    def _content_types(self) -> list[ResourceType]:
        return [r for r in REGISTRY.resources if r.namespaced and not r.storage and "delete" in r.verbs]

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, str)
        ns = self.store.peek("namespaces", "", key)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        now = time.time()
        by_resource: Counter[str] = Counter()
        finalizers: Counter[str] = Counter()
        unexpected: list[str] = []
        recheck: float | None = None
        any_left = False
        for rtype in self._content_types():
            for obj in list(self.store.scan(rtype.key, key)):
                if not obj["metadata"].get("deletionTimestamp"):
                    quiet(lambda rt=rtype, o=obj: self.store.delete(rt, key, o["metadata"]["name"]))
            left = list(self.store.scan(rtype.key, key))
            if not left:
                continue
            any_left = True
            held = [o for o in left if o["metadata"].get("finalizers")]
            for o in held:
                finalizers.update(o["metadata"]["finalizers"])
            if held:
                by_resource[f"{rtype.plural}.{rtype.group}"] += len(held)
            waiting = [parse_time(o["metadata"]["deletionTimestamp"]) or 0.0 for o in left
                       if not o["metadata"].get("finalizers") and o["metadata"].get("deletionTimestamp")]
            if any(t > now for t in waiting):
                recheck = min(t for t in waiting if t > now) if recheck is None else recheck
            elif waiting:
                gvr = f"{rtype.group}/{rtype.version}, Resource={rtype.plural}"
                unexpected.append(f"unexpected items still remain in namespace: {key} for gvr: {gvr}")
        if not any_left:
            self._finalize(key)
            return
        self._report(ns, by_resource, finalizers, unexpected)
        if recheck is not None:
            self._recheck(key, recheck - now + 1.0)

    def _recheck(self, key: str, delay: float) -> None:
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        self._timers[key] = asyncio.get_running_loop().call_later(max(delay, 0.1), self.enqueue, key)

    def _report(self, ns: Obj, by_resource: Counter[str], finalizers: Counter[str], unexpected: list[str]) -> None:
        """The namespace's deletion conditions, in upstream's order and words."""
        old_conds = {c.get("type"): c for c in (ns.get("status") or {}).get("conditions") or []}
        if unexpected:
            errs = unexpected[0] if len(unexpected) == 1 else "[" + ", ".join(unexpected) + "]"
            failure = ("True", "ContentDeletionFailed",
                       f"Failed to delete all resource types, {len(unexpected)} remaining: {errs}")
        else:
            failure = ("False", "ContentDeleted", "All content successfully deleted, may be waiting on finalization")
        if unexpected and "NamespaceContentRemaining" in old_conds:
            c = old_conds["NamespaceContentRemaining"]
            remaining = (c.get("status", "False"), c.get("reason", ""), c.get("message", ""))
        elif by_resource:
            parts = sorted(f"{r} has {n} resource instances" for r, n in by_resource.items())
            remaining = ("True", "SomeResourcesRemain", "Some resources are remaining: " + ", ".join(parts))
        else:
            remaining = ("False", "ContentRemoved", "All content successfully removed")
        if finalizers:
            parts = sorted(f"{f} in {n} resource instances" for f, n in finalizers.items())
            fins = ("True", "SomeFinalizersRemain",
                    "Some content in the namespace has finalizers remaining: " + ", ".join(parts))
        else:
            fins = ("False", "ContentHasNoFinalizers", "All content-preserving finalizers finished")
        wanted = [
            ("NamespaceDeletionDiscoveryFailure", ("False", "ResourcesDiscovered",
                                                   "All resources successfully discovered")),
            ("NamespaceDeletionGroupVersionParsingFailure", ("False", "ParsedGroupVersions",
                                                             "All legacy kube types successfully parsed")),
            ("NamespaceDeletionContentFailure", failure),
            ("NamespaceContentRemaining", remaining),
            ("NamespaceFinalizersRemaining", fins),
        ]
        conds = []
        for ctype, (status, reason, message) in wanted:
            old = old_conds.get(ctype)
            same = old is not None and (old.get("status"), old.get("reason"), old.get("message")) == \
                (status, reason, message)
            conds.append({"type": ctype, "status": status,
                          "lastTransitionTime": old.get("lastTransitionTime") if same and old else now_rfc3339(),
                          "reason": reason, "message": message})
        if [old_conds.get(c["type"]) for c in conds] == conds:
            return

        def mutate(o: Obj) -> Obj:
            o.setdefault("status", {})["conditions"] = conds
            return o

        try:
            self.store.guaranteed_update(NAMESPACES, "", ns["metadata"]["name"], mutate, subresource="status")
        except ApiError as e:
            if e.code != 404:
                raise

    def _finalize(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()

        def mutate(o: Obj) -> Obj:
            o.setdefault("spec", {})["finalizers"] = []
            return o

        try:
            self.store.guaranteed_update(NAMESPACES, "", name, mutate, subresource="finalize")
        except ApiError as e:
            if e.code != 404:
                raise
