"""The NLB emulation over real sockets: per-zone addresses, target health, cross-zone, fail-open."""

from __future__ import annotations

import asyncio
from typing import Any

from pytest_azchaos.embedded.network.nlb import CROSS_ZONE, HealthCheckTiming, LoadBalancer
from pytest_azchaos.embedded.network.proxy import KubeProxy

from .test_proxy import CLIENT, READY, _ask, _peer_echo

NODES = {"a1": ("127.221.1.1", "zone-a"), "b1": ("127.221.1.2", "zone-b")}
PODS = {"a1": "127.222.0.1", "b1": "127.222.0.2"}
LB = {"zone-a": "127.221.200.1", "zone-b": "127.221.200.2"}
FAST = HealthCheckTiming(cluster_interval=0.05, local_interval=0.05, timeout=0.2, deregistration_delay=0.2)


def _node_obj(name: str, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": extra.get("labels", {})}
    return {"metadata": meta, "spec": {"taints": extra.get("taints", [])}}


def _slices(*names: str) -> list[dict[str, Any]]:
    return [{"ports": [{"name": "", "port": 9000}],
             "endpoints": [{"addresses": [PODS[n]], "nodeName": n, "conditions": READY} for n in names]}]


async def _setup(policy: str, endpoints: tuple[str, ...], annotations: dict[str, str] | None = None,
                 node_extra: dict[str, dict[str, Any]] | None = None) -> tuple[KubeProxy, LoadBalancer, list[Any]]:
    servers = [await _peer_echo(ip, 9000) for ip in PODS.values()]
    proxy = KubeProxy()
    nets = {n: proxy.set_node(n, ip, zone) for n, (ip, zone) in NODES.items()}
    spec = {"type": "LoadBalancer", "clusterIP": "127.221.96.9", "externalTrafficPolicy": policy,
            "ports": [{"port": 8080, "targetPort": 9000, "nodePort": 31500, "protocol": "TCP"}]}
    if policy == "Local":
        spec["healthCheckNodePort"] = 32500
    state = await proxy.sync_service("ns", "web", spec, annotations)
    assert state is not None
    proxy.set_endpoints("ns", "web", _slices(*endpoints))
    lb = LoadBalancer(proxy, state, LB, FAST)
    await lb.start()
    lb.set_targets([(nets[n], _node_obj(n, **(node_extra or {}).get(n, {}))) for n in NODES])
    return proxy, lb, servers


async def _teardown(proxy: KubeProxy, lb: LoadBalancer, servers: list[Any]) -> None:
    await lb.close()
    await proxy.close()
    for s in servers:
        s.close()


async def _until_healthy(lb: LoadBalancer, count: int) -> None:
    for _ in range(100):
        if len(lb.healthy_in(None)) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"targets never became healthy: {[(n, t.state) for n, t in lb.targets.items()]}")


def test_targets_start_initial_and_become_healthy_after_the_threshold() -> None:
    async def main() -> None:
        proxy, lb, servers = await _setup("Cluster", ("a1", "b1"))
        try:
            assert {t.state for t in lb.targets.values()} == {"initial"}
            await _until_healthy(lb, 2)
        finally:
            await _teardown(proxy, lb, servers)

    asyncio.run(main())


def test_local_policy_marks_nodes_without_endpoints_unhealthy_and_avoids_them() -> None:
    async def main() -> None:
        proxy, lb, servers = await _setup("Local", ("a1",), {CROSS_ZONE: "true"})
        try:
            await _until_healthy(lb, 1)
            await asyncio.sleep(0.3)
            assert lb.targets["b1"].state != "healthy"
            for _ in range(6):
                assert await _ask(LB["zone-b"], 8080, CLIENT) == f"{PODS['a1']}|{CLIENT}"
        finally:
            await _teardown(proxy, lb, servers)

    asyncio.run(main())


