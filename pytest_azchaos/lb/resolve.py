"""Load-balancer hostnames to addresses, with the record's TTL, as a real client resolves them.

An NLB's DNS name answers one A record per zone with a healthy target (60 s TTL); a zone drops out of the
answer when it has none (eks-flavours-facts.md §1.3). A client that keeps an old answer keeps sending to the
lost zone's address, so the prober re-resolves when the TTL runs out, not on its own schedule.

Which server answers: the one the kubeconfig context declares for the cluster's load-balancer hostnames
(``wellknown.RESOLVER_EXTENSION``; the embedded cluster declares its loopback resolver), else the system's
(``/etc/resolv.conf`` through dnspython, which gives the TTL), else ``getaddrinfo`` (``/etc/hosts`` names:
no TTL, so ``FALLBACK_TTL``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

#: Seconds an answer without a TTL (getaddrinfo) is kept.
FALLBACK_TTL = 5.0
#: The shortest re-resolution interval, whatever a record says (a TTL of 0 must not mean a query per request).
MIN_TTL = 0.2
QUERY_TIMEOUT = 2.0


class ResolveError(OSError):
    """The name did not resolve (NXDOMAIN, no answer, resolver down): the message says which server said what."""


@dataclass(frozen=True)
class Answer:
    addresses: tuple[str, ...]
    ttl: float
    server: str  # "HOST:PORT", "system" or "getaddrinfo"
    at: float  # time.monotonic() of the answer

    def fresh(self, now: float | None = None) -> bool:
        return ((time.monotonic() if now is None else now) - self.at) < max(self.ttl, MIN_TTL)


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _server(declared: str) -> tuple[str, int]:
    host, _, port = declared.rpartition(":")
    if not host:
        return declared, 53
    return host.strip("[]"), int(port)


class LbResolver:
    """Resolves and caches for the record's TTL. ``declared``: ``HOST:PORT`` of the cluster's resolver, or None."""

    def __init__(self, declared: str | None = None, timeout: float = QUERY_TIMEOUT):
        self.declared = declared
        self.timeout = timeout
        self._cache: dict[str, Answer] = {}

    @classmethod
    def for_kubeconfig(cls, kubeconfig: Path | str | None, context: str | None = None) -> LbResolver:
        """The resolver the kubeconfig's context declares (``kube.kubeconfig.declared_resolver``), else the system's."""
        from ..kube.kubeconfig import declared_resolver

        return cls(declared_resolver(Path(kubeconfig), context) if kubeconfig else None)

    def describe(self) -> str:
        return f"the cluster's declared resolver {self.declared}" if self.declared else "the system resolver"

    # ------------------------------------------------------------------ async (the prober's loop)

    async def aresolve(self, name: str) -> Answer:
        """``name``'s addresses, from the cache while its TTL runs, else asked again."""
        if is_address(name):
            return Answer((name,), float("inf"), "literal", time.monotonic())
        cached = self._cache.get(name)
        if cached is not None and cached.fresh():
            return cached
        answer = await (self._declared(name) if self.declared else self._system(name))
        self._cache[name] = answer
        return answer

    async def _declared(self, name: str) -> Answer:
        assert self.declared is not None
        host, port = _server(self.declared)
        query = dns.message.make_query(name, dns.rdatatype.A)
        try:
            response = await dns.asyncquery.udp(query, host, port=port, timeout=self.timeout)
            if response.flags & dns.flags.TC:
                response = await dns.asyncquery.tcp(query, host, port=port, timeout=self.timeout)
        except (dns.exception.DNSException, OSError) as e:
            raise ResolveError(f"{name}: the cluster's resolver {self.declared} did not answer ({e!r})") from e
        return _answer(name, response, self.declared)

    async def _system(self, name: str) -> Answer:
        try:
            result = await dns.asyncresolver.Resolver().resolve(name, "A", lifetime=self.timeout)
            ttl = float(result.rrset.ttl) if result.rrset is not None else FALLBACK_TTL
            return Answer(tuple(sorted(r.address for r in result)), ttl, "system", time.monotonic())
        except (dns.exception.DNSException, OSError):
            pass  # /etc/hosts names, no resolv.conf: what the C library says
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(name, None, type=socket.SOCK_STREAM)
        except OSError as e:
            raise ResolveError(f"{name}: {e}") from e
        return Answer(tuple(sorted({str(i[4][0]) for i in infos})), FALLBACK_TTL, "getaddrinfo", time.monotonic())

    # ------------------------------------------------------------------ sync (waits, preflight)

    def resolve(self, name: str) -> Answer:
        """The same, for code outside an event loop."""
        if is_address(name):
            return Answer((name,), float("inf"), "literal", time.monotonic())
        cached = self._cache.get(name)
        if cached is not None and cached.fresh():
            return cached
        if self.declared:
            host, port = _server(self.declared)
            query = dns.message.make_query(name, dns.rdatatype.A)
            try:
                response = dns.query.udp(query, host, port=port, timeout=self.timeout)
                if response.flags & dns.flags.TC:
                    response = dns.query.tcp(query, host, port=port, timeout=self.timeout)
            except (dns.exception.DNSException, OSError) as e:
                raise ResolveError(f"{name}: the cluster's resolver {self.declared} did not answer ({e!r})") from e
            answer = _answer(name, response, self.declared)
        else:
            try:
                infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
            except OSError as e:
                raise ResolveError(f"{name}: {e}") from e
            answer = Answer(tuple(sorted({str(i[4][0]) for i in infos})), FALLBACK_TTL, "getaddrinfo",
                            time.monotonic())
        self._cache[name] = answer
        return answer


def _answer(name: str, response: dns.message.Message, server: str) -> Answer:
    rcode = response.rcode()
    if rcode != 0:
        raise ResolveError(f"{name}: {server} answered {dns.rcode.to_text(rcode)}")
    addresses: list[str] = []
    ttls: list[int] = []
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.A:
            addresses.extend(r.address for r in rrset)
            ttls.append(rrset.ttl)
    if not addresses:
        raise ResolveError(f"{name}: {server} answered no A record (no zone has a healthy target, or the name is "
                           "not the load balancer's)")
    return Answer(tuple(sorted(addresses)), float(min(ttls)), server, time.monotonic())
