"""Owner-reference garbage collection with the three propagation policies
(upstream ``pkg/controller/garbagecollector``).

Background: a dependent whose owners are all gone is deleted. Foreground: the owner keeps the
``foregroundDeletion`` finalizer (and its deletionTimestamp) while dependents that reference it
with ``blockOwnerDeletion: true`` exist; every dependent is deleted. Orphan: the owner's references
are removed from its dependents, then its ``orphan`` finalizer. A dependent that still has a live
owner only loses the references to the owners that are gone or being deleted in the foreground.

The graph (uid -> object, owner uid -> dependents) is kept from store events, so no sync scans the store.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from ..apiserver.errors import quiet
from ..apiserver.resources import ResourceType
from ..apiserver.store import Event
from .base import Controller

Obj = dict[str, Any]
Ref = tuple[str, str, str]  # (resource key, namespace, name)

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"


class GarbageCollector(Controller):
    name = "garbage-collector"

    def __init__(self, store: Any):
        super().__init__(store)
        self._by_uid: dict[str, Ref] = {}
        self._dependents: dict[str, set[Ref]] = {}
        self._owners: dict[Ref, tuple[str, ...]] = {}

    # ------------------------------------------------------------------ graph

    def on_event(self, ev: Event) -> None:
        meta = ev.obj["metadata"]
        uid = meta.get("uid")
        ref: Ref = (ev.key, ev.namespace, meta["name"])
        owners = tuple(r.get("uid", "") for r in meta.get("ownerReferences") or ())
        before = self._owners.get(ref, ())
        if ev.type == "DELETED":
            self._by_uid.pop(uid, None)
            self._set_owners(ref, ())
            for dep in self._dependents.get(uid, ()):
                self.enqueue(("dependent", *dep))
            for owner_uid in owners:
                owner = self._by_uid.get(owner_uid)
                if owner is not None:
                    self.enqueue(("owner", *owner))
            return
        if uid:
            self._by_uid[uid] = ref
        if owners != before:
            self._set_owners(ref, owners)
            if owners:
                self.enqueue(("dependent", *ref))
            for gone in set(before) - set(owners):
                owner = self._by_uid.get(gone)
                if owner is not None:
                    self.enqueue(("owner", *owner))
        fins = meta.get("finalizers") or ()
        if meta.get("deletionTimestamp") and (ORPHAN in fins or FOREGROUND in fins):
            self.enqueue(("owner", *ref))
            if FOREGROUND in fins and ev.old is not None and FOREGROUND not in (
                    ev.old["metadata"].get("finalizers") or ()):
                for dep in self._dependents.get(uid, ()):
                    self.enqueue(("dependent", *dep))

    def _set_owners(self, ref: Ref, owners: tuple[str, ...]) -> None:
        for uid in self._owners.pop(ref, ()):
            deps = self._dependents.get(uid)
            if deps is not None:
                deps.discard(ref)
                if not deps:
                    del self._dependents[uid]
        if owners:
            self._owners[ref] = owners
            for uid in owners:
                self._dependents.setdefault(uid, set()).add(ref)

    # ------------------------------------------------------------------ work

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        what, rkey, ns, name = key
        obj = self.store.peek(rkey, ns, name)
        if obj is None:
            return
        if what == "dependent":
            self._attempt_to_delete(rkey, obj)
        else:
            self._process_owner(rkey, obj)

    def _owner_state(self, dep: Obj, ref: Obj) -> str:
        """``solid``, ``dangling`` (gone) or ``waiting`` (being deleted in the foreground)."""
        uid = ref.get("uid", "")
        rtype = self.store.registry.by_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
        if rtype is None:
            return "solid"  # a kind we cannot resolve is never collected
        where = self._by_uid.get(uid)
        ns = dep["metadata"].get("namespace", "") if rtype.namespaced else ""
        if where is None or where != (rtype.key, ns, ref.get("name", "")):
            return "dangling"
        owner = self.store.peek(*where)
        if owner is None:
            return "dangling"
        ometa = owner["metadata"]
        if ometa.get("deletionTimestamp") and FOREGROUND in (ometa.get("finalizers") or ()):
            return "waiting"
        return "solid"

    def _attempt_to_delete(self, rkey: str, dep: Obj) -> None:
        meta = dep["metadata"]
        refs = meta.get("ownerReferences") or []
        if not refs:
            return
        if meta.get("deletionTimestamp") and FOREGROUND not in (meta.get("finalizers") or ()):
            return
        states = {r.get("uid", ""): self._owner_state(dep, r) for r in refs}
        solid = [u for u, s in states.items() if s == "solid"]
        unwanted = {u for u, s in states.items() if s != "solid"}
        if solid:
            if unwanted:
                self._drop_refs(rkey, dep, unwanted)
            return
        if meta.get("deletionTimestamp"):
            return
        fins = meta.get("finalizers") or ()
        if "waiting" in states.values() and self._dependents.get(meta.get("uid", "")):
            policy = "Foreground"
        elif ORPHAN in fins:
            policy = "Orphan"
        elif FOREGROUND in fins:
            policy = "Foreground"
        else:
            policy = "Background"
        quiet(lambda: self.store.delete(self._rtype(rkey), meta.get("namespace", ""), meta["name"],
                                        None, {"uid": meta["uid"]}, policy))

    def _process_owner(self, rkey: str, owner: Obj) -> None:
        meta = owner["metadata"]
        if not meta.get("deletionTimestamp"):
            return
        fins = meta.get("finalizers") or ()
        uid = meta["uid"]
        deps = [d for d in (self.store.peek(*r) for r in sorted(self._dependents.get(uid, ()))) if d is not None]
        if ORPHAN in fins:
            for dep in deps:
                self._drop_refs(self._key_of(dep), dep, {uid})
            self._remove_finalizer(rkey, owner, ORPHAN)
        elif FOREGROUND in fins:
            blocking = [d for d in deps if any(r.get("uid") == uid and r.get("blockOwnerDeletion")
                                               for r in d["metadata"].get("ownerReferences") or ())]
            if not blocking:
                self._remove_finalizer(rkey, owner, FOREGROUND)
                return
            for dep in blocking:
                if not dep["metadata"].get("deletionTimestamp"):
                    self.enqueue(("dependent", self._key_of(dep), dep["metadata"].get("namespace", ""),
                                  dep["metadata"]["name"]))

    # ------------------------------------------------------------------ writes

    def _key_of(self, obj: Obj) -> str:
        ref = self._by_uid.get(obj["metadata"].get("uid", ""))
        assert ref is not None
        return ref[0]

    def _rtype(self, rkey: str) -> ResourceType:
        return self.store.registry.for_key(rkey)

    def _drop_refs(self, rkey: str, dep: Obj, uids: set[str]) -> None:
        def drop(o: Obj) -> Obj:
            refs = [r for r in o["metadata"].get("ownerReferences") or () if r.get("uid") not in uids]
            if refs:
                o["metadata"]["ownerReferences"] = refs
            else:
                o["metadata"].pop("ownerReferences", None)
            return o

        meta = dep["metadata"]
        quiet(lambda: self.store.guaranteed_update(self._rtype(rkey), meta.get("namespace", ""), meta["name"],
                                                   drop))

    def _remove_finalizer(self, rkey: str, owner: Obj, fin: str) -> None:
        def mutate(o: Obj) -> Obj:
            o["metadata"]["finalizers"] = [f for f in o["metadata"].get("finalizers") or () if f != fin]
            return o

        meta = owner["metadata"]
        quiet(lambda: self.store.guaranteed_update(self._rtype(rkey), meta.get("namespace", ""), meta["name"],
                                                   mutate))
