"""The scheduler's node snapshot, kept up to date from store events instead of rebuilt every cycle.

Upstream's scheduler cache does the same: each cycle reads a ``NodeInfo`` per node (the node and the pods
assigned to it, with their summed requests). Rebuilding that from every pod of the cluster on every cycle
costs O(pods) per pod scheduled; here a pod event touches only its node, and a node is rebuilt (from its
own few pods) only when the next cycle asks for it.
"""

from __future__ import annotations

from typing import Any

from ..apiserver.store import Event, Store
from ..scheduler.model import NodeInfo

Obj = dict[str, Any]
PodKey = tuple[str, str]


def _assigned_node(pod: Obj) -> str | None:
    """The node whose resources the pod holds (terminal pods free theirs), as ``model.assigned_pods``."""
    node = (pod.get("spec") or {}).get("nodeName")
    if node and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
        return node
    return None


class NodeInfoCache:
    """Node name → ``NodeInfo``, in the store's node order, maintained by a store listener."""

    def __init__(self, store: Store):
        self.store = store
        self._nodes: dict[str, Obj] = {}
        self._pods: dict[str, dict[PodKey, Obj]] = {}
        self._where: dict[PodKey, str] = {}
        self._infos: dict[str, NodeInfo] = {}
        self._dirty: set[str] = set()
        for node in store.scan("nodes"):
            self._set_node(node)
        for pod in store.scan("pods"):
            self._set_pod(pod["metadata"].get("namespace") or "", pod)
        store.add_listener(self.on_event)

    def on_event(self, ev: Event) -> None:
        if ev.key == "pods":
            key = (ev.namespace, ev.obj["metadata"]["name"])
            if ev.type == "DELETED":
                self._drop_pod(key)
            else:
                self._set_pod(ev.namespace, ev.obj)
        elif ev.key == "nodes":
            name = ev.obj["metadata"]["name"]
            if ev.type == "DELETED":
                self._nodes.pop(name, None)
                self._infos.pop(name, None)
                self._dirty.discard(name)
            else:
                self._set_node(ev.obj)

    def _set_node(self, node: Obj) -> None:
        name = node["metadata"]["name"]
        self._nodes[name] = node
        self._dirty.add(name)

    def _set_pod(self, namespace: str, pod: Obj) -> None:
        key = (namespace, pod["metadata"]["name"])
        node = _assigned_node(pod)
        old = self._where.get(key)
        if old is not None and old != node:
            self._drop_pod(key)
        if node is None:
            return
        self._pods.setdefault(node, {})[key] = pod
        self._where[key] = node
        self._dirty.add(node)

    def _drop_pod(self, key: PodKey) -> None:
        node = self._where.pop(key, None)
        if node is not None:
            self._pods.get(node, {}).pop(key, None)
            self._dirty.add(node)

    def snapshot(self) -> list[NodeInfo]:
        """Every node's ``NodeInfo`` (rebuilding only nodes changed since the last snapshot)."""
        for name in self._dirty:
            node = self._nodes.get(name)
            if node is not None:
                self._infos[name] = NodeInfo.build(node, list(self._pods.get(name, {}).values()))
        self._dirty.clear()
        return [self._infos[name] for name in self._nodes]
