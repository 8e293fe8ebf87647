"""A cluster of this package's own (a 3-zone, 6-node embedded cluster) and a fresh namespace per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dns.exception
import pytest

from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.topology import Topology
from tests import clusters
from tests.embedded.dns.helpers import know_dns_port, kube_dns_ip, query
from tests.embedded.waiting import wait_for


@pytest.fixture(scope="module")
def dns_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("dns"), topology=Topology(), profile="fast") as handle:
        know_dns_port(handle)  # 10053 when port 53 needs root (network/dns_port.py)
        with clusters.api_client(handle) as api:
            server = kube_dns_ip(api)
        # The add-on's pods start with the cluster: wait until kube-dns answers before any test asks it.
        wait_for(lambda: _answers(server), bool, timeout=30, interval=0.1, what="kube-dns answering")
        yield handle


def _answers(server: str) -> bool:
    try:
        return bool(query(server, "kubernetes.default.svc.cluster.local.", timeout=0.5).answer)
    except dns.exception.Timeout:
        return False


@pytest.fixture(scope="module")
def kube(dns_cluster: ClusterHandle) -> Iterator[Any]:
    with clusters.api_client(dns_cluster) as api:
        yield api


@pytest.fixture
def ns(kube: Any) -> Iterator[str]:
    from kubernetes import client

    with clusters.fresh_namespace(client.CoreV1Api(kube), "dns") as name:
        yield name
