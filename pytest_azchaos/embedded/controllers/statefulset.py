"""StatefulSet controller (upstream ``pkg/controller/statefulset``): stable, ordered pods with their claims.

Pods are ``<set>-<ordinal>``; each ``volumeClaimTemplates`` entry gives a claim
``<template>-<set>-<ordinal>`` created before its pod and kept when the pod goes (unless the
retention policy says Delete). OrderedReady creates ordinal N only once 0..N-1 are Running and
Ready and scales down from the highest; Parallel does both at once. Rolling updates replace pods
in reverse ordinal order down to the partition. Revisions are ControllerRevisions.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

from ..apiserver.errors import ApiError, quiet
from ..apiserver.store import Event
from ..objects import deep_copy
from .base import Controller
from .events import EventRecorder
from .revisions import ensure_revision, owned_revisions, template_of, truncate_history
from .workload import (
    PODS,
    PVCS,
    STATEFULSETS,
    available_in,
    claim,
    controller_ref,
    is_available,
    is_finished,
    is_ready,
    is_terminating,
    later,
    owner_ref,
    pod_from_template,
    pod_owner_keys,
    write_status,
)

Obj = dict[str, Any]
POD_NAME = "statefulset.kubernetes.io/pod-name"
POD_INDEX = "apps.kubernetes.io/pod-index"
REVISION_HASH = "controller-revision-hash"


def ordinal_of(set_name: str, pod_name: str) -> int | None:
    m = re.fullmatch(re.escape(set_name) + r"-(\d+)", pod_name)
    return int(m.group(1)) if m else None


def running_and_ready(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and is_ready(pod)


class StatefulSetController(Controller):
    name = "statefulset-controller"

    def __init__(self, store: Any):
        super().__init__(store)
        self.recorder = EventRecorder(store, "statefulset-controller")

    def on_event(self, ev: Event) -> None:
        if ev.key == STATEFULSETS.key:
            self.enqueue((ev.namespace, ev.obj["metadata"]["name"]))
        elif ev.key == PODS.key:
            for key in pod_owner_keys(self.store, ev, "StatefulSet", STATEFULSETS.key):
                self.enqueue(key)

    # ------------------------------------------------------------ sync

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        ns, name = key
        sts = self.store.peek(STATEFULSETS.key, ns, name)
        if sts is None:
            return
        sts = deep_copy(sts)
        spec = sts.get("spec") or {}
        candidates = [p for p in self.store.scan(PODS.key, ns)
                      if ordinal_of(name, p["metadata"]["name"]) is not None or controller_ref(p)]
        pods = claim(self.store, sts, PODS.key, candidates, spec.get("selector"), PODS)
        pods = [p for p in pods if ordinal_of(name, p["metadata"]["name"]) is not None]
        revisions = owned_revisions(self.store, sts)
        if sts["metadata"].get("deletionTimestamp"):
            return
        update_rev, collision = ensure_revision(self.store, sts, revisions)
        revisions = owned_revisions(self.store, sts)
        cur_name = (sts.get("status") or {}).get("currentRevision") or update_rev["metadata"]["name"]
        current_rev = next((r for r in revisions if r["metadata"]["name"] == cur_name), update_rev)
        self._update(sts, pods, current_rev, update_rev)
        pods = [p for p in self.store.scan(PODS.key, ns)
                if (r := controller_ref(p)) and r.get("uid") == sts["metadata"]["uid"]
                and ordinal_of(name, p["metadata"]["name"]) is not None]
        self._write_status(sts, pods, current_rev, update_rev, collision)
        fresh = self.store.peek(STATEFULSETS.key, ns, name) or sts
        status = fresh.get("status") or {}
        truncate_history(self.store, sts, owned_revisions(self.store, sts),
                         {status.get("currentRevision", ""), status.get("updateRevision", "")}
                         | {(p["metadata"].get("labels") or {}).get(REVISION_HASH, "") for p in pods})
        wait = available_in(pods, int(spec.get("minReadySeconds") or 0))
        if wait is not None:
            later(wait, self.enqueue, key)

    def _update(self, sts: Obj, pods: list[Obj], current_rev: Obj, update_rev: Obj) -> None:
        spec = sts.get("spec") or {}
        name = sts["metadata"]["name"]
        start = int((spec.get("ordinals") or {}).get("start") or 0)
        want = int(spec.get("replicas", 1))
        monotonic = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        min_ready = int(spec.get("minReadySeconds") or 0)
        by_ord = {ordinal_of(name, p["metadata"]["name"]): p for p in pods}
        replicas = range(start, start + want)
        condemned = sorted((o for o in by_ord if o is not None and o not in replicas), reverse=True)
        strategy = spec.get("updateStrategy") or {}
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)

        def healthy(p: Obj) -> bool:
            return running_and_ready(p) and is_available(p, min_ready)

        unhealthy = 0
        for o in replicas:
            pod = by_ord.get(o)
            if pod is not None and is_finished(pod):
                self._delete_pod(sts, pod)
                pod = None
                by_ord.pop(o, None)
                if monotonic:
                    return
            if pod is None:
                rev = current_rev if o < start + partition and strategy.get("type", "RollingUpdate") == \
                    "RollingUpdate" else update_rev
                if strategy.get("type") == "OnDelete":
                    rev = current_rev if current_rev is not update_rev and o < start + int(
                        (sts.get("status") or {}).get("currentReplicas") or 0) else update_rev
                if not self._create_pod(sts, o, rev):
                    return
                if monotonic:
                    return
                continue
            self._ensure_claims(sts, pod, o, create_missing=not is_terminating(pod))
            if is_terminating(pod):
                unhealthy += 1
                if monotonic:
                    return
                continue
            if not healthy(pod):
                unhealthy += 1
                if monotonic:
                    return
        for o in condemned:
            pod = by_ord[o]
            self._ensure_claims(sts, pod, o, create_missing=False)
            if is_terminating(pod):
                if monotonic:
                    return
                continue
            if monotonic and unhealthy and healthy(pod):
                return
            self._delete_pod(sts, pod)
            if monotonic:
                return
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        update_hash = update_rev["metadata"]["name"]
        for o in reversed(replicas):
            if o < start + partition:
                break
            pod = by_ord.get(o)
            if pod is None:
                continue
            if (pod["metadata"].get("labels") or {}).get(REVISION_HASH) != update_hash and not is_terminating(pod):
                self._delete_pod(sts, pod)
                return
            if not healthy(pod):
                return

    # ------------------------------------------------------------ pods and claims

    def _claims(self, sts: Obj, ordinal: int) -> dict[str, Obj]:
        spec = sts.get("spec") or {}
        name = sts["metadata"]["name"]
        match = ((spec.get("selector") or {}).get("matchLabels") or {})
        out: dict[str, Obj] = {}
        for t in spec.get("volumeClaimTemplates") or []:
            tmpl = deep_copy(t)
            tname = (tmpl.get("metadata") or {}).get("name", "")
            meta: Obj = {"name": f"{tname}-{name}-{ordinal}"}
            labels = {**((tmpl.get("metadata") or {}).get("labels") or {}), **match}
            if labels:
                meta["labels"] = labels
            if (tmpl.get("metadata") or {}).get("annotations"):
                meta["annotations"] = tmpl["metadata"]["annotations"]
            out[tname] = {"metadata": meta, "spec": tmpl.get("spec") or {}}
        return out

    def _ensure_claims(self, sts: Obj, pod: Obj | None, ordinal: int, create_missing: bool) -> bool:
        ns = sts["metadata"]["namespace"]
        policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
        spec = sts.get("spec") or {}
        start = int((spec.get("ordinals") or {}).get("start") or 0)
        scaled_down = not (start <= ordinal < start + int(spec.get("replicas", 1)))
        for claim_body in self._claims(sts, ordinal).values():
            cname = claim_body["metadata"]["name"]
            existing = self.store.peek(PVCS.key, ns, cname)
            if existing is None:
                if not create_missing:
                    continue
                refs = self._claim_refs(sts, pod, policy, scaled_down, [])
                if refs:
                    claim_body["metadata"]["ownerReferences"] = refs
                try:
                    self.store.create(PVCS, ns, claim_body)
                except ApiError as e:
                    if e.code == 409:
                        continue
                    self.recorder.warning(sts, "FailedCreate",
                                          f"Create Claim {cname} for Pod {self._pod_name(sts, ordinal)} in "
                                          f"StatefulSet {sts['metadata']['name']} failed error: {e.message}")
                    return False
                self.recorder.normal(sts, "SuccessfulCreate",
                                     f"Create Claim {cname} Pod {self._pod_name(sts, ordinal)} in StatefulSet "
                                     f"{sts['metadata']['name']} success")
                continue
            if existing["metadata"].get("deletionTimestamp"):
                continue
            refs_now = list(existing["metadata"].get("ownerReferences") or [])
            refs = self._claim_refs(sts, pod, policy, scaled_down, refs_now)
            if refs != refs_now:
                def mutate(o: Obj, refs: list[Obj] = refs) -> Obj:
                    if refs:
                        o["metadata"]["ownerReferences"] = refs
                    else:
                        o["metadata"].pop("ownerReferences", None)
                    return o

                quiet(lambda cname=cname, mutate=mutate: self.store.guaranteed_update(PVCS, ns, cname, mutate))
        return True

    @staticmethod
    def _claim_refs(sts: Obj, pod: Obj | None, policy: Obj, scaled_down: bool, refs: list[Obj]) -> list[Obj]:
        """``updateClaimOwnerRefForSetAndPod``: owner refs that make the retention policy happen via GC."""
        set_uid = sts["metadata"]["uid"]
        pod_uid = pod["metadata"]["uid"] if pod is not None else None
        out = [r for r in refs if r.get("uid") not in (set_uid, pod_uid)]
        keep_set = [r for r in refs if r.get("uid") == set_uid]
        keep_pod = [r for r in refs if pod_uid and r.get("uid") == pod_uid]
        when_deleted = policy.get("whenDeleted", "Retain")
        when_scaled = policy.get("whenScaled", "Retain")
        set_ref = keep_set or [owner_ref(sts, controller=False)]
        pod_ref = keep_pod or ([owner_ref(pod, controller=False)] if pod is not None else [])
        if when_scaled == "Delete" and scaled_down:
            out += pod_ref
        elif when_deleted == "Delete":
            out += set_ref
        return out

    @staticmethod
    def _pod_name(sts: Obj, ordinal: int) -> str:
        return f"{sts['metadata']['name']}-{ordinal}"

    def _create_pod(self, sts: Obj, ordinal: int, revision: Obj) -> bool:
        ns = sts["metadata"]["namespace"]
        pname = self._pod_name(sts, ordinal)
        template = template_of(revision)
        pod = pod_from_template(sts, template, name=pname)
        labels = pod["metadata"].setdefault("labels", {})
        labels[POD_NAME] = pname
        labels[POD_INDEX] = str(ordinal)
        labels[REVISION_HASH] = revision["metadata"]["name"]
        spec = pod["spec"]
        spec["hostname"] = pname
        service = (sts.get("spec") or {}).get("serviceName")
        if service:
            spec["subdomain"] = service
        claims = self._claims(sts, ordinal)
        volumes = [{"name": t, "persistentVolumeClaim": {"claimName": c["metadata"]["name"]}}
                   for t, c in claims.items()]
        volumes += [v for v in spec.get("volumes") or [] if v.get("name") not in claims]
        if volumes:
            spec["volumes"] = volumes
        if not self._ensure_claims(sts, None, ordinal, create_missing=True):
            return False
        try:
            created = self.store.create(PODS, ns, pod)
        except ApiError as e:
            if e.code == 409:
                return True
            self.recorder.warning(sts, "FailedCreate",
                                  f"Create Pod {pname} in StatefulSet {sts['metadata']['name']} failed error: "
                                  f"{e.message}")
            return False
        self.recorder.normal(sts, "SuccessfulCreate",
                             f"Create Pod {pname} in StatefulSet {sts['metadata']['name']} successful")
        self._ensure_claims(sts, created, ordinal, create_missing=False)
        return True

    def _delete_pod(self, sts: Obj, pod: Obj) -> None:
        pname = pod["metadata"]["name"]
        o = ordinal_of(sts["metadata"]["name"], pname)
        if o is not None:
            self._ensure_claims(sts, pod, o, create_missing=False)
        done = quiet(lambda: self.store.delete(PODS, sts["metadata"]["namespace"], pname))
        if done is not None:
            self.recorder.normal(sts, "SuccessfulDelete",
                                 f"Delete Pod {pname} in StatefulSet {sts['metadata']['name']} successful")

    # ------------------------------------------------------------ status

    def _write_status(self, sts: Obj, pods: list[Obj], current_rev: Obj, update_rev: Obj, collision: int) -> None:
        min_ready = int((sts.get("spec") or {}).get("minReadySeconds") or 0)
        cur, upd = current_rev["metadata"]["name"], update_rev["metadata"]["name"]
        replicas = ready = available = current = updated = 0
        for p in pods:
            replicas += 1
            if running_and_ready(p):
                ready += 1
                if is_available(p, min_ready):
                    available += 1
            if not is_terminating(p):
                h = (p["metadata"].get("labels") or {}).get(REVISION_HASH)
                current += h == cur
                updated += h == upd
        strategy = ((sts.get("spec") or {}).get("updateStrategy") or {}).get("type", "RollingUpdate")
        if strategy == "RollingUpdate" and updated == replicas and ready == replicas and \
                replicas == int((sts.get("spec") or {}).get("replicas", 1)):
            current, cur = updated, upd
        status: Obj = {"observedGeneration": int(sts["metadata"].get("generation", 1)), "replicas": replicas}
        if ready:
            status["readyReplicas"] = ready
        if current:
            status["currentReplicas"] = current
        if updated:
            status["updatedReplicas"] = updated
        status["currentRevision"] = cur
        status["updateRevision"] = upd
        status["collisionCount"] = collision
        status["availableReplicas"] = available
        old = self.store.peek(STATEFULSETS.key, sts["metadata"]["namespace"], sts["metadata"]["name"])
        if old is not None:
            if (old.get("status") or {}).get("conditions"):
                status["conditions"] = old["status"]["conditions"]
            write_status(self.store, STATEFULSETS, old, status)
