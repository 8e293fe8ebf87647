"""authentication.k8s.io/v1: ``kubectl auth whoami`` (SelfSubjectReview) and TokenReview, create-only."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import requests
import yaml  # type: ignore[import-untyped]
from kubernetes import client

from pytest_azchaos.embedded.apiserver import authn

REVIEWS = "/apis/authentication.k8s.io/v1"


def _token(kubeconfig: Path) -> str:
    return yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]["token"]


def test_the_kubeconfig_token_is_the_one_the_server_knows(kubeconfig: Path) -> None:
    assert _token(kubeconfig) == authn.CLUSTER_TOKEN


def test_kubectl_auth_whoami_names_the_cluster_admin(kubectl_path: str, kubeconfig: Path) -> None:
    proc = subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), "auth", "whoami"], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(None, 1) for line in proc.stdout.splitlines()]
    assert rows == [["ATTRIBUTE", "VALUE"], ["Username", "kubernetes-admin"],
                    ["Groups", "[system:masters system:authenticated]"]]


def test_self_subject_review_through_the_official_client(api_client: client.ApiClient) -> None:
    review = client.AuthenticationV1Api(api_client).create_self_subject_review(client.V1SelfSubjectReview())
    assert review.status.user_info.username == "kubernetes-admin"
    assert review.status.user_info.groups == ["system:masters", "system:authenticated"]
    assert review.metadata.creation_timestamp is not None


def test_self_subject_review_without_credentials_is_the_admin(api_url: str) -> None:
    """kubectl sends no credentials over plain HTTP; the emulator treats such requests as its admin."""
    resp = requests.post(api_url + REVIEWS + "/selfsubjectreviews", json={}, timeout=10)
    assert resp.status_code == 201
    assert resp.json()["status"] == {"userInfo": {"username": "kubernetes-admin",
                                                  "groups": ["system:masters", "system:authenticated"]}}


def test_a_token_the_server_does_not_know_is_unauthorized(api_url: str) -> None:
    resp = requests.post(api_url + REVIEWS + "/selfsubjectreviews", json={},
                         headers={"Authorization": "Bearer nope"}, timeout=10)
    assert resp.status_code == 401
    assert resp.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_token_review_authenticates_the_cluster_token(api_client: client.ApiClient) -> None:
    api = client.AuthenticationV1Api(api_client)
    review = api.create_token_review(client.V1TokenReview(spec=client.V1TokenReviewSpec(token=authn.CLUSTER_TOKEN)))
    assert review.status.authenticated is True
    assert review.status.user.username == "kubernetes-admin"
    assert review.status.user.groups == ["system:masters", "system:authenticated"]
    assert review.status.audiences == list(authn.API_AUDIENCES)


def test_token_review_of_another_token_is_not_authenticated(api_url: str) -> None:
    resp = requests.post(api_url + REVIEWS + "/tokenreviews", json={"spec": {"token": "nope"}}, timeout=10)
    assert resp.status_code == 201
    assert resp.json()["status"] == {"user": {}, "error": "invalid bearer token"}


def test_token_review_without_a_token_is_a_bad_request(api_url: str) -> None:
    resp = requests.post(api_url + REVIEWS + "/tokenreviews", json={"spec": {}}, timeout=10)
    assert (resp.status_code, resp.json()["reason"], resp.json()["message"]) == \
        (400, "BadRequest", "token is required for TokenReview in authentication")


@pytest.mark.parametrize("plural", ["selfsubjectreviews", "tokenreviews"])
def test_reviews_are_create_only(api_url: str, plural: str) -> None:
    resp = requests.get(api_url + REVIEWS + "/" + plural, timeout=10)
    assert (resp.status_code, resp.json()["reason"]) == (405, "MethodNotAllowed")