def test_cross_zone_off_keeps_flows_in_the_zone_of_the_address() -> None:
    async def main() -> None:
        proxy, lb, servers = await _setup("Cluster", ("a1", "b1"))
        try:
            await _until_healthy(lb, 2)
            seen = {await _ask(LB["zone-a"], 8080, CLIENT) for _ in range(8)}
            # Cluster policy: the pod sees the zone-a node's address, whichever pod answers.
            assert {s.split("|")[1] for s in seen} == {NODES["a1"][0]}
        finally:
            await _teardown(proxy, lb, servers)

    asyncio.run(main())


def test_excluded_nodes_are_not_targets_but_cordoned_ones_are() -> None:
    async def main() -> None:
        extra = {"b1": {"labels": {"node.kubernetes.io/exclude-from-external-load-balancers": ""}}}
        proxy, lb, servers = await _setup("Cluster", ("a1", "b1"), node_extra=extra)
        try:
            assert set(lb.targets) == {"a1"}
        finally:
            await _teardown(proxy, lb, servers)

    asyncio.run(main())


def test_a_stopped_node_fails_its_health_checks_and_traffic_moves_away() -> None:
    async def main() -> None:
        proxy, lb, servers = await _setup("Cluster", ("a1", "b1"), {CROSS_ZONE: "true"})
        try:
            await _until_healthy(lb, 2)
            proxy.nodes["a1"].up = False
            for _ in range(100):
                if lb.targets["a1"].state == "unhealthy":
                    break
                await asyncio.sleep(0.02)
            assert lb.targets["a1"].state == "unhealthy"
            answers = {await _ask(LB["zone-a"], 8080, CLIENT) for _ in range(6)}
            assert {a.split("|")[1] for a in answers} == {NODES["b1"][0]}
        finally:
            await _teardown(proxy, lb, servers)

    asyncio.run(main())


def test_a_cut_off_target_is_unhealthy_within_threshold_intervals_plus_one_timeout() -> None:
    """ELB checks a target every interval whether or not the last check timed out: a target behind a deny ACL is
    unhealthy at most unhealthy-threshold * interval + timeout after the cut (Profile.partition_detection_window)."""

    async def main() -> None:
        timing = HealthCheckTiming(cluster_interval=0.5, cluster_healthy=2, cluster_unhealthy=3, timeout=0.5,
                                   deregistration_delay=0.2)
        servers = [await _peer_echo(ip, 9000) for ip in PODS.values()]
        proxy = KubeProxy()
        nets = {n: proxy.set_node(n, ip, zone) for n, (ip, zone) in NODES.items()}
        spec = {"type": "LoadBalancer", "clusterIP": "127.221.96.9", "externalTrafficPolicy": "Cluster",
                "ports": [{"port": 8080, "targetPort": 9000, "nodePort": 31500, "protocol": "TCP"}]}
        state = await proxy.sync_service("ns", "web", spec)
        assert state is not None
        proxy.set_endpoints("ns", "web", _slices("a1", "b1"))
        lb = LoadBalancer(proxy, state, LB, timing)
        await lb.start()
        lb.set_targets([(nets[n], _node_obj(n)) for n in NODES])
        try:
            await _until_healthy(lb, 2)
            cut = asyncio.get_running_loop().time()
            proxy.set_segment(nets["a1"], "subnet-a")
            worst = 3 * 0.5 + 0.5
            while lb.targets["a1"].state != "unhealthy" and asyncio.get_running_loop().time() - cut < 2 * worst:
                await asyncio.sleep(0.02)
            history = lb.targets["a1"].history
            assert history and history[-1][1] == "unhealthy", f"never unhealthy: {history}"
            took = history[-1][0] - cut
            # A round that waited a full interval after its timed-out check would take 2.5..3.5 s here.
            assert took <= worst + 0.3, f"unhealthy {took:.2f}s after the cut, AWS's worst case is {worst:.1f}s"
        finally:
            await _teardown(proxy, lb, servers)

    asyncio.run(main())
