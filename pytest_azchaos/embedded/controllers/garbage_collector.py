"""Owner-reference garbage collection with the three propagation policies.

Background: dependents go after their owner. Foreground: the owner waits (finalizer
``foregroundDeletion``) until its dependents are gone. Orphan: the owner's references are
removed from its dependents (finalizer ``orphan``) and they stay.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

from ..apiserver.errors import ApiError
from ..apiserver.store import Event
from .base import Controller

Obj = dict[str, Any]


class GarbageCollector(Controller):
    name = "garbage-collector"

    def on_event(self, ev: Event) -> None:
        meta = ev.obj["metadata"]
        if ev.type == "DELETED":
            self.enqueue(("dependents", meta.get("uid"), ev.namespace))
            for ref in meta.get("ownerReferences") or ():
                self.enqueue(("owner", ref.get("uid"), ev.namespace))
        elif meta.get("deletionTimestamp"):
            fins = meta.get("finalizers") or ()
            if "foregroundDeletion" in fins or "orphan" in fins:
                self.enqueue(("owner-obj", ev.key, ev.namespace, meta["name"]))

    def _dependents(self, uid: str, namespace: str) -> Iterator[tuple[str, Obj]]:
        for key in list(self.store._data):
            for obj in list(self.store.scan(key)):
                ns = obj["metadata"].get("namespace", "")
                if namespace and ns not in (namespace, ""):
                    continue
                for ref in obj["metadata"].get("ownerReferences") or ():
                    if ref.get("uid") == uid:
                        yield key, obj
                        break

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        if key[0] == "dependents":
            _, uid, ns = key
            for rkey, dep in list(self._dependents(uid, ns)):
                if dep["metadata"].get("deletionTimestamp"):
                    continue
                self._delete(rkey, dep, "Background")
        elif key[0] == "owner":
            _, uid, ns = key
            for rkey in list(self.store._data):
                for obj in list(self.store.scan(rkey, None)):
                    if obj["metadata"].get("uid") == uid and obj["metadata"].get("deletionTimestamp"):
                        self.enqueue(("owner-obj", rkey, obj["metadata"].get("namespace", ""),
                                      obj["metadata"]["name"]))
        elif key[0] == "owner-obj":
            _, rkey, ns, name = key
            owner = self.store.peek(rkey, ns, name)
            if owner is None:
                return
            self._finish_owner(rkey, owner)

    def _finish_owner(self, rkey: str, owner: Obj) -> None:
        meta = owner["metadata"]
        fins = list(meta.get("finalizers") or ())
        uid = meta["uid"]
        ns = meta.get("namespace", "")
        rtype = self.store.registry.for_key(rkey)
        if "orphan" in fins:
            for dkey, dep in list(self._dependents(uid, ns)):
                drt = self.store.registry.for_key(dkey)

                def drop(o: Obj, uid: str = uid) -> Obj:
                    refs = [r for r in o["metadata"].get("ownerReferences") or () if r.get("uid") != uid]
                    if refs:
                        o["metadata"]["ownerReferences"] = refs
                    else:
                        o["metadata"].pop("ownerReferences", None)
                    return o

                self._quiet(lambda drt=drt, dep=dep, drop=drop: self.store.guaranteed_update(
                    drt, dep["metadata"].get("namespace", ""), dep["metadata"]["name"], drop))
            self._remove_finalizer(rtype, owner, "orphan")
        elif "foregroundDeletion" in fins:
            remaining = list(self._dependents(uid, ns))
            for dkey, dep in remaining:
                if not dep["metadata"].get("deletionTimestamp"):
                    self._delete(dkey, dep, "Foreground")
            if not remaining:
                self._remove_finalizer(rtype, owner, "foregroundDeletion")

    def _remove_finalizer(self, rtype: Any, owner: Obj, fin: str) -> None:
        def mutate(o: Obj) -> Obj:
            o["metadata"]["finalizers"] = [f for f in o["metadata"].get("finalizers") or () if f != fin]
            return o

        self._quiet(lambda: self.store.guaranteed_update(
            rtype, owner["metadata"].get("namespace", ""), owner["metadata"]["name"], mutate))

    def _delete(self, rkey: str, obj: Obj, propagation: str) -> None:
        rtype = self.store.registry.for_key(rkey)
        self._quiet(lambda: self.store.delete(rtype, obj["metadata"].get("namespace", ""), obj["metadata"]["name"],
                                              None, None, propagation))

    @staticmethod
    def _quiet(fn: Any) -> None:
        try:
            fn()
        except ApiError as e:
            if e.code not in (404, 409):
                raise
