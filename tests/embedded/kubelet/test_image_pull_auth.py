"""The kubelet pulling from registry mirrors, end to end on a cluster started with ``--registry-mirror``: pull
secrets found, missing or wrong give upstream's events and waiting states; a credentialed image on a node is not
handed to a pod without those credentials (KubeletEnsureSecretPulledImages, on by default since v1.35)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle, ClusterStartError, start_cluster
from pytest_azchaos.embedded.topology import Topology

from ... import clusters
from ..waiting import wait_for

OPEN = "123456789012.dkr.ecr.us-east-1.amazonaws.com/k8s"
PRIVATE = "mirror.example.com"
USER, PASSWORD = "robot", "t0ken"


@pytest.fixture(scope="module")
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("pull-auth"), topology=Topology.make(zones=1, nodes_per_zone=1),
                              registry_mirrors=[OPEN, f"{USER}:{PASSWORD}@{PRIVATE}/proxy"]) as h:
        yield h


@pytest.fixture(scope="module")
def core(handle: ClusterHandle) -> Iterator[client.CoreV1Api]:
    with clusters.api_client(handle) as api:
        yield client.CoreV1Api(api)


@pytest.fixture
def ns(core: client.CoreV1Api) -> Iterator[str]:
    with clusters.fresh_namespace(core, "pull") as name:
        yield name


def _secret(core: client.CoreV1Api, ns: str, name: str, user: str, password: str) -> None:
    config = {"auths": {PRIVATE: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}}
    core.create_namespaced_secret(ns, client.V1Secret(
        metadata=client.V1ObjectMeta(name=name), type="kubernetes.io/dockerconfigjson",
        data={".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}))


def _pod(core: client.CoreV1Api, ns: str, name: str, image: str, *secrets: str) -> None:
    core.create_namespaced_pod(ns, client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(containers=[client.V1Container(name="app", image=image, args=["pause"])],
                              image_pull_secrets=[client.V1LocalObjectReference(name=s) for s in secrets] or None)))


def _waiting(core: client.CoreV1Api, ns: str, name: str, reason: str) -> client.V1ContainerStateWaiting:
    def fetch() -> client.V1ContainerStateWaiting | None:
        statuses = core.read_namespaced_pod(name, ns).status.container_statuses or []
        return statuses[0].state.waiting if statuses else None
    return wait_for(fetch, lambda w: w is not None and w.reason == reason, what=f"{name} waiting {reason}")


def _running(core: client.CoreV1Api, ns: str, name: str) -> None:
    wait_for(lambda: core.read_namespaced_pod(name, ns).status.phase, lambda p: p == "Running", what=f"{name} Running")


def _events(core: client.CoreV1Api, ns: str, name: str) -> list[tuple[str, str]]:
    return [(e.reason, e.message) for e in core.list_namespaced_event(ns).items if e.involved_object.name == name]


def test_an_open_mirror_serves_upstream_images_without_secrets(core: client.CoreV1Api, ns: str) -> None:
    image = f"{OPEN}/e2e-test-images/agnhost:2.52"
    _pod(core, ns, "open", image)
    _running(core, ns, "open")
    status = core.read_namespaced_pod("open", ns).status.container_statuses[0]
    assert status.image == image and status.image_id.startswith(f"{OPEN}/e2e-test-images/agnhost@sha256:")


def test_no_pull_secret_fails_with_no_basic_auth_credentials(core: client.CoreV1Api, ns: str) -> None:
    image = f"{PRIVATE}/proxy/e2e-test-images/agnhost:2.52"
    _pod(core, ns, "anon", image)
    waiting = _waiting(core, ns, "anon", "ImagePullBackOff")
    error = (f'rpc error: code = Unknown desc = failed to pull and unpack image "{image}": failed to resolve '
             f'reference "{image}": pull access denied, repository does not exist or may require authorization: '
             "authorization failed: no basic auth credentials")
    assert waiting.message == f'Back-off pulling image "{image}": ErrImagePull: {error}'
    events = _events(core, ns, "anon")
    assert ("Failed", f'Failed to pull image "{image}": {error}') in events, events
    assert ("Failed", "Error: ErrImagePull") in events and ("BackOff", f'Back-off pulling image "{image}"') in events


def test_a_missing_pull_secret_is_said_and_the_pull_fails(core: client.CoreV1Api, ns: str) -> None:
    _pod(core, ns, "missing", f"{PRIVATE}/proxy/e2e-test-images/agnhost:2.52", "regcred")
    _waiting(core, ns, "missing", "ImagePullBackOff")
    assert ("FailedToRetrieveImagePullSecret", "Unable to retrieve some image pull secrets (regcred); attempting to "
            "pull the image may not succeed.") in _events(core, ns, "missing")


def test_wrong_credentials_get_401(core: client.CoreV1Api, ns: str) -> None:
    _secret(core, ns, "wrong", USER, "nope")
    _pod(core, ns, "wrong", f"{PRIVATE}/proxy/e2e-test-images/agnhost:2.52", "wrong")
    waiting = _waiting(core, ns, "wrong", "ImagePullBackOff")
    assert waiting.message.endswith("unexpected status from HEAD request to https://mirror.example.com/v2/proxy/"
                                    "e2e-test-images/agnhost/manifests/2.52: 401 Unauthorized"), waiting.message


def test_the_right_secret_pulls_and_a_pod_without_it_is_not_given_the_copy(core: client.CoreV1Api, ns: str) -> None:
    image = f"{PRIVATE}/proxy/e2e-test-images/agnhost:2.39"  # a tag no other test pulls
    _secret(core, ns, "regcred", USER, PASSWORD)
    _pod(core, ns, "with", image, "regcred")
    _running(core, ns, "with")
    pulled = [m for r, m in _events(core, ns, "with") if r == "Pulled"]
    assert pulled and pulled[0].startswith(f'Successfully pulled image "{image}"'), pulled
    _pod(core, ns, "without", image)  # the same (only) node, which has the image now
    _waiting(core, ns, "without", "ImagePullBackOff")
    assert not any(m.startswith("Container image") for _, m in _events(core, ns, "without"))
    _pod(core, ns, "again", image, "regcred")
    _running(core, ns, "again")
    assert ("Pulled", f'Container image "{image}" already present on machine') in _events(core, ns, "again")


def test_a_bad_mirror_spec_stops_the_cluster_before_it_starts(tmp_path) -> None:
    with pytest.raises(ClusterStartError) as info:
        start_cluster(tmp_path / "kubeconfig", registry_mirrors=["mirror/k8s"])
    assert "'mirror' is not a registry host" in str(info.value)
    assert not (tmp_path / "kubeconfig").exists()
