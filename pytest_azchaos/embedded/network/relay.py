"""TCP forwarding with a chosen source address: the embedded network's one primitive.

Every hop of the data plane (NLB -> node -> pod, NodePort, ClusterIP) is a listener whose
accepted connections are relayed to a backend. The relay binds its outgoing socket to a
chosen loopback address, which is how "SNAT to the node" and "client IP preserved" become
real socket facts: the backend's ``getpeername()`` shows that address.

Built on asyncio protocols and transports (not streams) to keep per-connection cost low.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)
_IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


@dataclass(frozen=True)
class Route:
    """Where an accepted connection goes: ``(host, port)`` from source address ``source`` (None: any).

    ``preamble``: bytes written to the backend before anything the client sends (a PROXY protocol v2
    header); ``tag``: who chose this route (a load balancer's target), so its flows can be found again."""

    host: str
    port: int
    source: str | None = None
    preamble: bytes = b""
    tag: str | None = None


# Decide where a connection from ``peer`` (ip, port) goes; None drops it (held open, never answered).
Router = Callable[[tuple[str, int]], Route | None]


class _Backend(asyncio.Protocol):
    def __init__(self, client: _Client):
        self.client = client
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop transports are not asyncio.Transport
        self.client.backend_ready(self)

    def data_received(self, data: bytes) -> None:
        self.client.send(data)

    def eof_received(self) -> bool | None:
        self.client.backend_eof()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.backend_closed(exc)

    def pause_writing(self) -> None:
        self.client.pause_reading()

    def resume_writing(self) -> None:
        self.client.resume_reading()


class _Client(asyncio.Protocol):
    """The accepted side of a relayed connection."""

    def __init__(self, listener: Listener):
        self.listener = listener
        self.transport: asyncio.Transport | None = None
        self.backend: _Backend | None = None
        self.route: Route | None = None
        self.buffer: list[bytes] = []
        self.client_eof = False  # the client half-closed (its FIN reached us)
        self.backend_eof_seen = False  # the backend half-closed
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop transports are not asyncio.Transport
        self.listener.active.add(self)
        peer = transport.get_extra_info("peername")
        try:
            route = self.listener.router((peer[0], peer[1]))
        except Exception:  # a routing bug must not take the listener down
            log.exception("router failed for %s", peer)
            route = None
        if route is None:
            # Dropped, as iptables would drop it: the client waits until its own timeout.
            self.listener.dropped += 1
            return
        self.route = route
        asyncio.get_running_loop().create_task(self._connect(route))

    async def _connect(self, route: Route) -> None:
        loop = asyncio.get_running_loop()
        sock: socket.socket | None = None
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # may fail too (EMFILE under overload)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if route.source:
                # Choose the port at connect() time, per destination, not at bind() time.
                sock.setsockopt(socket.IPPROTO_IP, _IP_BIND_ADDRESS_NO_PORT, 1)
                sock.bind((route.source, 0))
            await loop.sock_connect(sock, (route.host, route.port))
            await loop.create_connection(lambda: _Backend(self), sock=sock)
        except OSError as e:
            # The backend refused or reset: the client sees its connection reset.
            self.listener.failed += 1
            self.listener.last_error = repr(e)
            if self.listener.failed in (1, 10, 100, 1000):
                log.warning("relay %s:%s -> %s:%s failed (%d so far): %r", self.listener.host, self.listener.port,
                            route.host, route.port, self.listener.failed, e)
            if sock is not None:
                sock.close()
            self.abort()
        except BaseException:
            if sock is not None:
                sock.close()
            self.abort()
            raise

    def backend_ready(self, backend: _Backend) -> None:
        if self.closed:
            if backend.transport:
                backend.transport.close()
            return
        self.backend = backend
        assert backend.transport is not None
        if self.route is not None and self.route.preamble:
            backend.transport.write(self.route.preamble)
        for chunk in self.buffer:
            backend.transport.write(chunk)
        self.buffer.clear()
        if self.client_eof and backend.transport.can_write_eof():
            backend.transport.write_eof()

    def data_received(self, data: bytes) -> None:
        if self.backend is not None and self.backend.transport is not None:
            self.backend.transport.write(data)
        else:
            self.buffer.append(data)

    def eof_received(self) -> bool | None:
        self.client_eof = True
        backend = self.backend.transport if self.backend is not None else None
        if backend is not None and backend.can_write_eof():
            backend.write_eof()
        self._close_when_both_ended()
        return True

    def send(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def backend_eof(self) -> None:
        self.backend_eof_seen = True
        if self.transport is not None and not self.closed and self.transport.can_write_eof():
            self.transport.write_eof()
        self._close_when_both_ended()

    def _close_when_both_ended(self) -> None:
        """Both directions ended (a FIN each way): close both sockets, after what is queued is written.
        Half-closed transports stay open until closed, so without this every such connection leaks."""
        if not (self.client_eof and self.backend_eof_seen):
            return
        if self.transport is not None:
            self.transport.close()
        if self.backend is not None and self.backend.transport is not None:
            self.backend.transport.close()

    def backend_closed(self, exc: Exception | None) -> None:
        if exc is not None:
            self.abort()
        elif self.transport is not None:
            self.transport.close()

    def pause_reading(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
        if self.backend is not None and self.backend.transport is not None:
            self.backend.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.listener.active.discard(self)
        if self.backend is not None and self.backend.transport is not None:
            self.backend.transport.close()


def privileged_port_message(host: str, port: int) -> str:
    """Why ``host:port`` cannot be listened on as an ordinary user, and the fix."""
    return (f"cannot listen on {host}:{port}: ports below 1024 need root on Linux (CAP_NET_BIND_SERVICE); use a "
            f"service port of 1024 or more, or allow low ports with "
            f"`sudo sysctl net.ipv4.ip_unprivileged_port_start={port}`")


class Listener:
    """A TCP listener on ``host:port`` relaying each connection where ``router`` says."""

    def __init__(self, host: str, port: int, router: Router):
        self.host = host
        self.port = port
        self.router = router
        self.server: asyncio.base_events.Server | None = None
        self.active: set[_Client] = set()
        self.dropped = 0
        self.failed = 0
        self.last_error = ""

    async def start(self) -> Listener:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _Client(self), self.host, self.port, reuse_address=True,
                                               backlog=1024)
        if self.port == 0:
            self.port = self.server.sockets[0].getsockname()[1]
        return self

    def abort_tagged(self, tag: str) -> int:
        """Reset every relayed connection whose route carries ``tag`` (a target's flows); returns how many."""
        hit = [c for c in self.active if c.route is not None and c.route.tag == tag]
        for c in hit:
            c.abort()
        return len(hit)

    def close(self, abort_active: bool = True) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        if abort_active:
            for c in list(self.active):
                c.abort()
