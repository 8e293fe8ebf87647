"""PodDisruptionBudget status (upstream ``pkg/controller/disruption``).

expectedPods is the number of selected pods for an integer minAvailable, otherwise the summed
scale of the pods' controllers (Deployment, ReplicaSet, StatefulSet); desiredHealthy follows
minAvailable (percentages round up) or expected - maxUnavailable (rounding up); currentHealthy
counts Ready pods that are neither terminating nor recently evicted; disruptionsAllowed is
their difference, never negative. The eviction subresource consumes ``disruptionsAllowed`` and
records ``disruptedPods``; entries go once the pod is gone or after two minutes.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from ..apiserver.selectors import label_selector_matches
from ..apiserver.store import Event
from ..objects import deep_copy, now_rfc3339, parse_time
from .base import Controller
from .events import EventRecorder
from .workload import (
    DEPLOYMENTS,
    PDBS,
    PODS,
    REPLICASETS,
    STATEFULSETS,
    controller_ref,
    is_ready,
    is_terminating,
    later,
    now,
    scaled_value,
    write_status,
)

Obj = dict[str, Any]
DELETION_TIMEOUT = 120.0
_SCALE_KEYS = (DEPLOYMENTS.key, REPLICASETS.key, STATEFULSETS.key)


def pdb_selects(pdb: Obj, labels: dict[str, str] | None) -> bool:
    """policy/v1: a nil selector selects nothing, an empty one every pod of the namespace."""
    sel = (pdb.get("spec") or {}).get("selector")
    if sel is None:
        return False
    if not sel:
        return True
    return label_selector_matches(sel, labels)


class DisruptionController(Controller):
    name = "disruption-controller"

    def __init__(self, store: Any):
        super().__init__(store)
        self.recorder = EventRecorder(store, "controllermanager")

    def on_event(self, ev: Event) -> None:
        if ev.key == PDBS.key:
            self.enqueue((ev.namespace, ev.obj["metadata"]["name"]))
        elif ev.key == PODS.key:
            labels = [ev.obj["metadata"].get("labels") or {}]
            if ev.old is not None:
                labels.append(ev.old["metadata"].get("labels") or {})
            for pdb in self.store.scan(PDBS.key, ev.namespace):
                if any(pdb_selects(pdb, lb) for lb in labels):
                    self.enqueue((ev.namespace, pdb["metadata"]["name"]))
        elif ev.key in _SCALE_KEYS:
            old_spec = (ev.old or {}).get("spec") or {}
            if ev.type == "MODIFIED" and old_spec.get("replicas") == (ev.obj.get("spec") or {}).get("replicas"):
                return
            for pdb in self.store.scan(PDBS.key, ev.namespace):
                self.enqueue((ev.namespace, pdb["metadata"]["name"]))

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        ns, name = key
        pdb = self.store.peek(PDBS.key, ns, name)
        if pdb is None or pdb["metadata"].get("deletionTimestamp"):
            return
        spec = pdb.get("spec") or {}
        pods = [p for p in self.store.scan(PODS.key, ns) if pdb_selects(pdb, p["metadata"].get("labels"))]
        if not pods:
            self.recorder.normal(pdb, "NoPods", "No matching pods found")
        expected, desired, unmanaged = self._expected(pdb, pods)
        if unmanaged:
            self.recorder.warning(
                pdb, "UnmanagedPods",
                f"Pods selected by this PodDisruptionBudget (selector: {_selector_text(spec.get('selector'))}) were "
                "found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may "
                'result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the '
                "PDB to an integer value.")
        t = now()
        disrupted, recheck = self._disrupted(pdb, pods, t)
        healthy = 0
        for p in pods:
            if is_terminating(p):
                continue
            since = parse_time(disrupted.get(p["metadata"]["name"]))
            if since is not None and since + DELETION_TIMEOUT > t:
                continue
            if is_ready(p):
                healthy += 1
        allowed = healthy - desired
        if expected <= 0 or allowed <= 0:
            allowed = 0
        self._write(pdb, healthy, desired, expected, allowed, disrupted)
        if recheck is not None:
            later(recheck - t + 0.1, self.enqueue, key)

    def _expected(self, pdb: Obj, pods: list[Obj]) -> tuple[int, int, list[str]]:
        spec = pdb.get("spec") or {}
        max_unavailable = spec.get("maxUnavailable")
        min_available = spec.get("minAvailable")
        if max_unavailable is not None:
            expected, unmanaged = self._expected_scale(pods)
            desired = max(expected - scaled_value(max_unavailable, expected, True), 0)
            return expected, desired, unmanaged
        if min_available is not None:
            if isinstance(min_available, int):
                return len(pods), min_available, []
            expected, unmanaged = self._expected_scale(pods)
            return expected, scaled_value(min_available, expected, True), unmanaged
        return len(pods), 0, []

    def _expected_scale(self, pods: list[Obj]) -> tuple[int, list[str]]:
        """``getExpectedScale``: the scale of every distinct controller of the selected pods."""
        scales: dict[str, int] = {}
        unmanaged: list[str] = []
        for pod in pods:
            ref = controller_ref(pod)
            if ref is None:
                unmanaged.append(pod["metadata"]["name"])
                continue
            ns = pod["metadata"]["namespace"]
            owner = self._scale_owner(ns, ref)
            if owner is None:
                continue
            uid, replicas = owner
            scales[uid] = replicas
        return sum(scales.values()), unmanaged

    def _scale_owner(self, ns: str, ref: Obj) -> tuple[str, int] | None:
        kind = ref.get("kind")
        if kind == "ReplicaSet":
            rs = self.store.peek(REPLICASETS.key, ns, ref["name"])
            if rs is None or rs["metadata"]["uid"] != ref.get("uid"):
                return None
            dref = controller_ref(rs)
            if dref is not None and dref.get("kind") == "Deployment":
                d = self.store.peek(DEPLOYMENTS.key, ns, dref["name"])
                if d is not None and d["metadata"]["uid"] == dref.get("uid"):
                    return d["metadata"]["uid"], int((d.get("spec") or {}).get("replicas", 1))
                return None
            return rs["metadata"]["uid"], int((rs.get("spec") or {}).get("replicas", 1))
        if kind == "StatefulSet":
            sts = self.store.peek(STATEFULSETS.key, ns, ref["name"])
            if sts is None or sts["metadata"]["uid"] != ref.get("uid"):
                return None
            return sts["metadata"]["uid"], int((sts.get("spec") or {}).get("replicas", 1))
        if kind == "Deployment":
            d = self.store.peek(DEPLOYMENTS.key, ns, ref["name"])
            if d is None:
                return None
            return d["metadata"]["uid"], int((d.get("spec") or {}).get("replicas", 1))
        return None

    def _disrupted(self, pdb: Obj, pods: list[Obj], t: float) -> tuple[dict[str, str], float | None]:
        """``buildDisruptedPodMap``: keep entries of live, non-terminating pods younger than two minutes."""
        old = (pdb.get("status") or {}).get("disruptedPods") or {}
        out: dict[str, str] = {}
        recheck: float | None = None
        for pod in pods:
            pname = pod["metadata"]["name"]
            if is_terminating(pod) or pname not in old:
                continue
            since = parse_time(old[pname])
            if since is None:
                continue
            expires = since + DELETION_TIMEOUT
            if expires < t:
                self.recorder.warning(pdb, "NotDeleted",
                                      f"Pod was expected by PDB {pdb['metadata']['namespace']}/"
                                      f"{pdb['metadata']['name']} to be deleted but it wasn't")
                continue
            out[pname] = old[pname]
            recheck = expires if recheck is None else min(recheck, expires)
        return out, recheck

    def _write(self, pdb: Obj, healthy: int, desired: int, expected: int, allowed: int,
               disrupted: dict[str, str]) -> None:
        old = pdb.get("status") or {}
        generation = int(pdb["metadata"].get("generation", 1))
        status: Obj = {"observedGeneration": generation}
        if disrupted:
            status["disruptedPods"] = disrupted
        status.update({"disruptionsAllowed": allowed, "currentHealthy": healthy, "desiredHealthy": desired,
                       "expectedPods": expected})
        cond_status, reason = ("True", "SufficientPods") if allowed > 0 else ("False", "InsufficientPods")
        conds = deep_copy(old.get("conditions") or [])
        current = next((c for c in conds if c.get("type") == "DisruptionAllowed"), None)
        new = {"type": "DisruptionAllowed", "status": cond_status, "observedGeneration": generation,
               "lastTransitionTime": now_rfc3339(), "reason": reason, "message": ""}
        if current is not None and current.get("status") == cond_status:
            new["lastTransitionTime"] = current.get("lastTransitionTime", new["lastTransitionTime"])
        status["conditions"] = [new if c.get("type") == "DisruptionAllowed" else c for c in conds] \
            if current is not None else [*conds, new]
        write_status(self.store, PDBS, pdb, status)


def _selector_text(sel: Obj | None) -> str:
    """Go's ``%v`` of a *LabelSelector, as the UnmanagedPods event prints it."""
    if not sel:
        return "&LabelSelector{MatchLabels:map[string]string{},MatchExpressions:[]LabelSelectorRequirement{},}"
    labels = ",".join(f"{k}: {v}" for k, v in sorted((sel.get("matchLabels") or {}).items()))
    return (f"&LabelSelector{{MatchLabels:map[string]string{{{labels},}},"
            "MatchExpressions:[]LabelSelectorRequirement{},}")
