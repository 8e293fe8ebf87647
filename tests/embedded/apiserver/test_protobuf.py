"""Protobuf request bodies (``application/vnd.kubernetes.protobuf``) over real HTTP, encoded here by hand
from the field numbers of upstream's generated.proto."""

from __future__ import annotations

import requests

PROTOBUF = "application/vnd.kubernetes.protobuf"


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num: int, payload: bytes | str | int) -> bytes:
    if isinstance(payload, int):
        return _varint(num << 3) + _varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(num << 3 | 2) + _varint(len(data)) + data


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = _field(1, api_version) + _field(2, kind)
    return b"k8s\x00" + _field(1, type_meta) + _field(2, raw) + _field(3, "") + _field(4, "")


def _configmap(name: str) -> bytes:
    labels = _field(11, _field(1, "app") + _field(2, "x"))
    meta = _field(1, name) + _field(2, "") + _field(7, 0) + _field(8, b"") + labels
    raw = _field(1, meta) + _field(2, _field(1, "a") + _field(2, "b")) + _field(2, _field(1, "c") + _field(2, ""))
    return _envelope("v1", "ConfigMap", raw)


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
    resp = _post(api_url, namespace, _envelope("v1", "PodTemplate", _field(1, _field(1, "x"))))
    assert resp.status_code == 415
    assert resp.json()["reason"] == "UnsupportedMediaType"


def test_missing_magic_prefix_is_a_bad_request(api_url: str, namespace: str) -> None:
    resp = _post(api_url, namespace, b'{"metadata":{"name":"x"}}')
    assert resp.status_code == 400
    assert "expected prefix [107 56 115 0]" in resp.json()["message"]
