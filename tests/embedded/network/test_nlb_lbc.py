"""The LBC's NLB options over real sockets: internal scheme, ip targets, client IP, PROXY v2, registration and
deregistration windows, unhealthy-target connection termination (``network/nlb.py`` ``LbOptions``)."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pytest_azchaos.embedded.network.nlb import (
    HealthCheckTiming,
    IpTargetLoadBalancer,
    LbOptions,
    LoadBalancer,
    proxy_v2_header,
)
from pytest_azchaos.embedded.network.proxy import KubeProxy, endpoints_from_slices

from .test_proxy import READY, _ask, _peer_echo

NODES = {"a1": ("127.231.1.1", "zone-a"), "b1": ("127.231.1.2", "zone-b")}
PODS = {"a1": "127.232.0.1", "b1": "127.232.0.2"}
LB = {"zone-a": "127.231.200.1", "zone-b": "127.231.200.2"}
OUTSIDE = "127.0.0.1"  # the host: no node's, no pod's address
TIMING = HealthCheckTiming(deregistration_delay=5.0)
# interval, healthy, unhealthy, timeout, HTTP path, port: TCP to the traffic port, fast.
HEALTH = (0.05, 2, 2, 0.2, None, None)


def _slices(*names: str) -> list[dict[str, Any]]:
    return [{"ports": [{"name": "", "port": 9000}],
             "endpoints": [{"addresses": [PODS[n]], "nodeName": n, "zone": NODES[n][1], "conditions": READY}
                           for n in names]}]


Scenario = Callable[[KubeProxy, IpTargetLoadBalancer], Awaitable[None]]


def run(options: LbOptions, scenario: Scenario, endpoints: tuple[str, ...] = ("a1", "b1"),
        backend: Callable[[str, int], Awaitable[Any]] = _peer_echo) -> None:
    async def main() -> None:
        servers = [await backend(ip, 9000) for ip in PODS.values()]
        proxy = KubeProxy()
        for n, (ip, zone) in NODES.items():
            proxy.set_node(n, ip, zone)
        spec = {"type": "LoadBalancer", "clusterIP": "127.231.96.9", "externalTrafficPolicy": "Cluster",
                "ports": [{"port": 8080, "targetPort": 9000, "nodePort": 31600, "protocol": "TCP"}]}
        state = await proxy.sync_service("ns", "web", spec)
        assert state is not None
        proxy.set_endpoints("ns", "web", _slices(*endpoints))
        lb = IpTargetLoadBalancer(proxy, state, LB, TIMING, options=options, hostname="k8s-ns-web-x.elb")
        await lb.start()
        lb.set_ip_targets(endpoints_from_slices(_slices(*endpoints)), set())
        try:
            await scenario(proxy, lb)
        finally:
            await lb.close()
            await proxy.close()
            for s in servers:
                s.close()

    asyncio.run(main())


async def _until(check: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _healthy(lb: LoadBalancer, count: int) -> None:
    await _until(lambda: len(lb.healthy_in(None)) >= count,
                 f"{count} healthy targets: {[(k, t.state) for k, t in lb.targets.items()]}")


def test_ip_targets_see_the_nlb_address_without_client_ip_preservation() -> None:
    async def scenario(proxy: KubeProxy, lb: IpTargetLoadBalancer) -> None:
        await _healthy(lb, 2)
        answer = await _ask(LB["zone-a"], 8080, OUTSIDE)
        pod, seen = answer.split("|")
        assert pod == PODS["a1"], f"cross-zone is off: zone-a's address must reach zone-a's pod, got {answer}"
        assert seen == LB["zone-a"], f"the pod must see the NLB's private address in its zone, saw {seen}"

    run(LbOptions(preserve_client_ip=False, health=HEALTH), scenario)


def test_ip_targets_see_the_client_with_preserve_client_ip() -> None:
    async def scenario(proxy: KubeProxy, lb: IpTargetLoadBalancer) -> None:
        await _healthy(lb, 2)
        seen = (await _ask(LB["zone-b"], 8080, OUTSIDE)).split("|")[1]
        assert seen == OUTSIDE, f"preserve_client_ip.enabled=true: the pod must see the client, saw {seen}"

    run(LbOptions(preserve_client_ip=True, health=HEALTH), scenario)


def test_internal_nlb_drops_connections_from_outside_the_vpc() -> None:
    async def scenario(proxy: KubeProxy, lb: IpTargetLoadBalancer) -> None:
        await _healthy(lb, 2)
        with pytest.raises(TimeoutError):  # accepted by the kernel, never answered: the client times out
            await _ask(LB["zone-a"], 8080, OUTSIDE, timeout=0.5)
        answer = await _ask(LB["zone-a"], 8080, NODES["b1"][0])
        assert answer.startswith(PODS["a1"]), f"from a node (inside the VPC) the internal NLB answers: {answer}"
        answer = await _ask(LB["zone-b"], 8080, PODS["a1"])
        assert answer.startswith(PODS["b1"]), f"from a pod (inside the VPC) the internal NLB answers: {answer}"

    run(LbOptions(internal=True, preserve_client_ip=False, health=HEALTH), scenario)


async def _raw_first_bytes(host: str, port: int) -> asyncio.base_events.Server:
    """A backend that answers with the first 28 bytes it received (a PROXY v2 IPv4 header is 28 bytes)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.readexactly(28)
        writer.write(data)
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, host, port, reuse_address=True)


