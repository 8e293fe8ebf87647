"""An AWS Network Load Balancer in front of ``type: LoadBalancer`` Services (instance targets).

Behaviour follows cloud-provider-aws's NLB and AWS defaults (facts §D3, §E):

- one address per zone (the Service's ``status.loadBalancer.ingress``), cross-zone off unless
  ``service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled: "true"``;
- targets are the nodes, cordoned ones included; nodes labelled
  ``node.kubernetes.io/exclude-from-external-load-balancers`` or tainted
  ``ToBeDeletedByClusterAutoscaler`` are not;
- health checks: ``Cluster`` -> TCP to the traffic NodePort, interval 30 s, 3/3 thresholds;
  ``Local`` -> HTTP ``/healthz`` on ``healthCheckNodePort``, interval 10 s, 2/2 thresholds
  (intervals scaled by the timing profile); new targets receive traffic only once healthy;
- client IP is preserved (instance targets), so the node's kube-proxy decides what the pod sees;
- a zone with no healthy target gets no new flows (DNS failover moves clients to the other
  zones' addresses); with no healthy target anywhere the NLB fails open to all targets;
- network ACLs (set by the cloud layer): a target whose subnet is cut off fails its health checks
  and the flows sent to it before that are lost; a zone whose load-balancer subnet is cut off
  (``cut_zones``) drops every connection to its address.

``LbOptions`` adds what the AWS Load Balancer Controller's NLBs have (``lbc/model.py``; the defaults keep the
legacy behaviour above): an **internal** scheme (only sources inside the VPC, node and pod addresses, connect;
from anywhere else the SYN is never answered, as AWS drops it), client IP preservation off (the target sees
the NLB's own address in that zone), a PROXY protocol v2 header before the client's bytes, health-check
cadence of its own, a registration delay before a new target's first health check, new connections still
sent to a deregistered (draining) target for a while, and unhealthy-target connection termination (RST).
``IpTargetLoadBalancer`` (ip targets: pod addresses, registered as the LBC registers them) lives here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .proxy import Endpoint, KubeProxy, NodeNetwork, ServiceState, usable
from .relay import Listener, Route, privileged_port_message

log = logging.getLogger(__name__)
Obj = dict[str, Any]

CROSS_ZONE = "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled"
EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler"


@dataclass(frozen=True)
class HealthCheckTiming:
    """Health-check cadence; ``scale`` shrinks the AWS intervals for the fast profile."""

    cluster_interval: float = 30.0
    cluster_healthy: int = 3
    cluster_unhealthy: int = 3
    local_interval: float = 10.0
    local_healthy: int = 2
    local_unhealthy: int = 2
    timeout: float = 6.0
    deregistration_delay: float = 300.0


@dataclass(frozen=True)
class LbOptions:
    """What differs from the legacy NLB (see the module docstring); times already scaled by the profile.

    ``health``: (interval, healthy threshold, unhealthy threshold, timeout, HTTP path or None for TCP, port or
    None for the traffic port) replacing the legacy cadence; ``frozen()``: True while the controller that
    registers targets is down (nothing is registered or deregistered meanwhile)."""

    internal: bool = False
    preserve_client_ip: bool = True
    proxy_protocol: bool = False
    registration_delay: float = 0.0
    new_connections_after_deregistration: float = 0.0
    unhealthy_termination: bool = False
    health: tuple[float, int, int, float, str | None, int | None] | None = None
    frozen: Callable[[], bool] | None = None
    # The target group's deregistration_delay.timeout_seconds (scaled; None: the profile's legacy value) and
    # deregistration_delay.connection_termination.enabled (flows still open when it ends are reset).
    deregistration_delay: float | None = None
    deregistration_termination: bool = False


@dataclass
class Target:
    node: NodeNetwork
    state: str = "initial"  # initial | healthy | unhealthy | draining
    ok_streak: int = 0
    fail_streak: int = 0
    history: list[tuple[float, str]] = field(default_factory=list)
    checks_from: float = 0.0  # registration: no health check (and no traffic) before this loop time
    drained_at: float = 0.0
    address: str | None = None  # ip targets: the pod's address and its ports by Service port name
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.address or self.node.name


def proxy_v2_header(source: tuple[str, int], destination: tuple[str, int]) -> bytes:
    """A PROXY protocol v2 header for a TCP over IPv4 connection (haproxy's proxy-protocol.txt §2.2)."""
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", 12)
            + socket.inet_aton(source[0]) + socket.inet_aton(destination[0])
            + struct.pack("!HH", source[1], destination[1]))


