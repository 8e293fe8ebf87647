"""core/v1 Events as the controllers' old-style recorder writes them (``source.component``, ``count``).

kube-controller-manager's workload controllers use ``record.EventRecorder``: one Event per
(object, reason, message), named ``<object>.<hex nanoseconds>``; a repeat bumps ``count`` and
``lastTimestamp`` instead of writing a second object; the tenth distinct message for the same
(object, reason) within 10 minutes is written as "(combined from similar events): <message>"
(client-go ``EventCorrelator``). ``EventsV1Recorder`` writes the events.k8s.io/v1 way the
scheduler does (``eventTime``, ``action``, no ``count``/timestamps, ``source: {}``).

Call recorders from a controller's ``sync`` or a timer, never from inside a store listener.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..apiserver.errors import ApiError
from ..apiserver.resources import REGISTRY
from ..apiserver.store import Store
from ..objects import micro_now, now_rfc3339

Obj = dict[str, Any]
EVENTS = REGISTRY.lookup("", "v1", "events")
assert EVENTS is not None


# client-go tools/record EventCorrelator defaults.
_AGGREGATE_MAX_EVENTS = 10
_AGGREGATE_INTERVAL = 600.0
_CACHE_SIZE = 4096
# client-go tools/events: an isomorphic event within this window becomes a series.
_SERIES_WINDOW = 360.0


def ref_of(obj: Obj) -> Obj:
    """The ObjectReference an event is about: an object, or a reference dict passed through."""
    if "metadata" not in obj:
        return dict(obj)
    meta = obj["metadata"]
    ref: Obj = {"kind": obj.get("kind", "")}
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    ref["name"] = meta["name"]
    if meta.get("uid"):
        ref["uid"] = meta["uid"]
    ref["apiVersion"] = obj.get("apiVersion", "")
    if meta.get("resourceVersion"):
        ref["resourceVersion"] = meta["resourceVersion"]
    return ref


class _Names:
    """``<name>.<hex nanoseconds>``, never the same twice in one process."""

    last = 0

    @classmethod
    def next(cls, name: str) -> str:
        t = max(time.time_ns(), cls.last + 1)
        cls.last = t
        return f"{name}.{t:x}"


class EventRecorder:
    """Record Normal/Warning events about an object on behalf of one controller component.

    ``obj`` may be a full object or an ObjectReference (e.g. the taint-eviction controller refers to
    pods by namespace/name only, the node controller to nodes by name and uid).
    """

    def __init__(self, store: Store, component: str, host: str = ""):
        self.store = store
        self.component = component
        self.host = host
        self._seen: dict[tuple[str, ...], str] = {}
        self._similar: dict[tuple[str, ...], tuple[float, set[str]]] = {}

    def _aggregate(self, ref: Obj, etype: str, reason: str, message: str) -> str:
        """The message to record: the original, or the combined form once similar events pile up."""
        key = (self.component, self.host, ref.get("kind", ""), ref.get("namespace", ""), ref.get("name", ""),
               ref.get("uid", ""), ref.get("apiVersion", ""), etype, reason)
        now = time.monotonic()
        since, messages = self._similar.get(key, (now, set()))
        if now - since > _AGGREGATE_INTERVAL:
            since, messages = now, set()
        messages.add(message)
        self._similar[key] = (since, messages)
        if len(self._similar) > _CACHE_SIZE:
            self._similar.pop(next(iter(self._similar)))
        if len(messages) < _AGGREGATE_MAX_EVENTS:
            return message
        messages.pop()
        return "(combined from similar events): " + message

    def event(self, obj: Obj, etype: str, reason: str, message: str) -> None:
        ref = ref_of(obj)
        ns = ref.get("namespace") or "default"
        original = message
        message = self._aggregate(ref, etype, reason, message)
        # Combined events share one key (the aggregate's), so they bump one object (EventCorrelator).
        key = (self.component, self.host, ref.get("kind", ""), ns, ref.get("name", ""), ref.get("fieldPath", ""),
               ref.get("uid", ""), ref.get("apiVersion", ""), etype, reason,
               original if message == original else "(combined)")
        name = self._seen.get(key)
        now = now_rfc3339()
        if name is not None and self.store.peek("events", ns, name) is not None:
            def bump(ev: Obj) -> Obj:
                ev["count"] = int(ev.get("count") or 1) + 1
                ev["lastTimestamp"] = now
                ev["message"] = message
                return ev

            try:
                self.store.guaranteed_update(EVENTS, ns, name, bump)
                return
            except ApiError:
                pass
        name = _Names.next(ref.get("name", ""))
        source: Obj = {"component": self.component}
        if self.host:
            source["host"] = self.host
        body: Obj = {
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": ref,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": etype,
            "eventTime": None,
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        }
        try:
            self.store.create(EVENTS, ns, body)
        except ApiError:
            return  # e.g. the namespace is terminating: upstream drops the event too
        self._seen[key] = name
        if len(self._seen) > _CACHE_SIZE:
            self._seen.pop(next(iter(self._seen)))

    def normal(self, obj: Obj, reason: str, message: str) -> None:
        self.event(obj, "Normal", reason, message)

    def warning(self, obj: Obj, reason: str, message: str) -> None:
        self.event(obj, "Warning", reason, message)


class EventsV1Recorder:
    """events.k8s.io/v1 events as client-go ``tools/events`` writes them (the scheduler's recorder).

    Stored in the core/v1 shape: ``eventTime`` set, ``count``/``firstTimestamp``/``lastTimestamp`` null,
    ``source`` empty, ``action`` and ``reportingComponent``/``reportingInstance`` set. A repeat of the same
    (regarding incl. its resourceVersion, related, reason, action) within 6 minutes turns the first
    object into a series (``series.count`` 2) instead of a new object; later repeats only count locally,
    as upstream writes them on its 30-minute refresh.
    """

    def __init__(self, store: Store, controller: str, instance: str):
        self.store = store
        self.controller = controller
        self.instance = instance
        self._seen: dict[str, tuple[float, str, str, Obj | None]] = {}

    def eventf(self, regarding: Obj, related: Obj | None, etype: str, reason: str, action: str, note: str) -> None:
        ref = ref_of(regarding)
        rel = ref_of(related) if related is not None else None
        ns = ref.get("namespace") or "default"
        key = json.dumps([action, reason, self.controller, ref, rel], sort_keys=True)
        now = time.monotonic()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] <= _SERIES_WINDOW:
            _, ev_ns, ev_name, series = seen
            if series is None:
                series = {"count": 2, "lastObservedTime": micro_now()}

                def add_series(ev: Obj, series: Obj = series) -> Obj:
                    ev["series"] = series
                    return ev

                try:
                    self.store.guaranteed_update(EVENTS, ev_ns, ev_name, add_series)
                except ApiError:
                    pass
            else:
                series["count"] += 1
                series["lastObservedTime"] = micro_now()
            self._seen[key] = (seen[0], ev_ns, ev_name, series)
            return
        name = _Names.next(ref.get("name", ""))
        body: Obj = {
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": ref,
            "reason": reason,
            "message": note,
            "source": {},
            "firstTimestamp": None,
            "lastTimestamp": None,
            "type": etype,
            "eventTime": micro_now(),
            "action": action,
        }
        if rel is not None:
            body["related"] = rel
        body["reportingComponent"] = self.controller
        body["reportingInstance"] = self.instance
        try:
            self.store.create(EVENTS, ns, body)
        except ApiError:
            return
        self._seen[key] = (now, ns, name, None)
        if len(self._seen) > _CACHE_SIZE:
            self._seen.pop(next(iter(self._seen)))