def test_proxy_protocol_v2_header_carries_the_client_address() -> None:
    async def scenario(proxy: KubeProxy, lb: IpTargetLoadBalancer) -> None:
        await _healthy(lb, 2)
        sock = socket.socket()
        sock.bind((OUTSIDE, 0))
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (LB["zone-a"], 8080))
        client_port = sock.getsockname()[1]
        reader, writer = await asyncio.open_connection(sock=sock)
        header = await asyncio.wait_for(reader.read(), 2.0)
        writer.close()
        assert header[:12] == b"\r\n\r\n\x00\r\nQUIT\n", f"no PROXY v2 signature: {header!r}"
        assert header[12:14] == bytes([0x21, 0x11]), "version 2 PROXY command, TCP over IPv4"
        src, dst = socket.inet_ntoa(header[16:20]), socket.inet_ntoa(header[20:24])
        sport, dport = struct.unpack("!HH", header[24:28])
        assert (src, sport, dst, dport) == (OUTSIDE, client_port, LB["zone-a"], 8080), header

    run(LbOptions(proxy_protocol=True, preserve_client_ip=False, health=HEALTH), scenario,
        backend=_raw_first_bytes)


def test_proxy_v2_header_layout() -> None:
    header = proxy_v2_header(("10.0.0.1", 40000), ("10.0.1.5", 80))
    assert len(header) == 28 and struct.unpack("!H", header[14:16]) == (12,)


def test_registration_delay_holds_health_checks_and_traffic() -> None:
    async def scenario(proxy: KubeProxy, lb: IpTargetLoadBalancer) -> None:
        await asyncio.sleep(0.4)  # several check intervals, still inside the registration delay
        states = {k: t.state for k, t in lb.targets.items()}
        assert states == {PODS["a1"]: "initial", PODS["b1"]: "initial"}, states
        await _healthy(lb, 2)

    run(LbOptions(registration_delay=0.8, health=HEALTH), scenario)


def test_deregistered_target_still_gets_new_connections_for_a_while() -> None:
    async def scenario(proxy: KubeProxy, lb: IpTargetLoadBalancer) -> None:
        await _healthy(lb, 2)
        lb.set_ip_targets(endpoints_from_slices(_slices("b1")), set())  # a1 leaves the endpoints
        assert lb.targets[PODS["a1"]].state == "draining"
        answer = await _ask(LB["zone-a"], 8080, OUTSIDE)
        assert answer.startswith(PODS["a1"]), f"inside the window new flows still reach the draining pod: {answer}"
        await asyncio.sleep(0.7)
        answer = await _ask(LB["zone-a"], 8080, OUTSIDE)
        assert answer.startswith(PODS["b1"]), f"after the window zone-a's node sends elsewhere: {answer}"

    run(LbOptions(new_connections_after_deregistration=0.6, health=HEALTH), scenario)


