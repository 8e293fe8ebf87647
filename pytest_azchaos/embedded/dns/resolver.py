"""Go's pure stub resolver (``net/dnsconfig_unix.go``, ``net/dnsclient_unix.go``), as agnhost uses it.

agnhost is built without cgo, so ``net.ResolveTCPAddr`` reads the container's ``/etc/resolv.conf`` itself:

- ``nameserver`` lines (at most 3; none: ``127.0.0.1:53`` and ``[::1]:53``), the last ``search`` line,
  ``options ndots:N`` (default 1, at most 15), ``timeout:N`` (default 5 s), ``attempts:N`` (default 2),
  ``rotate``, ``use-vc``.
- Names to try (``nameList``): a rooted name alone; else with ``ndots`` or more dots the name first, then
  each search suffix, else the suffixes first and the name last.
- Per name, A and AAAA in parallel; per query ``attempts`` rounds over the servers, each exchange over UDP
  (TCP when the answer is truncated or with ``use-vc``) with ``timeout`` to answer. NXDOMAIN or an answer
  without the type ends that name (``no such host``); SERVFAIL and other rcodes, timeouts and refusals try
  the next server (``server misbehaving``, ``read udp ...: i/o timeout``).
- The error names the original name and the server: ``lookup web on 10.100.0.10:53: no such host``.

Every exchange is sent from the pod's own address, to port 53 (really to the unprivileged port standing
for it when 53 needs root: :mod:`pytest_azchaos.embedded.network.dns_port`; messages still say ``:53``).
The VPC's resolver (a ``dnsPolicy: Default`` pod's nameserver) answers in-process (:mod:`.vpc`); any other
nameserver outside the embedded network (127.<block>/16) is never contacted: the query times out, as from a
pod whose packets have nowhere to go.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import struct
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from ..network.dns_port import wire_port
from .vpc import is_vpc_resolver, vpc_answer

DNS_PORT = 53


@dataclass(frozen=True)
class ResolvConf:
    """What Go's ``dnsReadConfig`` takes from a resolv.conf."""

    nameservers: tuple[str, ...] = ("127.0.0.1", "::1")
    search: tuple[str, ...] = ()
    ndots: int = 1
    timeout: float = 5.0
    attempts: int = 2
    rotate: bool = False
    use_tcp: bool = False

    @classmethod
    def parse(cls, text: str) -> ResolvConf:
        servers: list[str] = []
        search: tuple[str, ...] = ()
        ndots, timeout, attempts, rotate, use_tcp = 1, 5.0, 2, False, False
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            fields = line.split()
            if fields[0] == "nameserver" and len(fields) > 1 and len(servers) < 3:
                try:
                    servers.append(str(ipaddress.ip_address(fields[1])))
                except ValueError:
                    pass
            elif fields[0] == "domain" and len(fields) > 1:
                search = (fields[1].rstrip(".") + ".",)
            elif fields[0] == "search":
                search = tuple(s.rstrip(".") + "." for s in fields[1:] if s.rstrip("."))
            elif fields[0] == "options":
                for opt in fields[1:]:
                    name, _, value = opt.partition(":")
                    if name == "ndots":
                        ndots = min(max(_go_atoi(value, 0), 0), 15)
                    elif name == "timeout":
                        timeout = float(max(_go_atoi(value, 5), 1))
                    elif name == "attempts":
                        attempts = max(_go_atoi(value, 2), 1)
                    elif name == "rotate":
                        rotate = True
                    elif name in ("use-vc", "usevc", "tcp"):
                        use_tcp = True
        return cls(tuple(servers) or cls.nameservers, search, ndots, timeout, attempts, rotate, use_tcp)

    def name_list(self, name: str) -> list[str]:
        """``dnsConfig.nameList``: the fully qualified names to try, in order."""
        rooted = name.endswith(".")
        if len(name) > 254 or (len(name) == 254 and not rooted):
            return []
        if rooted:
            return [] if _avoid(name) else [name]
        has_ndots = name.count(".") >= self.ndots
        name += "."
        names = [name] if has_ndots and not _avoid(name) else []
        names += [name + s for s in self.search if not _avoid(name + s) and len(name + s) <= 254]
        if not has_ndots and not _avoid(name):
            names.append(name)
        return names


def _avoid(name: str) -> bool:
    return name.rstrip(".").lower().endswith(".onion")


