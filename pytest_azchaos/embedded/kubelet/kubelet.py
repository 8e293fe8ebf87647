"""The kubelets of the embedded cluster: one ``NodeAgent`` per node, fed by one store subscription.

A node agent runs the pods bound to its node (``PodWorker``), gives each an address, keeps the
node's images, and can be stopped and started (a stopped kubelet posts nothing and acts on
nothing; its containers keep running, unreachable, as on a node that lost its network).

A partitioned kubelet (its subnet cut off from the API server by a network ACL) is stopped the same
way, and does not even learn that its pods were deleted: their containers keep running and serving
whoever can still reach them. When it reconnects it syncs again and, as upstream's
``HandlePodCleanups``, kills the containers of pods that no longer exist in the API.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from typing import Any

from ..apiserver.errors import quiet
from ..apiserver.resources import REGISTRY
from ..apiserver.store import Event, Store
from ..controllers.base import Controller
from .dns_config import PodDnsSettings
from .pod_worker import PodWorker
from .volumes import NodeVolumes

log = logging.getLogger(__name__)
Obj = dict[str, Any]
PODS = REGISTRY.lookup("", "v1", "pods")
assert PODS is not None

EventSink = Callable[[Obj, str, str, str, str, str | None], None]


class Backoff:
    """The kubelet's crash-loop back-off: 10 s doubling to 300 s (scaled by the timing profile)."""

    def __init__(self, initial: float = 10.0, cap: float = 300.0):
        self.initial = initial
        self.cap = cap
        self._next: dict[str, float] = {}

    def next(self, key: str) -> float:
        delay = self._next.get(key, self.initial)
        self._next[key] = min(delay * 2, self.cap)
        return delay


class PodAddresses:
    """Pod IPs of one cluster, never handed out twice while the cluster runs."""

    def __init__(self, make: Callable[[int], str]):
        self._make = make
        self._index = 0

    def allocate(self) -> str:
        ip = self._make(self._index)
        self._index += 1
        return ip


