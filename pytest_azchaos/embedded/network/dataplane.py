"""Keeps the embedded network in step with the API: kube-proxy rules and one NLB per LoadBalancer Service.

Reacts to Services, EndpointSlices and Nodes, and writes ``status.loadBalancer.ingress`` as the
service controller of cloud-provider-aws does once the load balancer exists.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from typing import Any

from ...wellknown import ZONE_LABEL
from ..apiserver.errors import ApiError
from ..apiserver.resources import REGISTRY
from ..apiserver.store import Event, Store
from ..controllers.base import Controller
from ..controllers.events import EventRecorder
from .addresses import AddressPlan
from .nlb import HealthCheckTiming, LoadBalancer, LoadBalancerError
from .proxy import KubeProxy

log = logging.getLogger(__name__)
Obj = dict[str, Any]
SERVICES = REGISTRY.lookup("", "v1", "services")
assert SERVICES is not None
OUR_LB_CLASSES = (None, "service.k8s.aws/nlb")


class DataPlane(Controller):
    """The network side of every node, plus the cloud load balancers."""

    name = "dataplane"

    def __init__(self, store: Store, plan: AddressPlan, timing: HealthCheckTiming | None = None,
                 propagation_delay: float = 0.0, provisioning_delay: float = 0.0):
        super().__init__(store)
        self.plan = plan
        self.timing = timing or HealthCheckTiming()
        self.provisioning_delay = provisioning_delay
        self.proxy = KubeProxy(propagation_delay)
        self.load_balancers: dict[tuple[str, str], LoadBalancer] = {}
        self._lb_index = 0
        self._lb_addresses: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = asyncio.Lock()
        self.failures: list[BaseException] = []
        self.events = EventRecorder(store, "service-controller")

    # ------------------------------------------------------------------ events

    def on_event(self, ev: Event) -> None:
        if ev.key == "services":
            self.enqueue(("svc", ev.namespace, ev.obj["metadata"]["name"]))
        elif ev.key == "endpointslices.discovery.k8s.io":
            svc = (ev.obj["metadata"].get("labels") or {}).get("kubernetes.io/service-name")
            if svc:
                self.enqueue(("eps", ev.namespace, svc))
        elif ev.key == "nodes":
            self.enqueue(("nodes",))
        elif ev.key == "pods" and ev.type != "DELETED":
            # Which node a pod address is on: the source side of a flow from a pod (network ACLs).
            ip, node = (ev.obj.get("status") or {}).get("podIP"), ev.obj["spec"].get("nodeName")
            if ip and node:
                self.proxy.learn_pod(ip, node)

    def sync(self, key: Hashable) -> None:
        asyncio.get_running_loop().create_task(self._guarded(key))

    async def _guarded(self, key: Hashable) -> None:
        async with self._lock:
            try:
                await self._sync(key)
            except Exception as e:  # recorded, surfaced by the cluster's health check
                log.exception("dataplane sync %r failed", key)
                self.failures.append(e)

    async def _sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        if key[0] == "nodes":
            await self._sync_nodes()
        elif key[0] == "svc":
            await self._sync_service(key[1], key[2])
        elif key[0] == "eps":
            self._sync_endpoints(key[1], key[2])

    # ------------------------------------------------------------------ nodes

    def _node_address(self, node: Obj) -> str | None:
        for addr in (node.get("status") or {}).get("addresses") or []:
            if addr.get("type") == "InternalIP":
                return addr.get("address")
        return None

    async def _sync_nodes(self) -> None:
        changed = False
        for node in self.store.scan("nodes"):
            name = node["metadata"]["name"]
            address = self._node_address(node)
            if address and name not in self.proxy.nodes:
                zone = (node["metadata"].get("labels") or {}).get(ZONE_LABEL, "")
                self.proxy.set_node(name, address, zone)
                changed = True
        if changed:
            for ns, name in list(self.proxy.services):
                await self.proxy.sync_service(ns, name, None)
                await self._sync_service(ns, name)
        self._refresh_targets()

    def _refresh_targets(self) -> None:
        nodes = []
        for node in self.store.scan("nodes"):
            net = self.proxy.nodes.get(node["metadata"]["name"])
            if net is not None:
                nodes.append((net, node))
        for lb in self.load_balancers.values():
            lb.set_targets(nodes)

    def set_isolation(self, segments: dict[str, str], lb_cut_zones: dict[tuple[str, str], set[str]]) -> None:
        """Network ACLs as the cloud layer reads them: ``segments`` maps each node whose subnet is cut off to
        that subnet (every other node is reachable); ``lb_cut_zones`` each Service's load-balancer zones
        whose subnet is cut off."""
        for name, net in self.proxy.nodes.items():
            self.proxy.set_segment(net, segments.get(name))
        for key, lb in self.load_balancers.items():
            lb.cut_zones = set(lb_cut_zones.get(key, ()))

    def set_node_network(self, name: str, up: bool) -> None:
        """Take a node's network down (everything to it is dropped) or bring it back."""
        net = self.proxy.nodes.get(name)
        if net is not None:
            net.up = up

    # ------------------------------------------------------------------ services

    async def _sync_service(self, namespace: str, name: str) -> None:
        svc = self.store.peek("services", namespace, name)
        key = (namespace, name)
        spec = svc.get("spec") if svc is not None else None
        state = await self.proxy.sync_service(namespace, name, spec, (svc or {}).get("metadata", {}).get("annotations"))
        if state is not None:
            self._sync_endpoints(namespace, name)
        wants_lb = (state is not None and spec is not None and spec.get("type") == "LoadBalancer"
                    and spec.get("loadBalancerClass") in OUR_LB_CLASSES)
        lb = self.load_balancers.get(key)
        if lb is not None and (not wants_lb or lb.service is not state):
            await lb.close()
            del self.load_balancers[key]
            lb = None
        if not wants_lb:
            self._lb_addresses.pop(key, None)
            return
        assert state is not None
        addresses = self._lb_addresses.get(key)
        if addresses is None:
            zones = sorted({n.zone for n in self.proxy.nodes.values()})
            addresses = {}
            for zone in zones:
                addresses[zone] = self.plan.load_balancer(self._lb_index)
                self._lb_index += 1
            self._lb_addresses[key] = addresses
        if lb is None:
            lb = LoadBalancer(self.proxy, state, addresses, self.timing)
            try:
                await lb.start()
            except LoadBalancerError as e:  # as the cloud provider's service controller reports it
                self.events.warning(svc, "SyncLoadBalancerFailed",
                                    f"Error syncing load balancer: failed to ensure load balancer: {e}")
                return
            self.load_balancers[key] = lb
            self._refresh_targets()
            if self.provisioning_delay:
                await asyncio.sleep(self.provisioning_delay)
            self._publish_ingress(namespace, name, list(addresses.values()))

    def _publish_ingress(self, namespace: str, name: str, addresses: list[str]) -> None:
        ingress = [{"ip": a, "ipMode": "VIP"} for a in addresses]

        def mutate(obj: Obj) -> Obj:
            obj.setdefault("status", {})["loadBalancer"] = {"ingress": ingress}
            return obj

        try:
            self.store.guaranteed_update(SERVICES, namespace, name, mutate, subresource="status")
        except ApiError as e:
            if e.code != 404:
                raise

    def _sync_endpoints(self, namespace: str, name: str) -> None:
        slices = [s for s in self.store.scan("endpointslices.discovery.k8s.io", namespace)
                  if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name]
        self.proxy.set_endpoints(namespace, name, slices)

    async def close(self) -> None:
        for lb in self.load_balancers.values():
            await lb.close()
        self.load_balancers.clear()
        await self.proxy.close()