class LoadBalancerError(RuntimeError):
    """The load balancer could not be set up; the message says why and what to change."""


class LoadBalancer:
    """One NLB: per-zone listeners, target health, routing to the chosen node's proxy rules."""

    def __init__(self, proxy: KubeProxy, service: ServiceState, addresses: dict[str, str], timing: HealthCheckTiming,
                 rng: random.Random | None = None, options: LbOptions | None = None, hostname: str | None = None):
        self.options = options or LbOptions()
        self.hostname = hostname  # the NLB's DNS name (LBC, Auto Mode); None: ingress by IP (legacy)
        self.proxy = proxy
        self.service = service
        self.addresses = addresses  # zone -> address
        self.timing = timing
        self.rng = rng or random.Random()
        self.targets: dict[str, Target] = {}
        self.cut_zones: set[str] = set()  # zones whose load-balancer subnet a network ACL cuts off
        self._listeners: list[Listener] = []
        self._checker: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ configuration

    @property
    def cross_zone(self) -> bool:
        return str(self.service.annotations.get(CROSS_ZONE, "false")).lower() == "true"

    def set_targets(self, nodes: list[tuple[NodeNetwork, Obj]]) -> None:
        """Register eligible nodes; deregistered ones drain for the deregistration delay."""
        if self.options.frozen is not None and self.options.frozen():
            return  # the controller that registers targets is down
        eligible = {}
        for net, node in nodes:
            labels = node["metadata"].get("labels") or {}
            if EXCLUDE_LABEL in labels and str(labels[EXCLUDE_LABEL]).lower() != "false":
                continue
            if any(t.get("key") == TO_BE_DELETED_TAINT for t in (node.get("spec") or {}).get("taints") or []):
                continue
            if node["metadata"].get("deletionTimestamp"):
                continue
            eligible[net.name] = net
        for name, net in eligible.items():
            if name not in self.targets or self.targets[name].state == "draining":
                self.targets[name] = self._new_target(net)
        for name, target in list(self.targets.items()):
            if name not in eligible and target.state != "draining":
                self._drain(name, target)

    def _new_target(self, net: NodeNetwork, address: str | None = None, ports: dict[str, int] | None = None) -> Target:
        now = asyncio.get_running_loop().time()
        return Target(net, checks_from=now + self.options.registration_delay, address=address, ports=ports or {})

    def _drain(self, name: str, target: Target) -> None:
        target.state = "draining"
        target.drained_at = asyncio.get_running_loop().time()
        target.history.append((target.drained_at, "draining"))
        delay = self.options.deregistration_delay
        asyncio.get_running_loop().call_later(self.timing.deregistration_delay if delay is None else delay,
                                              self._forget, name, target)

    def _forget(self, name: str, target: Target) -> None:
        if self.targets.get(name) is target and target.state == "draining":
            del self.targets[name]
            if self.options.deregistration_termination:  # the delay ended: flows still open are reset
                for listener in self._listeners:
                    listener.abort_tagged(target.key)

    # ------------------------------------------------------------------ routing

    def healthy_in(self, zone: str | None) -> list[Target]:
        return [t for t in self.targets.values() if t.state == "healthy" and (zone is None or t.node.zone == zone)]

    def still_sent_new_connections(self, zone: str | None) -> list[Target]:
        """Deregistered targets the NLB still sends new connections to (about 2 min on AWS)."""
        window = self.options.new_connections_after_deregistration
        if window <= 0:
            return []
        now = asyncio.get_running_loop().time()
        return [t for t in self.targets.values() if t.state == "draining" and now - t.drained_at < window
                and (zone is None or t.node.zone == zone)]

    def pick_target(self, zone: str) -> Target | None:
        scope = None if self.cross_zone else zone
        pool = self.healthy_in(scope) + self.still_sent_new_connections(scope)
        if not pool:
            pool = self.healthy_in(None)
        if not pool:
            pool = [t for t in self.targets.values() if t.state != "draining"]  # fail open
        if not pool:
            return None
        return pool[self.rng.randrange(len(pool))]

    def from_inside_vpc(self, address: str) -> bool:
        """Whether ``address`` is inside the cluster's VPC: a node's or a pod's."""
        return self.proxy.node_of_address(address) is not None

    def route(self, zone: str, port: Obj, peer: tuple[str, int]) -> Route | None:
        if zone in self.cut_zones:
            return None  # the client's SYN never reaches the load balancer's node in that subnet
        if self.options.internal and not self.from_inside_vpc(peer[0]):
            return None  # an internal NLB has private addresses only: from outside the VPC the SYN goes nowhere
        target = self.pick_target(zone)
        if target is None or target.node.segment is not None:
            return None  # a target behind a network ACL: the forwarded SYN is dropped
        if self.options.internal and self.options.preserve_client_ip and self._is_self(target, peer[0]):
            # "Internal network load balancers do not support hairpinning or loopback": with the client's
            # address preserved, a target calling itself through its NLB times out (eks-flavours-facts §1.2).
            return None
        route = self._target_route(target, zone, port, peer)
        if route is None:
            return None
        if self.options.proxy_protocol:
            route = replace(route, preamble=proxy_v2_header(peer, (self.addresses[zone], int(port["port"]))))
        return replace(route, tag=target.key)

    def _is_self(self, target: Target, client: str) -> bool:
        """Whether the client is the target itself (its pod for ip targets, its instance for instance targets)."""
        if target.address is not None:
            return client == target.address
        source = self.proxy.node_of_address(client)
        return source is not None and source.name == target.node.name

    def _source(self, zone: str, peer: tuple[str, int]) -> str:
        """What the target sees as the client: the client's address, or the NLB's own in that zone."""
        return peer[0] if self.options.preserve_client_ip else self.addresses[zone]

    def _target_route(self, target: Target, zone: str, port: Obj, peer: tuple[str, int]) -> Route | None:
        return self.proxy.choose(self.service, port, target.node, self._source(zone, peer), external=True)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen on every zone's address; ``LoadBalancerError`` (nothing left open) if one cannot be."""
        for zone, address in self.addresses.items():
            for port in self.service.spec.get("ports") or []:
                if (port.get("protocol") or "TCP") != "TCP":
                    continue
                try:
                    self._listeners.append(await Listener(address, int(port["port"]),
                                                          self._router(zone, port)).start())
                except PermissionError:
                    await self.close()
                    raise LoadBalancerError(privileged_port_message(address, int(port["port"]))) from None
        self._checker = asyncio.get_running_loop().create_task(self._check_loop())

    def _router(self, zone: str, port: Obj):
        def route(peer: tuple[str, int]) -> Route | None:
            return self.route(zone, port, peer)

        return route

    async def close(self) -> None:
        for listener in self._listeners:
            listener.close()
        self._listeners.clear()
        if self._checker is not None:
            self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checker

    # ------------------------------------------------------------------ health checks

    def _check_params(self) -> tuple[float, int, int]:
        t = self.timing
        if self.options.health is not None:
            return self.options.health[0], self.options.health[1], self.options.health[2]
        if self.service.local_policy:
            return t.local_interval, t.local_healthy, t.local_unhealthy
        return t.cluster_interval, t.cluster_healthy, t.cluster_unhealthy

    async def _check_loop(self) -> None:
        """Health checks on AWS's cadence: a round starts every ``interval`` whatever its checks took.

        ELB's ``HealthCheckIntervalSeconds`` is "the approximate amount of time between health checks of an
        individual target" and ``HealthCheckTimeoutSeconds`` "the amount of time during which no response means
        a failed health check" (elasticloadbalancing CreateTargetGroup API reference); a check that times out
        does not push the next one back. So a cut-off target is marked unhealthy at most
        ``unhealthy threshold * interval + timeout`` after the cut (``Profile.partition_detection_window``);
        sleeping a full interval after each round made it up to threshold * timeout later than that."""
        loop = asyncio.get_running_loop()
        while True:
            interval, healthy_n, unhealthy_n = self._check_params()
            start = loop.time()
            targets = [t for t in self.targets.values() if t.state != "draining" and t.checks_from <= start]
            results = await asyncio.gather(*(self._probe_target(t) for t in targets), return_exceptions=True)
            now = asyncio.get_running_loop().time()
            for target, ok in zip(targets, results, strict=True):
                passed = ok is True
                if passed:
                    target.ok_streak += 1
                    target.fail_streak = 0
                    if target.state != "healthy" and target.ok_streak >= healthy_n:
                        target.state = "healthy"
                        target.history.append((now, "healthy"))
                else:
                    target.fail_streak += 1
                    target.ok_streak = 0
                    if target.state != "unhealthy" and target.fail_streak >= unhealthy_n:
                        target.state = "unhealthy"
                        target.history.append((now, "unhealthy"))
                        if self.options.unhealthy_termination:  # the NLB resets the target's flows
                            for listener in self._listeners:
                                listener.abort_tagged(target.key)
            await asyncio.sleep(max(0.0, start + interval - loop.time()))

    def _timeout(self) -> float:
        if self.options.health is not None:
            return min(self.options.health[3], max(self.options.health[0], 0.2))
        return min(self.timing.timeout, max(self._check_params()[0], 0.2))

    async def _probe_target(self, target: Target) -> bool:
        health = self.options.health
        if health is None or (health[4] is None and health[5] is None):
            return await self._probe(target.node)
        node, timeout = target.node, self._timeout()
        if not node.up or node.segment is not None:
            await asyncio.sleep(timeout)
            return False
        if health[4] is not None and health[5] is not None:
            return await http_healthz(node.address, health[5], timeout, health[4])
        return await tcp_check(node.address, int(health[5] or 0), timeout)

    async def _probe(self, node: NodeNetwork) -> bool:
        spec = self.service.spec
        timeout = self._timeout()
        if not node.up or node.segment is not None:
            # A stopped instance (or one behind a deny ACL) never answers the SYN: the check times out.
            await asyncio.sleep(timeout)
            return False
        if self.service.local_policy and spec.get("healthCheckNodePort"):
            return await http_healthz(node.address, int(spec["healthCheckNodePort"]), timeout)
        ports = [p for p in spec.get("ports") or [] if p.get("nodePort")]
        if not ports:
            return False
        return await tcp_check(node.address, int(ports[0]["nodePort"]), timeout)


