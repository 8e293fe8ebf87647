"""DaemonSet controller (upstream ``pkg/controller/daemon``): one pod on every eligible node.

A node is eligible when the template's nodeSelector and required node affinity match it and its
NoSchedule/NoExecute taints are tolerated (with the tolerations every daemon pod gets). Each pod
carries a required node affinity ``metadata.name In [node]``. Upstream leaves binding to the
default scheduler; until a scheduler runs here, the controller binds the pod itself through the
pods/binding path right after creating it (``BIND_DIRECTLY``), which yields the same pod shape
(``spec.nodeName`` and ``PodScheduled=True``). Rolling updates replace up to maxUnavailable pods.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from ..apiserver import subresources
from ..apiserver.errors import ApiError, quiet
from ..apiserver.store import Event
from ..objects import deep_copy
from ..rules.node_affinity import required_node_affinity_matches
from ..rules.tolerations import tolerated
from .base import Controller
from .events import EventRecorder
from .revisions import HASH_KEY, ensure_revision, owned_revisions, truncate_history
from .workload import (
    DAEMONSETS,
    NODES,
    PODS,
    available_in,
    by_creation,
    claim,
    controller_ref,
    is_available,
    is_finished,
    is_ready,
    is_terminating,
    later,
    pod_from_template,
    pod_owner_keys,
    scaled_value,
    write_status,
)

Obj = dict[str, Any]
BIND_DIRECTLY = True
REVISION_HASH = "controller-revision-hash"
TEMPLATE_GENERATION = "pod-template-generation"
GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"

DAEMON_TOLERATIONS = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
NETWORK_UNAVAILABLE = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists",
                       "effect": "NoSchedule"}


# ---------------------------------------------------------------- node eligibility


def daemon_tolerations(spec: Obj) -> list[Obj]:
    """``AddOrUpdateDaemonPodTolerations``: the pod's own tolerations plus the daemon ones not present."""
    tolerations = [dict(t) for t in spec.get("tolerations") or []]
    extra = list(DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        extra.append(NETWORK_UNAVAILABLE)
    for t in extra:
        if not any(o.get("key") == t["key"] and o.get("effect") == t["effect"]
                   and o.get("operator", "Equal") == t["operator"] for o in tolerations):
            tolerations.append(dict(t))
    return tolerations


def should_run(node: Obj, template_spec: Obj) -> bool:
    """``NodeShouldRunDaemonPod`` (predicates only: selector, affinity, taints)."""
    if not required_node_affinity_matches({"spec": template_spec}, node):
        return False
    tolerations = daemon_tolerations(template_spec)
    return not any(taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerated(taint, tolerations)
                   for taint in (node.get("spec") or {}).get("taints") or [])


def node_affinity_for(affinity: Obj | None, node_name: str) -> Obj:
    """``ReplaceDaemonSetPodNodeNameNodeAffinity``: pin every required term to ``metadata.name In [node]``."""
    affinity = deep_copy(affinity or {})
    field = {"key": "metadata.name", "operator": "In", "values": [node_name]}
    na = affinity.setdefault("nodeAffinity", {})
    req = na.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = req.get("nodeSelectorTerms") or []
    if not terms:
        terms = [{"matchFields": [field]}]
    else:
        for t in terms:
            t["matchFields"] = [field]
    na["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": terms}
    return affinity


class DaemonSetController(Controller):
    name = "daemonset-controller"

    def __init__(self, store: Any):
        super().__init__(store)
        self.recorder = EventRecorder(store, "daemonset-controller")

    def on_event(self, ev: Event) -> None:
        if ev.key == DAEMONSETS.key:
            self.enqueue((ev.namespace, ev.obj["metadata"]["name"]))
        elif ev.key == NODES.key:
            old, new = ev.old or {}, ev.obj
            if ev.type != "MODIFIED" or (old.get("metadata") or {}).get("labels") != new["metadata"].get("labels") \
                    or (old.get("spec") or {}) != (new.get("spec") or {}):
                for ds in self.store.scan(DAEMONSETS.key):
                    self.enqueue((ds["metadata"]["namespace"], ds["metadata"]["name"]))
        elif ev.key == PODS.key:
            for key in pod_owner_keys(self.store, ev, "DaemonSet", DAEMONSETS.key):
                self.enqueue(key)

    # ------------------------------------------------------------ sync

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        ns, name = key
        ds = self.store.peek(DAEMONSETS.key, ns, name)
        if ds is None:
            return
        ds = deep_copy(ds)
        spec = ds.get("spec") or {}
        pods = claim(self.store, ds, PODS.key, list(self.store.scan(PODS.key, ns)), spec.get("selector"), PODS)
        if ds["metadata"].get("deletionTimestamp"):
            return
        revision, _ = ensure_revision(self.store, ds, owned_revisions(self.store, ds))
        hash_ = (revision["metadata"].get("labels") or {}).get(HASH_KEY, "")
        nodes = list(self.store.scan(NODES.key))
        tspec = (spec.get("template") or {}).get("spec") or {}
        self._manage(ds, pods, nodes, tspec, hash_)
        pods = [p for p in self.store.scan(PODS.key, ns)
                if (r := controller_ref(p)) and r.get("uid") == ds["metadata"]["uid"]]
        rolling = ((spec.get("updateStrategy") or {}).get("type", "RollingUpdate")) == "RollingUpdate"
        if rolling and self._rolling_update(ds, pods, nodes, tspec, hash_):
            pods = [p for p in self.store.scan(PODS.key, ns)
                    if (r := controller_ref(p)) and r.get("uid") == ds["metadata"]["uid"]]
        self._write_status(ds, pods, nodes, tspec, hash_)
        live = {revision["metadata"]["name"]}
        truncate_history(self.store, ds, owned_revisions(self.store, ds), live)
        wait = available_in([p for p in pods if not is_terminating(p)], int(spec.get("minReadySeconds") or 0))
        if wait is not None:
            later(wait, self.enqueue, key)

    @staticmethod
    def _node_of(pod: Obj) -> str | None:
        node = pod["spec"].get("nodeName")
        if node:
            return node
        for term in ((((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
                      .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []):
            for f in term.get("matchFields") or []:
                if f.get("key") == "metadata.name" and f.get("operator") == "In" and len(f.get("values") or []) == 1:
                    return f["values"][0]
        return None

    def _manage(self, ds: Obj, pods: list[Obj], nodes: list[Obj], tspec: Obj, hash_: str) -> None:
        by_node: dict[str, list[Obj]] = {}
        for p in pods:
            n = self._node_of(p)
            if n:
                by_node.setdefault(n, []).append(p)
        node_names = {n["metadata"]["name"] for n in nodes}
        to_create: list[str] = []
        to_delete: list[Obj] = []
        for node in nodes:
            nname = node["metadata"]["name"]
            mine = [p for p in by_node.get(nname, []) if not is_terminating(p)]
            if should_run(node, tspec):
                failed = [p for p in mine if is_finished(p)]
                to_delete += failed
                alive = [p for p in mine if not is_finished(p)]
                if not alive and not any(is_terminating(p) for p in by_node.get(nname, [])):
                    to_create.append(nname)
                elif len(alive) > 1:
                    # Keep the oldest, preferring one of the current revision.
                    keep = sorted(alive, key=lambda p: (
                        (p["metadata"].get("labels") or {}).get(REVISION_HASH) != hash_,
                        p["metadata"].get("creationTimestamp", ""), p["metadata"]["name"]))[0]
                    to_delete += [p for p in alive if p is not keep]
            else:
                to_delete += mine
        for nname, plist in by_node.items():
            if nname not in node_names:
                to_delete += [p for p in plist if not is_terminating(p)]
        for nname in to_create:
            self._create(ds, nname, hash_)
        for p in to_delete:
            self._delete(ds, p)

    def _create(self, ds: Obj, node: str, hash_: str) -> None:
        ns = ds["metadata"]["namespace"]
        template = (ds.get("spec") or {}).get("template") or {}
        pod = pod_from_template(ds, template)
        labels = pod["metadata"].setdefault("labels", {})
        labels[REVISION_HASH] = hash_
        labels[TEMPLATE_GENERATION] = str((ds["metadata"].get("annotations") or {}).get(
            GENERATION_ANNOTATION, ds["metadata"].get("generation", 1)))
        pod["spec"]["affinity"] = node_affinity_for(pod["spec"].get("affinity"), node)
        pod["spec"]["tolerations"] = daemon_tolerations(pod["spec"])
        try:
            created = self.store.create(PODS, ns, pod)
        except ApiError as e:
            self.recorder.warning(ds, "FailedCreate", f"Error creating: {e.message}")
            return
        pname = created["metadata"]["name"]
        self.recorder.normal(ds, "SuccessfulCreate", f"Created pod: {pname}")
        if BIND_DIRECTLY:
            quiet(lambda: subresources.bind_pod(self.store, ns, pname, node))

    def _delete(self, ds: Obj, pod: Obj) -> None:
        pname = pod["metadata"]["name"]
        if quiet(lambda: self.store.delete(PODS, ds["metadata"]["namespace"], pname)) is not None:
            self.recorder.normal(ds, "SuccessfulDelete", f"Deleted pod: {pname}")

    def _rolling_update(self, ds: Obj, pods: list[Obj], nodes: list[Obj], tspec: Obj, hash_: str) -> bool:
        """maxSurge 0: delete old-revision pods while at most maxUnavailable pods are unavailable."""
        spec = ds.get("spec") or {}
        ru = (spec.get("updateStrategy") or {}).get("rollingUpdate") or {}
        eligible = [n["metadata"]["name"] for n in nodes if should_run(n, tspec)]
        max_unavailable = scaled_value(ru.get("maxUnavailable", 1), len(eligible), True)
        if ru.get("maxSurge") not in (None, 0, "0", "0%") and max_unavailable == 0:
            max_unavailable = 1
        min_ready = int(spec.get("minReadySeconds") or 0)
        unavailable = 0
        old_available: list[Obj] = []
        for nname in eligible:
            here = [p for p in pods if self._node_of(p) == nname]
            alive = [p for p in here if not is_terminating(p)]
            if not alive or not any(is_available(p, min_ready) for p in alive):
                unavailable += 1
                for p in alive:
                    if (p["metadata"].get("labels") or {}).get(REVISION_HASH) != hash_:
                        self._delete(ds, p)  # old and unavailable: replace at once
                continue
            old_available += [p for p in alive if (p["metadata"].get("labels") or {}).get(REVISION_HASH) != hash_]
        budget = max_unavailable - unavailable
        deleted = False
        for p in by_creation(old_available):
            if budget <= 0:
                break
            self._delete(ds, p)
            budget -= 1
            deleted = True
        return deleted

    def _write_status(self, ds: Obj, pods: list[Obj], nodes: list[Obj], tspec: Obj, hash_: str) -> None:
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        desired = current = misscheduled = ready = available = updated = 0
        for node in nodes:
            nname = node["metadata"]["name"]
            here = [p for p in pods if self._node_of(p) == nname and not is_terminating(p)]
            if should_run(node, tspec):
                desired += 1
                if here:
                    current += 1
                    oldest = by_creation(here)[0]
                    if is_ready(oldest):
                        ready += 1
                        if is_available(oldest, min_ready):
                            available += 1
                    if any((p["metadata"].get("labels") or {}).get(REVISION_HASH) == hash_ for p in here):
                        updated += 1
            elif here:
                misscheduled += 1
        status: Obj = {"currentNumberScheduled": current, "numberMisscheduled": misscheduled,
                       "desiredNumberScheduled": desired, "numberReady": ready,
                       "observedGeneration": int(ds["metadata"].get("generation", 1))}
        if updated:
            status["updatedNumberScheduled"] = updated
        if available:
            status["numberAvailable"] = available
        if desired - available:
            status["numberUnavailable"] = desired - available
        old = self.store.peek(DAEMONSETS.key, ds["metadata"]["namespace"], ds["metadata"]["name"])
        if old is not None:
            if (old.get("status") or {}).get("collisionCount") is not None:
                status["collisionCount"] = old["status"]["collisionCount"]
            if (old.get("status") or {}).get("conditions"):
                status["conditions"] = old["status"]["conditions"]
            write_status(self.store, DAEMONSETS, old, status)
