"""UDP forwarding for ClusterIP Services: kube-proxy's DNAT of datagrams, with conntrack's flows.

A listener on ``clusterIP:port`` takes each client's datagrams. The first datagram of a flow (a client
address and port) asks the router for an endpoint, as iptables picks one for a new conntrack entry;
later datagrams of the flow go to the same endpoint while it stays usable (kube-proxy deletes the UDP
conntrack entries of endpoints it removes, so a flow to a removed endpoint is routed afresh). The
datagrams leave from the client's own address (the ClusterIP path keeps the source), and the answers
come back to the client from ``clusterIP:port``, as the reverse NAT makes them look.

A flow is forgotten after ``idle`` seconds without traffic (5 s: shorter than conntrack's 30 s; a client
that reuses its port after that may be routed to another endpoint), and its socket is closed after
``socket_idle`` (1 s; reopened, to the same endpoint, if the flow goes on): a resolver's one-question flows
(a new port per question, ten per short name with ``ndots:5``) must not hold thousands of descriptors.
A datagram the router drops is lost silently; the client times out, as behind an iptables rule with
nowhere to go.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from .relay import Route, Router

log = logging.getLogger(__name__)
FLOW_IDLE_SECONDS = 5.0
SOCKET_IDLE_SECONDS = 1.0


class _Flow(asyncio.DatagramProtocol):
    """One client's conntrack entry: its endpoint and the socket it is reached from."""

    def __init__(self, listener: UdpListener, client: tuple[str, int], route: Route):
        self.listener = listener
        self.client = client
        self.route = route
        self.transport: asyncio.DatagramTransport | None = None
        self.connecting = False
        self.pending: list[bytes] = []
        self.last = time.monotonic()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connecting = False
        for data in self.pending:
            self.transport.sendto(data)  # type: ignore[union-attr]
        self.pending.clear()

    def send(self, data: bytes) -> None:
        self.last = time.monotonic()
        if self.transport is not None:
            self.transport.sendto(data)
            return
        self.pending.append(data)
        if not self.connecting:
            self.connecting = True
            asyncio.get_running_loop().create_task(self.listener.connect(self))

    def close_socket(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.last = time.monotonic()
        self.listener.reply(data, self.client)

    def error_received(self, exc: Exception) -> None:
        pass  # the endpoint's port is closed (ICMP unreachable): the client's request simply goes unanswered

    def close(self) -> None:
        self.closed = True
        self.close_socket()


class _Front(asyncio.DatagramProtocol):
    def __init__(self, listener: UdpListener):
        self.listener = listener

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.listener.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.listener.forward(data, addr)

    def error_received(self, exc: Exception) -> None:
        pass


class UdpListener:
    """A UDP listener on ``host:port`` relaying each flow where ``router`` says; ``still_usable(route, client)``
    tells whether a flow's endpoint is still one the proxy would use for that client (else it is routed again)."""

    def __init__(self, host: str, port: int, router: Router,
                 still_usable: Callable[[Route, tuple[str, int]], bool] | None = None,
                 idle: float = FLOW_IDLE_SECONDS, socket_idle: float = SOCKET_IDLE_SECONDS):
        self.host = host
        self.port = port
        self.router = router
        self.still_usable = still_usable
        self.idle = idle
        self.socket_idle = socket_idle
        self.transport: asyncio.DatagramTransport | None = None
        self.flows: dict[tuple[str, int], _Flow] = {}
        self.dropped = 0
        self.failed = 0
        self.last_error = ""
        self._sweeper: asyncio.TimerHandle | None = None

    async def start(self) -> UdpListener:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: _Front(self), local_addr=(self.host, self.port))
        self._sweeper = loop.call_later(self.socket_idle, self._sweep)
        return self

    def forward(self, data: bytes, client: tuple[str, int]) -> None:
        flow = self.flows.get(client)
        if flow is not None and self.still_usable is not None and not self.still_usable(flow.route, client):
            flow.close()
            del self.flows[client]
            flow = None
        if flow is None:
            try:
                route = self.router(client)
            except Exception:  # a routing bug must not take the listener down
                log.exception("router failed for %s", client)
                route = None
            if route is None:
                self.dropped += 1
                return
            flow = self.flows[client] = _Flow(self, client, route)
        flow.send(data)

    async def connect(self, flow: _Flow) -> None:
        """Open the flow's socket to its endpoint, from the client's address (or the route's source)."""
        route = flow.route
        try:
            await asyncio.get_running_loop().create_datagram_endpoint(
                lambda: flow, local_addr=(route.source or flow.client[0], 0), remote_addr=(route.host, route.port))
        except OSError as e:
            self.failed += 1
            self.last_error = repr(e)
            flow.connecting = False
            flow.pending.clear()
            if self.flows.get(flow.client) is flow:
                del self.flows[flow.client]
            return
        if flow.closed:
            flow.close_socket()

    def reply(self, data: bytes, client: tuple[str, int]) -> None:
        if self.transport is not None:
            self.transport.sendto(data, client)

    def _sweep(self) -> None:
        now = time.monotonic()
        for client, flow in list(self.flows.items()):
            if now - flow.last >= self.idle:
                flow.close()
                del self.flows[client]
            elif now - flow.last >= self.socket_idle and not flow.connecting:
                flow.close_socket()
        if self.transport is not None:
            self._sweeper = asyncio.get_running_loop().call_later(self.socket_idle / 2, self._sweep)

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self.transport is not None:
            self.transport.close()
            self.transport = None
        for flow in self.flows.values():
            flow.close()
        self.flows.clear()
