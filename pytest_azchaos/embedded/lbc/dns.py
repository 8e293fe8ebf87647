"""The NLBs' DNS names, answered on loopback (UDP and TCP on one port), as Route 53 answers ``*.elb.*.amazonaws.com``.

An NLB's name resolves to one A record per enabled zone, TTL 60 s; a zone with no healthy target leaves the
answer (all zones come back when none has one: fail open), so a client that re-resolves at the TTL moves
to the zones that serve, and one that kept the old address stays pinned to it
(``eks-flavours-facts.md`` §1.3; repost.aws knowledge-center elb-dns-cross-zone-balance-configuration).
Internal NLBs' names are public too and resolve to their private addresses.

The cluster runs this server on ``127.0.0.1:<port>`` and declares it in the kubeconfig
(``wellknown.RESOLVER_EXTENSION``). Names it does not know: NXDOMAIN under ``elb.<region>.amazonaws.com``,
REFUSED elsewhere (it is no recursive resolver). The TTL is the profile's ``nlb_dns_ttl`` (whole seconds,
at least 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import struct
from collections.abc import Callable

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

log = logging.getLogger(__name__)
Resolve = Callable[[str], list[str] | None]


def answer(resolve: Resolve, query: dns.message.Message, ttl: float) -> dns.message.Message:
    """The response to ``query`` (one question) from ``resolve(name)``."""
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    response.flags &= ~dns.flags.RA
    if len(query.question) != 1:
        response.set_rcode(dns.rcode.FORMERR)
        return response
    q = query.question[0]
    name = q.name.to_text(omit_final_dot=True).lower()
    addresses = resolve(name)
    if addresses is None:
        response.set_rcode(dns.rcode.NXDOMAIN if ".elb." in f".{name}" and name.endswith(".amazonaws.com")
                           else dns.rcode.REFUSED)
        if response.rcode() == dns.rcode.REFUSED:
            response.flags &= ~dns.flags.AA
        return response
    if q.rdtype in (dns.rdatatype.A, dns.rdatatype.ANY) and addresses:
        response.answer.append(dns.rrset.from_text_list(q.name, max(1, math.ceil(ttl)), dns.rdataclass.IN,
                                                        dns.rdatatype.A, addresses))
    return response


class LbDnsServer:
    """UDP and TCP on ``host:port`` (port 0: one free for both)."""

    def __init__(self, resolve: Resolve, ttl: float, host: str = "127.0.0.1", port: int = 0):
        self.resolve = resolve
        self.ttl = ttl
        self.host = host
        self.port = port
        self.queries = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.base_events.Server | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _respond(self, wire: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # not a DNS message: dropped, as a server drops garbage
            return None
        self.queries += 1
        return answer(self.resolve, query, self.ttl).to_wire()

    async def start(self) -> LbDnsServer:
        loop = asyncio.get_running_loop()
        server = self

        class Udp(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                out = server._respond(data)
                if out is not None:
                    self.transport.sendto(out, addr)  # type: ignore[attr-defined]

        for _ in range(50):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((self.host, self.port))
            port = sock.getsockname()[1]
            try:
                self._tcp = await asyncio.start_server(self._tcp_client, self.host, port, reuse_address=True)
            except OSError:
                sock.close()
                if self.port:
                    raise
                continue
            self.port = port
            transport, _ = await loop.create_datagram_endpoint(Udp, sock=sock)
            self._udp = transport  # type: ignore[assignment]
            return self
        raise OSError(f"no port free for both UDP and TCP on {self.host}")

    async def _tcp_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readexactly(2)
                wire = await reader.readexactly(struct.unpack("!H", head)[0])
                out = self._respond(wire)
                if out is None:
                    break
                writer.write(struct.pack("!H", len(out)) + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            with contextlib.suppress(Exception):
                await self._tcp.wait_closed()
