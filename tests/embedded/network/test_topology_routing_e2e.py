"""Topology-aware routing end to end: a netexec client pod dials a Service's ClusterIP (agnhost ``/dial``), and
the client node's kube-proxy picks the backend from the EndpointSlice hints the controller wrote."""

from __future__ import annotations

from typing import Any

import requests

from tests.embedded.dns.helpers import AGNHOST, dial
from tests.embedded.waiting import wait_for


def _zones(api_url: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for n in requests.get(f"{api_url}/api/v1/nodes", timeout=10).json()["items"]:
        out.setdefault(n["metadata"]["labels"]["topology.kubernetes.io/zone"], []).append(n["metadata"]["name"])
    return {z: sorted(ns) for z, ns in sorted(out.items())}


def _netexec(api_url: str, namespace: str, name: str, node: str, app: str) -> None:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": app}},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1, "containers": [
                {"name": "netexec", "image": AGNHOST, "args": ["netexec", "--http-port=8080"],
                 "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}, "periodSeconds": 1}}]}}
    resp = requests.post(f"{api_url}/api/v1/namespaces/{namespace}/pods", json=body, timeout=10)
    assert resp.status_code == 201, resp.text


def _service(api_url: str, namespace: str, **spec: Any) -> str:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}], **spec}}
    resp = requests.post(f"{api_url}/api/v1/namespaces/{namespace}/services", json=body, timeout=10)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["spec"]["clusterIP"])


def _pod_ip(api_url: str, namespace: str, name: str) -> str:
    def ready() -> str | None:
        pod = requests.get(f"{api_url}/api/v1/namespaces/{namespace}/pods/{name}", timeout=10).json()
        ok = any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions") or [])
        return pod["status"].get("podIP") if ok else None

    return str(wait_for(ready, lambda ip: bool(ip), timeout=30, interval=0.2, what=f"{name} ready"))


def _setup(api_url: str, namespace: str, server_zones: list[str], **spec: Any) -> tuple[str, str, dict[str, str]]:
    """Servers on the first node of each of ``server_zones``, a client on the first zone's second node.
    Returns (client pod IP, ClusterIP, server pod name -> zone)."""
    zones = _zones(api_url)
    first = next(iter(zones))
    servers = {f"web-{z[-1]}": z for z in server_zones}
    for name, zone in servers.items():
        _netexec(api_url, namespace, name, zones[zone][0], "web")
    _netexec(api_url, namespace, "client", zones[first][1], "client")
    ip = _service(api_url, namespace, **spec)
    for name in servers:
        _pod_ip(api_url, namespace, name)
    return _pod_ip(api_url, namespace, "client"), ip, servers


def _answers(client: str, cluster_ip: str, tries: int = 20) -> tuple[set[str], list[str]]:
    status, body = dial(client, cluster_ip, 80, tries=tries, timeout=30)
    assert status == 200 and isinstance(body, dict), body
    return set(body.get("responses") or []), list(body.get("errors") or [])


def test_clients_stay_in_their_zone_when_every_zone_has_an_endpoint(api_url: str, namespace: str) -> None:
    zones = list(_zones(api_url))
    client, ip, servers = _setup(api_url, namespace, zones, trafficDistribution="PreferSameZone")
    home = next(n for n, z in servers.items() if z == zones[0])
    # Wait until the proxy knows every endpoint with its hint, then every answer comes from the client's zone.
    got = wait_for(lambda: _answers(client, ip), lambda r: r[0] == {home} and not r[1], timeout=20, interval=0.3,
                   what="zone-local answers")
    assert got[0] == {home}


def test_a_zone_without_endpoints_falls_back_to_the_other_zones(api_url: str, namespace: str) -> None:
    zones = list(_zones(api_url))
    client, ip, servers = _setup(api_url, namespace, zones[1:], trafficDistribution="PreferSameZone")
    # Once the proxy has the endpoints (set-up may cost a request or two), every request is answered by the
    # other zones: a batch with answers from both and no error, then another one just as clean.
    wait_for(lambda: _answers(client, ip, tries=30), lambda r: r[0] == set(servers) and not r[1],
             timeout=20, interval=0.3, what="answers from both other zones and no error")
    answered, errors = _answers(client, ip, tries=30)
    assert errors == [], f"the client's zone has no endpoint: kube-proxy must fall back, not refuse ({errors})"
    assert answered == set(servers)


def test_internal_traffic_policy_local_never_leaves_the_clients_node(api_url: str, namespace: str) -> None:
    zones = list(_zones(api_url))
    client, ip, _ = _setup(api_url, namespace, zones[1:], internalTrafficPolicy="Local")
    status, body = dial(client, ip, 80, tries=1, timeout=60)
    assert status == 200 and isinstance(body, dict) and body.get("responses") in (None, []), body
    # iptables DROPs ("has no local endpoints"): the client times out; it is not refused (that is REJECT, for a
    # Service with no endpoints at all).
    assert any("Client.Timeout exceeded" in e for e in body.get("errors") or []), body
