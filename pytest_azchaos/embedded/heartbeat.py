"""A node's heartbeat as its kubelet sends it: the ``kube-node-lease`` Lease and the node conditions.

``NodeHeartbeat`` is the part of a kubelet the node lifecycle controller watches: it renews the
node's Lease every ``node_lease_renew_interval`` and posts the four kubelet conditions when they
change, or unchanged every ``node_status_report_frequency`` (kubelet ``nodeStatusReportFrequency``).
Stopping it is how a node "dies" (lost kubelet, stopped instance, partitioned zone); ``set_ready``
posts Ready=False while the lease stays fresh (a sick kubelet).

Runs on the cluster's event loop and writes through the ``Store``; it knows nothing of pytest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import urllib.request
from typing import Any

from ..timing import Profile
from .apiserver.errors import ApiError
from .apiserver.resources import REGISTRY
from .apiserver.store import Store
from .objects import micro_now, now_rfc3339

log = logging.getLogger(__name__)
Obj = dict[str, Any]

LEASES = REGISTRY.lookup("coordination.k8s.io", "v1", "leases")
NODES = REGISTRY.lookup("", "v1", "nodes")
assert LEASES is not None and NODES is not None
LEASE_NAMESPACE = "kube-node-lease"

# (type, healthy status, reason, message) as the kubelet's condition setters post them.
KUBELET_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)
NOT_READY_REASON = "KubeletNotReady"
NOT_READY_MESSAGE = "container runtime is down"


class NodeHeartbeat:
    """One node's lease renewal and status posting; ``start()``/``stop()`` on the cluster's loop."""

    def __init__(self, store: Store, node_name: str, profile: Profile):
        self.store = store
        self.node_name = node_name
        self.profile = profile
        self.ready = True
        self.not_ready_message = NOT_READY_MESSAGE
        self._task: asyncio.Task[None] | None = None
        self._last_post = 0.0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Begin (or resume) heartbeating: renew the lease and post status at once, then periodically."""
        if self.running:
            return
        self._last_post = 0.0
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"heartbeat:{self.node_name}")

    def stop(self) -> None:
        """Stop heartbeating (the lease goes stale; the node lifecycle controller takes it from there)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def set_ready(self, ready: bool, message: str = NOT_READY_MESSAGE) -> None:
        """What the kubelet reports as Ready; posted at the next status check (within a second or so)."""
        self.ready = ready
        self.not_ready_message = message

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_status = 0.0
        try:
            while True:
                now = loop.time()
                try:
                    self.renew_lease()
                    if now >= next_status:
                        force = now - self._last_post >= self.profile.node_status_report_frequency
                        if self.post_status(force):
                            self._last_post = now
                        next_status = now + self.profile.node_status_update_frequency
                except ApiError as e:
                    if e.code != 404:
                        log.warning("heartbeat %s: %s", self.node_name, e)
                wait = min(self.profile.node_lease_renew_interval, max(next_status - loop.time(), 0.05))
                await asyncio.sleep(wait)
        except asyncio.CancelledError:
            pass

    # ------------------------------------------------------------------ lease

    def ensure_lease(self) -> Obj | None:
        """Create the node's Lease (owned by the Node) if it does not exist; None if the node is gone."""
        lease = self.store.peek("leases.coordination.k8s.io", LEASE_NAMESPACE, self.node_name)
        if lease is not None:
            return lease
        node = self.store.peek("nodes", "", self.node_name)
        if node is None:
            return None
        body = {
            "metadata": {
                "name": self.node_name,
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": self.node_name,
                                     "uid": node["metadata"]["uid"]}],
            },
            "spec": {"holderIdentity": self.node_name,
                     "leaseDurationSeconds": int(self.profile.node_lease_duration),
                     "renewTime": micro_now()},
        }
        with contextlib.suppress(ApiError):
            return self.store.create(LEASES, LEASE_NAMESPACE, body)
        return self.store.peek("leases.coordination.k8s.io", LEASE_NAMESPACE, self.node_name)

    def renew_lease(self) -> None:
        if self.ensure_lease() is None:
            return

        def renew(lease: Obj) -> Obj:
            lease.setdefault("spec", {})["renewTime"] = micro_now()
            lease["spec"]["holderIdentity"] = self.node_name
            return lease

        self.store.guaranteed_update(LEASES, LEASE_NAMESPACE, self.node_name, renew)

    # ------------------------------------------------------------------ status

    def desired_conditions(self) -> list[tuple[str, str, str, str]]:
        out = []
        for ctype, status, reason, message in KUBELET_CONDITIONS:
            if ctype == "Ready" and not self.ready:
                status, reason, message = "False", NOT_READY_REASON, self.not_ready_message
            out.append((ctype, status, reason, message))
        return out

    def post_status(self, force: bool = False) -> bool:
        """Post the conditions if they differ from the node's (or ``force``); True if written."""
        node = self.store.peek("nodes", "", self.node_name)
        if node is None:
            return False
        current = {c.get("type"): c for c in (node.get("status") or {}).get("conditions") or ()}
        desired = self.desired_conditions()
        changed = any(
            (current.get(t) or {}).get("status") != s or (current.get(t) or {}).get("reason") != r
            or (current.get(t) or {}).get("message") != m
            for t, s, r, m in desired)
        if not changed and not force:
            return False
        now = now_rfc3339()

        def mutate(n: Obj) -> Obj:
            conds = list((n.setdefault("status", {})).get("conditions") or [])
            by_type = {c.get("type"): i for i, c in enumerate(conds)}
            for t, s, r, m in desired:
                old = conds[by_type[t]] if t in by_type else None
                new = {"type": t, "status": s, "lastHeartbeatTime": now,
                       "lastTransitionTime": now if old is None or old.get("status") != s
                       else old.get("lastTransitionTime"),
                       "reason": r, "message": m}
                if old is None:
                    conds.append(new)
                else:
                    conds[by_type[t]] = new
            n["status"]["conditions"] = conds
            return n

        self.store.guaranteed_update(NODES, "", self.node_name, mutate, subresource="status")
        return True


def set_node_heartbeat(api_url: str, node: str, running: bool | None = None, ready: bool | None = None,
                       timeout: float = 10.0) -> Obj:
    """Stop/start a node's heartbeat (or its reported readiness) in a running embedded cluster.

    Talks to the cluster process's emulator control endpoint; returns the heartbeat's state.
    """
    body: Obj = {}
    if running is not None:
        body["running"] = running
    if ready is not None:
        body["ready"] = ready
    req = urllib.request.Request(f"{api_url}/azchaos/v1/nodes/{node}/heartbeat", data=json.dumps(body).encode(),
                                 method="PUT", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def set_node_power(api_url: str, node: str, running: bool, timeout: float = 10.0) -> Obj:
    """Stop or start a whole node (kubelet, heartbeat, network) in a running embedded cluster."""
    req = urllib.request.Request(f"{api_url}/azchaos/v1/nodes/{node}/power",
                                 data=json.dumps({"running": running}).encode(), method="PUT",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())
