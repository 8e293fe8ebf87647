"""The backend: every object of the embedded cluster, and the only place state changes.

Like etcd behind the upstream apiserver: one global, monotonically increasing
resourceVersion, an event history for resuming watches (older entries are
"compacted" and answer 410), and watchers fed from every change. Objects are kept
as dicts together with their serialized JSON, so a LIST of thousands of pods joins
bytes instead of re-encoding them.

All methods run on the embedded cluster's event loop; nothing here is thread-safe,
and nothing here needs to be.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import json
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..objects import deep_copy, format_time, now_rfc3339, parse_time
from . import errors, pod_security
from .resources import REGISTRY, Registry, ResourceType
from .selectors import FieldSelector, LabelSelector, field_value
from .strategy import Strategy, strategy_for

Obj = dict[str, Any]


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class Entry:
    """A stored object and its JSON without kind/apiVersion (as list items are rendered)."""

    obj: Obj
    raw: bytes

    @property
    def full(self) -> bytes:
        return typed_raw(self.obj, self.raw)


def typed_raw(obj: Obj, raw: bytes) -> bytes:
    """``raw`` with kind and apiVersion in front, as single objects and watch events carry them."""
    head = '{{"kind":{},"apiVersion":{}'.format(json.dumps(obj["kind"]), json.dumps(obj["apiVersion"]))
    return head.encode() + (b"," + raw[1:] if len(raw) > 2 else b"}")


@dataclass
class Event:
    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    key: str
    namespace: str
    obj: Obj
    raw: bytes
    old: Obj | None = None


# Events a watcher may hold before it is closed as too slow (the cacher drops unresponsive watchers too).
WATCH_QUEUE_LIMIT = 10000
_CLOSE = "CLOSE"


@dataclass
class Watcher:
    """One watch: its filter, its queue of (type, obj, raw, rv), and the RV it started from.

    ``offer`` never blocks the writer: a watcher that falls ``limit`` events behind is closed
    (a sentinel ``CLOSE`` event ends its stream; the client re-lists or resumes, as with upstream).
    """

    key: str
    namespace: str | None
    labels: LabelSelector
    fields: FieldSelector
    queue: asyncio.Queue[tuple[str, Obj | None, bytes | None, int]] = field(default_factory=asyncio.Queue)
    name: str | None = None
    start_rv: int = 0
    limit: int = WATCH_QUEUE_LIMIT
    closed: bool = False
    on_close: Callable[[Watcher], None] | None = None

    def _matches(self, obj: Obj | None) -> bool:
        if obj is None:
            return False
        meta = obj.get("metadata") or {}
        if self.namespace is not None and meta.get("namespace", "") != self.namespace:
            return False
        if self.name is not None and meta.get("name") != self.name:
            return False
        return self.labels.matches(meta.get("labels")) and self.fields.matches(obj, field_value)

    def _put(self, item: tuple[str, Obj | None, bytes | None, int]) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= self.limit:
            self.closed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait((_CLOSE, None, None, 0))
            if self.on_close is not None:
                # Not now: the store is iterating over its watchers.
                asyncio.get_running_loop().call_soon(self.on_close, self)
            return
        self.queue.put_nowait(item)

    def offer(self, ev: Event) -> None:
        """Queue the event as this watcher sees it (selector transitions become ADDED/DELETED)."""
        if ev.key != self.key:
            return
        now = self._matches(ev.obj)
        if ev.type == "MODIFIED":
            before = self._matches(ev.old)
            if now and not before:
                self._put(("ADDED", ev.obj, ev.raw, ev.rv))
            elif before and not now:
                self._put(("DELETED", ev.obj, ev.raw, ev.rv))
            elif now:
                self._put(("MODIFIED", ev.obj, ev.raw, ev.rv))
        elif now:
            self._put((ev.type, ev.obj, ev.raw, ev.rv))


# What an empty object of a kind serializes to (a BOOKMARK carries one, with only its resourceVersion set).
_BOOKMARK_BODIES: dict[str, dict[str, Any]] = {
    "Pod": {"spec": {"containers": None}, "status": {}},
    "Service": {"spec": {}, "status": {"loadBalancer": {}}},
    "Namespace": {"spec": {}, "status": {}},
    "PersistentVolumeClaim": {"spec": {"resources": {}}, "status": {}},
    "PersistentVolume": {"spec": {}, "status": {}},
    "Deployment": {"spec": {"selector": None, "template": {"metadata": {}, "spec": {"containers": None}},
                            "strategy": {}}, "status": {}},
    "ReplicaSet": {"spec": {"selector": None, "template": {"metadata": {}, "spec": {"containers": None}}},
                   "status": {"replicas": 0}},
    "StatefulSet": {"spec": {"selector": None, "template": {"metadata": {}, "spec": {"containers": None}},
                             "serviceName": "", "updateStrategy": {}}, "status": {"replicas": 0}},
    "DaemonSet": {"spec": {"selector": None, "template": {"metadata": {}, "spec": {"containers": None}},
                           "updateStrategy": {}},
                  "status": {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0,
                             "numberReady": 0}},
}


def bookmark_object(kind: str, api_version: str, rv: int, initial_events_end: bool = False) -> Obj:
    """The object of a BOOKMARK event: an empty ``kind`` with only ``metadata.resourceVersion``."""
    meta: Obj = {"resourceVersion": str(rv)}
    if initial_events_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": kind, "apiVersion": api_version, "metadata": meta, **deep_copy(_BOOKMARK_BODIES.get(kind, {}))}


Listener = Callable[[Event], None]


class Store:
    """Objects by resource key and (namespace, name), with history and watchers."""

    # Events a watcher may fall behind before it is closed (see ``Watcher``).
    watch_queue_limit = WATCH_QUEUE_LIMIT

    def __init__(self, registry: Registry = REGISTRY, history: int = 20000):
        self.registry = registry
        self.rv = 1
        self._data: dict[str, dict[tuple[str, str], Entry]] = {}
        self._order: dict[str, list[tuple[str, tuple[str, str]]]] = {}
        self._history: deque[Event] = deque(maxlen=history)
        self._watchers: list[Watcher] = []
        self._listeners: list[Listener] = []
        self.allocators: dict[str, Any] = {}
        # Mutating admission after the built-in plugins, before validation (the admission webhooks' place in
        # upstream's chain): each hook gets (rtype, namespace, obj) on create and may change obj or raise ApiError.
        self.admission_hooks: list[Callable[[ResourceType, str, Obj], None]] = []

    # ------------------------------------------------------------------ plumbing

    def strategy(self, rtype: ResourceType) -> Strategy:
        return strategy_for(rtype)

    def add_listener(self, fn: Listener) -> None:
        """Call ``fn(event)`` after every change (the in-process controllers' informer)."""
        self._listeners.append(fn)

    def _bucket(self, key: str) -> dict[tuple[str, str], Entry]:
        return self._data.setdefault(key, {})

    def _commit(self, rtype: ResourceType, etype: str, obj: Obj, old: Obj | None) -> Obj:
        if rtype.storage:  # another view of a stored resource: store in the storage type's shape
            rtype = self.registry.for_key(rtype.storage)
        self.rv += 1
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(self.rv)
        obj["kind"] = rtype.kind
        obj["apiVersion"] = rtype.api_version
        obj = _ordered(obj)
        raw = dumps({k: v for k, v in obj.items() if k not in ("kind", "apiVersion")})
        ns = meta.get("namespace", "")
        bucket = self._bucket(rtype.key)
        k = (ns, meta["name"])
        if etype == "DELETED":
            bucket.pop(k, None)
            self._order.pop(rtype.key, None)
        else:
            if k not in bucket:
                self._order.pop(rtype.key, None)
            bucket[k] = Entry(obj, raw)
        ev = Event(self.rv, etype, rtype.key, ns, obj, raw, old)
        self._history.append(ev)
        for w in self._watchers:
            w.offer(ev)
        for fn in list(self._listeners):
            fn(ev)
        return obj

    @property
    def oldest_rv(self) -> int:
        return self._history[0].rv if self._history else self.rv

    # ------------------------------------------------------------------ reads

    def entry_for(self, rtype: ResourceType, obj: Obj) -> Entry | None:
        """The stored entry whose object is ``obj`` itself (to render its cached JSON), else None."""
        meta = obj["metadata"]
        entry = self._bucket(rtype.key).get((meta.get("namespace", "") if rtype.namespaced else "", meta["name"]))
        return entry if entry is not None and entry.obj is obj else None

    def _copy(self, rtype: ResourceType, stored: Obj) -> Obj:
        """A private copy of a just-committed object, decoded from its cached JSON."""
        entry = self.entry_for(rtype, stored)
        return json.loads(entry.full) if entry is not None else deep_copy(stored)

    def get_entry(self, rtype: ResourceType, namespace: str, name: str) -> Entry:
        entry = self._bucket(rtype.key).get((namespace if rtype.namespaced else "", name))
        if entry is None:
            raise errors.not_found(rtype.group, rtype.plural, name)
        return entry

    def get(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        """A private copy of the stored object (safe to change)."""
        return json.loads(self.get_entry(rtype, namespace, name).full)

    def peek(self, key: str, namespace: str, name: str) -> Obj | None:
        """The stored object itself, read-only, or None (for controllers on the loop)."""
        entry = self._bucket(key).get((namespace, name))
        return entry.obj if entry else None

    def scan(self, key: str, namespace: str | None = None) -> Iterable[Obj]:
        """Stored objects of a resource key, read-only."""
        for (ns, _), entry in list(self._bucket(key).items()):
            if namespace is None or ns == namespace:
                yield entry.obj

    def _ordered_keys(self, key: str) -> list[tuple[str, tuple[str, str]]]:
        """The bucket's keys as (``ns/name`` or ``name``, key), in etcd key order; cached until a key comes or goes."""
        order = self._order.get(key)
        if order is None:
            order = sorted((f"{k[0]}/{k[1]}" if k[0] else k[1], k) for k in self._bucket(key))
            self._order[key] = order
        return order

    def _snapshot(
        self, key: str, rv: int, bucket: dict[tuple[str, str], Entry], order: list[tuple[str, tuple[str, str]]],
    ) -> tuple[dict[tuple[str, str], Entry], list[tuple[str, tuple[str, str]]]]:
        """The bucket as it was at ``rv``: undo, newest first, every change made after it."""
        before: dict[tuple[str, str], Obj | None] = {}
        for ev in reversed(self._history):
            if ev.rv <= rv:
                break
            if ev.key == key:
                before[(ev.namespace, ev.obj["metadata"]["name"])] = ev.old if ev.type != "ADDED" else None
        if not before:
            return bucket, order
        snap = dict(bucket)
        for k, old in before.items():
            if old is None:
                snap.pop(k, None)
            else:
                snap[k] = Entry(old, dumps({f: v for f, v in old.items() if f not in ("kind", "apiVersion")}))
        return snap, sorted((f"{k[0]}/{k[1]}" if k[0] else k[1], k) for k in snap)

    def list(
        self,
        rtype: ResourceType,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        limit: int = 0,
        continue_token: str | None = None,
    ) -> tuple[list[bytes], str, str | None, int | None]:
        """Matching objects' JSON in etcd key order; returns (raws, rv, continue, remaining).

        The continue token is upstream's: ``{"v","rv","start"}`` where start is the last returned key,
        relative to the listed prefix, followed by a NUL byte.
        """
        start = ""
        list_rv = self.rv
        if continue_token:
            start, list_rv = decode_continue(continue_token)
        bucket: dict[tuple[str, str], Entry] = self._bucket(rtype.key)
        order = self._ordered_keys(rtype.key)
        if continue_token and list_rv < self.rv:
            # Later pages show the list as it was at the first page's resourceVersion (the watch cache's
            # snapshot in v1.36), rebuilt from the history while it still reaches back that far.
            bucket, order = self._snapshot(rtype.key, list_rv, bucket, order)
        if namespace is not None and rtype.namespaced:
            candidates = [(k[1], k) for _, k in order if k[0] == namespace]
        else:
            candidates = order
        first = bisect.bisect_left(candidates, (start,)) if start else 0
        out: list[bytes] = []
        next_token = None
        remaining = None
        last_rel = ""
        check = bool(labels) or bool(fields)
        for i in range(first, len(candidates)):
            rel, k = candidates[i]
            entry = bucket[k]
            if check:
                meta = entry.obj["metadata"]
                if labels and not labels.matches(meta.get("labels")):
                    continue
                if fields and not fields.matches(entry.obj, field_value):
                    continue
            if limit and len(out) >= limit:
                next_token = encode_continue(last_rel + "\x00", list_rv)
                if not check:
                    remaining = len(candidates) - i
                break
            out.append(entry.raw)
            last_rel = rel
        return out, str(list_rv), next_token, remaining

    # ------------------------------------------------------------------ writes

    def create(self, rtype: ResourceType, namespace: str, obj: Obj, dry_run: bool = False, copy: bool = True) -> Obj:
        """Create ``obj``; returns a private copy, or with ``copy=False`` the stored object itself (read-only)."""
        strat = self.strategy(rtype)
        meta = obj.setdefault("metadata", {}) or {}
        obj["metadata"] = meta
        if rtype.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and body_ns != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + _random_suffix()
        for k in ("uid", "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(k, None)
        meta["creationTimestamp"] = now_rfc3339()
        strat.prepare_for_create(obj, self)
        for hook in self.admission_hooks:
            hook(rtype, namespace, obj)
            meta = obj["metadata"]  # a webhook's patch may have replaced it
        causes = strat.validate(obj, self)
        if causes:
            raise errors.invalid(rtype.group, rtype.kind, meta.get("name", ""), causes)
        if rtype.namespaced:
            self._check_namespace_accepts(rtype, namespace, meta.get("name", ""))
        if rtype.kind == "Pod":  # PodSecurity admission, enforce mode
            pod_security.enforce(self, namespace, obj)
        key = (namespace if rtype.namespaced else "", meta["name"])
        if key in self._bucket(rtype.key):
            raise errors.already_exists(rtype.group, rtype.plural, meta["name"])
        strat.allocate(obj, self, dry_run)
        meta["uid"] = meta.get("uid") or str(uuid.uuid4())  # a strategy may need it earlier (Job selectors)
        if dry_run:
            stored_as = self.registry.for_key(rtype.storage) if rtype.storage else rtype
            obj["kind"], obj["apiVersion"] = stored_as.kind, stored_as.api_version
            return _ordered(obj)
        created = self._commit(rtype, "ADDED", obj, None)
        strat.after_create(created, self)
        return self._copy(rtype, created) if copy else created

    def _check_namespace_accepts(self, rtype: ResourceType, namespace: str, name: str) -> None:
        ns_entry = self._bucket("namespaces").get(("", namespace))
        if ns_entry is None:
            raise errors.not_found("", "namespaces", namespace)
        if ns_entry.obj.get("status", {}).get("phase") == "Terminating" and rtype.key != "events":
            err = errors.forbidden(
                rtype.group, rtype.plural, name,
                f"unable to create new content in namespace {namespace} because it is being terminated")
            err.causes.append(errors.Cause("NamespaceTerminating", f"namespace {namespace} is being terminated",
                                           "metadata.namespace"))
            raise err

    def update(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        obj: Obj,
        subresource: str | None = None,
        dry_run: bool = False,
        force_allow_create: bool = False,
        copy: bool = True,
    ) -> Obj:
        """PUT semantics: optimistic concurrency on metadata.resourceVersion when the body has one.

        Returns a private copy, or with ``copy=False`` the stored object itself (read-only)."""
        strat = self.strategy(rtype)
        meta = obj.setdefault("metadata", {}) or {}
        obj["metadata"] = meta
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(
                "the name of the object ({}) does not match the name on the URL ({})".format(meta["name"], name))
        ns = namespace if rtype.namespaced else ""
        entry = self._bucket(rtype.key).get((ns, name))
        if entry is None:
            if force_allow_create and subresource is None:
                meta["name"] = name
                return self.create(rtype, namespace, obj, dry_run, copy)
            raise errors.not_found(rtype.group, rtype.plural, name)
        old = entry.obj
        rv = meta.get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise errors.conflict(rtype.group, rtype.plural, name, errors.STALE_OBJECT)
        if rtype.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and body_ns != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request")
        new = deep_copy(obj)
        new_meta = new["metadata"]
        old_meta = old["metadata"]
        for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
            if k in old_meta:
                new_meta[k] = old_meta[k]
            else:
                new_meta.pop(k, None)
        new_meta["name"] = name
        if rtype.namespaced:
            new_meta["namespace"] = namespace
        else:
            new_meta.pop("namespace", None)
        strat.prepare_for_update(new, old, subresource, self)
        causes = strat.validate_update(new, old, subresource, self)
        if old_meta.get("deletionTimestamp"):
            added = sorted(set(new_meta.get("finalizers") or ()) - set(old_meta.get("finalizers") or ()))
            if added:  # ValidateNoNewFinalizers
                shown = ", ".join(json.dumps(f) for f in added)
                causes.append(errors.Cause(
                    "FieldValueForbidden", "Forbidden: no new finalizers can be added if the object is being "
                    f"deleted, found new finalizers []string{{{shown}}}", "metadata.finalizers"))
        if causes:
            raise errors.invalid(rtype.group, rtype.kind, name, causes)
        if subresource is None and "generation" in old_meta and _spec_changed(new, old):
            new_meta["generation"] = int(old_meta.get("generation", 1)) + 1
        if dry_run:
            new_meta["resourceVersion"] = old_meta["resourceVersion"]
            return _ordered(new)
        if _same(new, old):
            return json.loads(entry.full) if copy else old
        # An object being deleted goes once its last finalizer is removed.
        if new_meta.get("deletionTimestamp") and not new_meta.get("finalizers") and strat.finished_deleting(new):
            return self._remove(rtype, new, old)
        stored = self._commit(rtype, "MODIFIED", new, old)
        strat.after_update(stored, old, self)
        return self._copy(rtype, stored) if copy else stored

    def update_raw(self, rtype: ResourceType, new: Obj, old: Obj) -> Obj:
        """Store ``new`` in place of ``old`` without strategy rules (registry-internal writes like binding)."""
        if new["metadata"].get("resourceVersion") != old["metadata"]["resourceVersion"]:
            raise errors.conflict(rtype.group, rtype.plural, new["metadata"]["name"], errors.STALE_OBJECT)
        stored = self._commit(rtype, "MODIFIED", new, old)
        return deep_copy(stored)

    def guaranteed_update(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        mutate: Callable[[Obj], Obj | None],
        subresource: str | None = None,
        dry_run: bool = False,
        copy: bool = True,
    ) -> Obj:
        """Read-modify-write without a precondition (PATCH and controllers)."""
        current = self.get(rtype, namespace, name)
        rv = current["metadata"]["resourceVersion"]
        new = mutate(current)
        if new is None:
            new = current
        new.setdefault("metadata", {})
        if new["metadata"].get("resourceVersion") in (None, ""):
            new["metadata"]["resourceVersion"] = rv
        return self.update(rtype, namespace, name, new, subresource, dry_run, copy=copy)

    def delete(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        grace_seconds: int | None = None,
        preconditions: dict[str, Any] | None = None,
        propagation: str | None = None,
        dry_run: bool = False,
    ) -> tuple[Obj, bool]:
        """Delete; returns (object, gone). Graceful deletion and finalizers keep the object around.

        Follows the generic registry's ``Store.Delete``: preconditions, then the garbage-collection
        finalizers the propagation policy asks for, then ``rest.BeforeDelete`` (graceful deletion,
        which only pods have), then either an update marking the object as deleting or its removal.
        """
        strat = self.strategy(rtype)
        entry = self.get_entry(rtype, namespace, name)
        old = entry.obj
        meta = old["metadata"]
        strat.check_delete(old)
        if preconditions:
            _check_delete_preconditions(rtype, name, meta, preconditions)
        new = json.loads(entry.full)
        nmeta = new["metadata"]
        if strat.two_phase_delete and not meta.get("deletionTimestamp"):
            # Namespaces: the first DELETE marks the object Terminating; its finalizers do the rest.
            nmeta["deletionTimestamp"] = now_rfc3339()
            _set_finalizers(nmeta, _gc_finalizers(nmeta.get("finalizers") or [], propagation, strat.orphans_by_default))
            strat.begin_delete(new, self)
            if dry_run:
                return _ordered(new), False
            stored = self._commit(rtype, "MODIFIED", new, old)
            strat.after_update(stored, old, self)
            return deep_copy(stored), False
        if strat.two_phase_delete and not strat.finished_deleting(new):
            return json.loads(entry.full), False

        graceful = False
        period = strat.grace_period(old, grace_seconds)
        if period is not None and period < 0:
            period = 1  # negative values mean 1 s on the delete path
        if meta.get("deletionTimestamp"):
            current = meta.get("deletionGracePeriodSeconds")
            if current and period is not None:
                if grace_seconds is None or period >= current:
                    return json.loads(entry.full), False  # graceful deletion already pending
                started = (parse_time(meta["deletionTimestamp"]) or time.time()) - current
                nmeta["deletionTimestamp"] = format_time(started + period)
                nmeta["deletionGracePeriodSeconds"] = period
                graceful = True
        elif period is not None:
            nmeta["deletionTimestamp"] = now_rfc3339(period)
            nmeta["deletionGracePeriodSeconds"] = period
            if nmeta.get("generation"):
                nmeta["generation"] = int(nmeta["generation"]) + 1
            graceful = True

        finalizers = _gc_finalizers(nmeta.get("finalizers") or [], propagation, strat.orphans_by_default)
        _set_finalizers(nmeta, finalizers)
        if not graceful:
            if not finalizers:
                if dry_run:
                    return json.loads(entry.full), True
                return self._remove(rtype, new, old), True
            # markAsDeleting: no graceful deletion, but finalizers are pending.
            if not meta.get("deletionTimestamp") and nmeta.get("generation"):
                nmeta["generation"] = int(nmeta["generation"]) + 1
            nmeta.setdefault("deletionTimestamp", now_rfc3339())
            nmeta["deletionGracePeriodSeconds"] = 0
        elif not finalizers and nmeta["deletionGracePeriodSeconds"] == 0:
            if dry_run:
                return _ordered(new), True
            return self._remove(rtype, new, old), True
        if dry_run:
            return _ordered(new), False
        if _same(new, old):
            return json.loads(entry.full), False
        if not meta.get("deletionTimestamp"):
            strat.begin_delete(new, self)
        stored = self._commit(rtype, "MODIFIED", new, old)
        strat.after_update(stored, old, self)
        return deep_copy(stored), False

    def _remove(self, rtype: ResourceType, obj: Obj, old: Obj) -> Obj:
        gone = self._commit(rtype, "DELETED", obj, old)
        self.strategy(rtype).after_delete(gone, self)
        return deep_copy(gone)

    # ------------------------------------------------------------------ watch

    def watch(
        self,
        rtype: ResourceType,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        resource_version: str | None,
        name: str | None = None,
        send_initial_events: bool | None = None,
    ) -> Watcher:
        """Register a watcher primed with what it must see first (initial ADDED or history).

        No resourceVersion (or "0") means the current state as synthetic ADDED events, then
        live events; an RV resumes after it from the history, and an RV older than the history
        window (only once the history has wrapped, as etcd compaction would) is 410 Expired with
        the watch cache's message; an RV newer than the store's is 504 "Too large resource version".
        ``send_initial_events`` (WatchList) forces the initial ADDED events.
        """
        w = Watcher(rtype.key, namespace, labels, fields, name=name)
        initial = send_initial_events if send_initial_events is not None else \
            (not resource_version or resource_version == "0")
        since = 0
        if resource_version:
            try:
                since = int(resource_version)
            except ValueError:
                raise errors.bad_request(f'invalid resource version "{resource_version}"') from None
            if since > self.rv:
                raise errors.ApiError(
                    504, "Timeout", f"Timeout: Too large resource version: {since}, current: {self.rv}",
                    {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                     "retryAfterSeconds": 1})
        if initial:
            bucket = self._bucket(rtype.key)
            for _key, entry in sorted(bucket.items()):
                if w._matches(entry.obj):
                    w.queue.put_nowait(("ADDED", entry.obj, entry.raw, int(entry.obj["metadata"]["resourceVersion"])))
            w.start_rv = self.bookmark_rv(rtype.key)
        elif since:
            oldest = self.oldest_rv
            if since < oldest - 1 and len(self._history) == self._history.maxlen:
                raise errors.gone(f"too old resource version: {since} ({oldest - 1})")
            for ev in self._history:
                if ev.rv > since:
                    w.offer(ev)
            w.start_rv = since
        else:
            w.start_rv = self.bookmark_rv(rtype.key)
        w.limit = self.watch_queue_limit + w.queue.qsize()
        w.on_close = self.stop_watch
        self._watchers.append(w)
        return w

    def stop_watch(self, w: Watcher) -> None:
        """Forget a watcher (its stream ended or its client went away)."""
        w.closed = True
        if w in self._watchers:
            self._watchers.remove(w)

    def close_watchers(self, key: str) -> None:
        """End every watch on ``key`` (a custom resource whose CRD is gone): their streams close."""
        for w in [w for w in self._watchers if w.key == key]:
            w.queue.put_nowait((_CLOSE, None, None, 0))
            self.stop_watch(w)

    @property
    def watcher_count(self) -> int:
        return len(self._watchers)

    def bookmark_rv(self, key: str | None = None) -> int:
        """The watch cache's RV for ``key``: the RV of its newest event (the store's RV without a key)."""
        if key is None:
            return self.rv
        for ev in reversed(self._history):
            if ev.key == key:
                return ev.rv
        return self.oldest_rv - 1 if len(self._history) == self._history.maxlen else 0


# ---------------------------------------------------------------------- helpers

GC_FINALIZERS = ("orphan", "foregroundDeletion")


def _gc_finalizers(existing: list[str], propagation: str | None, orphan_default: bool = False) -> list[str]:
    """Finalizers after a DELETE with ``propagation`` (upstream ``deletionFinalizersForGarbageCollection``).

    An explicit policy wins; without one, an ``orphan`` or ``foregroundDeletion`` finalizer already on
    the object decides; otherwise the kind's default: dependents orphaned (``orphan_default``, Jobs) or
    deleted in the background (no finalizer).
    """
    if propagation == "Orphan":
        orphan, foreground = True, False
    elif propagation == "Foreground":
        orphan, foreground = False, True
    elif propagation == "Background":
        orphan, foreground = False, False
    else:
        first = next((f for f in existing if f in GC_FINALIZERS), None)
        orphan, foreground = first == "orphan" or (first is None and orphan_default), first == "foregroundDeletion"
    out = [f for f in existing if f not in GC_FINALIZERS]
    if orphan:
        out.append("orphan")
    if foreground:
        out.append("foregroundDeletion")
    return out


def _set_finalizers(meta: Obj, finalizers: list[str]) -> None:
    if finalizers:
        meta["finalizers"] = finalizers
    else:
        meta.pop("finalizers", None)


def _check_delete_preconditions(rtype: ResourceType, name: str, meta: Obj, pre: dict[str, Any]) -> None:
    """409 as ``rest.BeforeDelete`` words it (resource named by Kind, not plural)."""
    details = {"name": name, "kind": rtype.kind}
    want_uid = pre.get("uid")
    if want_uid and want_uid != meta["uid"]:
        raise errors.ApiError(
            409, "Conflict",
            f'Operation cannot be fulfilled on {rtype.kind} "{name}": the UID in the precondition ({want_uid}) does '
            f"not match the UID in record ({meta['uid']}). The object might have been deleted and then recreated",
            details)
    want_rv = pre.get("resourceVersion")
    if want_rv and want_rv != meta["resourceVersion"]:
        raise errors.ApiError(
            409, "Conflict",
            f'Operation cannot be fulfilled on {rtype.kind} "{name}": the ResourceVersion in the precondition '
            f"({want_rv}) does not match the ResourceVersion in record ({meta['resourceVersion']}). The object "
            "might have been modified", details)


_TOP_ORDER = ("kind", "apiVersion", "metadata", "spec", "status")
_META_ORDER = ("name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
               "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences",
               "finalizers", "managedFields")


def _ordered(obj: Obj) -> Obj:
    """Key order as the Go structs serialize them (kind, apiVersion, metadata, ...)."""
    out: Obj = {}
    for k in _TOP_ORDER:
        if k in obj:
            out[k] = obj[k]
    for k, v in obj.items():
        if k not in out:
            out[k] = v
    meta = out.get("metadata")
    if isinstance(meta, dict):
        m: Obj = {}
        for k in _META_ORDER:
            if k in meta and meta[k] is not None:
                m[k] = meta[k]
        for k, v in meta.items():
            if k not in m and v is not None:
                m[k] = v
        out["metadata"] = m
    return out


def _spec_changed(new: Obj, old: Obj) -> bool:
    for k in new.keys() | old.keys():
        if k in ("metadata", "status", "kind", "apiVersion"):
            continue
        if new.get(k) != old.get(k):
            return True
    return False


def _same(new: Obj, old: Obj) -> bool:
    a = dict(new)
    b = dict(old)
    a["metadata"] = {k: v for k, v in new["metadata"].items() if k != "resourceVersion"}
    b["metadata"] = {k: v for k, v in old["metadata"].items() if k != "resourceVersion"}
    a.pop("kind", None), a.pop("apiVersion", None), b.pop("kind", None), b.pop("apiVersion", None)
    return a == b


_ALNUM = "bcdfghjklmnpqrstvwxz2456789"


def _random_suffix(n: int = 5) -> str:
    raw = uuid.uuid4().int
    out = []
    for _ in range(n):
        raw, i = divmod(raw, len(_ALNUM))
        out.append(_ALNUM[i])
    return "".join(out)


def random_suffix(n: int = 5) -> str:
    """The apiserver's generateName alphabet (no vowels, no look-alike digits)."""
    return _random_suffix(n)


def encode_continue(start: str, rv: int) -> str:
    payload = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except Exception:
        raise errors.bad_request("invalid continue token: continue key is not valid: illegal base64 data") from None
    try:
        data = json.loads(raw)
        if data.get("v") != "meta.k8s.io/v1":
            raise errors.bad_request("invalid continue token: continue key is not valid: incorrect encoded start "
                                     "resourceVersion (version meta.k8s.io/v1)")
        return str(data.get("start", "")), int(data.get("rv", 0))
    except errors.ApiError:
        raise
    except Exception:
        first = raw[:1].decode("latin-1") if raw else ""
        shown = first if first.isprintable() else f"\\u{ord(first):04x}" if first else ""
        raise errors.bad_request(
            f"invalid continue token: continue key is not valid: invalid character '{shown}' looking for "
            "beginning of value") from None
