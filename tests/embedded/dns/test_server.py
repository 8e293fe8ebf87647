"""A CoreDNS pod's server over real UDP: answers its cache keeps for the record TTL (``cache 30``, TTL 5), as a
real cluster shows a deleted Service for up to 5 s, and several-record answers reshuffled every time."""

from __future__ import annotations

import asyncio
import time

import dns.asyncquery
import dns.message
import dns.rcode

from pytest_azchaos.embedded.apiserver.resources import REGISTRY
from pytest_azchaos.embedded.apiserver.store import Store
from pytest_azchaos.embedded.dns.records import ClusterDnsIndex
from pytest_azchaos.embedded.dns.server import DnsServer

SERVICES = REGISTRY.lookup("", "v1", "services")
SERVER = "127.76.0.53"


def _store() -> Store:
    store = Store()
    store.create(REGISTRY.lookup("", "v1", "namespaces"), "", {"metadata": {"name": "shop"}})
    store.create(SERVICES, "shop", {"metadata": {"name": "web"}, "spec": {
        "clusterIP": "127.10.96.20", "clusterIPs": ["127.10.96.20"], "ports": [{"port": 80}]}})
    return store


def test_a_deleted_service_is_answered_from_the_cache_until_its_ttl_runs_out() -> None:
    async def run() -> None:
        store = _store()
        index = ClusterDnsIndex(store)
        server = DnsServer(SERVER, 0, lambda: index)
        await server.start()
        port = server._udp.get_extra_info("sockname")[1]  # type: ignore[union-attr]
        try:
            q = dns.message.make_query("web.shop.svc.cluster.local.", "A")
            first = await dns.asyncquery.udp(q, SERVER, port=port, timeout=1)
            store.delete(SERVICES, "shop", "web")
            second = await dns.asyncquery.udp(dns.message.make_query("web.shop.svc.cluster.local.", "A"), SERVER,
                                              port=port, timeout=1)
            assert [r.to_text() for r in first.answer] == [r.to_text() for r in second.answer] != [], second
            (expiry, _), = server._cache.values()
            assert 4 < expiry - time.monotonic() <= 5, expiry - time.monotonic()
            server._cache.clear()  # the TTL ran out
            third = await dns.asyncquery.udp(q, SERVER, port=port, timeout=1)
            assert third.rcode() == dns.rcode.NXDOMAIN, third
        finally:
            server.close()

    asyncio.run(run())
