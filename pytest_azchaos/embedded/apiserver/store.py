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
import copy
import json
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import errors
from .resources import REGISTRY, Registry, ResourceType
from .selectors import FieldSelector, LabelSelector, field_value
from .strategy import Strategy, strategy_for

Obj = dict[str, Any]


def now_rfc3339(delta_seconds: float = 0) -> str:
    t = datetime.now(UTC) + timedelta(seconds=delta_seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


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


@dataclass
class Watcher:
    key: str
    namespace: str | None
    labels: LabelSelector
    fields: FieldSelector
    queue: asyncio.Queue[tuple[str, Obj | None, bytes | None, int]] = field(default_factory=asyncio.Queue)
    name: str | None = None

    def _matches(self, obj: Obj | None) -> bool:
        if obj is None:
            return False
        meta = obj.get("metadata") or {}
        if self.namespace is not None and meta.get("namespace", "") != self.namespace:
            return False
        if self.name is not None and meta.get("name") != self.name:
            return False
        return self.labels.matches(meta.get("labels")) and self.fields.matches(obj, field_value)

    def offer(self, ev: Event) -> None:
        """Queue the event as this watcher sees it (label transitions become ADDED/DELETED)."""
        if ev.key != self.key:
            return
        now = self._matches(ev.obj)
        if ev.type == "MODIFIED":
            before = self._matches(ev.old)
            if now and not before:
                self.queue.put_nowait(("ADDED", ev.obj, ev.raw, ev.rv))
            elif before and not now:
                self.queue.put_nowait(("DELETED", ev.obj, ev.raw, ev.rv))
            elif now:
                self.queue.put_nowait(("MODIFIED", ev.obj, ev.raw, ev.rv))
        elif now:
            self.queue.put_nowait((ev.type, ev.obj, ev.raw, ev.rv))


Listener = Callable[[Event], None]


class Store:
    """Objects by resource key and (namespace, name), with history and watchers."""

    def __init__(self, registry: Registry = REGISTRY, history: int = 20000):
        self.registry = registry
        self.rv = 1
        self._data: dict[str, dict[tuple[str, str], Entry]] = {}
        self._history: deque[Event] = deque(maxlen=history)
        self._watchers: list[Watcher] = []
        self._listeners: list[Listener] = []
        self.allocators: dict[str, Any] = {}

    # ------------------------------------------------------------------ plumbing

    def strategy(self, rtype: ResourceType) -> Strategy:
        return strategy_for(rtype)

    def add_listener(self, fn: Listener) -> None:
        """Call ``fn(event)`` after every change (the in-process controllers' informer)."""
        self._listeners.append(fn)

    def _bucket(self, key: str) -> dict[tuple[str, str], Entry]:
        return self._data.setdefault(key, {})

    def _commit(self, rtype: ResourceType, etype: str, obj: Obj, old: Obj | None) -> Obj:
        self.rv += 1
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(self.rv)
        obj["kind"] = rtype.kind
        obj["apiVersion"] = rtype.api_version
        obj = _ordered(obj)
        raw = dumps({k: v for k, v in obj.items() if k not in ("kind", "apiVersion")})
        ns = meta.get("namespace", "")
        bucket = self._bucket(rtype.key)
        if etype == "DELETED":
            bucket.pop((ns, meta["name"]), None)
        else:
            bucket[(ns, meta["name"])] = Entry(obj, raw)
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

    def list(
        self,
        rtype: ResourceType,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        limit: int = 0,
        continue_token: str | None = None,
    ) -> tuple[list[bytes], str, str | None, int | None]:
        """Matching objects' JSON, sorted by namespace/name; returns (raws, rv, continue, remaining)."""
        start = ""
        list_rv = self.rv
        if continue_token:
            start, list_rv = decode_continue(continue_token)
        bucket = self._bucket(rtype.key)
        keys = sorted(k for k in bucket if namespace is None or k[0] == namespace)
        out: list[bytes] = []
        next_token = None
        remaining = None
        for i, k in enumerate(keys):
            path = f"{k[0]}/{k[1]}"
            if start and path <= start:
                continue
            entry = bucket[k]
            meta = entry.obj["metadata"]
            if labels and not labels.matches(meta.get("labels")):
                continue
            if fields and not fields.matches(entry.obj, field_value):
                continue
            if limit and len(out) >= limit:
                last = _last_path(out)
                next_token = encode_continue(last, list_rv)
                if not labels and not fields:
                    remaining = len(keys) - i
                break
            out.append(entry.raw)
        return out, str(list_rv), next_token, remaining

    # ------------------------------------------------------------------ writes

    def create(self, rtype: ResourceType, namespace: str, obj: Obj, dry_run: bool = False) -> Obj:
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
        causes = strat.validate(obj, self)
        if causes:
            raise errors.invalid(rtype.group, rtype.kind, meta.get("name", ""), causes)
        if rtype.namespaced:
            self._check_namespace_accepts(rtype, namespace, meta.get("name", ""))
        key = (namespace if rtype.namespaced else "", meta["name"])
        if key in self._bucket(rtype.key):
            raise errors.already_exists(rtype.group, rtype.plural, meta["name"])
        strat.allocate(obj, self, dry_run)
        meta["uid"] = str(uuid.uuid4())
        if dry_run:
            obj["kind"], obj["apiVersion"] = rtype.kind, rtype.api_version
            return _ordered(obj)
        created = self._commit(rtype, "ADDED", obj, None)
        strat.after_create(created, self)
        return json.loads(dumps(created))

    def _check_namespace_accepts(self, rtype: ResourceType, namespace: str, name: str) -> None:
        ns_entry = self._bucket("namespaces").get(("", namespace))
        if ns_entry is None:
            raise errors.not_found("", "namespaces", namespace)
        if ns_entry.obj.get("status", {}).get("phase") == "Terminating" and rtype.key != "events":
            raise errors.forbidden(
                rtype.group, rtype.plural, name,
                f"unable to create new content in namespace {namespace} because it is being terminated")

    def update(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        obj: Obj,
        subresource: str | None = None,
        dry_run: bool = False,
        force_allow_create: bool = False,
    ) -> Obj:
        """PUT semantics: optimistic concurrency on metadata.resourceVersion when the body has one."""
        strat = self.strategy(rtype)
        meta = obj.setdefault("metadata", {}) or {}
        obj["metadata"] = meta
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request("the name of the object ({}) does not match the name on the URL ({})".format(meta["name"], name))
        ns = namespace if rtype.namespaced else ""
        entry = self._bucket(rtype.key).get((ns, name))
        if entry is None:
            if force_allow_create and subresource is None:
                meta["name"] = name
                return self.create(rtype, namespace, obj, dry_run)
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
        new = json.loads(dumps(obj))
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
        if causes:
            raise errors.invalid(rtype.group, rtype.kind, name, causes)
        if subresource is None and _spec_changed(new, old):
            new_meta["generation"] = int(old_meta.get("generation", 1)) + 1
        if dry_run:
            new_meta["resourceVersion"] = old_meta["resourceVersion"]
            return _ordered(new)
        if _same(new, old):
            return json.loads(entry.full)
        # An object being deleted goes once its last finalizer is removed.
        if new_meta.get("deletionTimestamp") and not new_meta.get("finalizers") and strat.finished_deleting(new):
            return self._remove(rtype, new, old)
        stored = self._commit(rtype, "MODIFIED", new, old)
        strat.after_update(stored, old, self)
        return json.loads(dumps(stored))

    def update_raw(self, rtype: ResourceType, new: Obj, old: Obj) -> Obj:
        """Store ``new`` in place of ``old`` without strategy rules (registry-internal writes like binding)."""
        if new["metadata"].get("resourceVersion") != old["metadata"]["resourceVersion"]:
            raise errors.conflict(rtype.group, rtype.plural, new["metadata"]["name"], errors.STALE_OBJECT)
        stored = self._commit(rtype, "MODIFIED", new, old)
        return json.loads(dumps(stored))

    def guaranteed_update(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        mutate: Callable[[Obj], Obj | None],
        subresource: str | None = None,
        dry_run: bool = False,
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
        return self.update(rtype, namespace, name, new, subresource, dry_run)

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
        """Delete; returns (object, gone). Graceful deletion and finalizers keep the object around."""
        strat = self.strategy(rtype)
        entry = self.get_entry(rtype, namespace, name)
        old = entry.obj
        meta = old["metadata"]
        if preconditions:
            want_uid = preconditions.get("uid")
            if want_uid and want_uid != meta["uid"]:
                raise errors.ApiError(
                    409, "Conflict",
                    f'Operation cannot be fulfilled on {rtype.kind} "{name}": the UID in the precondition '
                    f"({want_uid}) does not match the UID in record ({meta['uid']}). The object might have "
                    "been deleted and then recreated", {"name": name, "kind": rtype.kind})
            want_rv = preconditions.get("resourceVersion")
            if want_rv and want_rv != meta["resourceVersion"]:
                raise errors.ApiError(
                    409, "Conflict",
                    f'Operation cannot be fulfilled on {rtype.kind} "{name}": the ResourceVersion in the '
                    f"precondition ({want_rv}) does not match the ResourceVersion in record "
                    f"({meta['resourceVersion']}). The object might have been modified",
                    {"name": name, "kind": rtype.kind})
        if dry_run:
            return json.loads(entry.full), False
        new = json.loads(entry.full)
        nmeta = new["metadata"]
        finalizers = list(nmeta.get("finalizers") or [])
        if propagation is None:
            propagation = strat.default_propagation
        if propagation == "Orphan" and "orphan" not in finalizers and strat.has_dependents(new, self):
            finalizers.append("orphan")
        if propagation == "Foreground" and "foregroundDeletion" not in finalizers \
                and strat.has_dependents(new, self):
            finalizers.append("foregroundDeletion")
        grace = strat.grace_period(old, grace_seconds)
        if meta.get("deletionTimestamp"):
            # Already terminating: a shorter grace period may shorten it; grace 0 forces it.
            current = meta.get("deletionGracePeriodSeconds")
            if grace is not None and grace == 0 and not finalizers:
                return self._remove(rtype, new, old), True
            if grace is not None and current is not None and grace < current:
                nmeta["deletionGracePeriodSeconds"] = grace
                nmeta["deletionTimestamp"] = now_rfc3339(grace)
                nmeta["finalizers"] = finalizers or None
                if not finalizers:
                    nmeta.pop("finalizers", None)
                stored = self._commit(rtype, "MODIFIED", new, old)
                return json.loads(dumps(stored)), False
            if finalizers != list(meta.get("finalizers") or []):
                nmeta["finalizers"] = finalizers
                stored = self._commit(rtype, "MODIFIED", new, old)
                return json.loads(dumps(stored)), False
            return json.loads(entry.full), False
        if finalizers or (grace is not None and grace > 0):
            nmeta["deletionTimestamp"] = now_rfc3339(grace or 0)
            nmeta["deletionGracePeriodSeconds"] = grace or 0
            if finalizers:
                nmeta["finalizers"] = finalizers
            strat.begin_delete(new, self)
            if "generation" in nmeta:
                nmeta["generation"] = int(nmeta["generation"]) + 1
            stored = self._commit(rtype, "MODIFIED", new, old)
            strat.after_update(stored, old, self)
            return json.loads(dumps(stored)), False
        return self._remove(rtype, new, old), True

    def _remove(self, rtype: ResourceType, obj: Obj, old: Obj) -> Obj:
        gone = self._commit(rtype, "DELETED", obj, old)
        self.strategy(rtype).after_delete(gone, self)
        return json.loads(dumps(gone))

    # ------------------------------------------------------------------ watch

    def watch(
        self,
        rtype: ResourceType,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        resource_version: str | None,
        name: str | None = None,
    ) -> Watcher:
        """Register a watcher primed with what it must see first (initial ADDED or history)."""
        w = Watcher(rtype.key, namespace, labels, fields, name=name)
        if not resource_version or resource_version == "0":
            bucket = self._bucket(rtype.key)
            for (_ns, _), entry in sorted(bucket.items()):
                if w._matches(entry.obj):
                    w.queue.put_nowait(("ADDED", entry.obj, entry.raw, int(entry.obj["metadata"]["resourceVersion"])))
        else:
            try:
                since = int(resource_version)
            except ValueError:
                raise errors.bad_request(f'invalid resource version "{resource_version}"') from None
            oldest = self.oldest_rv
            if since < oldest - 1 and len(self._history) == self._history.maxlen:
                raise errors.gone(f"too old resource version: {since} ({oldest - 1})")
            for ev in self._history:
                if ev.rv > since:
                    w.offer(ev)
        self._watchers.append(w)
        return w

    def stop_watch(self, w: Watcher) -> None:
        if w in self._watchers:
            self._watchers.remove(w)

    def bookmark_rv(self) -> int:
        return self.rv


# ---------------------------------------------------------------------- helpers

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


def _last_path(raws: list[bytes]) -> str:
    if not raws:
        return ""
    meta = json.loads(raws[-1])["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


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


def deep_copy(obj: Obj) -> Obj:
    return copy.deepcopy(obj)
