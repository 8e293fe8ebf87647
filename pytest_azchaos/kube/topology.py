"""Zones, nodes and pods of a cluster as the checks and faults see them (from labels, nothing else)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ..wellknown import ZONE_LABEL


@dataclass(frozen=True)
class NodeView:
    name: str
    zone: str | None
    address: str | None
    unschedulable: bool
    ready: bool
    provider_id: str | None
    annotations: dict[str, str]

    @classmethod
    def of(cls, node: Any) -> NodeView:
        meta, spec, status = node.metadata, node.spec, node.status
        ready = any(c.type == "Ready" and c.status == "True" for c in (status.conditions or []))
        address = next((a.address for a in status.addresses or [] if a.type == "InternalIP"), None)
        return cls(meta.name, (meta.labels or {}).get(ZONE_LABEL), address, bool(spec.unschedulable), ready,
                   spec.provider_id, dict(meta.annotations or {}))


@dataclass(frozen=True)
class ZoneMap:
    """The nodes of a cluster grouped by zone."""

    nodes: tuple[NodeView, ...]

    @classmethod
    def read(cls, core: Any) -> ZoneMap:
        return cls(tuple(NodeView.of(n) for n in core.list_node().items))

    def zones(self) -> list[str]:
        return sorted({n.zone for n in self.nodes if n.zone})

    def nodes_in(self, zone: str) -> list[NodeView]:
        return [n for n in self.nodes if n.zone == zone]

    def zone_of(self, node: str | None) -> str | None:
        return next((n.zone for n in self.nodes if n.name == node), None)

    def node(self, name: str) -> NodeView | None:
        return next((n for n in self.nodes if n.name == name), None)

    def addresses(self) -> set[str]:
        return {n.address for n in self.nodes if n.address}

    def describe(self) -> str:
        parts = []
        for zone in self.zones():
            nodes = self.nodes_in(zone)
            flags = sum(1 for n in nodes if n.unschedulable)
            parts.append(f"{zone}: {len(nodes)} node(s)" + (f", {flags} cordoned" if flags else ""))
        return "; ".join(parts)


def pods_by_zone(pods: list[Any], zones: ZoneMap) -> dict[str, list[Any]]:
    """Pods grouped by the zone of their node (``unscheduled`` for pods without one)."""
    out: dict[str, list[Any]] = defaultdict(list)
    for p in pods:
        out[zones.zone_of(p.spec.node_name) or "unscheduled"].append(p)
    return dict(out)


def is_ready(pod: Any) -> bool:
    return pod.metadata.deletion_timestamp is None and any(
        c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))
