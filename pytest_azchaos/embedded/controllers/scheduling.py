"""The default scheduler of the embedded cluster: a queue around the pure ``scheduler`` package.

Binds what fits (``Scheduled`` event), marks what does not (``PodScheduled=False`` with reason
``Unschedulable``, a new ``FailedScheduling`` event per attempt, as v1.36 records them through
events.k8s.io/v1), and retries unschedulable pods when nodes or pods change in a way that may
help, and periodically after ``retry_interval`` seconds.

VolumeBinding's Reserve/PreBind (upstream ``volumebinding`` + ``binder.go``): when the chosen node
needs WaitForFirstConsumer claims bound first, the scheduler sets ``status.nominatedNodeName``, binds
matching static PVs to their claims (``claimRef``) and annotates the claims to provision with
``volume.kubernetes.io/selected-node`` and the provisioner, then waits until every claim is fully bound
before binding the pod; after ``bind_timeout`` (600 s) it gives up with the recorded ``SchedulerError``.

Preemption (DefaultPreemption's ``prepareCandidate``): a pod that fits nowhere but would fit once
lower-priority pods are gone gets ``status.nominatedNodeName``; each victim gets the ``DisruptionTarget``
condition (reason ``PreemptionByScheduler``), is deleted with its grace period and gets a ``Preempted``
event naming the preemptor's UID and the node; lower-priority pods nominated to that node lose their
nomination. Nominated pods hold their room against pods of lower priority until they bind.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Hashable
from typing import Any

from ..apiserver.errors import ApiError, quiet
from ..apiserver.resources import REGISTRY
from ..apiserver.store import Event, Store
from ..apiserver.subresources import bind_pod
from ..objects import deep_copy, now_rfc3339
from ..scheduler import VolumeBinding, VolumeState, Workloads, schedule
from ..scheduler.model import NodeInfo, priority_of
from ..scheduler.volumes import claim_names as _claim_names
from . import persistentvolume as pvc
from .base import Controller
from .events import EventsV1Recorder
from .scheduler_cache import NodeInfoCache

Obj = dict[str, Any]
PODS = REGISTRY.lookup("", "v1", "pods")
assert PODS is not None
SCHEDULER_NAME = "default-scheduler"


class SchedulerController(Controller):
    name = "default-scheduler"

    def __init__(self, store: Store, retry_interval: float = 300.0, seed: int = 0, bind_timeout: float = 600.0):
        super().__init__(store)
        self.retry_interval = retry_interval
        self.bind_timeout = bind_timeout
        self.prebinding: dict[tuple[str, str], tuple[str, float]] = {}  # pod -> (node, deadline)
        self.rng = random.Random(seed)
        self.unschedulable: set[tuple[str, str]] = set()
        self.nominated: dict[tuple[str, str], str] = {}  # preemptors waiting for their victims to go
        self.events = EventsV1Recorder(store, SCHEDULER_NAME, "default-scheduler-embedded")
        self.node_infos = NodeInfoCache(store)
        self._next_start_node = 0
        self._retry_handle: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------ queueing

    def _wants(self, pod: Obj) -> bool:
        spec = pod.get("spec") or {}
        return (not spec.get("nodeName") and spec.get("schedulerName", SCHEDULER_NAME) == SCHEDULER_NAME
                and not pod["metadata"].get("deletionTimestamp"))

    def on_event(self, ev: Event) -> None:
        if ev.key == "pods":
            key = (ev.namespace, ev.obj["metadata"]["name"])
            if ev.type != "DELETED" and self._wants(ev.obj):
                if key not in self.unschedulable or ev.type == "ADDED":
                    self.enqueue(key)
                return
            self.unschedulable.discard(key)
            if ev.type == "DELETED" or (ev.obj.get("spec") or {}).get("nodeName"):
                self.nominated.pop(key, None)
            # A pod going away or finishing frees room: unschedulable pods may fit now.
            if ev.type == "DELETED" or (ev.old is not None and not ev.old["metadata"].get("deletionTimestamp")
                                        and ev.obj["metadata"].get("deletionTimestamp")):
                self._requeue_unschedulable()
        elif ev.key == "nodes":
            if ev.type != "MODIFIED" or _schedulability_changed(ev.old, ev.obj):
                self._requeue_unschedulable()
        elif ev.key in ("persistentvolumeclaims", "persistentvolumes"):
            self._requeue_unschedulable()
            for key in list(self.prebinding):
                self.enqueue(key)

    def _requeue_unschedulable(self) -> None:
        for key in list(self.unschedulable):
            self.enqueue(key)

    def _arm_retry(self) -> None:
        if self._retry_handle is None and self.unschedulable:
            self._retry_handle = asyncio.get_running_loop().call_later(self.retry_interval, self._periodic)

    def _periodic(self) -> None:
        self._retry_handle = None
        self._requeue_unschedulable()

    # ------------------------------------------------------------------ one cycle

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        ns, name = key
        pod = self.store.peek("pods", ns, name)
        if pod is None or not self._wants(pod):
            self.unschedulable.discard(key)
            self.prebinding.pop(key, None)
            return
        if key in self.prebinding:
            self._wait_for_volumes(pod, key)
            return
        infos = self._with_nominated(pod, self._with_assumed(self.node_infos.snapshot()))
        volumes = VolumeState(tuple(self.store.scan("persistentvolumeclaims")),
                              tuple(self.store.scan("persistentvolumes")),
                              tuple(self.store.scan("storageclasses.storage.k8s.io")))
        workloads = Workloads(
            services=tuple(self.store.scan("services", ns)),
            replica_sets=tuple(self.store.scan("replicasets.apps", ns)),
            stateful_sets=tuple(self.store.scan("statefulsets.apps", ns)),
            namespace_labels={n["metadata"]["name"]: n["metadata"].get("labels") or {}
                              for n in self.store.scan("namespaces")},
        )
        result = schedule(pod, (), (), volumes, workloads, rng=self.rng, node_infos=infos,
                          start_index=self._next_start_node,
                          pdbs=tuple(self.store.scan("poddisruptionbudgets.policy")))
        if infos:
            self._next_start_node = (self._next_start_node + result.evaluated) % len(infos)
        if result.node is not None:
            if not self._pre_bind_volumes(pod, result.node, volumes):
                self._bind(pod, result.node)
        elif result.nominated is not None:
            self._preempt(pod, result.nominated.node, result.nominated.victims)
            self._unschedulable(pod, result.message or "0/0 nodes are available", nominated=result.nominated.node)
        else:
            self._unschedulable(pod, result.message or "0/0 nodes are available")

    def _with_assumed(self, infos: list[Any]) -> list[Any]:
        """Count pods waiting in PreBind on their chosen node (upstream's ``AssumePod``), so a
        StatefulSet's next replica sees where the previous one is going."""
        if not self.prebinding:
            return infos
        extra: dict[str, list[Obj]] = {}
        for (ns, name), (node, _) in self.prebinding.items():
            pod = self.store.peek("pods", ns, name)
            if pod is not None and not pod["spec"].get("nodeName"):
                assumed = deep_copy(pod)
                assumed["spec"]["nodeName"] = node
                extra.setdefault(node, []).append(assumed)
        return [NodeInfo.build(i.node, [*i.pods, *extra[i.name]]) if i.name in extra else i for i in infos]

    def _with_nominated(self, pod: Obj, infos: list[Any]) -> list[Any]:
        """``addNominatedPods``: pods nominated to a node, of at least ``pod``'s priority, count as on it."""
        if not self.nominated:
            return infos
        own = priority_of(pod)
        uid = pod["metadata"].get("uid")
        extra: dict[str, list[Obj]] = {}
        for (ns, name), node in self.nominated.items():
            other = self.store.peek("pods", ns, name)
            if (other is None or other["metadata"].get("uid") == uid or other["spec"].get("nodeName")
                    or priority_of(other) < own):
                continue
            assumed = deep_copy(other)
            assumed["spec"]["nodeName"] = node
            extra.setdefault(node, []).append(assumed)
        return [NodeInfo.build(i.node, [*i.pods, *extra[i.name]]) if i.name in extra else i for i in infos]

    def _preempt(self, pod: Obj, node: str, victims: tuple[str, ...]) -> None:
        """``prepareCandidate``: mark, delete and report each victim; drop lower nominations on ``node``."""
        meta = pod["metadata"]
        scheduler = (pod.get("spec") or {}).get("schedulerName") or SCHEDULER_NAME
        for key in victims:
            ns, name = key.split("/", 1)
            victim = self.store.peek("pods", ns, name)
            if victim is None:
                continue
            generation = victim["metadata"].get("generation", 1)

            def mark(p: Obj, generation: Any = generation) -> Obj:
                status = p.setdefault("status", {})
                conds = [c for c in status.get("conditions") or [] if c.get("type") != "DisruptionTarget"]
                conds.append({"type": "DisruptionTarget", "observedGeneration": generation, "status": "True",
                              "lastProbeTime": None, "lastTransitionTime": now_rfc3339(),
                              "reason": "PreemptionByScheduler",
                              "message": f"{scheduler}: preempting to accommodate a higher priority pod"})
                status["conditions"] = conds
                return p

            ref = pod_ref(victim)
            if quiet(lambda ns=ns, name=name, mark=mark: self.store.guaranteed_update(
                    PODS, ns, name, mark, subresource="status")) is None:
                continue
            if quiet(lambda ns=ns, name=name: self.store.delete(PODS, ns, name)) is None:
                continue
            self.events.eventf(ref, pod_ref(pod), "Normal", "Preempted", "Preempting",
                               f"Preempted by pod {meta.get('uid', '')} on node {node}")
        own = priority_of(pod)
        for other_key, other_node in list(self.nominated.items()):
            other = self.store.peek("pods", *other_key)
            if other_node == node and other is not None and priority_of(other) < own:
                del self.nominated[other_key]
                self._set_nominated(other_key[0], other_key[1], None)
        self.nominated[(meta["namespace"], meta["name"])] = node

    def _bind(self, pod: Obj, node: str) -> bool:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        if quiet(lambda: bind_pod(self.store, ns, name, node)) is None:
            return False
        self.unschedulable.discard((ns, name))
        self.nominated.pop((ns, name), None)
        if (pod.get("status") or {}).get("nominatedNodeName") and (ns, name) not in self.prebinding:
            self._set_nominated(ns, name, None)  # v1.36 clears the nomination once the pod is bound
        self.events.eventf(pod_ref(pod), None, "Normal", "Scheduled", "Binding",
                           f"Successfully assigned {ns}/{name} to {node}")
        return True

    # ------------------------------------------------------------------ VolumeBinding PreBind

    def _pre_bind_volumes(self, pod: Obj, node: str, volumes: VolumeState) -> bool:
        """Start binding the pod's delayed claims for ``node``; True when the pod must wait for them."""
        binding = VolumeBinding(volumes)
        claims, _ = binding.claims(pod)
        if claims is None or not claims.delayed:
            return False
        node_obj = self.store.peek("nodes", "", node)
        if node_obj is None:
            return False
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        self._set_nominated(ns, name, node)
        info = NodeInfo.build(node_obj, [])
        taken: set[str] = set()
        for claim in claims.delayed:
            pv = binding.find_matching_volume(claim, info, taken)
            if pv is not None:
                taken.add(pv["metadata"]["name"])
                self._bind_static(claim, pv)
            else:
                self._select_node(claim, node, binding)
        self.prebinding[(ns, name)] = (node, asyncio.get_running_loop().time() + self.bind_timeout)
        asyncio.get_running_loop().call_later(self.bind_timeout + 0.01, self.enqueue, (ns, name))
        self.unschedulable.discard((ns, name))
        return True

    def _bind_static(self, claim: Obj, pv: Obj) -> None:
        def mutate(v: Obj) -> Obj:
            v["spec"]["claimRef"] = pvc.claim_ref(claim)
            v["metadata"].setdefault("annotations", {})[pvc.ANN_BOUND_BY_CONTROLLER] = "yes"
            return v

        with contextlib.suppress(ApiError):
            self.store.guaranteed_update(pvc.PVS, "", pv["metadata"]["name"], mutate)

    def _select_node(self, claim: Obj, node: str, binding: VolumeBinding) -> None:
        storage_class = binding.storage_class_of(claim) or {}
        provisioner = storage_class.get("provisioner", "")

        def mutate(c: Obj) -> Obj:
            ann = c["metadata"].setdefault("annotations", {})
            ann[pvc.ANN_SELECTED_NODE] = node
            if provisioner:
                ann[pvc.ANN_BETA_STORAGE_PROVISIONER] = provisioner
                ann[pvc.ANN_STORAGE_PROVISIONER] = provisioner
            return c

        meta = claim["metadata"]
        with contextlib.suppress(ApiError):
            self.store.guaranteed_update(pvc.PVCS, meta["namespace"], meta["name"], mutate)

    def _set_nominated(self, ns: str, name: str, node: str | None) -> None:
        def mutate(p: Obj) -> Obj:
            status = p.setdefault("status", {})
            if node:
                status["nominatedNodeName"] = node
            else:
                status.pop("nominatedNodeName", None)
            return p

        with contextlib.suppress(ApiError):
            self.store.guaranteed_update(PODS, ns, name, mutate, subresource="status")

    def _wait_for_volumes(self, pod: Obj, key: tuple[str, str]) -> None:
        """PreBind's wait: bind the pod once all its claims are bound; give up after the bind timeout."""
        node, deadline = self.prebinding[key]
        ns = key[0]
        bound = True
        for claim_name in _claim_names(pod):
            claim = self.store.peek(pvc.PVCS.key, ns, claim_name)
            volume_name = ((claim or {}).get("spec") or {}).get("volumeName")
            pv = self.store.peek(pvc.PVS.key, "", volume_name) if volume_name else None
            if (claim is None or pv is None or not pvc.bound_to_claim(pv, claim)
                    or ((claim["metadata"].get("annotations") or {}).get(pvc.ANN_BIND_COMPLETED) != "yes")):
                bound = False
                break
        if bound:
            del self.prebinding[key]
            if self._bind(pod, node):
                self._set_nominated(ns, key[1], None)
            return
        if asyncio.get_running_loop().time() >= deadline:
            del self.prebinding[key]
            self._unschedulable(pod, 'running PreBind plugin "VolumeBinding": binding volumes: context deadline '
                                     "exceeded", reason="SchedulerError")

    def _unschedulable(self, pod: Obj, message: str, reason: str = "Unschedulable",
                       nominated: str | None = None) -> None:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        generation = pod["metadata"].get("generation", 1)

        def mutate(p: Obj) -> Obj:
            status = p.setdefault("status", {})
            conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
            old = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
            same = old is not None and old.get("status") == "False"
            conds.append({"type": "PodScheduled", "observedGeneration": generation, "status": "False",
                          "lastProbeTime": None,
                          "lastTransitionTime": old["lastTransitionTime"] if same and old else now_rfc3339(),
                          "reason": reason, "message": message})
            status["conditions"] = conds
            if nominated:
                status["nominatedNodeName"] = nominated
            return p

        # Marked before the write, so the write's own event does not queue the pod again.
        self.unschedulable.add((ns, name))
        try:
            self.store.guaranteed_update(PODS, ns, name, mutate, subresource="status")
        except ApiError as e:
            if e.code == 404:
                self.unschedulable.discard((ns, name))
                return
            raise
        self.events.eventf(pod_ref(pod), None, "Warning", "FailedScheduling", "Scheduling", message)
        self._arm_retry()


def pod_ref(pod: Obj) -> Obj:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta.get("uid", ""),
            "apiVersion": "v1", "resourceVersion": meta.get("resourceVersion", "")}


def _schedulability_changed(old: Obj | None, new: Obj) -> bool:
    if old is None:
        return True
    for path in (("spec", "unschedulable"), ("spec", "taints"), ("metadata", "labels"),
                 ("status", "allocatable")):
        a, b = old, new
        for part in path:
            a = (a or {}).get(part)
            b = (b or {}).get(part)
        if a != b:
            return True
    return False
