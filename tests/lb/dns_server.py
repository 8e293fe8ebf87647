"""A tiny authoritative DNS server on loopback UDP for the resolver's tests: one name, A records and a TTL the test
changes while it runs (an NLB dropping a zone's address from its answer)."""

from __future__ import annotations

import socket
import threading

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class DnsServer:
    """Answers ``name`` with ``addresses`` (TTL ``ttl``); any other name NXDOMAIN. Counts the questions."""

    def __init__(self, name: str, addresses: list[str], ttl: int = 60) -> None:
        self.name = name.rstrip(".") + "."
        self.addresses = list(addresses)
        self.ttl = ttl
        self.questions = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def server(self) -> str:
        host, port = self.sock.getsockname()
        return f"{host}:{port}"

    def __enter__(self) -> DnsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            self.questions += 1
            if question.name.to_text().lower() != self.name.lower():
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.A and self.addresses:
                response.answer.append(dns.rrset.from_text_list(question.name, self.ttl, dns.rdataclass.IN,
                                                                dns.rdatatype.A, list(self.addresses)))
            self.sock.sendto(response.to_wire(), peer)
