"""Namespace deletion: empty a Terminating namespace, then release its ``kubernetes`` finalizer."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from ..apiserver.errors import ApiError
from ..apiserver.resources import REGISTRY
from ..apiserver.store import Event
from .base import Controller

NAMESPACES = REGISTRY.lookup("", "v1", "namespaces")
assert NAMESPACES is not None


class NamespaceController(Controller):
    name = "namespace-controller"

    def on_event(self, ev: Event) -> None:
        if ev.key == "namespaces":
            if ev.type != "DELETED" and ev.obj["metadata"].get("deletionTimestamp"):
                self.enqueue(ev.obj["metadata"]["name"])
        elif ev.type == "DELETED" and ev.namespace:
            ns = self.store.peek("namespaces", "", ev.namespace)
            if ns is not None and ns["metadata"].get("deletionTimestamp"):
                self.enqueue(ev.namespace)

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, str)
        ns = self.store.peek("namespaces", "", key)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        remaining = 0
        for rtype in REGISTRY.resources:
            if not rtype.namespaced or rtype.storage or "delete" not in rtype.verbs:
                continue
            for obj in list(self.store.scan(rtype.key, key)):
                remaining += 1
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    self.store.delete(rtype, key, obj["metadata"]["name"])
                except ApiError as e:
                    if e.code != 404:
                        raise
        if remaining == 0 or not any(True for r in REGISTRY.resources if r.namespaced and not r.storage
                                     for _ in self.store.scan(r.key, key)):
            self._finalize(key)

    def _finalize(self, name: str) -> None:
        def mutate(o: dict[str, Any]) -> dict[str, Any]:
            o.setdefault("spec", {})["finalizers"] = []
            return o

        try:
            self.store.guaranteed_update(NAMESPACES, "", name, mutate, subresource="finalize")
        except ApiError as e:
            if e.code != 404:
                raise
