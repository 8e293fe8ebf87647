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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field
from typing import Any

from .proxy import KubeProxy, NodeNetwork, ServiceState
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


@dataclass
class Target:
    node: NodeNetwork
    state: str = "initial"  # initial | healthy | unhealthy | draining
    ok_streak: int = 0
    fail_streak: int = 0
    history: list[tuple[float, str]] = field(default_factory=list)


class LoadBalancerError(RuntimeError):
    """The load balancer could not be set up; the message says why and what to change."""


class LoadBalancer:
    """One NLB: per-zone listeners, target health, routing to the chosen node's proxy rules."""

    def __init__(self, proxy: KubeProxy, service: ServiceState, addresses: dict[str, str], timing: HealthCheckTiming,
                 rng: random.Random | None = None):
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
                self.targets[name] = Target(net)
        for name, target in list(self.targets.items()):
            if name not in eligible and target.state != "draining":
                target.state = "draining"
                asyncio.get_running_loop().call_later(self.timing.deregistration_delay, self._forget, name, target)

    def _forget(self, name: str, target: Target) -> None:
        if self.targets.get(name) is target and target.state == "draining":
            del self.targets[name]

    # ------------------------------------------------------------------ routing

    def healthy_in(self, zone: str | None) -> list[Target]:
        return [t for t in self.targets.values() if t.state == "healthy" and (zone is None or t.node.zone == zone)]

    def pick_target(self, zone: str) -> Target | None:
        pool = self.healthy_in(None if self.cross_zone else zone)
        if not pool:
            pool = self.healthy_in(None)
        if not pool:
            pool = [t for t in self.targets.values() if t.state != "draining"]  # fail open
        if not pool:
            return None
        return pool[self.rng.randrange(len(pool))]

    def route(self, zone: str, port: Obj, peer: tuple[str, int]) -> Route | None:
        if zone in self.cut_zones:
            return None  # the client's SYN never reaches the load balancer's node in that subnet
        target = self.pick_target(zone)
        if target is None or target.node.segment is not None:
            return None  # a target behind a network ACL: the forwarded SYN is dropped
        return self.proxy.choose(self.service, port, target.node, peer[0], external=True)

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
        if self.service.local_policy:
            return t.local_interval, t.local_healthy, t.local_unhealthy
        return t.cluster_interval, t.cluster_healthy, t.cluster_unhealthy

    async def _check_loop(self) -> None:
        while True:
            interval, healthy_n, unhealthy_n = self._check_params()
            targets = [t for t in self.targets.values() if t.state != "draining"]
            results = await asyncio.gather(*(self._probe(t.node) for t in targets), return_exceptions=True)
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
            await asyncio.sleep(interval)

    async def _probe(self, node: NodeNetwork) -> bool:
        spec = self.service.spec
        timeout = min(self.timing.timeout, max(self._check_params()[0], 0.2))
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


async def http_healthz(host: str, port: int, timeout: float) -> bool:
    """GET /healthz; healthy on 200-399 (the NLB's default matcher)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    try:
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        line = await asyncio.wait_for(reader.readline(), timeout)
        parts = line.split()
        return len(parts) >= 2 and parts[1].isdigit() and 200 <= int(parts[1]) < 400
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
