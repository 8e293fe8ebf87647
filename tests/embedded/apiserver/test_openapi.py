"""OpenAPI v3 documents: what kubectl's validation and client-side apply read from them."""

from __future__ import annotations

from typing import Any

import requests


def _root(api_url: str) -> dict[str, Any]:
    resp = requests.get(api_url + "/openapi/v3", timeout=10)
    assert resp.status_code == 200
    return resp.json()["paths"]


def _document(api_url: str, key: str) -> dict[str, Any]:
    resp = requests.get(api_url + _root(api_url)[key]["serverRelativeURL"], timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "public, immutable"
    return resp.json()


def test_root_lists_each_served_group_version_with_a_hash(api_url: str) -> None:
    paths = _root(api_url)
    assert {"api", "api/v1", "apis", "apis/apps", "apis/apps/v1", "apis/policy/v1"} <= set(paths)
    assert paths["apis/apps/v1"]["serverRelativeURL"].startswith("/openapi/v3/apis/apps/v1?hash=")


def test_patch_operation_declares_field_validation_and_strategic_merge(api_url: str) -> None:
    doc = _document(api_url, "apis/apps/v1")
    op = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert op["x-kubernetes-group-version-kind"] == {"group": "apps", "kind": "Deployment", "version": "v1"}
    assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in op["parameters"])
    assert "application/strategic-merge-patch+json" in op["requestBody"]["content"]


def test_pod_spec_lists_carry_patch_merge_keys(api_url: str) -> None:
    schemas = _document(api_url, "api/v1")["components"]["schemas"]
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    ports = schemas["io.k8s.api.core.v1.Container"]["properties"]["ports"]
    assert ports["x-kubernetes-patch-merge-key"] == "containerPort"
    assert schemas["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"] == [
        {"group": "", "kind": "Pod", "version": "v1"}]


def test_stale_hash_redirects_to_the_current_document(api_url: str) -> None:
    resp = requests.get(api_url + "/openapi/v3/api/v1?hash=0000", allow_redirects=False, timeout=10)
    assert resp.status_code == 301
    assert resp.headers["Location"] == _root(api_url)["api/v1"]["serverRelativeURL"]


def test_unknown_group_version_is_not_found(api_url: str) -> None:
    assert requests.get(api_url + "/openapi/v3/apis/autoscaling/v2", timeout=10).status_code == 404
