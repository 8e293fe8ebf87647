"""kube-proxy's use of EndpointSlice hints and internalTrafficPolicy on the ClusterIP path, over real sockets.

Three nodes in three zones, one backend pod per node; clients connect from a node's own address, so the node
whose kube-proxy routes the connection is the client's.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pytest_azchaos.embedded.network.proxy import KubeProxy, topology_mode

NODES = {"a": ("127.221.1.1", "zone-a"), "b": ("127.221.1.2", "zone-b"), "c": ("127.221.1.3", "zone-c")}
PODS = {"a": "127.222.0.1", "b": "127.222.0.2", "c": "127.222.0.3"}
CLUSTER_IP = "127.221.96.9"
READY = {"ready": True, "serving": True, "terminating": False}
TRIES = 40


async def _backend(host: str) -> asyncio.base_events.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(host.encode())
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, host, 9000, reuse_address=True)


async def _ask(source: str, timeout: float = 1.0) -> str:
    sock = socket.socket()
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((source, 0))
    await asyncio.get_running_loop().sock_connect(sock, (CLUSTER_IP, 80))
    reader, writer = await asyncio.open_connection(sock=sock)
    try:
        return (await asyncio.wait_for(reader.read(), timeout)).decode()
    finally:
        writer.close()


def _slice(nodes: list[str], hinted: set[str] | None = None) -> dict[str, Any]:
    """One endpoint per node; those in ``hinted`` (all when None) carry a hint for their own zone."""
    endpoints = []
    for n in nodes:
        ep: dict[str, Any] = {"addresses": [PODS[n]], "nodeName": n, "zone": NODES[n][1], "conditions": READY}
        if hinted is None or n in hinted:
            ep["hints"] = {"forZones": [{"name": NODES[n][1]}]}
        endpoints.append(ep)
    return {"ports": [{"name": "", "port": 9000, "protocol": "TCP"}], "endpoints": endpoints}


def run(spec: dict[str, Any], slices: list[dict[str, Any]], scenario: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        servers = [await _backend(ip) for ip in PODS.values()]
        proxy = KubeProxy()
        for name, (ip, zone) in NODES.items():
            proxy.set_node(name, ip, zone)
        await proxy.sync_service("ns", "web", {"clusterIP": CLUSTER_IP, "ports": [
            {"port": 80, "targetPort": 9000, "protocol": "TCP"}], **spec})
        proxy.set_endpoints("ns", "web", slices)
        try:
            await scenario()
        finally:
            await proxy.close()
            for s in servers:
                s.close()

    asyncio.run(main())


async def _seen_from(node: str) -> set[str]:
    return {await _ask(NODES[node][0]) for _ in range(TRIES)}


def test_hinted_endpoints_keep_each_zone_on_its_own_endpoint() -> None:
    async def scenario() -> None:
        for node in NODES:
            assert await _seen_from(node) == {PODS[node]}, f"traffic from {node} left its zone"

    run({"trafficDistribution": "PreferSameZone"}, [_slice(list(NODES))], scenario)


def test_a_zone_without_endpoints_falls_back_to_all_endpoints() -> None:
    async def scenario() -> None:
        assert await _seen_from("a") == {PODS["b"], PODS["c"]}, "zone-a clients must fall back, not be refused"
        assert await _seen_from("b") == {PODS["b"]}

    run({"trafficDistribution": "PreferSameZone"}, [_slice(["b", "c"])], scenario)


def test_one_endpoint_without_hints_makes_every_node_use_all_endpoints() -> None:
    async def scenario() -> None:
        assert await _seen_from("a") == set(PODS.values())

    run({"trafficDistribution": "PreferSameZone"}, [_slice(list(NODES), hinted={"a", "b"})], scenario)


def test_internal_traffic_policy_local_uses_the_clients_node_only() -> None:
    async def scenario() -> None:
        assert await _seen_from("b") == {PODS["b"]}

    run({"internalTrafficPolicy": "Local"}, [_slice(["a", "b"], hinted=set())], scenario)


def test_internal_traffic_policy_local_drops_clients_on_a_node_without_a_local_endpoint() -> None:
    async def scenario() -> None:
        with pytest.raises(TimeoutError):  # iptables: "has no local endpoints" -j DROP, never a fallback
            await _ask(NODES["c"][0], timeout=0.3)

    run({"internalTrafficPolicy": "Local", "trafficDistribution": "PreferSameZone"}, [_slice(["a", "b"])], scenario)


def test_topology_mode_needs_every_ready_endpoint_hinted_and_one_for_the_zone() -> None:
    from pytest_azchaos.embedded.network.proxy import endpoints_from_slices

    eps = endpoints_from_slices([_slice(["a", "b"])])
    assert topology_mode(eps, "a", "zone-a") == "PreferSameZone"
    assert topology_mode(eps, "c", "zone-c") == ""
    assert topology_mode(eps, "a", "") == ""
    assert topology_mode(endpoints_from_slices([_slice(["a", "b"], hinted={"a"})]), "a", "zone-a") == ""
