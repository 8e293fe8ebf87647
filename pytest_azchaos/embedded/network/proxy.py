"""kube-proxy semantics for every node of the embedded cluster.

What each node's kube-proxy would do, decided per connection:

- ClusterIP ``clusterIP:port``: any usable endpoint; the source is the client's own address. Port 53 (a
  ClusterIP's or an endpoint's) is really the unprivileged port standing for it when 53 needs root
  (:mod:`.dns_port`), as for every in-process DNS client.
  EndpointSlice hints (``trafficDistribution``) narrow Cluster-policy traffic to the endpoints hinted for the
  routing node's zone (or node) when every ready endpoint has hints and one is hinted for it, else all
  (``pkg/proxy/topology.go``); ``internalTrafficPolicy: Local`` keeps ClusterIP traffic on the client's node,
  dropped when it has no endpoint there.
- NodePort ``nodeIP:nodePort`` and load-balancer traffic arriving on a node:
  ``externalTrafficPolicy: Cluster`` -> any usable endpoint, source rewritten to the node's address;
  ``Local`` -> endpoints on this node only, client address kept; none -> dropped.
- "Usable" is Ready, falling back to Serving-and-Terminating when nothing is Ready
  (``CategorizeEndpoints``, ProxyTerminatingEndpoints, GA in v1.28), independently for Cluster and Local.
- ``healthCheckNodePort`` answers 200/503 with the upstream JSON and headers
  (``pkg/proxy/healthcheck/service_health.go``).
- Network ACLs: a node whose subnet a deny-all ACL cuts off (``NodeNetwork.segment`` set by the
  cloud layer) exchanges traffic only with addresses in that same subnet; every hop (client -> node,
  node -> endpoint, pod -> ClusterIP -> endpoint) is checked, so cross-zone flows fail both ways.
  Its kube-proxy no longer hears from the API server either: it keeps the endpoints it had when the
  cut began (``NodeNetwork.frozen``), so same-zone traffic through a Service goes on after node
  lifecycle has marked those pods NotReady everywhere else.

Endpoint changes reach the proxy after ``propagation_delay`` seconds, as they reach real nodes
after the EndpointSlice watch and an iptables sync; an app that exits on SIGTERM without a
graceful delay therefore really drops requests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .dns_port import wire_port
from .relay import Listener, Route, privileged_port_message
from .udp_relay import UdpListener

log = logging.getLogger(__name__)

Obj = dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    address: str
    node: str | None
    zone: str | None
    ready: bool
    serving: bool
    terminating: bool
    ports: dict[str, int]  # port name ("" when unnamed) -> target port
    zone_hints: frozenset[str] = frozenset()  # hints.forZones (trafficDistribution)
    node_hints: frozenset[str] = frozenset()  # hints.forNodes (PreferSameNode)


def endpoints_from_slices(slices: list[Obj]) -> list[Endpoint]:
    out: list[Endpoint] = []
    for s in slices:
        ports = {p.get("name") or "": int(p["port"]) for p in s.get("ports") or [] if p.get("port") is not None}
        for ep in s.get("endpoints") or []:
            cond = ep.get("conditions") or {}
            ready = cond.get("ready") is not False
            serving = cond.get("serving", ready) is not False
            hints = ep.get("hints") or {}
            zones = frozenset(z.get("name", "") for z in hints.get("forZones") or [])
            nodes = frozenset(n.get("name", "") for n in hints.get("forNodes") or [])
            for addr in ep.get("addresses") or []:
                out.append(Endpoint(addr, ep.get("nodeName"), ep.get("zone"), ready, bool(serving),
                                    bool(cond.get("terminating")), ports, zones, nodes))
    return out


def topology_mode(endpoints: list[Endpoint], node: str, zone: str) -> str:
    """``topologyModeFromHints``: PreferSameNode when every ready endpoint has node hints and one is hinted for
    this node; PreferSameZone when every ready endpoint has zone hints and one is hinted for this node's zone;
    else "" (cluster-wide: the fallback of a zone with no endpoint of its own)."""
    ready = [e for e in endpoints if e.ready]
    if ready and all(e.node_hints for e in ready) and any(node in e.node_hints for e in ready):
        return "PreferSameNode"
    if ready and all(e.zone_hints for e in ready) and zone and any(zone in e.zone_hints for e in ready):
        return "PreferSameZone"
    return ""


def for_topology(endpoints: list[Endpoint], node: str, zone: str) -> list[Endpoint]:
    """The endpoints a node's kube-proxy uses for Cluster traffic policy (``availableForTopology``)."""
    mode = topology_mode(endpoints, node, zone)
    if mode == "PreferSameNode":
        return [e for e in endpoints if node in e.node_hints]
    if mode == "PreferSameZone":
        return [e for e in endpoints if zone in e.zone_hints]
    return endpoints


