"""An embedded cluster started with ``lb_controller="auto-mode"``: EKS Auto Mode's load balancing.

``eks.amazonaws.com/nlb`` is "automatically set as the cluster default"; ``aws-load-balancer-internal`` and
``aws-load-balancer-type`` are not supported (use ``-scheme`` / the class), and no controller pod or webhook
object exists in the cluster (``eksug:latest/ug/automode/auto-configure-nlb.adoc``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle

from ...clusters import api_client, own_cluster
from ..waiting import wait_for
from .helpers import a_records, deploy, hostname_of, http_get, node_address, resolver_of, service


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with own_cluster(tmp_path_factory.mktemp("auto-mode"), lb_controller="auto-mode") as handle:
        yield handle


@pytest.fixture(scope="module")
def api(cluster: ClusterHandle) -> Iterator[client.ApiClient]:
    with api_client(cluster) as api:
        yield api


@pytest.fixture
def ns(api: client.ApiClient) -> Iterator[str]:
    core = client.CoreV1Api(api)
    name = f"auto-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def _answers(address: str, source: str) -> bool:
    try:
        return bool(http_get(address, 8080, "/hostname", source=source, timeout=1.0))
    except (TimeoutError, OSError):
        return False


def test_auto_mode_class_is_the_default(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    svc = service(core, ns, "web", "web")
    assert svc.spec.load_balancer_class == "eks.amazonaws.com/nlb", svc.spec
    assert not client.CoreV1Api(api).list_namespaced_pod(
        "kube-system", label_selector="app.kubernetes.io/name=aws-load-balancer-controller").items
    nodes = core.list_node().items
    assert nodes and all((n.metadata.labels or {}).get("eks.amazonaws.com/compute-type") == "auto" for n in nodes)


def test_unsupported_internal_annotation_is_ignored_and_scheme_decides(cluster: ClusterHandle,
                                                                       api: client.ApiClient, ns: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    deploy(apps, ns, "web", 1)
    ignored = hostname_of(core, ns, service(core, ns, "ignored", "web", {"aws-load-balancer-internal": "false"})
                          .metadata.name)
    public = hostname_of(core, ns, service(core, ns, "public", "web", {"aws-load-balancer-scheme": "internet-facing"})
                         .metadata.name)
    resolver = resolver_of(cluster.kubeconfig)
    public_address = wait_for(lambda: a_records(resolver, public), bool, what="A records")[0]
    wait_for(lambda: _answers(public_address, "127.0.0.1"), bool, timeout=30, what="internet-facing answers the host")
    ignored_address = wait_for(lambda: a_records(resolver, ignored), bool, what="A records")[0]
    wait_for(lambda: _answers(ignored_address, node_address(core)), bool, timeout=30, what="an answer from a node")
    assert not _answers(ignored_address, "127.0.0.1"), (
        "aws-load-balancer-internal: \"false\" is not supported by Auto Mode: the NLB stays internal")
