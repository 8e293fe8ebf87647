"""The events.k8s.io/v1 view of core/v1 Events (one storage, two shapes), as upstream converts them.

Both directions render every field the Go structs serialize without ``omitempty`` (``eventTime``,
``source``/``deprecatedSource``, the timestamps, ``reportingComponent``/``reportingInstance``) so each
view looks like the real apiserver's, and field order follows the Go structs.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def _set(out: Obj, key: str, value: Any) -> None:
    if value not in (None, "", {}, 0):
        out[key] = value


def core_to_events_v1(ev: Obj) -> Obj:
    """A stored core/v1 Event as events.k8s.io/v1 shows it."""
    out: Obj = {"kind": "Event", "apiVersion": "events.k8s.io/v1", "metadata": ev.get("metadata", {}),
                "eventTime": ev.get("eventTime")}
    _set(out, "series", ev.get("series"))
    _set(out, "reportingController", ev.get("reportingComponent"))
    _set(out, "reportingInstance", ev.get("reportingInstance"))
    _set(out, "action", ev.get("action"))
    _set(out, "reason", ev.get("reason"))
    out["regarding"] = ev.get("involvedObject") or {}
    _set(out, "related", ev.get("related"))
    _set(out, "note", ev.get("message"))
    _set(out, "type", ev.get("type"))
    out["deprecatedSource"] = ev.get("source") or {}
    out["deprecatedFirstTimestamp"] = ev.get("firstTimestamp")
    out["deprecatedLastTimestamp"] = ev.get("lastTimestamp")
    _set(out, "deprecatedCount", ev.get("count"))
    return out


def events_v1_to_core(ev: Obj) -> Obj:
    """An events.k8s.io/v1 Event body as core/v1 stores it."""
    out: Obj = {"kind": "Event", "apiVersion": "v1", "metadata": ev.get("metadata") or {},
                "involvedObject": ev.get("regarding") or {}}
    _set(out, "reason", ev.get("reason"))
    _set(out, "message", ev.get("note"))
    out["source"] = ev.get("deprecatedSource") or {}
    out["firstTimestamp"] = ev.get("deprecatedFirstTimestamp")
    out["lastTimestamp"] = ev.get("deprecatedLastTimestamp")
    _set(out, "count", ev.get("deprecatedCount"))
    _set(out, "type", ev.get("type"))
    out["eventTime"] = ev.get("eventTime")
    _set(out, "series", ev.get("series"))
    _set(out, "action", ev.get("action"))
    _set(out, "related", ev.get("related"))
    out["reportingComponent"] = ev.get("reportingController") or ""
    out["reportingInstance"] = ev.get("reportingInstance") or ""
    return out


_CORE_ORDER = ("kind", "apiVersion", "metadata", "involvedObject", "reason", "message", "source", "firstTimestamp",
               "lastTimestamp", "count", "type", "eventTime", "series", "action", "related", "reportingComponent",
               "reportingInstance")


def normalize_core(ev: Obj) -> Obj:
    """A core/v1 Event with the always-serialized fields present and in Go struct order."""
    ev.setdefault("involvedObject", {})
    ev["source"] = ev.get("source") or {}
    for k in ("firstTimestamp", "lastTimestamp", "eventTime"):
        ev.setdefault(k, None)
    for k in ("reportingComponent", "reportingInstance"):
        ev[k] = ev.get(k) or ""
    out = {k: ev[k] for k in _CORE_ORDER if k in ev}
    out.update({k: v for k, v in ev.items() if k not in out})
    ev.clear()
    ev.update(out)
    return ev