def _go_atoi(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default


class DnsLookupError(Exception):
    """Go's ``*net.DNSError``: ``lookup <name> on <server>: <err>``."""

    def __init__(self, name: str, server: str, err: str, not_found: bool = False, timeout: bool = False):
        self.name, self.server, self.err = name, server, err
        self.not_found, self.timeout = not_found, timeout
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" on {self.server}" if self.server else ""
        return f"lookup {self.name}{where}: {self.err}"


@dataclass
class _Outcome:
    addresses: list[str] = field(default_factory=list)
    error: DnsLookupError | None = None


class StubResolver:
    """Resolves names for one container: its resolv.conf, its source address."""

    def __init__(self, conf: ResolvConf, source: str):
        self.conf = conf
        self.source = source
        self._offset = 0

    async def lookup_host(self, name: str) -> list[str]:
        """``net.LookupHost`` (IPv4 answers first); raises :class:`DnsLookupError` with Go's text."""
        last: DnsLookupError | None = None
        for fqdn in self.conf.name_list(name):
            results = await asyncio.gather(self._try_name(fqdn, dns.rdatatype.A),
                                           self._try_name(fqdn, dns.rdatatype.AAAA))
            addresses = [a for r in results for a in r.addresses]
            if addresses:
                return sorted(addresses, key=lambda a: ":" in a)
            for r in results:
                if r.error is not None and (last is None or fqdn == name + "."):
                    last = r.error  # prefer the error for the name as given
        if last is None:
            raise DnsLookupError(name, "", "no such host", not_found=True)
        raise DnsLookupError(name, last.server, last.err, last.not_found, last.timeout)

    async def _try_name(self, fqdn: str, rdtype: dns.rdatatype.RdataType) -> _Outcome:
        """``tryOneName``: attempts x servers until an answer that settles the name."""
        conf = self.conf
        last: DnsLookupError | None = None
        servers = list(conf.nameservers)
        if conf.rotate and servers:
            self._offset = (self._offset + 1) % len(servers)
            servers = servers[self._offset:] + servers[:self._offset]
        for _ in range(conf.attempts):
            for server in servers:
                shown = f"[{server}]:{DNS_PORT}" if ":" in server else f"{server}:{DNS_PORT}"
                query = _Query.make(fqdn, rdtype)
                try:
                    response = await self._exchange(query, server, conf.use_tcp)
                    if response.flags & dns.flags.TC and not conf.use_tcp:
                        response = await self._exchange(query, server, True)
                except _ExchangeError as e:
                    last = DnsLookupError(fqdn, shown, e.text, timeout=e.timeout)
                    continue
                rcode = response.rcode()
                if rcode == dns.rcode.NXDOMAIN:
                    return _Outcome(error=DnsLookupError(fqdn, shown, "no such host", not_found=True))
                if rcode != dns.rcode.NOERROR:
                    last = DnsLookupError(fqdn, shown, "server misbehaving")
                    continue
                if (not response.flags & dns.flags.AA and not response.flags & dns.flags.RA
                        and not response.answer):
                    last = DnsLookupError(fqdn, shown, "lame referral")
                    continue
                found = [rd.to_text() for rrset in response.answer if rrset.rdtype == rdtype for rd in rrset]
                if not found:
                    return _Outcome(error=DnsLookupError(fqdn, shown, "no such host", not_found=True))
                return _Outcome(addresses=found)
        return _Outcome(error=last)

    async def _exchange(self, query: _Query, server: str, tcp: bool) -> dns.message.Message:
        if is_vpc_resolver(server):  # reached without crossing the embedded network (no NACL filters it)
            return vpc_answer(dns.message.from_wire(query.wire))
        if not is_embedded_address(server):
            await asyncio.sleep(self.conf.timeout)
            raise _ExchangeError(f"read udp {self.source}:{random.randrange(32768, 60999)}->{server}:{DNS_PORT}: "
                                 "i/o timeout", timeout=True)
        if tcp:
            return await self._exchange_tcp(query, server)
        return await self._exchange_udp(query, server)

    async def _exchange_udp(self, query: _Query, server: str) -> dns.message.Message:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dns.message.Message] = loop.create_future()

        class Client(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, _addr: tuple[str, int]) -> None:
                try:
                    message = dns.message.from_wire(data)
                except Exception:
                    return  # not an answer: keep reading, as Go's dnsPacketRoundTrip does
                if not future.done() and query.answered_by(message):
                    future.set_result(message)

            def error_received(self, exc: Exception) -> None:
                if not future.done():
                    future.set_exception(exc)

        try:
            transport, _ = await loop.create_datagram_endpoint(Client, local_addr=(self.source, 0),
                                                               remote_addr=(server, wire_port(DNS_PORT)))
        except OSError as e:
            raise _ExchangeError(f"dial udp {server}:{DNS_PORT}: {(e.strerror or str(e)).lower()}") from None
        local = transport.get_extra_info("sockname")
        pair = f"{local[0]}:{local[1]}->{server}:{DNS_PORT}"
        try:
            transport.sendto(query.wire)
            return await asyncio.wait_for(future, self.conf.timeout)
        except TimeoutError:
            raise _ExchangeError(f"read udp {pair}: i/o timeout", timeout=True) from None
        except ConnectionRefusedError:
            raise _ExchangeError(f"read udp {pair}: connection refused") from None
        except OSError as e:
            raise _ExchangeError(f"read udp {pair}: {(e.strerror or str(e)).lower()}") from None
        finally:
            transport.close()

    async def _exchange_tcp(self, query: _Query, server: str) -> dns.message.Message:
        target = f"{server}:{DNS_PORT}"
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(server, wire_port(DNS_PORT), local_addr=(self.source, 0)), self.conf.timeout)
        except TimeoutError:
            raise _ExchangeError(f"dial tcp {target}: i/o timeout", timeout=True) from None
        except OSError as e:
            raise _ExchangeError(f"dial tcp {target}: connect: {(e.strerror or str(e)).lower()}") from None
        local = writer.get_extra_info("sockname")
        pair = f"{local[0]}:{local[1]}->{target}"
        try:
            writer.write(struct.pack("!H", len(query.wire)) + query.wire)
            head = await asyncio.wait_for(reader.readexactly(2), self.conf.timeout)
            data = await asyncio.wait_for(reader.readexactly(struct.unpack("!H", head)[0]), self.conf.timeout)
            return dns.message.from_wire(data)
        except TimeoutError:
            raise _ExchangeError(f"read tcp {pair}: i/o timeout", timeout=True) from None
        except (asyncio.IncompleteReadError, ConnectionError):
            raise _ExchangeError("EOF") from None
        finally:
            writer.close()


