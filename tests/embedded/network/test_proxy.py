"""kube-proxy semantics over real loopback sockets: who the backend sees, and what gets dropped."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pytest_azchaos.embedded.network.proxy import KubeProxy

NODE_A, NODE_B = "127.211.1.1", "127.211.1.2"
POD_A, POD_B = "127.212.0.1", "127.212.0.2"
CLIENT = "127.213.0.9"


async def _peer_echo(host: str, port: int) -> asyncio.base_events.Server:
    """A backend that answers each connection with the address it saw and closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        writer.write(f"{host}|{peer[0]}".encode())
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, host, port, reuse_address=True)


async def _ask(host: str, port: int, source: str, timeout: float = 1.0) -> str:
    sock = socket.socket()
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((source, 0))
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, port))
    reader, writer = await asyncio.open_connection(sock=sock)
    try:
        return (await asyncio.wait_for(reader.read(), timeout)).decode()
    finally:
        writer.close()


def _slice(*endpoints: tuple[str, str, dict[str, bool]]) -> dict[str, Any]:
    return {"ports": [{"name": "", "port": 9000, "protocol": "TCP"}],
            "endpoints": [{"addresses": [ip], "nodeName": node, "conditions": cond} for ip, node, cond in endpoints]}


READY = {"ready": True, "serving": True, "terminating": False}
TERMINATING = {"ready": False, "serving": True, "terminating": True}


def _service(policy: str, node_port: int, hc: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "LoadBalancer", "clusterIP": "127.211.96.7", "externalTrafficPolicy": policy,
                            "ports": [{"port": 9080, "targetPort": 9000, "nodePort": node_port, "protocol": "TCP"}]}
    if hc:
        spec["healthCheckNodePort"] = hc
    return spec


def run(scenario: Callable[[KubeProxy], Awaitable[None]]) -> None:
    async def main() -> None:
        servers = [await _peer_echo(POD_A, 9000), await _peer_echo(POD_B, 9000)]
        proxy = KubeProxy()
        proxy.set_node("a", NODE_A, "zone-a")
        proxy.set_node("b", NODE_B, "zone-b")
        try:
            await scenario(proxy)
        finally:
            await proxy.close()
            for s in servers:
                s.close()

    asyncio.run(main())


def test_cluster_policy_rewrites_the_source_to_the_receiving_node() -> None:
    async def scenario(proxy: KubeProxy) -> None:
        await proxy.sync_service("ns", "web", _service("Cluster", 31001))
        proxy.set_endpoints("ns", "web", [_slice((POD_B, "b", READY))])
        answer = await _ask(NODE_A, 31001, CLIENT)
        assert answer == f"{POD_B}|{NODE_A}"

    run(scenario)


def test_local_policy_keeps_the_client_address_and_uses_local_endpoints_only() -> None:
    async def scenario(proxy: KubeProxy) -> None:
        await proxy.sync_service("ns", "web", _service("Local", 31002))
        proxy.set_endpoints("ns", "web", [_slice((POD_A, "a", READY), (POD_B, "b", READY))])
        for _ in range(5):
            assert await _ask(NODE_B, 31002, CLIENT) == f"{POD_B}|{CLIENT}"

    run(scenario)


def test_local_policy_drops_traffic_on_a_node_without_local_endpoints() -> None:
    async def scenario(proxy: KubeProxy) -> None:
        await proxy.sync_service("ns", "web", _service("Local", 31003))
        proxy.set_endpoints("ns", "web", [_slice((POD_A, "a", READY))])
        with pytest.raises(TimeoutError):
            await _ask(NODE_B, 31003, CLIENT, timeout=0.3)

    run(scenario)


def test_terminating_serving_endpoints_are_used_when_nothing_is_ready() -> None:
    async def scenario(proxy: KubeProxy) -> None:
        await proxy.sync_service("ns", "web", _service("Cluster", 31004))
        proxy.set_endpoints("ns", "web", [_slice((POD_A, "a", TERMINATING))])
        assert (await _ask(NODE_B, 31004, CLIENT)).startswith(POD_A)

    run(scenario)


def test_local_policy_node_keeps_routing_to_its_serving_terminating_endpoint_while_health_says_503() -> None:
    """KEP-1669 for Local: no ready local endpoint, a serving-terminating one -> still routed there (the NLB keeps
    sending until its health checks catch up), while the health check node port already answers 503."""
    import requests

    async def scenario(proxy: KubeProxy) -> None:
        await proxy.sync_service("ns", "web", _service("Local", 31014, hc=32014))
        proxy.set_endpoints("ns", "web", [_slice((POD_A, "a", TERMINATING))])
        assert (await _ask(NODE_A, 31014, CLIENT)).startswith(POD_A)
        loop = asyncio.get_running_loop()
        health = await loop.run_in_executor(None, lambda: requests.get(f"http://{NODE_A}:32014/healthz", timeout=2))
        assert health.status_code == 503 and '"localEndpoints": 0' in health.text, health.text

    run(scenario)


def test_cluster_ip_reaches_an_endpoint_with_the_client_address() -> None:
    async def scenario(proxy: KubeProxy) -> None:
        await proxy.sync_service("ns", "web", _service("Cluster", 31005))
        proxy.set_endpoints("ns", "web", [_slice((POD_A, "a", READY))])
        assert await _ask("127.211.96.7", 9080, CLIENT) == f"{POD_A}|{CLIENT}"

    run(scenario)


def test_health_check_node_port_answers_200_with_local_endpoints_and_503_without() -> None:
    import requests

    async def scenario(proxy: KubeProxy) -> None:
        await proxy.sync_service("ns", "web", _service("Local", 31006, hc=32006))
        proxy.set_endpoints("ns", "web", [_slice((POD_A, "a", READY))])
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(None, lambda: requests.get(f"http://{NODE_A}:32006/healthz", timeout=2))
        bad = await loop.run_in_executor(None, lambda: requests.get(f"http://{NODE_B}:32006/healthz", timeout=2))
        assert ok.status_code == 200
        assert ok.headers["X-Load-Balancing-Endpoint-Weight"] == "1"
        assert ok.headers["X-Content-Type-Options"] == "nosniff"
        assert ok.text == (
            '{\n\t"service": {\n\t\t"namespace": "ns",\n\t\t"name": "web"\n\t},\n'
            '\t"localEndpoints": 1,\n\t"serviceProxyHealthy": true\n}')
        assert bad.status_code == 503
        assert '"localEndpoints": 0' in bad.text

    run(scenario)


def test_endpoint_changes_apply_after_the_propagation_delay() -> None:
    async def scenario(proxy: KubeProxy) -> None:
        proxy.propagation_delay = 0.3
        await proxy.sync_service("ns", "web", _service("Cluster", 31007))
        proxy.set_endpoints("ns", "web", [_slice((POD_A, "a", READY))])
        with pytest.raises(TimeoutError):
            await _ask(NODE_A, 31007, CLIENT, timeout=0.1)
        await asyncio.sleep(0.35)
        assert (await _ask(NODE_A, 31007, CLIENT)).startswith(POD_A)

    run(scenario)
