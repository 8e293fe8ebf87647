"""LB hostnames through a declared resolver: the answer is kept for the record's TTL and asked again after it, an
empty or NXDOMAIN answer is an error naming the server; and the prober sends each request to the address the
current answer holds, recording it (``lb_address``)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pytest_azchaos.lb.resolve import LbResolver, ResolveError
from pytest_azchaos.traffic.prober import Prober, ProbeTarget

from .dns_server import DnsServer

NAME = "k8s-shop-echo-0123456789.elb.us-east-1.amazonaws.com"


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def two_zones() -> Iterator[tuple[str, str, int]]:
    """Two HTTP servers on one port, at 127.0.0.1 and 127.0.0.2 (an NLB's addresses in two zones)."""
    first = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    port = first.server_address[1]
    second = ThreadingHTTPServer(("127.0.0.2", port), _Ok)
    for s in (first, second):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    yield "127.0.0.1", "127.0.0.2", port
    for s in (first, second):
        s.shutdown()
        s.server_close()


def test_answer_is_kept_for_its_ttl_then_asked_again() -> None:
    with DnsServer(NAME, ["127.0.0.1", "127.0.0.2"], ttl=1) as dns:
        resolver = LbResolver(dns.server)
        first = resolver.resolve(NAME)
        assert first.addresses == ("127.0.0.1", "127.0.0.2") and first.ttl == 1 and first.server == dns.server
        dns.addresses = ["127.0.0.2"]  # zone a lost its last healthy target
        assert resolver.resolve(NAME).addresses == ("127.0.0.1", "127.0.0.2"), "asked again before the TTL ran out"
        time.sleep(1.1)
        assert resolver.resolve(NAME).addresses == ("127.0.0.2",)
        assert dns.questions == 2


def test_async_resolution_uses_the_declared_server_too() -> None:
    with DnsServer(NAME, ["127.0.0.3"], ttl=30) as dns:
        answer = asyncio.run(LbResolver(dns.server).aresolve(NAME))
        assert answer.addresses == ("127.0.0.3",) and answer.ttl == 30


def test_unknown_name_and_empty_answer_are_errors_naming_the_server() -> None:
    with DnsServer(NAME, [], ttl=30) as dns:
        resolver = LbResolver(dns.server)
        with pytest.raises(ResolveError, match=f"{dns.server} answered NXDOMAIN"):
            resolver.resolve("other.example.test")
        with pytest.raises(ResolveError, match="answered no A record"):
            resolver.resolve(NAME)


def test_a_silent_resolver_is_an_error_not_a_hang() -> None:
    resolver = LbResolver("127.0.0.1:9", timeout=0.3)  # nothing answers DNS there
    started = time.monotonic()
    with pytest.raises(ResolveError, match="did not answer"):
        resolver.resolve(NAME)
    assert time.monotonic() - started < 3


def test_literal_addresses_are_not_resolved() -> None:
    assert LbResolver("127.0.0.1:9").resolve("127.0.0.5").addresses == ("127.0.0.5",)


def test_prober_follows_the_answer_after_its_ttl_and_records_the_address(two_zones: tuple[str, str, int]) -> None:
    a, b, port = two_zones
    with DnsServer(NAME, [a], ttl=1) as dns:
        target = ProbeTarget([NAME], port, mode="path", path="/", resolver=dns.server)
        prober = Prober(target, rate=40, timeout=1.0).start()
        time.sleep(0.5)
        dns.addresses = [b]
        time.sleep(1.8)
        records = prober.stop().snapshot()
    assert records and all(r.ok for r in records), [r.detail for r in records if not r.ok][:3]
    used = [r.lb_address for r in records]
    switch = used.index(b)
    assert set(used[:switch]) == {a} and set(used[switch:]) == {b}, used
    # The old address stayed in use until the TTL ran out (about 1 s after the first answer), as a real client's.
    assert records[switch].due >= 0.9, records[switch].due
    assert all(r.target == f"{NAME}:{port}" for r in records)
