"""A cluster of this package's own (a 3-zone, 6-node embedded cluster) and a fresh namespace per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.topology import Topology
from tests import clusters


@pytest.fixture(scope="module")
def dns_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("dns"), topology=Topology(), profile="fast") as handle:
        yield handle


@pytest.fixture(scope="module")
def kube(dns_cluster: ClusterHandle) -> Iterator[Any]:
    with clusters.api_client(dns_cluster) as api:
        yield api


@pytest.fixture
def ns(kube: Any) -> Iterator[str]:
    from kubernetes import client

    with clusters.fresh_namespace(client.CoreV1Api(kube), "dns") as name:
        yield name
