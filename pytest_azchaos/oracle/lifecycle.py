"""Will the node lifecycle controller evict at all after a zone's nodes stop answering, and when?

As kube-controller-manager's ``pkg/controller/nodelifecycle/node_lifecycle_controller.go``:

* ``ComputeZoneState``: a zone with no Ready node is in ``FullDisruption``; with more than 2 NotReady nodes
  that are at least ``--unhealthy-zone-threshold`` (0.55) of its nodes, ``PartialDisruption``; else ``Normal``.
  Nodes labelled ``node.kubernetes.io/exclude-disruption`` are not counted.
* ``setLimiterInZone``: Normal and FullDisruption taint NoExecute at ``--node-eviction-rate`` (0.1 node/s per
  zone, burst 1); PartialDisruption uses ``ReducedQPSFunc``: ``--secondary-node-eviction-rate`` for zones of more
  than ``--large-cluster-size-threshold`` (50) nodes, **else 0**: "if they're small stop evictions altogether".
* When every zone is in FullDisruption the controller assumes its own network is broken and evicts nothing.

A node's pods are then deleted ``tolerationSeconds`` after its ``unreachable:NoExecute`` taint (taint-eviction
controller; 300 s from the DefaultTolerationSeconds admission unless the pod says otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..timing import Profile
from .model import ClusterState, Fault, labels_of, name_of, node_ready, zone_of_node

EXCLUDE_DISRUPTION = "node.kubernetes.io/exclude-disruption"
NORMAL, PARTIAL, FULL = "Normal", "PartialDisruption", "FullDisruption"


def compute_zone_state(ready: int, not_ready: int, threshold: float) -> str:
    """``ComputeZoneState`` for a zone with ``ready`` and ``not_ready`` nodes."""
    if ready == 0 and not_ready > 0:
        return FULL
    if not_ready > 2 and not_ready / (not_ready + ready) >= threshold:
        return PARTIAL
    return NORMAL


def zone_eviction_rate(state: str, size: int, profile: Profile) -> float:
    """NoExecute tainting rate (nodes/s) of a zone in ``state`` with ``size`` nodes (``setLimiterInZone``)."""
    if state == PARTIAL:
        return profile.secondary_node_eviction_rate if size > profile.large_cluster_size_threshold else 0.0
    return profile.node_eviction_rate


@dataclass(frozen=True)
class Lifecycle:
    """The lost zone as the node lifecycle controller will see it once the lost nodes are NotReady."""

    zone: str
    state: str
    size: int
    not_ready: int
    rate: float
    all_zones_down: bool
    detection_s: float  # from the last heartbeat to Ready=Unknown (grace + one monitor period)

    @property
    def evicts(self) -> bool:
        return self.rate > 0 and not self.all_zones_down

    def taint_after(self, index: int) -> float | None:
        """Seconds after the fault at which the ``index``-th lost node (0-based) gets its NoExecute taint."""
        if not self.evicts:
            return None
        return self.detection_s + index / self.rate

    def reason(self, profile: Profile) -> str:
        share = self.not_ready / self.size if self.size else 0.0
        head = f"{self.not_ready} of {self.size} node(s) of {self.zone} NotReady ({share:.0%})"
        if self.all_zones_down:
            return f"no eviction: every zone is in full disruption ({head}); the controller blames its own network"
        if self.state == PARTIAL:
            if self.rate == 0:
                return (f"no eviction: partial disruption: {head} is more than 2 and at least "
                        f"{profile.unhealthy_zone_threshold:.0%} but not all, in a zone of {self.size} <= "
                        f"{profile.large_cluster_size_threshold} nodes, so the node lifecycle controller stops "
                        "evictions in the zone altogether")
            return (f"slow eviction: partial disruption: {head}, zone larger than "
                    f"{profile.large_cluster_size_threshold} nodes: {self.rate:g} node(s)/s")
        if self.state == FULL:
            return f"eviction: full disruption: {head}: NoExecute taints at {self.rate:g} node(s)/s"
        return f"eviction: zone Normal ({head}): NoExecute taints at {self.rate:g} node(s)/s"


def lifecycle_after(state: ClusterState, fault: Fault, lost: list[str], profile: Profile) -> Lifecycle:
    """How the lost zone's disruption state and NoExecute rate will be once ``lost`` nodes stop answering."""
    counted: dict[str, list[bool]] = {}
    for node in state.nodes:
        if EXCLUDE_DISRUPTION in labels_of(node):
            continue
        ready = node_ready(node) and name_of(node) not in lost
        counted.setdefault(zone_of_node(node) or "", []).append(ready)
    in_zone = counted.get(fault.zone, [])
    n_ready = sum(in_zone)
    not_ready = len(in_zone) - n_ready
    zone_state = compute_zone_state(n_ready, not_ready, profile.unhealthy_zone_threshold)
    all_down = all(compute_zone_state(sum(v), len(v) - sum(v), profile.unhealthy_zone_threshold) == FULL
                   for v in counted.values())
    return Lifecycle(fault.zone, zone_state, len(in_zone), not_ready,
                     zone_eviction_rate(zone_state, len(in_zone), profile), all_down,
                     profile.heartbeat_loss_detection())
