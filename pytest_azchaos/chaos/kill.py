"""Kill pods abruptly: delete them (grace 0 by default), chosen by count, by fraction, or all in a zone.

A killed pod cannot be brought back (its controller replaces it), so there is nothing to undo; the
ledger still gets an entry, written before the deletes, so the run object shows which pods this run
killed and when.
"""

from __future__ import annotations

import math
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..kube.cluster import Cluster
from .ledger import Ledger, UndoOutcome, register_undo
from .target import ChaosInputError, zone_nodes
from .timeline import Timeline

KIND = "pods.kill"


@dataclass(frozen=True)
class PodKill:
    namespace: str
    name: str
    uid: str
    node: str
    zone: str | None
    deleted_at: float | None
    error: str = ""
    note: str = ""


@dataclass
class KillReport:
    """Which pods were candidates, which were killed (when, on which node and zone), and any failure."""

    namespace: str
    selector: str
    zone: str | None
    candidates: list[str]
    killed: list[PodKill] = field(default_factory=list)
    entry_id: str = ""
    timeline: Timeline = field(default_factory=Timeline)
    wall_time: float = 0.0

    @property
    def ok(self) -> bool:
        return all(not k.error for k in self.killed)

    @property
    def names(self) -> list[str]:
        return [k.name for k in self.killed if not k.error]

    def describe(self) -> str:
        where = f" in zone {self.zone}" if self.zone else ""
        text = (f"killed {len(self.names)}/{len(self.candidates)} pod(s) matching {self.selector!r} in "
                f"{self.namespace}{where} in {self.wall_time:.2f}s: {', '.join(self.names) or 'none'}")
        failed = [k for k in self.killed if k.error]
        if failed:
            text += "; failed: " + "; ".join(f"{k.name}: {k.error}" for k in failed)
        return text


def kill_pods(cluster: Cluster, namespace: str, selector: str, *, count: int | None = None,
              fraction: float | None = None, zone: str | None = None, grace_seconds: int = 0,
              ledger: Ledger, rng: random.Random | None = None) -> KillReport:
    """Delete pods matching ``selector`` (all of them, or ``count`` / ``fraction`` of them, optionally in ``zone``)."""
    from kubernetes import client
    from kubernetes.client import ApiException

    if count is not None and fraction is not None:
        raise ChaosInputError("pass count or fraction, not both")
    if count is not None and count < 0:
        raise ChaosInputError(f"count must be at least 0, got {count}")
    if fraction is not None and not 0 < fraction <= 1:
        raise ChaosInputError(f"fraction must be in (0, 1], got {fraction}")
    rng = rng or random.Random()
    core = cluster.core
    zone_of: dict[str, str | None] = {}
    zone_node_names: set[str] | None = None
    if zone is not None:
        zones, nodes = zone_nodes(core, zone)
        zone_node_names = {n.name for n in nodes}
    else:
        from ..kube.topology import ZoneMap

        zones = ZoneMap.read(core)
    start = time.monotonic()
    pods = [p for p in core.list_namespaced_pod(namespace, label_selector=selector).items
            if p.metadata.deletion_timestamp is None]
    if zone_node_names is not None:
        pods = [p for p in pods if p.spec.node_name in zone_node_names]
    pods.sort(key=lambda p: p.metadata.name)
    if count is not None:
        if count > len(pods):
            raise ChaosInputError(f"asked to kill {count} pod(s) but only {len(pods)} match {selector!r} in "
                                  f"{namespace}" + (f" in zone {zone}" if zone else ""))
        victims = rng.sample(pods, count)
    elif fraction is not None:
        victims = rng.sample(pods, min(len(pods), math.ceil(fraction * len(pods))))
    else:
        victims = list(pods)
    victims.sort(key=lambda p: p.metadata.name)
    for p in pods:
        zone_of[p.metadata.name] = zones.zone_of(p.spec.node_name)
    report = KillReport(namespace, selector, zone, [p.metadata.name for p in pods])
    undo = {"namespace": namespace, "selector": selector, "zone": zone, "graceSeconds": grace_seconds,
            "pods": [{"name": p.metadata.name, "uid": p.metadata.uid, "node": p.spec.node_name} for p in victims]}
    report.entry_id = ledger.record(KIND, undo, f"{namespace}/{selector}")

    def kill(p: Any) -> PodKill:
        key = f"{namespace}/{p.metadata.name}"
        try:
            core.delete_namespaced_pod(p.metadata.name, namespace, body=client.V1DeleteOptions(
                grace_period_seconds=grace_seconds, preconditions=client.V1Preconditions(uid=p.metadata.uid)),
                _preload_content=False)
        except ApiException as e:
            if e.status == 404:
                report.timeline.add(key, "already gone")
                return PodKill(namespace, p.metadata.name, p.metadata.uid, p.spec.node_name,
                               zone_of[p.metadata.name], report.timeline.elapsed(), note="already gone")
            report.timeline.add(key, "delete failed", f"{e.status} {e.reason}")
            return PodKill(namespace, p.metadata.name, p.metadata.uid, p.spec.node_name, zone_of[p.metadata.name],
                           None, f"{e.status} {e.reason}")
        at = report.timeline.add(key, "deleted", f"grace {grace_seconds}s, node {p.spec.node_name}").at
        return PodKill(namespace, p.metadata.name, p.metadata.uid, p.spec.node_name, zone_of[p.metadata.name], at)

    if victims:
        with ThreadPoolExecutor(max_workers=min(16, len(victims))) as pool:
            report.killed = list(pool.map(kill, victims))
    report.wall_time = time.monotonic() - start
    ledger.done(report.entry_id, f"killed {len(report.names)} pod(s): {', '.join(report.names)}")
    return report


def undo_kill(undo: dict[str, Any], cluster: Cluster) -> UndoOutcome:
    """Nothing to undo: the pods' controllers replace them."""
    names = ", ".join(p["name"] for p in undo.get("pods") or [])
    return UndoOutcome(KIND, f"{undo.get('namespace')}/{undo.get('selector')}", True, "nothing to undo",
                       f"killed pods are replaced by their controllers ({names})")


register_undo(KIND, undo_kill)