def usable(endpoints: list[Endpoint]) -> list[Endpoint]:
    """Ready endpoints, else serving-and-terminating ones (CategorizeEndpoints)."""
    ready = [e for e in endpoints if e.ready]
    if ready:
        return ready
    return [e for e in endpoints if e.serving and e.terminating]


@dataclass
class ServiceState:
    """What the proxy currently believes about one Service."""

    namespace: str
    name: str
    spec: Obj
    endpoints: list[Endpoint] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def local_policy(self) -> bool:
        return self.spec.get("externalTrafficPolicy") == "Local"

    def port_named(self, port: Obj) -> str:
        return port.get("name") or ""


class NodeNetwork:
    """One node's address and whether its network is up (a stopped node drops everything).

    ``segment``: None while the node's subnet exchanges traffic with the rest of the VPC; the subnet id
    while a network ACL cuts that subnet off (a partitioned zone), when only same-subnet flows pass."""

    def __init__(self, name: str, address: str, zone: str):
        self.name = name
        self.address = address
        self.zone = zone
        self.up = True
        self.segment: str | None = None
        # While cut off: each Service's endpoints as this node's kube-proxy last heard them.
        self.frozen: dict[tuple[str, str], list[Endpoint]] | None = None


def flow_allowed(src: NodeNetwork | None, dst: NodeNetwork | None) -> bool:
    """Whether a network ACL lets a flow from ``src`` to ``dst`` through (None: outside the cluster's subnets).

    ACLs filter what crosses a subnet's boundary, never what stays inside it: both ends must be outside
    every cut-off subnet, or inside the same one."""
    return (src.segment if src is not None else None) == (dst.segment if dst is not None else None)


