"""The sample apps pulled through a registry mirror, on an embedded cluster started with two mirrors: an ECR
pull-through cache of registry.k8s.io the nodes may read, and a mirror that wants a pull secret. The app runs when
its image and secret are right; without the secret the deploy fails naming the kubelet's pull failure."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from pytest_azchaos.apps import EchoSpec
from pytest_azchaos.apps.app import AppError
from pytest_azchaos.apps.deploy import deploy_echo
from pytest_azchaos.apps.images import resolve
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.topology import Topology
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.timing import FAST

from .. import clusters

pytest_plugins = ["pytester"]

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
PRIVATE = "mirror.example.com:5000"
USER, PASSWORD = "AWS", "s3cret"
QUICK = dataclasses.replace(FAST, app_ready_timeout=4.0)


@pytest.fixture(scope="module")
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("mirrors"), topology=Topology.make(zones=3, nodes_per_zone=1),
                              registry_mirrors=[f"{ECR}/k8s", f"{USER}:{PASSWORD}@{PRIVATE}/proxy"]) as h:
        yield h


@pytest.fixture(scope="module")
def cluster(handle: ClusterHandle) -> Iterator[Cluster]:
    with clusters.plugin_cluster(handle) as c:
        yield c


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    with clusters.fresh_namespace(cluster.core, "img") as ns:
        yield ns


@pytest.fixture
def source_namespace(cluster: Cluster) -> Iterator[str]:
    """A namespace holding the registry secret ``regcred`` for the private mirror."""
    with clusters.fresh_namespace(cluster.core, "src") as ns:
        config = {"auths": {PRIVATE: {"username": USER, "password": PASSWORD,
                                      "auth": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}}}
        cluster.core.create_namespaced_secret(ns, client.V1Secret(
            metadata=client.V1ObjectMeta(name="regcred"), type="kubernetes.io/dockerconfigjson",
            data={".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}))
        yield ns


def _images(cluster: Cluster, namespace: str) -> set[str]:
    pods = cluster.core.list_namespaced_pod(namespace).items
    return {c.image for p in pods for c in p.status.container_statuses or []}


def test_the_echo_app_runs_from_the_mirror_azchaos_image_names(cluster: Cluster, namespace: str) -> None:
    image = f"{ECR}/k8s/e2e-test-images/agnhost:2.52"
    app = deploy_echo(cluster, namespace, EchoSpec(replicas=3), FAST, images=resolve(image=image, environ={}))
    assert len(app.ready_pods()) == 3 and app.addresses
    assert _images(cluster, namespace) == {image}


def test_a_repo_list_rewrites_where_agnhost_comes_from(cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    repo_list = tmp_path / "repo-list.yaml"
    repo_list.write_text(f"promoterE2eRegistry: {ECR}/k8s/e2e-test-images\ne2eRegistry: unused.example.com\n")
    images = resolve(repo_list=str(repo_list), environ={})
    app = deploy_echo(cluster, namespace, EchoSpec(replicas=2), FAST, images=images)
    assert len(app.ready_pods()) == 2
    assert _images(cluster, namespace) == {f"{ECR}/k8s/e2e-test-images/agnhost:2.52"}


def test_a_private_mirror_pulls_with_the_secret_copied_from_the_named_namespace(
        cluster: Cluster, namespace: str, source_namespace: str) -> None:
    images = resolve(image=f"{PRIVATE}/proxy/e2e-test-images/agnhost:2.52",
                     pull_secrets=[f"{source_namespace}/regcred"], environ={})
    app = deploy_echo(cluster, namespace, EchoSpec(replicas=2), FAST, images=images)
    assert len(app.ready_pods()) == 2
    copied = cluster.core.read_namespaced_secret("regcred", namespace)
    assert copied.type == "kubernetes.io/dockerconfigjson"
    assert copied.metadata.labels["app.kubernetes.io/managed-by"] == "pytest-azchaos"


def test_without_the_pull_secret_the_deploy_fails_naming_the_pull_failure(cluster: Cluster, namespace: str) -> None:
    # Any copy of it on a node was pulled with credentials, so this pod pulls (and fails) itself.
    image = f"{PRIVATE}/proxy/e2e-test-images/agnhost:2.53"
    with pytest.raises(AppError) as failed:
        deploy_echo(cluster, namespace, EchoSpec(replicas=1), QUICK, images=resolve(image=image, environ={}))
    message = str(failed.value)
    assert "the echo app did not become ready" in message and "=Pending" in message, message
    assert f'Failed to pull image "{image}"' in message, message
    assert ("pull access denied, repository does not exist or may require authorization: authorization failed: "
            "no basic auth credentials") in message, message
    waiting = [c.state.waiting for p in cluster.core.list_namespaced_pod(namespace).items
               for c in p.status.container_statuses or [] if c.state.waiting]
    assert waiting and {w.reason for w in waiting} <= {"ErrImagePull", "ImagePullBackOff"}, waiting


def test_a_missing_pull_secret_stops_the_deploy_before_anything_is_created(cluster: Cluster, namespace: str) -> None:
    images = resolve(image=f"{PRIVATE}/proxy/e2e-test-images/agnhost:2.52", pull_secrets=["regcred"], environ={})
    with pytest.raises(AppError) as refused:
        deploy_echo(cluster, namespace, EchoSpec(replicas=1), QUICK, images=images)
    message = str(refused.value)
    assert f"image pull secret regcred not found in namespace {namespace}" in message
    assert "--azchaos-image-pull-secret NAMESPACE/regcred" in message
    assert "kubectl create secret docker-registry regcred" in message
    assert not cluster.apps.list_namespaced_deployment(namespace).items
    assert not cluster.core.list_namespaced_service(namespace).items


def test_a_secret_that_is_not_a_registry_secret_is_refused(cluster: Cluster, namespace: str) -> None:
    cluster.core.create_namespaced_secret(namespace, client.V1Secret(
        metadata=client.V1ObjectMeta(name="plain"), type="Opaque", string_data={"x": "y"}))
    images = resolve(image=f"{PRIVATE}/proxy/e2e-test-images/agnhost:2.52", pull_secrets=["plain"], environ={})
    with pytest.raises(AppError) as refused:
        deploy_echo(cluster, namespace, EchoSpec(replicas=1), QUICK, images=images)
    assert "is of type Opaque" in str(refused.value) and "kubernetes.io/dockerconfigjson" in str(refused.value)
    assert not cluster.apps.list_namespaced_deployment(namespace).items


def test_the_plugin_options_deploy_the_sample_app_through_the_private_mirror(
        pytester: pytest.Pytester, handle: ClusterHandle, source_namespace: str) -> None:
    image = f"{PRIVATE}/proxy/e2e-test-images/agnhost:2.52"
    pytester.makepyfile(f'''
        import pytest

        @pytest.mark.azchaos_app(replicas=2)
        def test_echo(azchaos_echo_app, azchaos_cluster):
            pods = azchaos_cluster.core.list_namespaced_pod(azchaos_echo_app.namespace).items
            assert {{c.image for p in pods for c in p.status.container_statuses}} == {{"{image}"}}
            assert [s.name for s in pods[0].spec.image_pull_secrets] == ["regcred"]
    ''')
    result = pytester.runpytest_subprocess("--azchaos-kubeconfig", str(handle.kubeconfig), "--azchaos-image", image,
                                           "--azchaos-image-pull-secret", f"{source_namespace}/regcred",
                                           "-p", "no:cacheprovider", "-q")
    assert result.ret == 0, result.stdout.str()[-3000:]
