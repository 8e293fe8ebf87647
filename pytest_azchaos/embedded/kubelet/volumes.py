"""The kubelet's volume manager for claim-backed volumes: wait for attach, "mount", report in use.

Before a pod's containers start, the kubelet waits until every attachable volume of the pod is in
the node's ``status.volumesAttached`` (written by the attach/detach controller), then mounts it (here:
makes sure the volume's data directory exists, ``storage.volume_path``). While a pod on the node wants
a volume it is listed in the node's ``status.volumesInUse`` (sorted unique names
``kubernetes.io/csi/<driver>^<handle>``), which keeps the attach/detach controller from detaching it;
the entry goes when the pod is gone from the node. A stopped kubelet writes nothing, so its volumes
stay "in use" until it comes back or the controller force-detaches them.

If the volumes are not ready within the mount timeout (upstream ``podAttachAndMountTimeout`` 2 min,
scaled by the cluster's profile) the pod gets the kubelet's ``FailedMount`` warning and keeps waiting.
``pod_volume_paths`` maps a pod's claim volumes to their data directories (for exec and the shell).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..apiserver.errors import ApiError
from ..apiserver.resources import REGISTRY
from ..controllers.attach_detach import attachable_volume, pod_claim_volumes, unique_volume_name
from ..controllers.persistentvolume import PVCS, _m
from ..storage import volume_path

if TYPE_CHECKING:
    from ..apiserver.store import Store
    from .kubelet import NodeAgent

Obj = dict[str, Any]
NODES = REGISTRY.lookup("", "v1", "nodes")
assert NODES is not None
MOUNT_TIMEOUT = 120.0  # podAttachAndMountTimeout
POLL = 0.05


def pod_volume_paths(store: Store, pod: Obj) -> dict[str, Path]:
    """Volume name in the pod -> data directory, for each of its claims that is bound to a PV."""
    out: dict[str, Path] = {}
    for volume, claim_name in pod_claim_volumes(pod):
        claim = store.peek(PVCS.key, pod["metadata"]["namespace"], claim_name)
        pv_name = ((claim or {}).get("spec") or {}).get("volumeName")
        if pv_name:
            try:
                out[volume] = volume_path(store, pv_name)
            except KeyError:
                continue
    return out


class NodeVolumes:
    """One node's view of the volumes its pods use."""

    def __init__(self, agent: NodeAgent, mount_timeout: float = MOUNT_TIMEOUT):
        self.agent = agent
        self.mount_timeout = mount_timeout
        self.in_use: dict[str, set[str]] = {}  # pod uid -> unique volume names
        self.mounts: dict[str, dict[str, Path]] = {}  # pod uid -> volume name -> data dir

    @property
    def store(self) -> Store:
        return self.agent.store

    def _needed(self, pod: Obj) -> tuple[dict[str, str], list[str]]:
        """(volume name -> unique name of attachable volumes, names of claim volumes not bound yet)."""
        attachable: dict[str, str] = {}
        unbound: list[str] = []
        for volume, claim_name in pod_claim_volumes(pod):
            claim = self.store.peek(PVCS.key, pod["metadata"]["namespace"], claim_name)
            if not ((claim or {}).get("spec") or {}).get("volumeName"):
                unbound.append(volume)
                continue
            pv = attachable_volume(self.store, pod, claim_name)
            if pv is not None:
                csi = pv["spec"]["csi"]
                attachable[volume] = unique_volume_name(csi["driver"], csi["volumeHandle"])
        return attachable, unbound

    async def wait_ready(self, pod: Obj) -> bool:
        """Return once the pod's volumes are attached and mounted (True), re-reading the pod each round."""
        uid = pod["metadata"]["uid"]
        if not pod_claim_volumes(pod):
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.mount_timeout
        while True:
            attachable, unbound = self._needed(pod)
            wanted = set(attachable.values())
            if self.in_use.get(uid) != wanted:
                self.in_use[uid] = wanted
                self.publish()
            node = self.store.peek(NODES.key, "", self.agent.name) or {}
            attached = {v.get("name") for v in (node.get("status") or {}).get("volumesAttached") or []}
            missing = sorted(v for v, u in attachable.items() if u not in attached)
            if not missing and not unbound and self.agent.running:
                self.mounts[uid] = pod_volume_paths(self.store, pod)
                return True
            if loop.time() > deadline:
                deadline = loop.time() + self.mount_timeout
                unmounted = sorted(set(missing) | set(unbound))
                self.agent.event(pod, "Warning", "FailedMount",
                                 f"Unable to attach or mount volumes: unmounted volumes=[{' '.join(unmounted)}], "
                                 f"unattached volumes=[{' '.join(missing)}], failed to process volumes=[]: "
                                 "context deadline exceeded")
            await asyncio.sleep(POLL)

    def release(self, uid: str) -> None:
        """The pod is gone from the node: unmount its volumes, stop reporting them in use."""
        self.mounts.pop(uid, None)
        if self.in_use.pop(uid, None):
            self.publish()

    def publish(self) -> None:
        """Write ``status.volumesInUse`` (only a running kubelet posts status)."""
        if not self.agent.running:
            return
        names = sorted(set().union(*self.in_use.values())) if self.in_use else []
        node = self.store.peek(NODES.key, "", self.agent.name)
        if node is None or ((node.get("status") or {}).get("volumesInUse") or []) == names:
            return

        def mutate(n: Obj) -> None:
            status = n.setdefault("status", {})
            if names:
                status["volumesInUse"] = names
            else:
                status.pop("volumesInUse", None)

        try:
            self.store.guaranteed_update(NODES, "", self.agent.name, _m(mutate), subresource="status")
        except ApiError:
            pass
