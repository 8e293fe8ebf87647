"""Server-side printing: the meta.k8s.io/v1 Tables ``kubectl get`` asks for, checked against the
column definitions recorded from a real v1.36 API server."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.golden_data import golden_path

TABLE_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
                "application/json")


def _golden(name: str) -> dict[str, Any]:
    return json.loads(golden_path(f"tables/{name}").read_text())["response"]["body"]


def _table(api_url: str, path: str, **params: str) -> dict[str, Any]:
    resp = requests.get(api_url + path, params=params, headers={"Accept": TABLE_ACCEPT}, timeout=10)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["kind"] == "Table" and body["apiVersion"] == "meta.k8s.io/v1"
    return body


@pytest.fixture
def pending_pod(core, namespace: str) -> str:
    from kubernetes import client

    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="p"),
        spec=client.V1PodSpec(scheduler_name="no-such-scheduler",
                              containers=[client.V1Container(name="c", image="busybox:1.36")])))
    return "p"


@pytest.mark.parametrize(("golden", "path"), [
    ("table-configmaps.json", "/api/v1/namespaces/{ns}/configmaps"),
    ("table-pods.json", "/api/v1/namespaces/{ns}/pods"),
    ("table-nodes.json", "/api/v1/nodes"),
    ("table-services.json", "/api/v1/namespaces/{ns}/services"),
    ("table-deployments.json", "/apis/apps/v1/namespaces/{ns}/deployments"),
    ("table-replicasets.json", "/apis/apps/v1/namespaces/{ns}/replicasets"),
    ("table-events.json", "/api/v1/namespaces/{ns}/events"),
    ("table-namespaces.json", "/api/v1/namespaces"),
    ("table-pdbs.json", "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets"),
    ("table-pvcs.json", "/api/v1/namespaces/{ns}/persistentvolumeclaims"),
])
def test_table_column_definitions_match_upstream(api_url: str, namespace: str, golden: str, path: str) -> None:
    want = _golden(golden)["columnDefinitions"]
    got = _table(api_url, path.format(ns=namespace), limit="500")["columnDefinitions"]
    assert got == want


def test_configmap_data_cell_is_an_integer(api_url: str, core, namespace: str) -> None:
    from kubernetes import client

    core.create_namespaced_config_map(namespace, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="two"), data={"a": "1"}, binary_data={"b": "AA=="}))
    rows = _table(api_url, f"/api/v1/namespaces/{namespace}/configmaps")["rows"]
    cells = next(r["cells"] for r in rows if r["cells"][0] == "two")
    assert cells[1] == 2 and isinstance(cells[2], str)


def test_pending_pod_row_matches_upstream_shape(api_url: str, namespace: str, pending_pod: str) -> None:
    rows = _table(api_url, f"/api/v1/namespaces/{namespace}/pods")["rows"]
    assert [r["cells"][:4] for r in rows] == [[pending_pod, "0/1", "Pending", "0"]]
    assert rows[0]["cells"][5:] == ["<none>", "<none>", "<none>", "<none>"]
    assert rows[0]["object"]["kind"] == "PartialObjectMetadata"
    assert rows[0]["object"]["metadata"]["name"] == pending_pod


def test_include_object_none_leaves_row_object_null(api_url: str, namespace: str, pending_pod: str) -> None:
    rows = _table(api_url, f"/api/v1/namespaces/{namespace}/pods", includeObject="None")["rows"]
    assert rows[0]["object"] is None


def test_include_object_object_embeds_the_full_pod(api_url: str, namespace: str, pending_pod: str) -> None:
    rows = _table(api_url, f"/api/v1/namespaces/{namespace}/pods/{pending_pod}", includeObject="Object")["rows"]
    assert rows[0]["object"]["kind"] == "Pod"
    assert rows[0]["object"]["spec"]["containers"][0]["image"] == "busybox:1.36"


def test_cordoned_node_status_reads_ready_scheduling_disabled(api_url: str, core) -> None:
    name = sorted(n.metadata.name for n in core.list_node().items)[1]
    core.patch_node(name, {"spec": {"unschedulable": True}})
    try:
        cells = _table(api_url, f"/api/v1/nodes/{name}")["rows"][0]["cells"]
    finally:
        core.patch_node(name, {"spec": {"unschedulable": None}})
    assert cells[1] == "Ready,SchedulingDisabled"
    internal = next(a.address for a in core.read_node(name).status.addresses if a.type == "InternalIP")
    assert cells[5] == internal


def test_load_balancer_service_without_ingress_is_pending(api_url: str, core, namespace: str) -> None:
    from kubernetes import client

    # A class no load-balancer controller claims: the service keeps an empty status.loadBalancer.
    svc = core.create_namespaced_service(namespace, client.V1Service(
        metadata=client.V1ObjectMeta(name="lb"),
        spec=client.V1ServiceSpec(type="LoadBalancer", selector={"app": "web"},
                                  load_balancer_class="example.com/nobody",
                                  ports=[client.V1ServicePort(port=80, target_port=8080)])))
    cells = _table(api_url, f"/api/v1/namespaces/{namespace}/services/lb")["rows"][0]["cells"]
    node_port = svc.spec.ports[0].node_port
    assert cells[1:5] == ["LoadBalancer", svc.spec.cluster_ip, "<pending>", f"80:{node_port}/TCP"]
    assert cells[6] == "app=web"


def test_load_balancer_ingress_addresses_fill_external_ip(api_url: str, core, namespace: str) -> None:
    core.create_namespaced_service(namespace, {
        "metadata": {"name": "lb"},
        "spec": {"type": "LoadBalancer", "loadBalancerClass": "example.com/nobody", "externalIPs": ["192.0.2.9"],
                 "ports": [{"port": 80, "targetPort": 8080}]}})
    core.patch_namespaced_service_status("lb", namespace, {"status": {"loadBalancer": {"ingress": [
        {"ip": "198.51.100.7"}, {"hostname": "lb.example.com"}]}}})
    cells = _table(api_url, f"/api/v1/namespaces/{namespace}/services/lb")["rows"][0]["cells"]
    assert cells[3] == "198.51.100.7,lb.example.com,192.0.2.9"
