"""Node lifecycle: heartbeat monitoring, condition taints, and the NoExecute taints of unreachable nodes.

As kube-controller-manager's ``pkg/controller/nodelifecycle`` (events from ``node-controller``):

  * every ``node_monitor_period`` checks each node's Lease renewTime and Ready heartbeat; once
    nothing was heard for ``node_monitor_grace_period`` all four kubelet conditions become
    ``Unknown``/``NodeStatusUnknown`` "Kubelet stopped posting node status.", the node gets the
    ``NodeNotReady`` event, and its pods get Ready=False plus a ``NodeNotReady`` "Node is not ready" event;
  * on every node change maps conditions and ``spec.unschedulable`` to NoSchedule taints
    (``not-ready``, ``unreachable``, ``*-pressure``, ``unschedulable``, with ``timeAdded``), which also
    removes the NodeTaint-admission ``not-ready:NoSchedule`` once the node is Ready;
  * adds ``unreachable``/``not-ready`` NoExecute taints through a per-zone rate-limited queue
    (``--node-eviction-rate``, zone disruption states) and removes them once Ready is True.

Evicting the pods of a NoExecute-tainted node is :mod:`.taint_eviction`'s job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from ...timing import Profile
from ..apiserver.errors import quiet
from ..apiserver.resources import REGISTRY
from ..apiserver.store import Event, Store
from ..objects import now_rfc3339
from .base import Controller
from .events import EventRecorder
from .taint_eviction import TaintEvictionController as TaintEvictionController  # cluster.py imports it here
from .workload import pods_on_node

log = logging.getLogger(__name__)
Obj = dict[str, Any]

NODES = REGISTRY.lookup("", "v1", "nodes")
PODS = REGISTRY.lookup("", "v1", "pods")
assert NODES is not None and PODS is not None

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
# nodeConditionToTaintKeyStatusMap
CONDITION_TAINTS: dict[str, dict[str, str]] = {
    "Ready": {"False": NOT_READY, "Unknown": UNREACHABLE},
    "MemoryPressure": {"True": "node.kubernetes.io/memory-pressure"},
    "DiskPressure": {"True": "node.kubernetes.io/disk-pressure"},
    "NetworkUnavailable": {"True": "node.kubernetes.io/network-unavailable"},
    "PIDPressure": {"True": "node.kubernetes.io/pid-pressure"},
}
CONDITION_TAINT_KEYS = {k for m in CONDITION_TAINTS.values() for k in m.values()}
KUBELET_CONDITION_TYPES = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
EXCLUDE_DISRUPTION = "node.kubernetes.io/exclude-disruption"


def ready_condition(node: Obj | None) -> Obj | None:
    for c in ((node or {}).get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c
    return None


def zone_key(node: Obj) -> str:
    labels = node["metadata"].get("labels") or {}
    region = labels.get("topology.kubernetes.io/region", "")
    zone = labels.get("topology.kubernetes.io/zone", "")
    return f"{region}:\x00:{zone}" if region or zone else ""


def taint_matches(a: Obj, b: Obj) -> bool:
    return a.get("key") == b.get("key") and a.get("effect") == b.get("effect")


def node_ref(node: Obj) -> Obj:
    return {"kind": "Node", "name": node["metadata"]["name"], "uid": node["metadata"].get("uid", ""),
            "apiVersion": "v1"}


def add_taints(store: Store, name: str, taints: list[Obj]) -> None:
    """``controller.AddOrUpdateTaintOnNode`` with ``timeAdded`` now (SwapNodeControllerTaint)."""
    if not taints:
        return
    now = now_rfc3339()

    def mutate(n: Obj) -> Obj | None:
        spec = n.setdefault("spec", {})
        current = list(spec.get("taints") or [])
        changed = False
        for t in taints:
            if any(taint_matches(t, c) for c in current):
                continue
            new = {"key": t["key"]}
            if t.get("value"):
                new["value"] = t["value"]
            new["effect"] = t["effect"]
            new["timeAdded"] = now
            current.append(new)
            changed = True
        if not changed:
            return None
        spec["taints"] = current
        return n

    quiet(lambda: store.guaranteed_update(NODES, "", name, mutate))


def remove_taints(store: Store, name: str, taints: list[Obj]) -> bool:
    """``controller.RemoveTaintOffNode``; an empty list drops ``spec.taints`` (omitempty)."""
    node = store.peek("nodes", "", name)
    if node is None or not taints:
        return False
    if not any(taint_matches(t, c) for t in taints for c in (node.get("spec") or {}).get("taints") or ()):
        return False

    def mutate(n: Obj) -> Obj:
        spec = n.setdefault("spec", {})
        left = [c for c in spec.get("taints") or () if not any(taint_matches(t, c) for t in taints)]
        if left:
            spec["taints"] = left
        else:
            spec.pop("taints", None)
        return n

    quiet(lambda: store.guaranteed_update(NODES, "", name, mutate))
    return True


# ---------------------------------------------------------------------- node lifecycle


@dataclass
class _Health:
    ready: Obj | None  # the Ready condition last seen (copy)
    probe: float  # loop time of the last sign of life
    lease_renew: str = ""


@dataclass
class _ZoneTainter:
    """``RateLimitedTimedQueue`` + token bucket (burst 1) of nodes waiting for a NoExecute taint."""

    rate: float
    queue: dict[str, str] = field(default_factory=dict)  # node name -> uid, FIFO
    tokens: float = 1.0
    stamp: float = 0.0
    # Processed nodes stay known until removed (``RemoveFromQueue`` keeps the value in the set), so a
    # node already tainted is not queued again and cannot eat the zone's tokens before the others.
    done: set[str] = field(default_factory=set)

    def add(self, name: str, uid: str) -> bool:
        if name in self.queue or name in self.done:
            return False
        self.queue[name] = uid
        return True

    def remove(self, name: str) -> bool:
        self.done.discard(name)
        return self.queue.pop(name, None) is not None

    def processed(self, name: str) -> None:
        self.queue.pop(name, None)
        self.done.add(name)

    def accept(self, now: float) -> bool:
        if self.rate <= 0:
            return False
        self.tokens = min(1.0, self.tokens + (now - self.stamp) * self.rate) if self.stamp else self.tokens
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class NodeLifecycleController(Controller):
    name = "node-lifecycle-controller"

    def __init__(self, store: Store, profile: Profile):
        super().__init__(store)
        self.profile = profile
        self.recorder = EventRecorder(store, "node-controller")
        self.health: dict[str, _Health] = {}
        self.known: dict[str, str] = {}  # name -> uid
        self.zone_states: dict[str, str] = {}
        self.tainters: dict[str, _ZoneTainter] = {}
        self._tasks: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------ wiring

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._every(self.profile.node_monitor_period, self.monitor_node_health)),
                       loop.create_task(self._every(self.profile.node_eviction_period, self.no_execute_pass))]

    def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        self._tasks = []

    async def _every(self, period: float, fn: Any) -> None:
        while True:
            await asyncio.sleep(period)
            try:
                fn()
            except Exception as e:  # recorded; the next period retries
                log.exception("%s: %s failed", self.name, getattr(fn, "__name__", fn))
                self.errors.append(e)

    def on_event(self, ev: Event) -> None:
        if ev.key == "nodes":
            if ev.type == "DELETED":
                self.health.pop(ev.obj["metadata"]["name"], None)
            else:
                self.enqueue(("noschedule", ev.obj["metadata"]["name"]))
        elif ev.key == "pods" and ev.type != "DELETED":
            node = (ev.obj.get("spec") or {}).get("nodeName")
            old_node = ((ev.old or {}).get("spec") or {}).get("nodeName")
            if node and node != old_node:
                self.enqueue(("pod", ev.namespace, ev.obj["metadata"]["name"]))

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        if key[0] == "noschedule":
            self.no_schedule_pass(key[1])
        elif key[0] == "pod":
            self.process_pod(key[1], key[2])

    # ------------------------------------------------------------------ NoSchedule (TaintNodesByCondition)

    def no_schedule_pass(self, name: str) -> None:
        node = self.store.peek("nodes", "", name)
        if node is None:
            return
        want: list[Obj] = []
        for c in (node.get("status") or {}).get("conditions") or ():
            key = CONDITION_TAINTS.get(c.get("type", ""), {}).get(c.get("status", ""))
            if key:
                want.append({"key": key, "effect": "NoSchedule"})
        if (node.get("spec") or {}).get("unschedulable"):
            want.append({"key": UNSCHEDULABLE, "effect": "NoSchedule"})
        have = [t for t in (node.get("spec") or {}).get("taints") or ()
                if t.get("effect") == "NoSchedule" and (t.get("key") == UNSCHEDULABLE
                                                        or t.get("key") in CONDITION_TAINT_KEYS)]
        to_add = [t for t in want if not any(taint_matches(t, h) for h in have)]
        to_del = [h for h in have if not any(taint_matches(h, t) for t in want)]
        add_taints(self.store, name, to_add)
        remove_taints(self.store, name, to_del)

    # ------------------------------------------------------------------ pods

    def process_pod(self, namespace: str, name: str) -> None:
        """A pod assigned to a node whose Ready is not True is marked not ready at once."""
        pod = self.store.peek("pods", namespace, name)
        if pod is None:
            return
        node_name = pod["spec"].get("nodeName")
        health = self.health.get(node_name)
        if health is None or health.ready is None or self.store.peek("nodes", "", node_name) is None:
            return
        if health.ready.get("status") != "True":
            self.mark_pods_not_ready([pod])

    def mark_pods_not_ready(self, pods: list[Obj]) -> None:
        """``MarkPodsNotReady``: Ready=False (ContainersReady untouched) and a NodeNotReady event."""
        for pod in pods:
            ready = next((c for c in (pod.get("status") or {}).get("conditions") or ()
                          if c.get("type") == "Ready"), None)
            if ready is None or ready.get("status") == "False":
                continue
            meta = pod["metadata"]
            ref_pod = pod

            def mutate(p: Obj) -> Obj | None:
                for c in (p.get("status") or {}).get("conditions") or ():
                    if c.get("type") == "Ready":
                        if c.get("status") == "False":
                            return None
                        c["status"] = "False"
                        c["lastTransitionTime"] = now_rfc3339()
                return p

            if quiet(lambda m=meta, f=mutate: self.store.guaranteed_update(
                    PODS, m.get("namespace", ""), m["name"], f, subresource="status")) is None:
                continue
            self.recorder.event(ref_pod, "Warning", "NodeNotReady", "Node is not ready")

    # ------------------------------------------------------------------ health monitoring

    def try_update_node_health(self, node: Obj, now: float) -> tuple[Obj, Obj | None]:
        """Returns (observed Ready condition, current Ready condition) as upstream's tryUpdateNodeHealth."""
        name = node["metadata"]["name"]
        current = ready_condition(node)
        if current is None:
            observed: Obj = {"type": "Ready", "status": "Unknown"}
            grace = self.profile.node_startup_grace_period
        else:
            observed = dict(current)
            grace = self.profile.node_monitor_grace_period
        health = self.health.get(name)
        if health is None or (health.ready is None and current is not None) or \
                (health.ready is not None and current is None):
            health = _Health(dict(current) if current else None, now)
        elif current is not None and health.ready is not None and \
                health.ready.get("lastHeartbeatTime") != current.get("lastHeartbeatTime"):
            health = _Health(dict(current), now, health.lease_renew)
        lease = self.store.peek("leases.coordination.k8s.io", "kube-node-lease", name)
        renew = ((lease or {}).get("spec") or {}).get("renewTime") or ""
        if lease is not None and renew and renew > health.lease_renew:
            health.lease_renew = renew
            health.probe = now
        self.health[name] = health
        if now > health.probe + grace:
            stamp = now_rfc3339()

            def mutate(n: Obj) -> Obj | None:
                conds = n.setdefault("status", {}).setdefault("conditions", [])
                changed = False
                for ctype in KUBELET_CONDITION_TYPES:
                    c = next((x for x in conds if x.get("type") == ctype), None)
                    if c is None:
                        conds.append({"type": ctype, "status": "Unknown",
                                      "lastHeartbeatTime": n["metadata"].get("creationTimestamp"),
                                      "lastTransitionTime": stamp, "reason": "NodeStatusNeverUpdated",
                                      "message": "Kubelet never posted node status."})
                        changed = True
                    elif c.get("status") != "Unknown":
                        c["status"] = "Unknown"
                        c["reason"] = "NodeStatusUnknown"
                        c["message"] = "Kubelet stopped posting node status."
                        c["lastTransitionTime"] = stamp
                        changed = True
                return n if changed else None

            updated = quiet(lambda: self.store.guaranteed_update(NODES, "", name, mutate, subresource="status"))
            if updated is not None:
                current = ready_condition(updated)
                health.ready = dict(current) if current else None
        return observed, current

    def monitor_node_health(self) -> None:
        now = asyncio.get_running_loop().time()
        nodes = list(self.store.scan("nodes"))
        names = {n["metadata"]["name"] for n in nodes}
        for node in nodes:
            name = node["metadata"]["name"]
            if name not in self.known:
                self.known[name] = node["metadata"].get("uid", "")
                self.recorder.event(node_ref(node), "Normal", "RegisteredNode",
                                    f"Node {name} event: Registered Node {name} in Controller")
                self._tainter(node)
                self.mark_node_as_reachable(node)
        for name in [n for n in self.known if n not in names]:
            uid = self.known.pop(name)
            self.recorder.event({"kind": "Node", "name": name, "uid": uid, "apiVersion": "v1"}, "Normal",
                                "RemovingNode", f"Node {name} event: Removing Node {name} from Controller")
        zone_conditions: dict[str, list[Obj | None]] = {}
        for node in nodes:
            name = node["metadata"]["name"]
            observed, current = self.try_update_node_health(node, now)
            node = self.store.peek("nodes", "", name) or node
            if EXCLUDE_DISRUPTION not in (node["metadata"].get("labels") or {}):
                zone_conditions.setdefault(zone_key(node), []).append(current)
            if current is None:
                continue
            self.process_taint_base_eviction(node, observed)
            if current.get("status") != "True" and observed.get("status") == "True":
                self.recorder.event(node_ref(node), "Normal", "NodeNotReady",
                                    f"Node {name} status is now: NodeNotReady")
                self.mark_pods_not_ready(pods_on_node(self.store, name))
        self.handle_disruption(zone_conditions, nodes)

    # ------------------------------------------------------------------ NoExecute taints

    def _tainter(self, node: Obj) -> _ZoneTainter:
        zone = zone_key(node)
        t = self.tainters.get(zone)
        if t is None:
            t = self.tainters[zone] = _ZoneTainter(self.profile.node_eviction_rate)
            self.zone_states.setdefault(zone, "Initial")
        return t

    def process_taint_base_eviction(self, node: Obj, observed: Obj) -> None:
        name = node["metadata"]["name"]
        taints = (node.get("spec") or {}).get("taints") or ()
        status = observed.get("status")
        tainter = self._tainter(node)
        if status == "False":
            if any(taint_matches(t, {"key": UNREACHABLE, "effect": "NoExecute"}) for t in taints):
                add_taints(self.store, name, [{"key": NOT_READY, "effect": "NoExecute"}])
                remove_taints(self.store, name, [{"key": UNREACHABLE, "effect": "NoExecute"}])
            else:
                if not any(taint_matches(t, {"key": NOT_READY, "effect": "NoExecute"}) for t in taints):
                    tainter.remove(name)
                tainter.add(name, node["metadata"].get("uid", ""))
        elif status == "Unknown":
            if any(taint_matches(t, {"key": NOT_READY, "effect": "NoExecute"}) for t in taints):
                add_taints(self.store, name, [{"key": UNREACHABLE, "effect": "NoExecute"}])
                remove_taints(self.store, name, [{"key": NOT_READY, "effect": "NoExecute"}])
            else:
                if not any(taint_matches(t, {"key": UNREACHABLE, "effect": "NoExecute"}) for t in taints):
                    tainter.remove(name)
                tainter.add(name, node["metadata"].get("uid", ""))
        elif status == "True":
            self.mark_node_as_reachable(node)

    def mark_node_as_reachable(self, node: Obj) -> bool:
        name = node["metadata"]["name"]
        remove_taints(self.store, name, [{"key": UNREACHABLE, "effect": "NoExecute"},
                                         {"key": NOT_READY, "effect": "NoExecute"}])
        return self._tainter(node).remove(name)

    def no_execute_pass(self) -> None:
        """``doNoExecuteTaintingPass``: taint queued nodes as their zone's rate limiter allows."""
        now = asyncio.get_running_loop().time()
        for tainter in self.tainters.values():
            for name in list(tainter.queue):
                node = self.store.peek("nodes", "", name)
                if node is None:
                    tainter.queue.pop(name, None)
                    continue
                cond = ready_condition(node)
                if cond is None:
                    continue
                if cond.get("status") == "True":
                    tainter.queue.pop(name, None)
                    continue
                if not tainter.accept(now):
                    break
                if cond.get("status") == "False":
                    add, opposite = NOT_READY, UNREACHABLE
                else:
                    add, opposite = UNREACHABLE, NOT_READY
                add_taints(self.store, name, [{"key": add, "effect": "NoExecute"}])
                remove_taints(self.store, name, [{"key": opposite, "effect": "NoExecute"}])
                tainter.processed(name)

    # ------------------------------------------------------------------ zone disruption

    def compute_zone_state(self, conditions: list[Obj | None]) -> str:
        ready = sum(1 for c in conditions if c is not None and c.get("status") == "True")
        not_ready = len(conditions) - ready
        if ready == 0 and not_ready > 0:
            return "FullDisruption"
        if not_ready > 2 and not_ready / (not_ready + ready) >= self.profile.unhealthy_zone_threshold:
            return "PartialDisruption"
        return "Normal"

    def _zone_rate(self, size: int, state: str) -> float:
        if state == "PartialDisruption":
            return self.profile.secondary_node_eviction_rate if size > self.profile.large_cluster_size_threshold \
                else 0.0
        return self.profile.node_eviction_rate

    def handle_disruption(self, zone_conditions: dict[str, list[Obj | None]], nodes: list[Obj]) -> None:
        new_states = {z: self.compute_zone_state(c) for z, c in zone_conditions.items()}
        for z in new_states:
            self.zone_states.setdefault(z, "Initial")
        all_now = all(s == "FullDisruption" for s in new_states.values())
        for z in [z for z in self.zone_states if z not in zone_conditions]:
            del self.zone_states[z]
        all_was = all(s == "FullDisruption" for s in self.zone_states.values())
        if all_now and all_was:
            return
        if all_now:
            log.warning("%s: all nodes are not Ready; entering master disruption mode", self.name)
            for node in nodes:
                self.mark_node_as_reachable(node)
            for z in self.zone_states:
                self.tainters.setdefault(z, _ZoneTainter(0.0)).rate = 0.0
                self.zone_states[z] = "FullDisruption"
            return
        if all_was:
            now = asyncio.get_running_loop().time()
            for h in self.health.values():
                h.probe = now
        for z, state in new_states.items():
            if self.zone_states.get(z) != state or all_was:
                # upstream's klog line (the zone key prints as region:\x00:zone)
                log.info('"Controller detected that zone is now in new state" zone="%s" newState="%s"',
                         z.replace("\x00", ""), state)
                self.tainters.setdefault(z, _ZoneTainter(0.0)).rate = self._zone_rate(len(zone_conditions[z]), state)
                self.zone_states[z] = state