async def tcp_check(host: str, port: int, timeout: float) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def http_healthz(host: str, port: int, timeout: float, path: str = "/healthz") -> bool:
    """GET ``path``; healthy on 200-399 (the NLB's default matcher)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        line = await asyncio.wait_for(reader.readline(), timeout)
        parts = line.split()
        return len(parts) >= 2 and parts[1].isdigit() and 200 <= int(parts[1]) < 400
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


class IpTargetLoadBalancer(LoadBalancer):
    """An NLB with **ip** targets (LBC ``aws-load-balancer-nlb-target-type: ip``): pods are the targets.

    As the LBC registers them (``pkg/backend/endpoint_resolver.go``): the Service's ready endpoints, plus
    pods that are not Ready only because one of this load balancer's readiness gates is not True yet
    (``ContainersReady`` True): they must become targets for the gate ever to turn True. An endpoint that
    leaves is deregistered (draining). Health checks go straight to the pod (TCP to the target port, or
    HTTP), and traffic too: kube-proxy is not on the path, the NLB's address (or the client's, with
    ``preserve_client_ip.enabled=true``) is what the pod sees.
    """

    def set_targets(self, nodes: list[tuple[NodeNetwork, Obj]]) -> None:
        """Nodes are not targets of an ip target group."""

    def set_ip_targets(self, endpoints: list[Endpoint], gated: set[str]) -> None:
        """Register ``endpoints`` that are usable or in ``gated`` (addresses held back only by our gates)."""
        if self.options.frozen is not None and self.options.frozen():
            return
        wanted: dict[str, Endpoint] = {}
        for e in usable(endpoints) + [e for e in endpoints if e.address in gated]:
            wanted.setdefault(e.address, e)
        for address, e in wanted.items():
            node = self.proxy.nodes.get(e.node or "")
            if node is None:
                continue
            current = self.targets.get(address)
            if current is None or current.state == "draining":
                self.targets[address] = self._new_target(node, address, dict(e.ports))
            else:
                current.ports = dict(e.ports)
        for address, target in list(self.targets.items()):
            if address not in wanted and target.state != "draining":
                self._drain(address, target)

    def _target_route(self, target: Target, zone: str, port: Obj, peer: tuple[str, int]) -> Route | None:
        if not target.node.up:
            return None
        target_port = target.ports.get(self.service.port_named(port))
        if target_port is None:
            return None
        return Route(target.address or "", target_port, self._source(zone, peer))

    async def _probe_target(self, target: Target) -> bool:
        timeout = self._timeout()
        node = target.node
        if not node.up or node.segment is not None or not target.address:
            await asyncio.sleep(timeout)
            return False
        health = self.options.health
        ports = [p for p in self.service.spec.get("ports") or [] if (p.get("protocol") or "TCP") == "TCP"]
        port = (health[5] if health is not None and health[5] else None) or (
            target.ports.get(self.service.port_named(ports[0])) if ports else None)
        if port is None:
            return False
        if health is not None and health[4] is not None:
            return await http_healthz(target.address, int(port), timeout, health[4])
        return await tcp_check(target.address, int(port), timeout)
