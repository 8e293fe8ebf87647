"""Fixtures the project's own tests share: one embedded cluster per session (per xdist worker),
clients for it, and a fresh namespace per test."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_azchaos.embedded.process import ClusterHandle, start_cluster, stop_cluster
from pytest_azchaos.embedded.topology import Topology


@pytest.fixture(scope="session")
def embedded_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    """A running 3-zone, 6-node embedded cluster shared by the session's tests."""
    kubeconfig = tmp_path_factory.mktemp("embedded") / "kubeconfig"
    handle = start_cluster(kubeconfig, Topology())
    try:
        yield handle
    finally:
        stop_cluster(kubeconfig)


@pytest.fixture(scope="session")
def api_url(embedded_cluster: ClusterHandle) -> str:
    """Base URL of the embedded API server (plain HTTP on loopback)."""
    return embedded_cluster.url


@pytest.fixture(scope="session")
def kubeconfig(embedded_cluster: ClusterHandle) -> Path:
    return embedded_cluster.kubeconfig


@pytest.fixture(scope="session")
def plugin_cluster(embedded_cluster: ClusterHandle) -> Iterator[Any]:
    """The plugin's own ``Cluster`` (retrying client, zones, reported stalls) for the session's cluster."""
    from tests import clusters

    with clusters.plugin_cluster(embedded_cluster) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def api_client(embedded_cluster: ClusterHandle):  # -> kubernetes.client.ApiClient
    """The official client's ApiClient, configured from the cluster's kubeconfig."""
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(embedded_cluster.kubeconfig))
    yield api
    api.close()
    del client


@pytest.fixture
def core(api_client):  # -> kubernetes.client.CoreV1Api
    from kubernetes import client

    return client.CoreV1Api(api_client)


@pytest.fixture
def apps(api_client):  # -> kubernetes.client.AppsV1Api
    from kubernetes import client

    return client.AppsV1Api(api_client)


@pytest.fixture
def namespace(core) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    from kubernetes import client

    name = "t-" + uuid.uuid4().hex[:10]
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    try:
        core.delete_namespace(name)
    except client.ApiException as e:
        if e.status != 404:
            raise


@pytest.fixture(scope="session")
def kubectl_path() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.skip("kubectl is not installed; the kubectl compatibility tests need it on PATH")
    return path


@pytest.fixture
def site(api_client):  # -> Callable[..., tuple[namespace, address]]
    """Deploys a static site into a namespace of its own (the user's, not the plugin's); removed afterwards."""
    from kubernetes import client

    from tests import sites

    core, apps, policy = client.CoreV1Api(api_client), client.AppsV1Api(api_client), client.PolicyV1Api(api_client)
    namespace = f"shop-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))

    def deploy(replicas: int, *, spread: bool = True, pdb: bool = True, warmup: int = 0) -> tuple[str, str]:
        for m in sites.static_site(replicas, spread=spread, pdb=pdb, warmup=warmup):
            {"Deployment": apps.create_namespaced_deployment, "Service": core.create_namespaced_service,
             "PodDisruptionBudget": policy.create_namespaced_pod_disruption_budget}[m["kind"]](namespace, m)
        address = sites.serving(core, namespace, replicas, timeout=90 + warmup)
        return namespace, address

    yield deploy
    core.delete_namespace(namespace)