class KubeProxy:
    """The proxy rules of all nodes, and their listeners."""

    def __init__(self, propagation_delay: float = 0.0, rng: random.Random | None = None):
        self.propagation_delay = propagation_delay
        self.rng = rng or random.Random()
        self.nodes: dict[str, NodeNetwork] = {}
        self.services: dict[tuple[str, str], ServiceState] = {}
        self._listeners: dict[tuple[str, str], list[Listener | UdpListener]] = {}
        self._health: dict[tuple[str, str], list[web.AppRunner]] = {}
        self.proxy_healthy = True
        # Endpoints that arrived before their Service's listeners existed.
        self._pending_endpoints: dict[tuple[str, str], list[Endpoint]] = {}
        # Pod address -> node name, for the source side of a flow (pod IPs are never reused).
        self._pod_nodes: dict[str, str] = {}

    # ------------------------------------------------------------------ decisions

    def choose(self, svc: ServiceState, port: Obj, node: NodeNetwork | None, peer_ip: str,
               external: bool) -> Route | None:
        """Where one connection goes; None means dropped."""
        if node is not None and not node.up:
            return None
        source = self.node_of_address(peer_ip)
        if node is not None and not flow_allowed(source, node):
            return None  # the client cannot reach this node across a network ACL
        hop = node if node is not None else source
        pname = svc.port_named(port)
        # Pods on a stopped node are unreachable from everywhere; across an ACL-cut subnet, from outside it.
        endpoints = svc.endpoints
        if hop is not None and hop.frozen is not None:
            endpoints = hop.frozen.get((svc.namespace, svc.name), [])
        candidates = [e for e in endpoints if pname in e.ports and self._reachable(e, hop)]
        if external and svc.local_policy and node is not None:
            pool = usable([e for e in candidates if e.node == node.name])
            source = peer_ip
        elif not external and svc.spec.get("internalTrafficPolicy") == "Local" and hop is not None:
            # No fallback: without an endpoint on the client's node the connection is dropped (iptables
            # "has no local endpoints" -j DROP), never sent elsewhere.
            pool = usable([e for e in candidates if e.node == hop.name])
            source = peer_ip
        else:
            if hop is not None:  # trafficDistribution hints, decided on the node whose kube-proxy routes this
                allowed = {e.address for e in for_topology(
                    [e for e in endpoints if pname in e.ports], hop.name, hop.zone)}
                candidates = [e for e in candidates if e.address in allowed]
            pool = usable(candidates)
            source = node.address if (external and node is not None) else peer_ip
        if not pool:
            return None
        ep = pool[self.rng.randrange(len(pool))] if len(pool) > 1 else pool[0]
        return Route(ep.address, wire_port(ep.ports[pname]), source)

    def _reachable(self, ep: Endpoint, source: NodeNetwork | None = None) -> bool:
        node = self.nodes.get(ep.node or "")
        return node is None or (node.up and flow_allowed(source, node))

    def set_segment(self, node: NodeNetwork, segment: str | None) -> None:
        """Cut ``node`` off into ``segment`` (its kube-proxy keeps today's endpoints) or reconnect it (None)."""
        if segment is not None and node.frozen is None:
            node.frozen = {key: list(state.endpoints) for key, state in self.services.items()}
        elif segment is None:
            node.frozen = None
        node.segment = segment

    def learn_pod(self, address: str, node: str) -> None:
        """Remember that pod address ``address`` is on ``node`` (pod IPs are never reused while a cluster runs)."""
        self._pod_nodes[address] = node

    def node_of_address(self, address: str) -> NodeNetwork | None:
        """The node an address belongs to (its own, or one of its pods'); None outside the cluster."""
        for node in self.nodes.values():
            if node.address == address:
                return node
        name = self._pod_nodes.get(address)
        return self.nodes.get(name) if name else None

    def local_endpoint_count(self, svc: ServiceState, node: str) -> int:
        """Ready local endpoints only (``LocalReadyEndpoints``): a terminating pod still serves traffic
        through the fallback, but the health check already tells the load balancer to drain the node."""
        return sum(1 for e in svc.endpoints if e.node == node and e.ready)

    # ------------------------------------------------------------------ state updates

    def set_node(self, name: str, address: str, zone: str) -> NodeNetwork:
        node = self.nodes.get(name)
        if node is None:
            node = self.nodes[name] = NodeNetwork(name, address, zone)
        return node

    async def sync_service(self, namespace: str, name: str, spec: Obj | None,
                           annotations: dict[str, str] | None = None) -> ServiceState | None:
        """Open/close the listeners a Service needs (called when the Service changes)."""
        key = (namespace, name)
        old = self.services.get(key)
        if spec is None or spec.get("type") == "ExternalName":
            self.services.pop(key, None)
            await self._close(key)
            return None
        if old is not None and _listen_shape(old.spec) == _listen_shape(spec):
            old.spec = spec
            old.annotations = dict(annotations or {})
            return old
        state = ServiceState(namespace, name, spec, old.endpoints if old else [], dict(annotations or {}))
        self.services[key] = state
        await self._close(key)
        await self._open(state)
        return state

    def set_endpoints(self, namespace: str, name: str, slices: list[Obj]) -> None:
        """New EndpointSlices for a Service; applied after the propagation delay."""
        endpoints = endpoints_from_slices(slices)
        for e in endpoints:
            if e.node:
                self._pod_nodes[e.address] = e.node

        def apply() -> None:
            state = self.services.get((namespace, name))
            if state is not None:
                state.endpoints = endpoints
            self._pending_endpoints[(namespace, name)] = endpoints

        if self.propagation_delay > 0:
            asyncio.get_running_loop().call_later(self.propagation_delay, apply)
        else:
            apply()

    async def _open(self, state: ServiceState) -> None:
        key = (state.namespace, state.name)
        pending = self._pending_endpoints.get(key)
        if pending is not None and not state.endpoints:
            state.endpoints = pending
        listeners: list[Listener | UdpListener] = []
        spec = state.spec
        cluster_ip = spec.get("clusterIP")
        for port in spec.get("ports") or []:
            if (port.get("protocol") or "TCP") == "UDP" and cluster_ip and cluster_ip != "None":
                udp = await self._udp_listener(state, port, cluster_ip)
                if udp is not None:
                    listeners.append(udp)
                continue
            if (port.get("protocol") or "TCP") != "TCP":
                continue
            if cluster_ip and cluster_ip != "None":
                try:
                    listeners.append(await Listener(cluster_ip, wire_port(int(port["port"])),
                                                    self._router(state, port, None, False)).start())
                except PermissionError:  # an ordinary user and a port below 1024: the rest still works
                    log.warning("service %s/%s: %s", state.namespace, state.name,
                                privileged_port_message(cluster_ip, int(port["port"])))
            if port.get("nodePort"):
                for node in self.nodes.values():
                    listeners.append(await Listener(node.address, int(port["nodePort"]),
                                                    self._router(state, port, node, True)).start())
        self._listeners[key] = listeners
        hc = spec.get("healthCheckNodePort")
        if hc and state.local_policy:
            runners = []
            for node in self.nodes.values():
                runners.append(await self._health_server(state, node, int(hc)))
            self._health[key] = runners

    async def _udp_listener(self, state: ServiceState, port: Obj, cluster_ip: str) -> UdpListener | None:
        """A UDP ClusterIP port (cluster DNS): flows routed like connections, kept while their endpoint is usable."""
        pname = state.port_named(port)

        def still_usable(route: Route, peer: tuple[str, int]) -> bool:
            # The endpoints the client's node knows (a cut-off node's kube-proxy keeps its last view).
            hop = self.node_of_address(peer[0])
            endpoints = state.endpoints
            if hop is not None and hop.frozen is not None:
                endpoints = hop.frozen.get((state.namespace, state.name), [])
            return any(e.address == route.host and wire_port(e.ports.get(pname) or 0) == route.port
                       and self._reachable(e, hop)
                       for e in usable(endpoints))

        try:
            return await UdpListener(cluster_ip, wire_port(int(port["port"])), self._router(state, port, None, False),
                                     still_usable).start()
        except PermissionError:
            log.warning("service %s/%s: %s", state.namespace, state.name,
                        privileged_port_message(cluster_ip, int(port["port"])).replace("listen on", "listen on udp"))
            return None

    def _router(self, state: ServiceState, port: Obj, node: NodeNetwork | None, external: bool):
        def route(peer: tuple[str, int]) -> Route | None:
            return self.choose(state, port, node, peer[0], external)

        return route

    async def _health_server(self, state: ServiceState, node: NodeNetwork, port: int) -> web.AppRunner:
        async def healthz(request: web.Request) -> web.Response:
            count = self.local_endpoint_count(state, node.name)
            body = health_body(state.namespace, state.name, count, self.proxy_healthy)
            status = 200 if count and self.proxy_healthy else 503
            return web.Response(status=status, body=body.encode(), headers={
                "Content-Type": "application/json", "X-Content-Type-Options": "nosniff",
                "X-Load-Balancing-Endpoint-Weight": str(count)})

        async def guard(request: web.Request) -> web.Response:
            if not node.up or node.segment is not None:
                # A stopped (or ACL-cut) node does not answer; hold the request until the checker gives up.
                await asyncio.sleep(3600)
            return await healthz(request)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", guard)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, node.address, port, reuse_address=True).start()
        return runner

    async def _close(self, key: tuple[str, str]) -> None:
        for listener in self._listeners.pop(key, []):
            listener.close()
        for runner in self._health.pop(key, []):
            await runner.cleanup()

    async def close(self) -> None:
        for key in list(self._listeners) + list(self._health):
            await self._close(key)


def _listen_shape(spec: Obj) -> tuple[Any, ...]:
    ports = tuple((p.get("port"), p.get("nodePort"), p.get("protocol"), p.get("name")) for p in spec.get("ports") or [])
    return (spec.get("clusterIP"), ports, spec.get("healthCheckNodePort"), spec.get("externalTrafficPolicy"))


def health_body(namespace: str, name: str, count: int, healthy: bool) -> str:
    """The health server's JSON, byte for byte as kube-proxy writes it."""
    return (
        "{\n"
        '\t"service": {\n'
        f'\t\t"namespace": {json.dumps(namespace)},\n'
        f'\t\t"name": {json.dumps(name)}\n'
        "\t},\n"
        f'\t"localEndpoints": {count},\n'
        f'\t"serviceProxyHealthy": {"true" if healthy else "false"}\n'
        "}"
    )
