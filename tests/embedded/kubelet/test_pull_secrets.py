"""The kubelet's keyring of a pod's pull secrets: which credentials a pull of an image presents."""

from __future__ import annotations

import base64
import json

from pytest_azchaos.embedded.kubelet.pull_secrets import failed_to_retrieve_message, keyring, lookup, pod_pull_secrets


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _dockerconfigjson(auths: dict) -> dict:
    return {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": _b64(json.dumps({"auths": auths}))}}


def test_auth_field_wins_over_username_and_password() -> None:
    ring = keyring([_dockerconfigjson({"mirror.example.com": {"username": "x", "password": "y",
                                                              "auth": _b64("AWS:s3cret")}})])
    assert lookup(ring, "mirror.example.com/proxy/agnhost") == [("AWS", "s3cret")]


def test_dockercfg_secrets_are_read_too() -> None:
    secret = {"type": "kubernetes.io/dockercfg",
              "data": {".dockercfg": _b64(json.dumps({"https://mirror.example.com/v1/": {"auth": _b64("u:p")}}))}}
    assert lookup(keyring([secret]), "mirror.example.com/agnhost") == [("u", "p")]


def test_a_glob_host_matches_label_by_label_only() -> None:
    ring = keyring([_dockerconfigjson({"*.dkr.ecr.us-east-1.amazonaws.com": {"auth": _b64("AWS:t")}})])
    assert lookup(ring, "123.dkr.ecr.us-east-1.amazonaws.com/k8s/agnhost") == [("AWS", "t")]
    assert lookup(ring, "dkr.ecr.us-east-1.amazonaws.com/k8s/agnhost") == []


def test_the_key_path_is_a_prefix_and_the_port_must_match() -> None:
    ring = keyring([_dockerconfigjson({"mirror.example.com:5000/proxy": {"auth": _b64("a:b")},
                                       "mirror.example.com:5000": {"auth": _b64("c:d")}})])
    assert lookup(ring, "mirror.example.com:5000/proxy/agnhost") == [("a", "b"), ("c", "d")]
    assert lookup(ring, "mirror.example.com:5000/other/agnhost") == [("c", "d")]
    assert lookup(ring, "mirror.example.com/proxy/agnhost") == []


def test_an_opaque_secret_gives_no_credentials() -> None:
    config = _b64(json.dumps({"auths": {"m.io": {"auth": _b64("a:b")}}}))
    opaque = {"type": "Opaque", "data": {".dockerconfigjson": config}}
    assert keyring([opaque]) == []


def test_missing_secrets_are_named_in_upstream_words() -> None:
    pod = {"metadata": {"namespace": "ns"}, "spec": {"imagePullSecrets": [{"name": "there"}, {"name": "gone"}, {}]}}
    found, missing = pod_pull_secrets(pod, lambda ns, name: {"type": "x"} if name == "there" else None)
    assert len(found) == 1 and missing == ["gone"]
    assert failed_to_retrieve_message(missing) == (
        "Unable to retrieve some image pull secrets (gone); attempting to pull the image may not succeed.")
