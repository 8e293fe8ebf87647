"""AZ-HCNP: a ``Local`` Service's healthCheckNodePort answers 200 exactly on nodes with local ready endpoints.

kube-proxy serves ``/healthz`` on every node at the Service's ``healthCheckNodePort``: 200 with
``"localEndpoints": N`` where N ready endpoints of the Service run on that node, 503 with 0 elsewhere.
The load balancer uses it to avoid nodes that would drop traffic. This check asks every node directly,
compares with the EndpointSlices, and retries until they agree or ``timeout`` passes (both sides settle
a moment after pods move).
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from ..kube.topology import NodeView, ZoneMap
from ..kube.wait import Progress, wait_until
from .result import CheckResult


@dataclass(frozen=True)
class NodeHealth:
    """What one node's health server said, against what its endpoints say it should."""

    node: str
    zone: str | None
    url: str
    expected_endpoints: int
    status: int | None
    local_endpoints: int | None
    error: str = ""

    @property
    def expected_status(self) -> int:
        return 200 if self.expected_endpoints else 503

    @property
    def ok(self) -> bool:
        return self.status == self.expected_status and self.local_endpoints == self.expected_endpoints

    def describe(self) -> str:
        got = (f"{self.status} localEndpoints={self.local_endpoints}" if self.status is not None
               else f"no answer ({self.error})")
        mark = "" if self.ok else "  <-- MISMATCH"
        return (f"{self.node} ({self.zone}) {self.url}: expected {self.expected_status} "
                f"localEndpoints={self.expected_endpoints}, got {got}{mark}")


def local_ready_endpoints(discovery: Any, namespace: str, service: str) -> Counter[str]:
    """Node -> ready endpoints of ``service`` on it, from its EndpointSlices (ready unset counts as ready)."""
    counts: Counter[str] = Counter()
    slices = discovery.list_namespaced_endpoint_slice(namespace, label_selector=f"kubernetes.io/service-name={service}")
    for s in slices.items:
        for ep in s.endpoints or []:
            ready = ep.conditions.ready if ep.conditions and ep.conditions.ready is not None else True
            if ready and ep.node_name:
                counts[ep.node_name] += 1
    return counts


def ask(node: NodeView, port: int, expected: int, timeout: float) -> NodeHealth:
    """GET ``http://<InternalIP>:<port>/healthz`` on one node."""
    url = f"http://{node.address}:{port}/healthz"
    try:
        resp = requests.get(url, timeout=timeout)
    except requests.RequestException as e:
        return NodeHealth(node.name, node.zone, url, expected, None, None, f"{type(e).__name__}")
    try:
        local = int(json.loads(resp.text).get("localEndpoints"))
    except (ValueError, TypeError, AttributeError):
        return NodeHealth(node.name, node.zone, url, expected, resp.status_code, None,
                          f"body is not kube-proxy's JSON: {resp.text[:80]!r}")
    return NodeHealth(node.name, node.zone, url, expected, resp.status_code, local)


def health_check_node_port(core: Any, namespace: str, service: str, zones: ZoneMap | None = None,
                           timeout: float = 10.0, *, request_timeout: float = 2.0, progress: Progress | None = None,
                           check_id: str = "AZ-HCNP") -> CheckResult:
    """Pass when every node's health answer matches its local ready endpoints (200/N or 503/0)."""
    from kubernetes import client

    svc = core.read_namespaced_service(service, namespace)
    policy = svc.spec.external_traffic_policy
    port = svc.spec.health_check_node_port
    if policy != "Local" or not port:
        return CheckResult(check_id, False, f"service {namespace}/{service} has externalTrafficPolicy: {policy} and "
                           f"healthCheckNodePort: {port}; the health check port exists only for type LoadBalancer with "
                           "externalTrafficPolicy: Local", (), {"policy": policy})
    zones = zones or ZoneMap.read(core)
    nodes = [n for n in zones.nodes if n.address]
    discovery = client.DiscoveryV1Api(core.api_client)

    def fetch() -> list[NodeHealth]:
        expected = local_ready_endpoints(discovery, namespace, service)
        with ThreadPoolExecutor(max_workers=min(16, len(nodes) or 1)) as pool:
            return list(pool.map(lambda n: ask(n, port, expected.get(n.name, 0), request_timeout), nodes))

    result = wait_until(fetch, lambda hs: all(h.ok for h in hs), timeout=timeout, interval=0.5,
                        what=f"healthCheckNodePort {port} of {namespace}/{service} consistent on {len(nodes)} nodes",
                        progress=progress,
                        describe=lambda hs: f"{sum(not h.ok for h in hs)} node(s) disagree")
    health = result.last or fetch()
    bad = [h for h in health if not h.ok]
    with_endpoints = sum(1 for h in health if h.expected_endpoints)
    figures = {"nodes": len(health), "nodes_with_endpoints": with_endpoints, "mismatches": len(bad),
               "health_check_node_port": port}
    evidence = tuple(h.describe() for h in health)
    if not health:
        return CheckResult(check_id, False, "no nodes with an InternalIP to ask", evidence, figures)
    if bad:
        return CheckResult(check_id, False, f"{len(bad)} of {len(health)} nodes answer healthCheckNodePort {port} "
                           f"inconsistently with their local ready endpoints (after {result.elapsed:.1f}s)",
                           evidence, figures).undecided(result.inconclusive_reason())
    return CheckResult(check_id, True, f"healthCheckNodePort {port}: 200 on the {with_endpoints} node(s) with local "
                       f"endpoints, 503 on the other {len(health) - with_endpoints}", evidence, figures)
