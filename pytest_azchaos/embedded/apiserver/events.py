"""The events.k8s.io/v1 view of core/v1 Events (one storage, two shapes), as upstream converts them."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def core_to_events_v1(ev: Obj) -> Obj:
    out: Obj = {"kind": "Event", "apiVersion": "events.k8s.io/v1", "metadata": ev.get("metadata", {})}
    for src, dst in (("eventTime", "eventTime"), ("series", "series"), ("reportingComponent", "reportingController"),
                     ("reportingInstance", "reportingInstance"), ("action", "action"), ("reason", "reason"),
                     ("involvedObject", "regarding"), ("related", "related"), ("message", "note"),
                     ("type", "type")):
        if ev.get(src) not in (None, ""):
            out[dst] = ev[src]
    out.setdefault("eventTime", None)
    if ev.get("source"):
        out["deprecatedSource"] = ev["source"]
    if ev.get("firstTimestamp"):
        out["deprecatedFirstTimestamp"] = ev["firstTimestamp"]
    if ev.get("lastTimestamp"):
        out["deprecatedLastTimestamp"] = ev["lastTimestamp"]
    if ev.get("count"):
        out["deprecatedCount"] = ev["count"]
    return out


def events_v1_to_core(ev: Obj) -> Obj:
    out: Obj = {"kind": "Event", "apiVersion": "v1", "metadata": ev.get("metadata", {})}
    for src, dst in (("eventTime", "eventTime"), ("series", "series"), ("reportingController", "reportingComponent"),
                     ("reportingInstance", "reportingInstance"), ("action", "action"), ("reason", "reason"),
                     ("regarding", "involvedObject"), ("related", "related"), ("note", "message"),
                     ("type", "type"), ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"),
                     ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedCount", "count")):
        if ev.get(src) not in (None, ""):
            out[dst] = ev[src]
    out.setdefault("involvedObject", {})
    out.setdefault("source", {})
    return out
