"""Fixtures of the AWS-side tests: one embedded cluster per module (its moto server is the AWS they call through
boto3), a Kubernetes client, a fresh ledger per test, and the EC2 states they assert on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from pytest_azchaos.aws import AwsContext
from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.kube.cluster import Cluster

from .. import clusters


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])) as handle:
        yield handle


@pytest.fixture(scope="module")
def ctx(cluster: ClusterHandle) -> AwsContext:
    return AwsContext.for_kubeconfig(cluster.kubeconfig, state_timeout=30, poll_interval=0.2)


@pytest.fixture(scope="module")
def core(cluster: ClusterHandle) -> Iterator[client.CoreV1Api]:
    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield client.CoreV1Api(api)
    api.close()


@pytest.fixture
def ledger(cluster: ClusterHandle, tmp_path: Path) -> Ledger:
    return Ledger(Cluster(cluster.kubeconfig), path=tmp_path / "ledger.json")


def states(ctx: AwsContext) -> dict[str, str]:
    """Every instance's EC2 state, by id."""
    return {i["InstanceId"]: i["State"]["Name"]
            for r in ctx.ec2.describe_instances()["Reservations"] for i in r["Instances"]}