async def _hold(host: str, port: int) -> asyncio.base_events.Server:
    """A backend that keeps every connection open without answering."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()
        except ConnectionError:
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port, reuse_address=True)


def test_unhealthy_target_connections_are_reset() -> None:
    async def scenario(proxy: KubeProxy, lb: IpTargetLoadBalancer) -> None:
        await _healthy(lb, 2)
        reader, writer = await asyncio.open_connection(LB["zone-a"], 8080)
        await asyncio.sleep(0.1)
        proxy.nodes["a1"].up = False  # a1's node stops answering: its target fails the checks
        await _until(lambda: lb.targets[PODS["a1"]].state == "unhealthy", "a1 unhealthy")
        try:
            with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
                data = await asyncio.wait_for(reader.read(1), 2.0)
                if data == b"":
                    raise asyncio.IncompleteReadError(b"", 1)
        finally:
            writer.close()

    run(LbOptions(unhealthy_termination=True, health=HEALTH), scenario, backend=_hold)


def test_deregistration_delay_ends_with_connection_termination() -> None:
    async def scenario(proxy: KubeProxy, lb: IpTargetLoadBalancer) -> None:
        await _healthy(lb, 2)
        reader, writer = await asyncio.open_connection(LB["zone-a"], 8080)  # cross-zone off: to a1
        await asyncio.sleep(0.1)
        lb.set_ip_targets(endpoints_from_slices(_slices("b1")), set())
        try:
            with pytest.raises(TimeoutError):  # draining: the open flow goes on for the delay
                await asyncio.wait_for(reader.read(1), 0.2)
            with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
                data = await asyncio.wait_for(reader.read(1), 2.0)
                if data == b"":
                    raise asyncio.IncompleteReadError(b"", 1)
            assert PODS["a1"] not in lb.targets, "forgotten once the delay ended"
        finally:
            writer.close()

    run(LbOptions(deregistration_delay=0.5, deregistration_termination=True, health=HEALTH), scenario, backend=_hold)


def test_internal_nlb_does_not_hairpin_a_target_to_itself_with_client_ip_preserved() -> None:
    async def scenario(proxy: KubeProxy, lb: IpTargetLoadBalancer) -> None:
        await _healthy(lb, 2)
        with pytest.raises(TimeoutError):  # a1 calling its own zone's address reaches itself: dropped
            await _ask(LB["zone-a"], 8080, PODS["a1"], timeout=0.5)
        answer = await _ask(LB["zone-a"], 8080, PODS["b1"])
        assert answer == f"{PODS['a1']}|{PODS['b1']}", f"another pod is answered, its address kept: {answer}"

    run(LbOptions(internal=True, preserve_client_ip=True, health=HEALTH), scenario)


def _instance_run(options: LbOptions, scenario: Callable[[LoadBalancer], Awaitable[None]]) -> None:
    """An instance-target NLB under ``externalTrafficPolicy: Local`` (kube-proxy keeps the source it is given)."""

    async def main() -> None:
        servers = [await _peer_echo(ip, 9000) for ip in PODS.values()]
        proxy = KubeProxy()
        nets = {n: proxy.set_node(n, ip, zone) for n, (ip, zone) in NODES.items()}
        spec = {"type": "LoadBalancer", "clusterIP": "127.231.96.10", "externalTrafficPolicy": "Local",
                "ports": [{"port": 8081, "targetPort": 9000, "nodePort": 31601, "protocol": "TCP"}]}
        state = await proxy.sync_service("ns", "inst", spec)
        assert state is not None
        proxy.set_endpoints("ns", "inst", _slices("a1", "b1"))
        lb = LoadBalancer(proxy, state, LB, TIMING, options=options)
        await lb.start()
        lb.set_targets([(nets[n], {"metadata": {"name": n}, "spec": {}}) for n in NODES])
        try:
            await scenario(lb)
        finally:
            await lb.close()
            await proxy.close()
            for s in servers:
                s.close()

    asyncio.run(main())


def test_instance_targets_under_local_see_the_nlb_address_without_client_ip_preservation() -> None:
    async def scenario(lb: LoadBalancer) -> None:
        await _healthy(lb, 2)
        seen = (await _ask(LB["zone-b"], 8081, OUTSIDE)).split("|")[1]
        assert seen == LB["zone-b"], f"preserve_client_ip.enabled=false: the pod sees the NLB, saw {seen}"

    # TCP to the NodePort as the health check (port 31601): the default path of the instance check
    _instance_run(LbOptions(preserve_client_ip=False, health=(0.05, 2, 2, 0.2, None, 31601)), scenario)


def test_instance_targets_under_local_see_the_client_by_default() -> None:
    async def scenario(lb: LoadBalancer) -> None:
        await _healthy(lb, 2)
        seen = (await _ask(LB["zone-a"], 8081, OUTSIDE)).split("|")[1]
        assert seen == OUTSIDE, f"instance targets preserve the client IP by default, saw {seen}"

    _instance_run(LbOptions(preserve_client_ip=True, health=(0.05, 2, 2, 0.2, None, 31601)), scenario)
