"""networking.k8s.io/v1 Ingress, IngressClass and NetworkPolicy: stored and served as v1.36 serves them
(defaults, validation wording, discovery, OpenAPI, kubectl's table columns); nothing enforces them."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.golden_data import golden_path

NET = "/apis/networking.k8s.io/v1"


def _ingress(name: str, path_type: str | None = "Prefix", host: str = "a.example.com") -> dict[str, Any]:
    path: dict[str, Any] = {"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}}
    if path_type is not None:
        path["pathType"] = path_type
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name},
            "spec": {"ingressClassName": "alb", "rules": [{"host": host, "http": {"paths": [path]}}]}}


@pytest.fixture
def net(api_client: client.ApiClient) -> client.NetworkingV1Api:
    return client.NetworkingV1Api(api_client)


def _invalid(e: ApiException) -> tuple[int, str]:
    body = json.loads(e.body)
    return e.status, body["message"]


def test_ingress_crud_and_status_subresource(net: client.NetworkingV1Api, namespace: str) -> None:
    created = net.create_namespaced_ingress(namespace, _ingress("web"))
    assert created.metadata.generation == 1
    assert created.status.load_balancer.ingress is None
    got = net.read_namespaced_ingress("web", namespace)
    assert got.spec.rules[0].http.paths[0].path_type == "Prefix"
    status = {"status": {"loadBalancer": {"ingress": [{"hostname": "k8s-web.elb.amazonaws.com"}]}}}
    net.patch_namespaced_ingress_status("web", namespace, status)
    patched = net.patch_namespaced_ingress("web", namespace, {"spec": {"rules": [
        {"host": "b.example.com", "http": {"paths": [{"path": "/", "pathType": "Exact", "backend": {
            "service": {"name": "web", "port": {"number": 80}}}}]}}]}})
    assert patched.metadata.generation == 2
    assert patched.status.load_balancer.ingress[0].hostname == "k8s-web.elb.amazonaws.com"
    assert [i.metadata.name for i in net.list_namespaced_ingress(namespace).items] == ["web"]
    net.delete_namespaced_ingress("web", namespace)
    assert net.list_namespaced_ingress(namespace).items == []


def test_ingress_without_path_type_is_invalid(api_url: str, namespace: str) -> None:
    # (the official client refuses to send it: pathType is required in its model too)
    resp = requests.post(f"{api_url}{NET}/namespaces/{namespace}/ingresses", json=_ingress("bad", path_type=None),
                         timeout=10)
    assert (resp.status_code, resp.json()["reason"], resp.json()["message"]) == (
        422, "Invalid", 'Ingress.networking.k8s.io "bad" is invalid: spec.rules[0].http.paths[0].pathType: '
                        "Required value: pathType must be specified")
    assert resp.json()["details"]["causes"] == [{"reason": "FieldValueRequired",
                                                 "message": "Required value: pathType must be specified",
                                                 "field": "spec.rules[0].http.paths[0].pathType"}]


def test_ingress_validation_wording(api_url: str, namespace: str) -> None:
    body = _ingress("bad", path_type="Sideways", host="10.0.0.1")
    body["spec"]["rules"].append({"http": {"paths": [{"path": "/x", "pathType": "Exact", "backend": {}}]}})
    resp = requests.post(f"{api_url}{NET}/namespaces/{namespace}/ingresses", json=body, timeout=10)
    assert resp.status_code == 422
    causes = [(c["field"], c["message"]) for c in resp.json()["details"]["causes"]]
    assert causes == [
        ("spec.rules[0].host", 'Invalid value: "10.0.0.1": must be a DNS name, not an IP address'),
        ("spec.rules[0].http.paths[0].pathType",
         'Unsupported value: "Sideways": supported values: "Exact", "ImplementationSpecific", "Prefix"'),
        ("spec.rules[1].http.paths[0].backend", 'Invalid value: "": resource or service backend is required'),
    ]
    empty = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "empty"}, "spec": {}}
    resp = requests.post(f"{api_url}{NET}/namespaces/{namespace}/ingresses", json=empty, timeout=10)
    assert resp.json()["message"] == ('Ingress.networking.k8s.io "empty" is invalid: spec: Invalid value: null: '
                                      "either `defaultBackend` or `rules` must be specified")


def test_ingress_class_controller_is_required_and_immutable(net: client.NetworkingV1Api) -> None:
    name = f"ic-{uuid.uuid4().hex[:8]}"
    body = client.V1IngressClass(metadata=client.V1ObjectMeta(name=name), spec=client.V1IngressClassSpec())
    with pytest.raises(ApiException) as e:
        net.create_ingress_class(body)
    assert _invalid(e.value) == (422, f'IngressClass.networking.k8s.io "{name}" is invalid: spec.controller: '
                                      "Required value")
    body.spec.controller = "ingress.k8s.aws/alb"
    body.spec.parameters = client.V1IngressClassParametersReference(api_group="elbv2.k8s.aws",
                                                                    kind="IngressClassParams", name="alb")
    created = net.create_ingress_class(body)
    try:
        assert created.spec.parameters.scope == "Cluster"  # SetDefaults_IngressClass
        with pytest.raises(ApiException) as e:
            net.patch_ingress_class(name, {"spec": {"controller": "example.com/other"}})
        assert _invalid(e.value) == (422, f'IngressClass.networking.k8s.io "{name}" is invalid: spec.controller: '
                                          'Invalid value: "example.com/other": field is immutable')
    finally:
        net.delete_ingress_class(name)


def test_network_policy_defaults_its_policy_types(net: client.NetworkingV1Api, namespace: str) -> None:
    egress = client.V1NetworkPolicy(metadata=client.V1ObjectMeta(name="egress"), spec=client.V1NetworkPolicySpec(
        pod_selector=client.V1LabelSelector(match_labels={"app": "web"}),
        egress=[client.V1NetworkPolicyEgressRule(ports=[client.V1NetworkPolicyPort(port=53)])]))
    created = net.create_namespaced_network_policy(namespace, egress)
    assert created.spec.policy_types == ["Ingress", "Egress"]
    assert created.spec.egress[0].ports[0].protocol == "TCP"
    plain = client.V1NetworkPolicy(metadata=client.V1ObjectMeta(name="deny"),
                                   spec=client.V1NetworkPolicySpec(pod_selector=client.V1LabelSelector()))
    assert net.create_namespaced_network_policy(namespace, plain).spec.policy_types == ["Ingress"]


def test_watch_sees_an_ingress_come(api_url: str, net: client.NetworkingV1Api, namespace: str) -> None:
    rv = net.list_namespaced_ingress(namespace).metadata.resource_version
    net.create_namespaced_ingress(namespace, _ingress("watched"))
    resp = requests.get(f"{api_url}{NET}/namespaces/{namespace}/ingresses",
                        params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "1"}, timeout=10)
    events = [json.loads(line) for line in resp.text.splitlines()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "watched")]


def test_kubectl_get_prints_upstream_columns(net: client.NetworkingV1Api, namespace: str, kubectl_path: str,
                                             kubeconfig: Path) -> None:
    net.create_namespaced_ingress(namespace, _ingress("web"))
    net.create_namespaced_network_policy(namespace, client.V1NetworkPolicy(
        metadata=client.V1ObjectMeta(name="deny"),
        spec=client.V1NetworkPolicySpec(pod_selector=client.V1LabelSelector(match_labels={"app": "web"}))))
    ic = f"alb-{namespace}"
    net.create_ingress_class(client.V1IngressClass(metadata=client.V1ObjectMeta(name=ic),
                                                   spec=client.V1IngressClassSpec(controller="ingress.k8s.aws/alb")))
    try:
        proc = subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), "get",
                               "ingress,ingressclass,networkpolicy", "-A"], capture_output=True, text=True, timeout=30)
    finally:
        net.delete_ingress_class(ic)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.strip()]
    assert ["NAMESPACE", "NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"] in rows
    assert ["NAMESPACE", "NAME", "CONTROLLER", "PARAMETERS", "AGE"] in rows
    assert ["NAMESPACE", "NAME", "POD-SELECTOR", "AGE"] in rows
    assert [namespace, "ingress.networking.k8s.io/web", "alb", "a.example.com", "80"] in [r[:5] for r in rows]
    assert [namespace, "networkpolicy.networking.k8s.io/deny", "app=web"] in [r[:3] for r in rows]
    assert [f"ingressclass.networking.k8s.io/{ic}", "ingress.k8s.aws/alb", "<none>"] in [r[:3] for r in rows]


def test_kubectl_api_resources_lists_the_new_kinds(kubectl_path: str, kubeconfig: Path) -> None:
    proc = subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), "api-resources", "-o", "name"],
                          capture_output=True, text=True, timeout=30)
    names = set(proc.stdout.split())
    assert {"ingresses.networking.k8s.io", "ingressclasses.networking.k8s.io", "networkpolicies.networking.k8s.io",
            "csistoragecapacities.storage.k8s.io", "volumeattributesclasses.storage.k8s.io",
            "selfsubjectreviews.authentication.k8s.io", "tokenreviews.authentication.k8s.io"} <= names


def _golden_aggregated(group: str) -> list[dict[str, Any]]:
    doc = json.loads(golden_path("discovery/aggregated-apis.json").read_text())["response"]["body"]
    item = next(i for i in doc["items"] if i["metadata"]["name"] == group)
    return next(v for v in item["versions"] if v["version"] == "v1")["resources"]


@pytest.mark.parametrize("group", ["authentication.k8s.io", "storage.k8s.io"])
def test_aggregated_discovery_of_whole_groups_matches_upstream(api_url: str, group: str) -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    doc = requests.get(api_url + "/apis", headers={"Accept": accept}, timeout=10).json()
    item = next(i for i in doc["items"] if i["metadata"]["name"] == group)
    assert item["versions"][0]["resources"] == _golden_aggregated(group)


def test_networking_discovery_is_upstream_minus_ipaddresses_and_servicecidrs(api_url: str) -> None:
    want = [r for r in _golden_aggregated("networking.k8s.io") if r["resource"] not in ("ipaddresses", "servicecidrs")]
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    doc = requests.get(api_url + "/apis", headers={"Accept": accept}, timeout=10).json()
    item = next(i for i in doc["items"] if i["metadata"]["name"] == "networking.k8s.io")
    assert item["versions"][0]["resources"] == want
    legacy = requests.get(api_url + NET, timeout=10).json()
    assert {r["name"]: r.get("storageVersionHash") for r in legacy["resources"]} == {
        "ingressclasses": "l/iqIbDgFyQ=", "ingresses": "39NQlfNR+bo=", "ingresses/status": None,
        "networkpolicies": "YpfwF18m1G8="}


def test_legacy_storage_discovery_matches_upstream(api_url: str) -> None:
    golden = json.loads(golden_path("discovery/apis-storage.k8s.io-v1.json").read_text())["response"]["body"]
    assert requests.get(api_url + "/apis/storage.k8s.io/v1", timeout=10).json() == golden


def test_openapi_describes_ingress_for_kubectl(api_url: str) -> None:
    root = requests.get(api_url + "/openapi/v3", timeout=10).json()["paths"]
    doc = requests.get(api_url + root["apis/networking.k8s.io/v1"]["serverRelativeURL"], timeout=10).json()
    patch = doc["paths"]["/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "networking.k8s.io", "kind": "Ingress",
                                                         "version": "v1"}
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    spec = doc["components"]["schemas"]["io.k8s.api.networking.v1.IngressSpec"]["properties"]
    assert spec["rules"]["x-kubernetes-list-type"] == "atomic"