class _Query:
    """One question on the wire: Go's query (EDNS0, 1232-byte buffer, RD) with a fresh random id. The wire of a
    (name, type) is built once and reused with each new id: a busy resolver asks the same names again and again."""

    _templates: dict[tuple[str, int], tuple[dns.message.Message, bytes]] = {}
    __slots__ = ("id", "template", "wire")

    def __init__(self, qid: int, template: dns.message.Message, wire: bytes):
        self.id, self.template, self.wire = qid, template, wire

    @classmethod
    def make(cls, fqdn: str, rdtype: dns.rdatatype.RdataType) -> _Query:
        key = (fqdn, int(rdtype))
        found = cls._templates.get(key)
        if found is None:
            if len(cls._templates) >= 4096:
                cls._templates.clear()
            message = dns.message.make_query(fqdn, rdtype, use_edns=0, payload=1232)
            message.id = 0
            found = cls._templates[key] = (message, message.to_wire())
        qid = random.randrange(65536)
        return cls(qid, found[0], qid.to_bytes(2, "big") + found[1][2:])

    def answered_by(self, message: dns.message.Message) -> bool:
        """The answer to this question: same id and question, ``qr`` set (Go's checkResponse)."""
        return (message.id == self.id and bool(message.flags & dns.flags.QR)
                and message.question == self.template.question)


class _ExchangeError(Exception):
    def __init__(self, text: str, timeout: bool = False):
        super().__init__(text)
        self.text = text
        self.timeout = timeout


def is_embedded_address(server: str) -> bool:
    """Only the embedded network's own addresses (127.<block>.x.x, blocks 10 and up) are ever sent to, never
    a resolver of the machine (127.0.0.1, 127.0.0.53) or beyond it."""
    try:
        address = ipaddress.ip_address(server)
    except ValueError:
        return False
    return address.version == 4 and address.is_loopback and address.packed[1] >= 10
