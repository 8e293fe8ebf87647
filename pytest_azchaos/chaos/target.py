"""Resolving what a fault aims at (a zone and its nodes) and refusing bad input before anything is touched.

The one place a zone name is validated: the fixtures, the façade, the chaostoolkit actions and the dry
run all ask ``choose_zone`` / ``zone_nodes``, so an unknown zone reads the same wherever it was given.
"""

from __future__ import annotations

import random
from typing import Any

from ..kube.topology import ZONE_LABEL, NodeView, ZoneMap


class ChaosInputError(ValueError):
    """The fault cannot run as asked; the message names the fix. Nothing in the cluster was changed."""


def unknown_zone(zone: str, zones: ZoneMap) -> ChaosInputError:
    """The error for a zone the cluster does not have, listing the zones it has."""
    known = ", ".join(zones.zones()) or f"none (no node carries {ZONE_LABEL})"
    return ChaosInputError(f"unknown zone {zone!r}: the cluster's zones are {known}; pick one of them "
                           "(--azchaos-zone, the azchaos_zone marker, or the action's zone argument)")


def choose_zone(zones: ZoneMap, wanted: str | None, rng: random.Random | None = None) -> str:
    """The zone to take away: ``wanted`` if the cluster has it, ``random`` a choice of ``rng``, and None or
    ``auto`` the first zone in name order. Raises ``ChaosInputError`` naming the fix."""
    names = zones.zones()
    if not names:
        raise ChaosInputError(f"no node carries the {ZONE_LABEL} label: label the nodes with their zone "
                              "(EKS and kind with zone labels do)")
    if wanted in (None, "", "auto"):
        return names[0]
    if wanted == "random":
        return (rng or random.Random()).choice(names)
    if wanted not in names:
        raise unknown_zone(str(wanted), zones)
    return str(wanted)


def zone_nodes(core: Any, zone: str) -> tuple[ZoneMap, list[NodeView]]:
    """The zone map and the nodes of ``zone``; an unknown zone raises with the zones that exist."""
    zones = ZoneMap.read(core)
    nodes = zones.nodes_in(zone)
    if not nodes:
        raise unknown_zone(zone, zones)
    return zones, nodes
