"""Cordon a zone: mark each of its schedulable nodes unschedulable, naming this run on the node.

The cordon and the ``azchaos.io/cordoned-by: <run_id>`` annotation go in one PATCH guarded by the
node's ``resourceVersion``, so the annotation is on the node exactly when this run cordoned it. A
node already cordoned before the run is left alone and never uncordoned by it. Uncordoning happens
only through the ledger (``undo_cordon``), and only while the node still carries this run's name.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..kube.cluster import Cluster
from .ledger import CORDONED_BY, MERGE_PATCH, Ledger, UndoOutcome, register_undo
from .target import zone_nodes
from .timeline import Timeline

KIND = "node.cordon"


@dataclass
class CordonReport:
    """Which nodes of the zone this run cordoned, which were cordoned already (left alone), and when."""

    zone: str
    run_id: str
    cordoned: list[str] = field(default_factory=list)
    already_cordoned: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    timeline: Timeline = field(default_factory=Timeline)
    wall_time: float = 0.0

    @property
    def nodes(self) -> list[str]:
        return sorted(self.cordoned + self.already_cordoned + list(self.failed))

    @property
    def ok(self) -> bool:
        return not self.failed

    def describe(self) -> str:
        parts = [f"cordon {self.zone}: {len(self.cordoned)} node(s) cordoned by run {self.run_id}"]
        if self.already_cordoned:
            parts.append(f"{len(self.already_cordoned)} already cordoned before the run (left alone): "
                         + ", ".join(self.already_cordoned))
        if self.failed:
            parts.append("failed: " + "; ".join(f"{n}: {why}" for n, why in self.failed.items()))
        return "; ".join(parts) + f" in {self.wall_time:.2f}s"


def cordon_zone(cluster: Cluster, zone: str, ledger: Ledger, *, timeline: Timeline | None = None) -> CordonReport:
    """Cordon every schedulable node of ``zone`` (undo recorded in ``ledger`` first); returns the report."""
    core = cluster.core
    _, nodes = zone_nodes(core, zone)  # unknown zone: raises before anything is recorded or touched
    report = CordonReport(zone, ledger.run_id, timeline=timeline or Timeline())
    start = time.monotonic()
    for n in nodes:
        if n.unschedulable:
            report.already_cordoned.append(n.name)
            report.timeline.add(f"node/{n.name}", "already cordoned before the run: left alone")
    todo = [n.name for n in nodes if not n.unschedulable]
    if todo:
        ids = ledger.record_many([(KIND, {"node": name, "run_id": ledger.run_id}, f"node/{name}") for name in todo])
        with ThreadPoolExecutor(max_workers=min(16, len(todo))) as pool:
            results = list(pool.map(lambda name: _cordon_node(core, name, ledger.run_id, report.timeline), todo))
        for name, entry_id, (state, detail) in zip(todo, ids, results, strict=True):
            if state == "cordoned":
                report.cordoned.append(name)
            elif state == "already":
                report.already_cordoned.append(name)
                ledger.done(entry_id, "nothing to undo: the node was cordoned by someone else first")
            else:
                report.failed[name] = detail
    report.cordoned.sort()
    report.already_cordoned.sort()
    report.wall_time = time.monotonic() - start
    return report


def _cordon_node(core: Any, name: str, run_id: str, timeline: Timeline) -> tuple[str, str]:
    from kubernetes.client import ApiException

    target = f"node/{name}"
    for _ in range(10):
        try:
            node = core.read_node(name)
        except ApiException as e:
            timeline.add(target, "cordon failed", f"read: {e.status} {e.reason}")
            return "failed", f"reading the node: {e.status} {e.reason}"
        if node.spec.unschedulable:
            timeline.add(target, "already cordoned (by someone else, after the run started): left alone")
            return "already", ""
        body = {"metadata": {"resourceVersion": node.metadata.resource_version,
                             "annotations": {CORDONED_BY: run_id}},
                "spec": {"unschedulable": True}}
        try:
            core.patch_node(name, body, _content_type=MERGE_PATCH)
        except ApiException as e:
            if e.status == 409:
                continue  # the node changed since we read it: look again
            timeline.add(target, "cordon failed", f"{e.status} {e.reason}")
            return "failed", f"{e.status} {e.reason}"
        timeline.add(target, "cordoned", f"{CORDONED_BY}={run_id}")
        return "cordoned", ""
    timeline.add(target, "cordon failed", "the node kept changing (10 conflicts)")
    return "failed", "the node kept changing under us (10 write conflicts in a row)"


def undo_cordon(undo: dict[str, Any], cluster: Cluster) -> UndoOutcome:
    """Uncordon ``undo["node"]`` if it still carries ``undo["run_id"]``'s annotation; idempotent."""
    from kubernetes.client import ApiException

    name, run_id = undo["node"], undo["run_id"]
    target = f"node/{name}"
    core = cluster.core
    for _ in range(10):
        try:
            node = core.read_node(name)
        except ApiException as e:
            if e.status == 404:
                return UndoOutcome(KIND, target, True, "nothing to undo", "the node no longer exists")
            raise
        owner = (node.metadata.annotations or {}).get(CORDONED_BY)
        if owner != run_id:
            state = "cordoned" if node.spec.unschedulable else "schedulable"
            why = f"it carries {CORDONED_BY}={owner}" if owner else f"it has no {CORDONED_BY} annotation"
            return UndoOutcome(KIND, target, True, "left alone",
                               f"not cordoned by this run any more ({why}; node is {state})")
        body = {"metadata": {"resourceVersion": node.metadata.resource_version, "annotations": {CORDONED_BY: None}},
                "spec": {"unschedulable": None}}
        try:
            core.patch_node(name, body, _content_type=MERGE_PATCH)
        except ApiException as e:
            if e.status == 409:
                continue
            if e.status == 404:
                return UndoOutcome(KIND, target, True, "nothing to undo", "the node no longer exists")
            raise
        return UndoOutcome(KIND, target, True, "uncordoned", f"removed {CORDONED_BY}={run_id}")
    return UndoOutcome(KIND, target, False, "undo failed", "the node kept changing (10 write conflicts in a row)")


register_undo(KIND, undo_cordon)
