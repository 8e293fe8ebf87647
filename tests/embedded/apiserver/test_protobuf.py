"""Protobuf request bodies (``application/vnd.kubernetes.protobuf``) over real HTTP, encoded here by hand
from the field numbers of upstream's generated.proto."""

from __future__ import annotations

import requests

from . import pbwire as pb

PROTOBUF = "application/vnd.kubernetes.protobuf"


def _configmap(name: str) -> bytes:
    labels = pb.msg(11, pb.string(1, "app"), pb.string(2, "x"))
    meta = pb.msg(1, pb.string(1, name), pb.string(2, ""), pb.integer(7, 0), pb.string(8, b""), labels)
    raw = meta + pb.msg(2, pb.string(1, "a"), pb.string(2, "b")) + pb.msg(2, pb.string(1, "c"), pb.string(2, ""))
    return pb.envelope("v1", "ConfigMap", raw)


def _post(api_url: str, namespace: str, body: bytes) -> requests.Response:
    return requests.post(f"{api_url}/api/v1/namespaces/{namespace}/configmaps", data=body,
                         headers={"Content-Type": PROTOBUF, "Accept": "application/json"}, timeout=10)


def test_configmap_body_is_decoded_with_json_omitempty_semantics(api_url: str, namespace: str) -> None:
    resp = _post(api_url, namespace, _configmap("pb"))
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["data"] == {"a": "b", "c": ""}
    assert body["metadata"]["labels"] == {"app": "x"}
    assert "generateName" not in body["metadata"] and "generation" not in body["metadata"]


def test_truncated_body_is_a_bad_request(api_url: str, namespace: str) -> None:
    resp = _post(api_url, namespace, _configmap("pb")[:-7])
    assert resp.status_code == 400
    assert resp.json()["reason"] == "BadRequest"
    assert "couldn't decode protobuf" in resp.json()["message"]


def test_kind_without_a_field_table_is_unsupported_media_type(api_url: str, namespace: str) -> None:
    resp = _post(api_url, namespace, pb.envelope("v1", "PodTemplate", pb.msg(1, pb.string(1, "x"))))
    assert resp.status_code == 415
    assert resp.json()["reason"] == "UnsupportedMediaType"


def test_missing_magic_prefix_is_a_bad_request(api_url: str, namespace: str) -> None:
    resp = _post(api_url, namespace, b'{"metadata":{"name":"x"}}')
    assert resp.status_code == 400
    assert "expected prefix [107 56 115 0]" in resp.json()["message"]
