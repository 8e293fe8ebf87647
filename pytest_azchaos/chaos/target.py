"""Resolving what a fault aims at (a zone's nodes) and refusing bad input before anything is touched."""

from __future__ import annotations

from typing import Any

from ..kube.topology import NodeView, ZoneMap


class ChaosInputError(ValueError):
    """The fault cannot run as asked; the message names the fix. Nothing in the cluster was changed."""


def zone_nodes(core: Any, zone: str) -> tuple[ZoneMap, list[NodeView]]:
    """The zone map and the nodes of ``zone``; an unknown zone raises with the zones that exist."""
    zones = ZoneMap.read(core)
    nodes = zones.nodes_in(zone)
    if not nodes:
        known = ", ".join(zones.zones()) or "none (no node carries topology.kubernetes.io/zone)"
        raise ChaosInputError(f"unknown zone {zone!r}: the cluster's zones are {known}; pick one of them")
    return zones, nodes
