"""Keeps the embedded network in step with the API: kube-proxy rules and one NLB per LoadBalancer Service.

Reacts to Services, EndpointSlices and Nodes, and writes ``status.loadBalancer.ingress`` as the
service controller of cloud-provider-aws does once the load balancer exists.

With the AWS Load Balancer Controller or Auto Mode (``lbc``, set by the cluster): a Service that controller
has modelled gets its NLB from the model (scheme, target type, attributes, health check) and an ingress
``hostname`` (the NLB's DNS name, answered by ``resolve``) instead of IPs, as the LBC writes it; a Service
of such a class that is not modelled (the controller is down) gets no load balancer at all.
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
from .nlb import HealthCheckTiming, IpTargetLoadBalancer, LbOptions, LoadBalancer, LoadBalancerError
from .proxy import KubeProxy, endpoints_from_slices

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
        self.events = EventRecorder(store, "service-controller")
        self.lbc_events = EventRecorder(store, "service")  # the LBC's recorder (GetEventRecorderFor("service"))
        # The LBC / Auto Mode controller (lbc/controller.py) and how its NLBs' times scale (set by the cluster).
        self.lbc: Any = None
        self.lbc_interval_scale = 1.0  # profile.lbc_health_check_interval / 10 s
        self.registration_delay = 0.0
        self.new_connections_after_deregistration = 0.0
        self.dns_ttl = 60.0
        self.deregistration_scale = 1.0  # profile.nlb_deregistration_delay / 300 s (AWS's default)

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
            if ev.obj["spec"].get("readinessGates") and self.lbc is not None:
                self.enqueue(("gated", ev.namespace))  # ContainersReady of a gated pod: an ip target or not

    def sync(self, key: Hashable) -> None:
        asyncio.get_running_loop().create_task(self._guarded(key))

    async def _guarded(self, key: Hashable) -> None:
        async with self._lock:
            try:
                await self._sync(key)
            except Exception as e:  # recorded: /azchaos/v1/controller-errors reports it, the plugin warns
                log.exception("dataplane sync %r failed", key)
                self.errors.append(e)

    async def _sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        if key[0] == "nodes":
            await self._sync_nodes()
        elif key[0] == "svc":
            await self._sync_service(key[1], key[2])
        elif key[0] == "eps":
            self._sync_endpoints(key[1], key[2])
        elif key[0] == "gated":
            for (ns, name), lb in list(self.load_balancers.items()):
                if ns == key[1] and isinstance(lb, IpTargetLoadBalancer):
                    self._refresh_ip_targets(ns, name, lb)

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

    def _model(self, namespace: str, name: str) -> Any:
        return self.lbc.model(namespace, name) if self.lbc is not None else None

    def _options(self, model: Any) -> LbOptions:
        """The NLB options of an LBC / Auto Mode model, its times scaled by the profile."""
        hc, scale = model.health, self.lbc_interval_scale
        port = int(hc.port) if str(hc.port).isdigit() else None
        return LbOptions(
            internal=model.internal, preserve_client_ip=model.preserve_client_ip, proxy_protocol=model.proxy_protocol,
            registration_delay=self.registration_delay,
            new_connections_after_deregistration=self.new_connections_after_deregistration,
            unhealthy_termination=model.unhealthy_termination,
            health=(hc.interval * scale, hc.healthy, hc.unhealthy, hc.timeout * scale,
                    hc.path if hc.protocol == "HTTP" else None, port),
            frozen=lambda: not self.lbc.up,
            deregistration_delay=model.deregistration_delay * self.deregistration_scale,
            deregistration_termination=model.attribute("deregistration_delay.connection_termination.enabled")
            == "true")

    def _refresh_ip_targets(self, namespace: str, name: str, lb: IpTargetLoadBalancer) -> None:
        slices = [s for s in self.store.scan("endpointslices.discovery.k8s.io", namespace)
                  if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name]
        endpoints = endpoints_from_slices(slices)
        model = self._model(namespace, name)
        gates = set(model.gate_conditions()) if model is not None else set()
        gated = set()
        for pod in self.store.scan("pods", namespace):
            status = pod.get("status") or {}
            mine = {g.get("conditionType") for g in pod["spec"].get("readinessGates") or []} & gates
            containers_ready = any(c.get("type") == "ContainersReady" and c.get("status") == "True"
                                   for c in status.get("conditions") or [])
            if mine and containers_ready and status.get("podIP") and not pod["metadata"].get("deletionTimestamp"):
                gated.add(status["podIP"])
        lb.set_ip_targets(endpoints, gated)

    def resolve(self, hostname: str) -> list[str] | None:
        """The A records of a load balancer's DNS name: the addresses of its zones that have a healthy target
        (all of them when none has: AWS fails open); None when no load balancer has that name."""
        name = hostname.rstrip(".").lower()
        for lb in self.load_balancers.values():
            if lb.hostname == name:
                zones = [z for z in sorted(lb.addresses) if lb.healthy_in(z)]
                return [lb.addresses[z] for z in (zones or sorted(lb.addresses))]
        return None

    def target_states(self, namespace: str, name: str) -> dict[str, str]:
        """Each registered target's state (ip targets by pod address), for the readiness gates."""
        lb = self.load_balancers.get((namespace, name))
        if lb is None:
            return {}
        now = asyncio.get_running_loop().time()
        return {key: ("registering" if t.state == "initial" and t.checks_from > now else t.state)
                for key, t in lb.targets.items()}

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
        model = self._model(namespace, name) if state is not None else None
        if self.lbc is not None and svc is not None and spec is not None:
            # Modelled: the LBC's NLB. Else only a class-less Service is the in-tree controller's (which
            # leaves `external`/`nlb-ip` Services to the LBC).
            lb_type = ((svc.get("metadata") or {}).get("annotations") or {}).get(
                "service.beta.kubernetes.io/aws-load-balancer-type")
            wants_lb = model is not None or (wants_lb and spec.get("loadBalancerClass") is None
                                             and lb_type not in ("external", "nlb-ip"))
        lb = self.load_balancers.get(key)
        if lb is not None and getattr(lb, "model", None) is not model:
            await lb.close()
            del self.load_balancers[key]
            lb = None
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
        if lb is None and model is not None:
            cls = IpTargetLoadBalancer if model.target_type == "ip" else LoadBalancer
            lb = cls(self.proxy, state, addresses, self.timing, options=self._options(model), hostname=model.dns_name)
            lb.model = model  # type: ignore[attr-defined]
            try:
                await lb.start()
            except LoadBalancerError as e:
                self.lbc_events.warning(svc, "FailedDeployModel",
                                    f"Failed deploy model due to {e}")
                return
            self.load_balancers[key] = lb
            self._refresh_targets()
            if isinstance(lb, IpTargetLoadBalancer):
                self._refresh_ip_targets(namespace, name, lb)
            self.lbc_events.normal(svc, "SuccessfullyReconciled", "Successfully reconciled")
            self._publish_ingress(namespace, name, [], model.dns_name)
        elif lb is None:
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
        elif model is not None:  # the controller came back or the endpoints moved: (de)register now
            self._refresh_targets()
            if isinstance(lb, IpTargetLoadBalancer):
                self._refresh_ip_targets(namespace, name, lb)

    def _publish_ingress(self, namespace: str, name: str, addresses: list[str], hostname: str | None = None) -> None:
        ingress: list[Obj] = ([{"hostname": hostname}] if hostname else
                              [{"ip": a, "ipMode": "VIP"} for a in addresses])

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
        lb = self.load_balancers.get((namespace, name))
        if isinstance(lb, IpTargetLoadBalancer):
            self._refresh_ip_targets(namespace, name, lb)

    async def close(self) -> None:
        for lb in self.load_balancers.values():
            await lb.close()
        self.load_balancers.clear()
        await self.proxy.close()
