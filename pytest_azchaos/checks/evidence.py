"""Evidence the checks put in their messages: the Kubernetes events, pods and label matching.

Everything here reads the cluster through the official client only, so it works the same on EKS
and on the embedded cluster. Events are filtered client-side (no field selectors), which keeps
it portable and is cheap at the sizes a test namespace has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: Event reasons that explain lost requests or stuck pods (shown even when only "interesting" ones are asked).
EXPLAINING_REASONS = frozenset({
    "FailedScheduling", "Killing", "Unhealthy", "TaintManagerEviction", "NodeNotReady", "Evicted", "Preempted",
    "BackOff", "Failed", "FailedMount", "FailedAttachVolume", "FailedCreate", "NodeNotSchedulable",
    "FailedKillPod", "ProbeWarning", "NodeHasDiskPressure", "DeletingNode", "RemovingNode",
    # the controller's side of the timeline: when replacements were asked for, and pods removed
    "SuccessfulCreate", "SuccessfulDelete",
})
#: Where events about cluster-scoped objects (Nodes) live, upstream.
NODE_EVENTS_NAMESPACE = "default"


Since = datetime | float | None


def to_datetime(since: Since) -> datetime | None:
    """A wall-clock instant from an aware/naive datetime (naive = UTC) or epoch seconds."""
    if since is None:
        return None
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(since), tz=UTC)


@dataclass(frozen=True)
class EventView:
    """One Event as a check reports it."""

    time: datetime | None
    type: str
    reason: str
    kind: str
    name: str
    namespace: str
    message: str
    count: int
    source: str

    @classmethod
    def of(cls, ev: Any) -> EventView:
        series = getattr(ev, "series", None)
        when = (ev.last_timestamp or (series.last_observed_time if series else None) or ev.event_time
                or ev.first_timestamp or ev.metadata.creation_timestamp)
        count = ev.count or ((series.count + 1) if series and series.count else 1)
        obj = ev.involved_object
        source = (ev.source.component if ev.source and ev.source.component else None) or ev.reporting_component or ""
        return cls(to_datetime(when) if when else None, ev.type or "", ev.reason or "", obj.kind or "",
                   obj.name or "", obj.namespace or ev.metadata.namespace or "", ev.message or "", count, source)

    def describe(self) -> str:
        when = self.time.strftime("%H:%M:%S") if self.time else "--:--:--"
        times = f" (x{self.count})" if self.count > 1 else ""
        src = f" [{self.source}]" if self.source else ""
        return f"{when} {self.type} {self.reason} {self.kind.lower()}/{self.name}{src}: {self.message}{times}"


def events_for(core: Any, namespace: str, involved_names: Iterable[str] | None = None, since: Since = None, *,
               reasons: Iterable[str] | None = None, kinds: Iterable[str] | None = None) -> list[EventView]:
    """Events in ``namespace`` about the named objects (all when None), last seen at/after ``since``, oldest first."""
    names = set(involved_names) if involved_names is not None else None
    wanted = set(reasons) if reasons is not None else None
    kinds_ = set(kinds) if kinds is not None else None
    cutoff = to_datetime(since)
    out = []
    for ev in core.list_namespaced_event(namespace).items:
        view = EventView.of(ev)
        if names is not None and view.name not in names:
            continue
        if wanted is not None and view.reason not in wanted:
            continue
        if kinds_ is not None and view.kind not in kinds_:
            continue
        # Event times have second precision (core/v1): compare at that resolution.
        if cutoff is not None and view.time is not None and view.time < cutoff.replace(microsecond=0):
            continue
        out.append(view)
    return sorted(out, key=lambda v: (v.time or datetime.min.replace(tzinfo=UTC), v.name))


def node_events(core: Any, node_names: Iterable[str], since: Since = None) -> list[EventView]:
    """Events about the named Nodes (NodeNotReady, NodeNotSchedulable, ...), which upstream writes to ``default``."""
    return events_for(core, NODE_EVENTS_NAMESPACE, node_names, since, kinds=["Node"])


def explaining(events: Iterable[EventView]) -> list[EventView]:
    """Warnings plus the Normal events that explain disruption (Killing, TaintManagerEviction, NodeNotReady ...)."""
    return [e for e in events if e.type == "Warning" or e.reason in EXPLAINING_REASONS]


def describe_events(events: list[EventView], limit: int = 25) -> list[str]:
    """Evidence lines for events, the most recent ``limit`` of them, saying how many were left out."""
    if not events:
        return []
    shown = events[-limit:]
    lines = [f"event {e.describe()}" for e in shown]
    if len(events) > len(shown):
        lines.insert(0, f"events: {len(events) - len(shown)} earlier event(s) not shown")
    return lines


def events_clause(core: Any, namespace: str, involved_names: Iterable[str] | None = None, *,
                   kinds: Iterable[str] | None = None, warnings_only: bool = False, limit: int = 5,
                   none: str = "") -> str:
    """The matching events as a clause to append to a message (``"; event ...; event ..."``), ``"; " + none`` when
    there are none (``""`` if ``none`` is empty), and ``"; (events unreadable: ...)"`` when they cannot be read:
    the message is about something else, so a failed look is said, not raised."""
    try:
        events = events_for(core, namespace, involved_names, kinds=kinds)
    except Exception as e:
        return f"; (events unreadable: {e})"
    lines = describe_events([e for e in events if e.type == "Warning" or not warnings_only], limit=limit)
    if lines:
        return "; " + "; ".join(lines)
    return f"; {none}" if none else ""


def failed_scheduling(core: Any, namespace: str, pod_names: Iterable[str]) -> dict[str, str]:
    """Pod -> its latest FailedScheduling message, verbatim (the scheduler's own words)."""
    latest: dict[str, EventView] = {}
    for e in events_for(core, namespace, pod_names, reasons=["FailedScheduling"], kinds=["Pod"]):
        latest[e.name] = e
    return {name: e.message for name, e in latest.items()}


def unscheduled_reason(pod: Any) -> str:
    """The PodScheduled=False condition's message (set by the scheduler alongside its event)."""
    for c in (pod.status.conditions or []) if pod.status else []:
        if c.type == "PodScheduled" and c.status == "False":
            return c.message or c.reason or ""
    return ""


def pending_evidence(core: Any, namespace: str, pods: list[Any]) -> list[str]:
    """One line per unscheduled pod with the scheduler's message verbatim (event, else the pod condition)."""
    pending = [p for p in pods if not p.spec.node_name and p.metadata.deletion_timestamp is None]
    if not pending:
        return []
    messages = failed_scheduling(core, namespace, [p.metadata.name for p in pending])
    lines = []
    for p in sorted(pending, key=lambda p: p.metadata.name):
        msg = messages.get(p.metadata.name) or unscheduled_reason(p) or "no FailedScheduling event yet"
        lines.append(f"pod {p.metadata.name} Pending: FailedScheduling: {msg}")
    return lines


def selector_matches(selector: Any, labels: Mapping[str, str] | None) -> bool:
    """``metav1.LabelSelector`` semantics (matchLabels AND matchExpressions); an empty selector matches all."""
    labels = labels or {}
    if selector is None:
        return False
    match_labels = _get(selector, "match_labels", "matchLabels") or {}
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expr in _get(selector, "match_expressions", "matchExpressions") or []:
        key, op = _get(expr, "key", "key"), _get(expr, "operator", "operator")
        values = set(_get(expr, "values", "values") or [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _get(obj: Any, attr: str, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, attr, None)


def live_pods(core: Any, namespace: str, selector: str) -> list[Any]:
    """Pods matching ``selector`` that are not being deleted and have not finished."""
    return [p for p in core.list_namespaced_pod(namespace, label_selector=selector).items
            if p.metadata.deletion_timestamp is None and (p.status.phase or "") not in ("Succeeded", "Failed")]


def pod_line(pod: Any, zone: str | None) -> str:
    """``name on node (zone), phase, ready``: how a pod is named in evidence."""
    node = pod.spec.node_name or "<no node>"
    ready = any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))
    return f"{pod.metadata.name} on {node} ({zone or 'no zone'}), {pod.status.phase}{', Ready' if ready else ''}"
