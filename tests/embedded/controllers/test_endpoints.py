"""EndpointSlices and Endpoints follow the pods of a Service (golden controllers/service-endpointslices.json).

Pods here are bound to a Node created through the API that no kubelet runs, so their IPs and
readiness are set through the pods' status subresource (as the golden recording did) and a graceful
delete leaves them Terminating. The module runs its own cluster with the realistic profile, so the
kubelet-less node is not marked Unknown (60 s startup grace) while the tests run.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_azchaos.embedded.process import ClusterHandle, start_cluster, stop_cluster
from pytest_azchaos.embedded.topology import Topology

NODE = "fake-node-x1"
ZONE = "zone-x"


def wait_for(fn: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}; last value: {last!r}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    kubeconfig: Path = tmp_path_factory.mktemp("endpoints") / "kubeconfig"
    handle = start_cluster(kubeconfig, Topology.make(zones=1, nodes_per_zone=1), profile="realistic")
    try:
        yield handle
    finally:
        stop_cluster(kubeconfig)


@pytest.fixture(scope="module")
def api(cluster: ClusterHandle):  # -> kubernetes.client.ApiClient
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    client.CoreV1Api(api).create_node({"metadata": {"name": NODE, "labels": {
        "kubernetes.io/hostname": NODE, "topology.kubernetes.io/zone": ZONE}}})
    yield api
    api.close()


@pytest.fixture
def v1(api):  # -> kubernetes.client.CoreV1Api
    from kubernetes import client

    return client.CoreV1Api(api)


@pytest.fixture
def ns(v1) -> str:
    name = "ep-" + uuid.uuid4().hex[:8]
    v1.create_namespace({"metadata": {"name": name}})
    return name


def slices(api, ns: str) -> list[dict]:
    """EndpointSlices as raw JSON (to see nulls exactly as served)."""
    from kubernetes import client

    resp = client.DiscoveryV1Api(api).list_namespaced_endpoint_slice(ns, _preload_content=False)
    return json.loads(resp.data)["items"]


def endpoints(api, ns: str, name: str) -> dict:
    from kubernetes import client

    return json.loads(client.CoreV1Api(api).read_namespaced_endpoints(name, ns, _preload_content=False).data)


def service(v1, ns: str, target_port: Any = "http", **spec: Any) -> None:
    v1.create_namespaced_service(ns, {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": target_port}], **spec}})


def pod(v1, ns: str, name: str) -> None:
    v1.create_namespaced_pod(ns, {"metadata": {"name": name, "labels": {"app": "web"}}, "spec": {
        "nodeName": NODE, "containers": [{"name": "c", "image": "nginx",
                                          "ports": [{"name": "http", "containerPort": 8080}]}]}})


def set_status(v1, ns: str, name: str, ip: str, ready: bool) -> None:
    s = "True" if ready else "False"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    v1.patch_namespaced_pod_status(name, ns, {"status": {
        "phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
        "conditions": [{"type": "Ready", "status": s, "lastTransitionTime": now},
                       {"type": "ContainersReady", "status": s, "lastTransitionTime": now}]}})


def by_pod(slice_: dict) -> dict[str, dict]:
    return {e["targetRef"]["name"]: e for e in slice_.get("endpoints") or ()}


def test_pods_without_ip_give_a_placeholder_slice(api, v1, ns) -> None:
    service(v1, ns)
    pod(v1, ns, "a")
    (s,) = wait_for(lambda: slices(api, ns), 3.0, "a slice")
    assert re.fullmatch(r"web-[a-z0-9]{5}", s["metadata"]["name"])
    assert s["metadata"]["labels"] == {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                                       "kubernetes.io/service-name": "web"}
    svc = v1.read_namespaced_service("web", ns)
    assert s["metadata"]["ownerReferences"] == [{"apiVersion": "v1", "kind": "Service", "name": "web",
                                                 "uid": svc.metadata.uid, "controller": True,
                                                 "blockOwnerDeletion": True}]
    assert (s["addressType"], s["endpoints"], s["ports"]) == ("IPv4", None, None)


def test_pods_without_ip_give_endpoints_without_subsets(api, v1, ns) -> None:
    service(v1, ns)
    pod(v1, ns, "a")
    ep = wait_for(lambda: v1.list_namespaced_endpoints(ns).items, 3.0, "Endpoints")[0]
    raw = endpoints(api, ns, ep.metadata.name)
    assert raw["metadata"]["labels"] == {"endpoints.kubernetes.io/managed-by": "endpoint-controller"}
    assert "subsets" not in raw


def test_slice_follows_readiness_with_zone_node_and_named_port(api, v1, ns) -> None:
    service(v1, ns)
    for name in ("a", "b"):
        pod(v1, ns, name)
    set_status(v1, ns, "a", "10.244.0.5", True)
    set_status(v1, ns, "b", "10.244.0.6", False)
    (s,) = wait_for(lambda: [x for x in slices(api, ns) if len(x.get("endpoints") or ()) == 2], 3.0, "2 endpoints")
    eps = by_pod(s)
    uid = v1.read_namespaced_pod("a", ns).metadata.uid
    assert eps["a"] == {"addresses": ["10.244.0.5"], "conditions": {"ready": True, "serving": True,
                                                                   "terminating": False},
                        "targetRef": {"kind": "Pod", "namespace": ns, "name": "a", "uid": uid},
                        "nodeName": NODE, "zone": ZONE}
    assert eps["b"]["conditions"] == {"ready": False, "serving": False, "terminating": False}
    assert s["ports"] == [{"name": "http", "protocol": "TCP", "port": 8080}]
    set_status(v1, ns, "b", "10.244.0.6", True)
    wait_for(lambda: by_pod(slices(api, ns)[0])["b"]["conditions"]["ready"], 3.0, "b ready in the slice")


def test_numbered_target_port_is_used_as_is(api, v1, ns) -> None:
    service(v1, ns, target_port=9376)
    pod(v1, ns, "a")
    set_status(v1, ns, "a", "10.244.0.5", True)
    (s,) = wait_for(lambda: [x for x in slices(api, ns) if x.get("ports")], 3.0, "ports")
    assert s["ports"] == [{"name": "http", "protocol": "TCP", "port": 9376}]


def test_endpoints_split_ready_and_not_ready_addresses(api, v1, ns) -> None:
    service(v1, ns)
    for name in ("a", "b"):
        pod(v1, ns, name)
    set_status(v1, ns, "a", "10.244.0.5", True)
    set_status(v1, ns, "b", "10.244.0.6", False)
    raw = wait_for(lambda: (e := endpoints(api, ns, "web")).get("subsets") and
                   len(e["subsets"][0].get("addresses", [])) + len(e["subsets"][0].get("notReadyAddresses", [])) == 2
                   and e, 3.0, "both addresses")
    (subset,) = raw["subsets"]
    assert [a["ip"] for a in subset["addresses"]] == ["10.244.0.5"]
    assert [a["ip"] for a in subset["notReadyAddresses"]] == ["10.244.0.6"]
    assert subset["addresses"][0]["nodeName"] == NODE
    assert subset["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]


def test_terminating_ready_pod_is_serving_but_not_ready(api, v1, ns) -> None:
    service(v1, ns)
    pod(v1, ns, "a")
    set_status(v1, ns, "a", "10.244.0.5", True)
    wait_for(lambda: slices(api, ns)[0].get("endpoints"), 3.0, "endpoint")
    v1.delete_namespaced_pod("a", ns)
    wait_for(lambda: by_pod(slices(api, ns)[0])["a"]["conditions"]["terminating"], 3.0, "terminating")
    assert by_pod(slices(api, ns)[0])["a"]["conditions"] == {"ready": False, "serving": True, "terminating": True}


def test_terminating_pod_leaves_the_legacy_endpoints(api, v1, ns) -> None:
    service(v1, ns)
    pod(v1, ns, "a")
    set_status(v1, ns, "a", "10.244.0.5", True)
    wait_for(lambda: endpoints(api, ns, "web").get("subsets"), 3.0, "address")
    v1.delete_namespaced_pod("a", ns)
    wait_for(lambda: "subsets" not in endpoints(api, ns, "web"), 3.0, "address removed")


def test_publish_not_ready_addresses_marks_everything_ready(api, v1, ns) -> None:
    service(v1, ns, publishNotReadyAddresses=True)
    pod(v1, ns, "a")
    set_status(v1, ns, "a", "10.244.0.5", False)
    (s,) = wait_for(lambda: [x for x in slices(api, ns) if x.get("endpoints")], 3.0, "endpoint")
    assert s["endpoints"][0]["conditions"] == {"ready": True, "serving": False, "terminating": False}
    raw = wait_for(lambda: endpoints(api, ns, "web").get("subsets"), 3.0, "subsets")
    assert [a["ip"] for a in raw[0]["addresses"]] == ["10.244.0.5"]


def test_slice_keeps_its_name_when_pods_get_ips(api, v1, ns) -> None:
    service(v1, ns)
    pod(v1, ns, "a")
    (placeholder,) = wait_for(lambda: slices(api, ns), 3.0, "placeholder")
    set_status(v1, ns, "a", "10.244.0.5", True)
    (s,) = wait_for(lambda: [x for x in slices(api, ns) if x.get("endpoints")], 3.0, "endpoint")
    assert s["metadata"]["name"] == placeholder["metadata"]["name"]
    assert s["metadata"]["generation"] > placeholder["metadata"]["generation"]
