"""A DNS server over UDP and TCP on one address: what a CoreDNS pod binds (``.:53``) in the embedded cluster.

Questions under the ``kubernetes`` plugin's zones get its answers (authoritative: ``aa`` set, ``ra`` not,
as CoreDNS answers them). Everything else goes to ``forward . /etc/resolv.conf``, the node's resolver: the
VPC's, answered as :mod:`.vpc` can (its private hostnames, NXDOMAIN for names it cannot have, SERVFAIL for
the internet's). UDP answers larger than the client's buffer (512 bytes without EDNS) come back truncated
(``tc``), so the client retries over TCP.

``cache 30``: each server keeps its answers for their TTL (at most 30 s; 5 s for the plugin's records and
negative answers, 5 s for SERVFAIL as the cache plugin's default), up to 9984 entries, so a Service change
shows after up to 5 s, as on a real cluster. Unlike CoreDNS, a cached answer keeps its TTL as first given,
and answers of several records (which ``loadbalance`` reorders every time) are not cached.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections.abc import Callable

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode

from .records import ClusterDnsIndex
from .vpc import vpc_answer

log = logging.getLogger(__name__)
CACHE_MAX_TTL = 30  # the Corefile's ``cache 30``
SERVFAIL_TTL = 5  # the cache plugin's ``servfail`` default
CACHE_CAPACITY = 9984  # the cache plugin's default capacity


def respond(index: ClusterDnsIndex | None, query: dns.message.Message) -> dns.message.Message:
    """The answer to ``query``; ``index`` None: the plugin has not synced (forwarded: SERVFAIL)."""
    response = dns.message.make_response(query)
    if query.opcode() != dns.opcode.QUERY:
        response.set_rcode(dns.rcode.NOTIMP)
        return response
    if len(query.question) != 1:
        response.set_rcode(dns.rcode.FORMERR)
        return response
    question = query.question[0]
    if index is None or not index.authoritative_for(question.name):
        if index is None:  # not synced: the kubernetes plugin is not ready to fall through yet
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        return vpc_answer(query)  # forward . /etc/resolv.conf: the node's resolver, the VPC's
    answer = index.answer(question.name, question.rdtype)
    response.flags |= dns.flags.AA
    response.set_rcode(answer.rcode)
    response.answer = answer.answer
    response.authority = answer.authority
    response.additional = answer.additional
    return response


def to_wire(query: dns.message.Message, response: dns.message.Message, limit: int) -> bytes:
    """``response`` in at most ``limit`` bytes; when it does not fit, the same header with ``tc`` and no records."""
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        short = dns.message.make_response(query)
        short.flags |= dns.flags.TC | (response.flags & dns.flags.AA)
        short.set_rcode(response.rcode())
        return short.to_wire(max_size=limit)


def udp_limit(query: dns.message.Message) -> int:
    return max(512, query.payload) if query.edns >= 0 else 512


class DnsServer:
    """UDP and TCP listeners on ``host:port`` answering from ``index()`` (read per query: it may sync later)."""

    def __init__(self, host: str, port: int, index: Callable[[], ClusterDnsIndex | None]):
        self.host = host
        self.port = port
        self.index = index
        self.queries = 0
        self._cache: dict[tuple[int, bytes], tuple[float, bytes]] = {}
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.base_events.Server | None = None
        self._tcp_writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Bind both; raises OSError (the caller reports it as CoreDNS does: ``listen udp :53: bind: ...``)."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), local_addr=(self.host, self.port))
        self._udp = transport  # type: ignore[assignment]  # uvloop's transport is not asyncio's class
        try:
            self._tcp = await asyncio.start_server(self._serve_tcp, self.host, self.port, reuse_address=True)
        except OSError:
            transport.close()
            raise

    def answer_wire(self, data: bytes, limit: int | None) -> bytes | None:
        """The answer to one query's wire, from the cache when the same question (all but its id) is in it."""
        key = (limit or 0, data[2:])
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now and len(data) >= 12:
            self.queries += 1
            return data[:2] + hit[1]
        try:
            query = dns.message.from_wire(data)
        except Exception:  # not a DNS message: dropped, as miekg/dns drops what it cannot unpack
            return None
        self.queries += 1
        index = self.index()
        response = respond(index, query)
        wire = to_wire(query, response, udp_limit(query) if limit is None else limit)
        # ``loadbalance`` shuffles after the cache, on every answer: answers with several records are not kept.
        if index is not None and all(len(rrset) <= 1 for rrset in response.answer):
            ttls = [rrset.ttl for section in (response.answer, response.authority) for rrset in section]
            ttl = min([CACHE_MAX_TTL, *ttls]) if ttls else SERVFAIL_TTL
            if len(self._cache) >= CACHE_CAPACITY:
                self._cache.clear()
            self._cache[key] = (now + ttl, wire[2:])
        return wire

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tcp_writers.add(writer)
        try:
            while True:
                head = await reader.readexactly(2)
                data = await reader.readexactly(struct.unpack("!H", head)[0])
                wire = self.answer_wire(data, 65535)
                if wire is None:
                    break
                writer.write(struct.pack("!H", len(wire)) + wire)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._tcp_writers.discard(writer)
            writer.close()

    def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            self._tcp = None
        for writer in list(self._tcp_writers):
            writer.transport.abort()
        self._tcp_writers.clear()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer):
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        wire = self.server.answer_wire(data, None)
        if wire is not None and self.transport is not None:
            self.transport.sendto(wire, addr)

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP errors for earlier answers (the client went away)
