"""Network ACLs in the data plane: a node whose subnet is cut off exchanges traffic only inside that subnet (real
loopback sockets), and how an ACL's entries decide whether a subnet is cut off."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_azchaos.embedded.cloud.nacl import allows
from pytest_azchaos.embedded.network.proxy import Endpoint, KubeProxy

NODE_A, NODE_B = "127.215.1.1", "127.215.1.2"
POD_A, POD_B = "127.216.0.1", "127.216.0.2"
CLIENT = "127.217.0.9"
CLUSTER_IP = "127.215.96.7"
READY = {"ready": True, "serving": True, "terminating": False}


async def _peer_echo(host: str, port: int) -> asyncio.base_events.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(host.encode())
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, host, port, reuse_address=True)


async def _ask(host: str, port: int, source: str, timeout: float = 0.5) -> str:
    sock = socket.socket()
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((source, 0))
    await asyncio.get_running_loop().sock_connect(sock, (host, port))
    reader, writer = await asyncio.open_connection(sock=sock)
    try:
        return (await asyncio.wait_for(reader.read(), timeout)).decode()
    finally:
        writer.close()


def run(scenario: Callable[[KubeProxy], Awaitable[None]]) -> None:
    async def main() -> None:
        servers = [await _peer_echo(POD_A, 9000), await _peer_echo(POD_B, 9000)]
        proxy = KubeProxy()
        proxy.set_node("a", NODE_A, "zone-a")
        proxy.set_node("b", NODE_B, "zone-b")
        await proxy.sync_service("ns", "web", {
            "type": "NodePort", "clusterIP": CLUSTER_IP, "externalTrafficPolicy": "Cluster",
            "ports": [{"port": 9080, "targetPort": 9000, "nodePort": 31201, "protocol": "TCP"}]})
        proxy.set_endpoints("ns", "web", [{
            "ports": [{"name": "", "port": 9000, "protocol": "TCP"}],
            "endpoints": [{"addresses": [POD_A], "nodeName": "a", "conditions": READY},
                          {"addresses": [POD_B], "nodeName": "b", "conditions": READY}]}])
        proxy.nodes["a"].segment = "subnet-a"  # zone-a's subnet is cut off
        try:
            await scenario(proxy)
        finally:
            await proxy.close()
            for s in servers:
                s.close()

    asyncio.run(main())


def test_a_pod_in_a_cut_off_subnet_reaches_only_endpoints_in_that_subnet() -> None:
    async def scenario(proxy: KubeProxy) -> None:
        answers = {await _ask(CLUSTER_IP, 9080, POD_A) for _ in range(8)}
        assert answers == {POD_A}

    run(scenario)


def test_a_client_outside_reaches_only_endpoints_outside_the_cut_off_subnet() -> None:
    async def scenario(proxy: KubeProxy) -> None:
        answers = {await _ask(CLUSTER_IP, 9080, CLIENT) for _ in range(8)}
        assert answers == {POD_B}

    run(scenario)


def test_a_node_port_of_a_cut_off_node_drops_an_outside_client() -> None:
    async def scenario(proxy: KubeProxy) -> None:
        with pytest.raises(TimeoutError):
            await _ask(NODE_A, 31201, CLIENT)
        assert await _ask(NODE_B, 31201, CLIENT) == POD_B  # and a node outside forwards only outside

    run(scenario)


def test_a_cut_off_node_keeps_the_endpoints_it_had_when_the_cut_began() -> None:
    async def scenario(proxy: KubeProxy) -> None:
        proxy.nodes["a"].segment = None
        proxy.set_segment(proxy.nodes["a"], "subnet-a")
        proxy.set_endpoints("ns", "web", [])  # node lifecycle marked everything NotReady; node a never hears it
        assert {await _ask(CLUSTER_IP, 9080, POD_A) for _ in range(4)} == {POD_A}
        proxy.set_segment(proxy.nodes["a"], None)  # reconnected: today's (empty) endpoints
        with pytest.raises(TimeoutError):
            await _ask(CLUSTER_IP, 9080, POD_A)

    run(scenario)


def test_the_partition_heals_when_the_segment_is_cleared() -> None:
    async def scenario(proxy: KubeProxy) -> None:
        proxy.nodes["a"].segment = None
        answers = {await _ask(CLUSTER_IP, 9080, CLIENT) for _ in range(16)}
        assert answers == {POD_A, POD_B}

    run(scenario)


VPC = ipaddress.IPv4Network("192.168.0.0/16")


def entry(rule: int, action: str, egress: bool, cidr: str = "0.0.0.0/0", protocol: str = "-1",
          ports: tuple[int, int] | None = None) -> Any:
    return SimpleNamespace(rule_number=rule, rule_action=action, egress=egress, cidr_block=cidr, protocol=protocol,
                           port_range_from=ports[0] if ports else None, port_range_to=ports[1] if ports else None)


def test_an_acl_without_entries_denies_everything() -> None:
    assert not allows([], False, VPC) and not allows([], True, VPC)


def test_the_lowest_matching_rule_number_decides() -> None:
    entries = [entry(200, "allow", False), entry(100, "deny", False)]
    assert not allows(entries, False, VPC)
    assert allows([entry(100, "allow", False), entry(200, "deny", False)], False, VPC)


def test_entries_of_the_other_direction_do_not_count() -> None:
    assert not allows([entry(100, "allow", True)], False, VPC)


def test_a_deny_of_some_ports_or_another_network_is_not_a_partition() -> None:
    entries = [entry(50, "deny", False, protocol="6", ports=(22, 22)), entry(60, "deny", False, cidr="10.0.0.0/8"),
               entry(100, "allow", False)]
    assert allows(entries, False, VPC)


def _load_balancer() -> Any:
    from pytest_azchaos.embedded.network.nlb import HealthCheckTiming, LoadBalancer, Target
    from pytest_azchaos.embedded.network.proxy import NodeNetwork, ServiceState

    proxy = KubeProxy()
    spec = {"type": "LoadBalancer", "externalTrafficPolicy": "Cluster",
            "ports": [{"port": 80, "targetPort": 9000, "nodePort": 31301, "protocol": "TCP"}]}
    state = ServiceState("ns", "web", spec, [])
    lb = LoadBalancer(proxy, state, {"zone-a": "127.215.200.1", "zone-b": "127.215.200.2"}, HealthCheckTiming())
    for name, zone in (("a", "zone-a"), ("b", "zone-b")):
        node = proxy.nodes[name] = NodeNetwork(name, NODE_A if name == "a" else NODE_B, zone)
        lb.targets[name] = Target(node, state="healthy")
    return lb


def test_the_load_balancer_drops_flows_to_a_cut_off_target_it_still_believes_healthy() -> None:
    lb = _load_balancer()
    lb.proxy.nodes["a"].segment = "subnet-a"
    port = lb.service.spec["ports"][0]
    assert lb.route("zone-a", port, (CLIENT, 40000)) is None  # cross-zone off: zone-a's address picks node a


def test_a_cut_off_load_balancer_subnet_drops_every_flow_to_that_zones_address() -> None:
    lb = _load_balancer()
    lb.cut_zones = {"zone-b"}
    port = lb.service.spec["ports"][0]
    assert lb.route("zone-b", port, (CLIENT, 40000)) is None
    lb.cut_zones = set()
    lb.service.endpoints = [Endpoint(POD_B, "b", "zone-b", True, True, False, {"": 9000})]
    assert lb.route("zone-b", port, (CLIENT, 40000)) is not None


def test_health_checks_of_a_cut_off_target_time_out_instead_of_being_refused() -> None:
    lb = _load_balancer()
    lb.proxy.nodes["a"].segment = "subnet-a"
    lb.timing = type(lb.timing)(timeout=0.3, cluster_interval=0.3)
    started = time.monotonic()
    assert asyncio.run(lb._probe(lb.proxy.nodes["a"])) is False
    assert time.monotonic() - started >= 0.3  # nothing listens on the NodePort: a reachable node refuses at once