class NodeAgent:
    """One node's kubelet."""

    def __init__(self, manager: KubeletManager, name: str, address: str):
        self.manager = manager
        self.name = name
        self.address = address
        self.running = True
        self.partitioned = False  # cut off from the API server: pod deletions are not seen either
        self.workers: dict[str, PodWorker] = {}
        self._images: set[str] = set()
        self._pulled_with: dict[str, set[tuple[str, str]] | None] = {}  # image -> credentials it was pulled with
        self.volumes = NodeVolumes(self, getattr(manager, "mount_timeout", 120.0))

    # shared pieces, read by pod workers
    @property
    def store(self) -> Store:
        return self.manager.store

    @property
    def registry(self) -> Any:
        return self.manager.registry

    @property
    def backoff(self) -> Backoff:
        return self.manager.backoff

    @property
    def probe_scale(self) -> float:
        return self.manager.probe_scale

    @property
    def profile_pull_seconds(self) -> float:
        return self.manager.pull_seconds

    def has_image(self, image: str) -> bool:
        return image in self._images

    def remember_image(self, image: str, credential: tuple[str, str] | None = None) -> None:
        """``image`` is on this node, pulled with ``credential`` (None: anonymously, so every pod may use it)."""
        self._images.add(image)
        record = self._pulled_with.get(image, set())
        self._pulled_with[image] = None if credential is None or record is None else {*record, credential}

    def may_use(self, image: str, credentials: list[tuple[str, str]]) -> bool:
        """Whether a pod with ``credentials`` may start ``image`` from this node's copy without pulling again.

        ``KubeletEnsureSecretPulledImages`` (beta, on by default since v1.35) with the default policy
        ``NeverVerifyPreloadedImages``: an image the kubelet pulled with a pull secret's credentials is re-pulled
        (so checked by the registry) for a pod that does not hold the same credentials; one pulled anonymously, or
        not pulled by the kubelet at all, is used by every pod.
        """
        record = self._pulled_with.get(image)
        return record is None or any(c in record for c in credentials)

    async def volumes_ready(self, pod: Obj) -> bool:
        """Wait until the pod's volumes are attached to this node and mounted (see ``volumes.py``)."""
        return await self.volumes.wait_ready(pod)

    def event(self, pod: Obj, etype: str, reason: str, message: str, field: str | None = None) -> None:
        if self.running:
            self.manager.emit(pod, etype, reason, message, self.name, field)

    # ------------------------------------------------------------------ pods

    def sync_pod(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        worker = self.workers.get(uid)
        if worker is None:
            if pod["metadata"].get("deletionTimestamp") and not pod.get("status", {}).get("containerStatuses"):
                # Never started here: nothing to stop; finish the deletion.
                self._final_delete(pod)
                return
            ip = self.address if pod["spec"].get("hostNetwork") else self.manager.addresses.allocate()
            worker = PodWorker(self, pod, ip)
            self.workers[uid] = worker
            worker.start()
        else:
            worker.update_spec(pod)
        if pod["metadata"].get("deletionTimestamp"):
            worker.stop(float(pod["metadata"].get("deletionGracePeriodSeconds") or 0))

    async def pod_gone(self, uid: str) -> None:
        worker = self.workers.pop(uid, None)
        if worker is not None:
            await worker.kill()
        self.volumes.release(uid)

    def finish_deletion(self, worker: PodWorker) -> None:
        self.workers.pop(worker.uid, None)
        self.volumes.release(worker.uid)
        self._final_delete(worker.pod)

    def _final_delete(self, pod: Obj) -> None:
        quiet(lambda: self.store.delete(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"], 0,
                                        {"uid": pod["metadata"]["uid"]}))

    def stop(self) -> None:
        self.running = False

    def start(self) -> None:
        self.running = True
        self.partitioned = False
        present = set()
        for pod in list(self.store.scan("pods")):
            if pod["spec"].get("nodeName") == self.name:
                present.add(pod["metadata"]["uid"])
                self.sync_pod(pod)
        # HandlePodCleanups: pods deleted from the API while this kubelet could not see it.
        for uid in [u for u in self.workers if u not in present]:
            asyncio.get_running_loop().create_task(self.pod_gone(uid))
        for worker in list(self.workers.values()):
            worker.publish()
        self.volumes.publish()


class KubeletManager(Controller):
    """Dispatches pod events to the node agent of the pod's node."""

    name = "kubelet"

    def __init__(self, store: Store, registry: Any, addresses: PodAddresses, emit: EventSink,
                 probe_scale: float = 1.0, backoff: Backoff | None = None, pull_seconds: float = 0.0):
        super().__init__(store)
        self.registry = registry
        self.addresses = addresses
        self.emit = emit
        self.probe_scale = probe_scale
        self.backoff = backoff or Backoff()
        self.pull_seconds = pull_seconds
        self.nodes: dict[str, NodeAgent] = {}
        # clusterDNS, clusterDomain and resolvConf of every node's kubelet config (the cluster sets them).
        self.dns = PodDnsSettings()

    def add_node(self, name: str, address: str) -> NodeAgent:
        agent = NodeAgent(self, name, address)
        self.nodes[name] = agent
        return agent

    def on_event(self, ev: Event) -> None:
        if ev.key != "pods":
            return
        node = ev.obj["spec"].get("nodeName")
        if not node or node not in self.nodes:
            return
        if ev.type == "DELETED":
            self.enqueue(("gone", node, ev.obj["metadata"]["uid"]))
        else:
            self.enqueue(("sync", node, ev.namespace, ev.obj["metadata"]["name"]))

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        agent = self.nodes[key[1]]
        if key[0] == "gone" and agent.partitioned:
            return  # never seen by a kubelet cut off from the API; cleaned up when it reconnects (start)
        if key[0] == "gone":
            asyncio.get_running_loop().create_task(agent.pod_gone(key[2]))
            return
        if not agent.running:
            return
        pod = self.store.peek("pods", key[2], key[3])
        if pod is not None and pod["spec"].get("nodeName") == agent.name:
            agent.sync_pod(pod)

    def find_worker(self, namespace: str, name: str) -> PodWorker | None:
        for agent in self.nodes.values():
            for worker in agent.workers.values():
                if worker.namespace == namespace and worker.name == name:
                    return worker
        return None

    async def close(self) -> None:
        for agent in self.nodes.values():
            for uid in list(agent.workers):
                await agent.pod_gone(uid)
