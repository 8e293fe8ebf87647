"""EndpointSlice hints for Service ``trafficDistribution``, compared with the golden v1.36 recordings.

Pods are pinned to nodes (``spec.nodeName``) and made Ready by their kubelet; the golden transcripts did the same
on fake nodes by patching pod status.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.golden_data import golden_path

from .podsim import PAUSE_IMAGE, wait_for


def _golden(case: str) -> dict[str, Any]:
    return json.loads(golden_path("endpointslices").joinpath(f"{case}.json").read_text())


def _golden_endpoints(case: str) -> list[dict[str, Any]]:
    data = _golden(case)
    listed = next(s for s in data["steps"] if s["request"]["path"].endswith("/endpointslices"))
    return [e for s in listed["response"]["body"]["items"] for e in s.get("endpoints") or []]


def _nodes(api_url: str) -> dict[str, str]:
    items = requests.get(f"{api_url}/api/v1/nodes", timeout=10).json()["items"]
    return {n["metadata"]["name"]: n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in items}


def _service(api_url: str, namespace: str, distribution: str | None) -> requests.Response:
    spec: dict[str, Any] = {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    if distribution:
        spec["trafficDistribution"] = distribution
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": spec}
    return requests.post(f"{api_url}/api/v1/namespaces/{namespace}/services", json=body, timeout=10)


def _pod(api_url: str, namespace: str, node: str, ready: bool = True) -> None:
    container: dict[str, Any] = {"name": "c", "image": PAUSE_IMAGE, "ports": [{"containerPort": 8080}]}
    if not ready:  # nothing listens on the probed port: the pod runs but never becomes Ready
        container["readinessProbe"] = {"tcpSocket": {"port": 8081}, "periodSeconds": 1}
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"web-{node.split('.')[0]}",
                                                            "labels": {"app": "web"}},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1, "containers": [container]}}
    resp = requests.post(f"{api_url}/api/v1/namespaces/{namespace}/pods", json=body, timeout=10)
    assert resp.status_code == 201, resp.text


def _endpoints(api_url: str, namespace: str, count: int, ready: int | None = None) -> list[dict[str, Any]]:
    def ready_slice() -> list[dict[str, Any]] | None:
        items = requests.get(f"{api_url}/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices",
                             timeout=10).json()["items"]
        eps = [e for s in items for e in s.get("endpoints") or []]
        n_ready = sum(1 for e in eps if e["conditions"]["ready"])
        return eps if len(eps) == count and n_ready == (count if ready is None else ready) else None

    return wait_for(ready_slice, timeout=30, what=f"{count} endpoints")


def test_prefer_same_zone_hints_every_ready_endpoint_for_its_own_zone_as_recorded(api_url: str,
                                                                                   namespace: str) -> None:
    nodes = _nodes(api_url)
    assert _service(api_url, namespace, "PreferSameZone").status_code == 201
    for node in nodes:
        _pod(api_url, namespace, node)
    live = _endpoints(api_url, namespace, len(nodes))
    recorded = _golden_endpoints("trafficdistribution-prefersamezone")
    # Field by field: the same fields in the same order, and hints naming the endpoint's own zone only.
    assert {tuple(e) for e in live} == {tuple(e) for e in recorded} == {
        ("addresses", "conditions", "targetRef", "nodeName", "zone", "hints")}
    assert [e["hints"] for e in recorded] == [{"forZones": [{"name": e["zone"]}]} for e in recorded]
    assert sorted((e["nodeName"], json.dumps(e["hints"])) for e in live) == sorted(
        (node, json.dumps({"forZones": [{"name": zone}]})) for node, zone in nodes.items())


def test_a_zone_without_endpoints_leaves_the_others_hinted_for_their_own_zone(api_url: str, namespace: str) -> None:
    nodes = _nodes(api_url)
    lost = sorted(set(nodes.values()))[0]
    kept = {n: z for n, z in nodes.items() if z != lost}
    _service(api_url, namespace, "PreferSameZone")
    for node in kept:
        _pod(api_url, namespace, node)
    live = _endpoints(api_url, namespace, len(kept))
    assert {e["nodeName"]: e["hints"] for e in live} == {n: {"forZones": [{"name": z}]} for n, z in kept.items()}


def test_prefer_close_is_the_deprecated_alias_with_a_warning(api_url: str, namespace: str) -> None:
    created = _service(api_url, namespace, "PreferClose")
    assert created.status_code == 201
    recorded = next(s for s in _golden("trafficdistribution-preferclose")["steps"]
                    if s["request"]["method"] == "POST" and s["request"]["path"].endswith("/services"))
    assert [created.headers.get("Warning")] == recorded["response"]["headers"]["Warning"]
    node, zone = next(iter(_nodes(api_url).items()))
    _pod(api_url, namespace, node)
    [ep] = _endpoints(api_url, namespace, 1)
    assert ep["hints"] == {"forZones": [{"name": zone}]}


def test_prefer_same_node_hints_the_node_too(api_url: str, namespace: str) -> None:
    _service(api_url, namespace, "PreferSameNode")
    node, zone = next(iter(_nodes(api_url).items()))
    _pod(api_url, namespace, node)
    [ep] = _endpoints(api_url, namespace, 1)
    assert ep["hints"] == {"forZones": [{"name": zone}], "forNodes": [{"name": node}]}


def test_no_hints_without_traffic_distribution(api_url: str, namespace: str) -> None:
    _service(api_url, namespace, None)
    node = next(iter(_nodes(api_url)))
    _pod(api_url, namespace, node)
    [ep] = _endpoints(api_url, namespace, 1)
    recorded = _golden_endpoints("no-trafficdistribution")
    assert "hints" not in ep and all("hints" not in e for e in recorded)


def test_a_not_ready_endpoint_has_no_hints(api_url: str, namespace: str) -> None:
    _service(api_url, namespace, "PreferSameZone")
    ready_node, unready_node = list(_nodes(api_url))[:2]
    _pod(api_url, namespace, ready_node)
    _pod(api_url, namespace, unready_node, ready=False)
    live = {e["nodeName"]: e for e in _endpoints(api_url, namespace, 2, ready=1)}
    assert "hints" in live[ready_node] and "hints" not in live[unready_node], live


@pytest.mark.parametrize("case", ["trafficdistribution-invalid-value"])
def test_unknown_traffic_distribution_is_refused_as_recorded(api_url: str, namespace: str, case: str) -> None:
    step = _golden(case)["steps"][1]
    resp = requests.post(f"{api_url}/api/v1/namespaces/{namespace}/services", json=step["request"]["body"],
                         timeout=10)
    assert resp.status_code == step["response"]["status"] == 422
    assert resp.json()["message"] == step["response"]["body"]["message"]


def _auto_service(api_url: str, namespace: str, distribution: str | None = None) -> None:
    spec: dict[str, Any] = {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    if distribution:
        spec["trafficDistribution"] = distribution
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "web", "annotations": {"service.kubernetes.io/topology-mode": "Auto"}}, "spec": spec}
    resp = requests.post(f"{api_url}/api/v1/namespaces/{namespace}/services", json=body, timeout=10)
    assert resp.status_code == 201, resp.text


def _service_events(api_url: str, namespace: str) -> list[tuple[str, str, str, str]]:
    items = requests.get(f"{api_url}/api/v1/namespaces/{namespace}/events", timeout=10).json()["items"]
    return [(e["type"], e["reason"], e["message"], e["source"].get("component", "")) for e in items
            if e["involvedObject"]["kind"] == "Service"]


def test_topology_mode_auto_with_balanced_endpoints_hints_each_for_its_zone(api_url: str, namespace: str) -> None:
    nodes = _nodes(api_url)
    _auto_service(api_url, namespace)
    for node in nodes:
        _pod(api_url, namespace, node)
    live = _endpoints(api_url, namespace, len(nodes))
    assert {e["nodeName"]: e["hints"] for e in live} == {n: {"forZones": [{"name": z}]} for n, z in nodes.items()}
    enabled = ("Normal", "TopologyAwareHintsEnabled", "Topology Aware Hints has been enabled, addressType: IPv4",
               "endpoint-slice-controller")
    wait_for(lambda: enabled in _service_events(api_url, namespace), what="the TopologyAwareHintsEnabled event")


def test_topology_mode_auto_wins_over_traffic_distribution_and_refuses_too_few_endpoints(
        api_url: str, namespace: str) -> None:
    zones = len(set(_nodes(api_url).values()))
    _auto_service(api_url, namespace, "PreferSameZone")
    for node in list(_nodes(api_url))[:2]:
        _pod(api_url, namespace, node)
    live = _endpoints(api_url, namespace, 2)
    assert all("hints" not in e for e in live), live
    disabled = ("Warning", "TopologyAwareHintsDisabled",
                f"Insufficient number of endpoints (2 endpoints, {zones} zones), addressType: IPv4",
                "endpoint-slice-controller")
    wait_for(lambda: disabled in _service_events(api_url, namespace), what="the TopologyAwareHintsDisabled event")


def test_topology_mode_auto_gives_a_zone_without_endpoints_hinted_ones_from_the_others(
        api_url: str, namespace: str) -> None:
    nodes = _nodes(api_url)
    zones = sorted(set(nodes.values()))
    empty = zones[-1]
    _auto_service(api_url, namespace)
    hosts = [next(n for n, z in nodes.items() if z == zone) for zone in zones[:-1]]
    assert len(hosts) == 2, "the embedded topology has three zones"
    for host in hosts:  # three pods on one node of each other zone: 6 endpoints, none in the last zone
        for i in range(3):
            body: dict[str, Any] = {
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"web-{host.split('.')[0]}-{i}",
                                                                "labels": {"app": "web"}},
                "spec": {"nodeName": host, "terminationGracePeriodSeconds": 1,
                         "containers": [{"name": "c", "image": PAUSE_IMAGE}]}}
            resp = requests.post(f"{api_url}/api/v1/namespaces/{namespace}/pods", json=body, timeout=10)
            assert resp.status_code == 201, resp.text
    live = _endpoints(api_url, namespace, 6)
    hinted = sorted(e["hints"]["forZones"][0]["name"] for e in live)
    assert hinted.count(empty) == 2 and all(hinted.count(z) == 2 for z in zones), hinted
