"""A module-scoped embedded cluster for the chaostoolkit tests (they drain zones), and an echo app helper."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_azchaos.apps import App, EchoSpec, echo_manifests
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.kube.cluster import Cluster

from .. import clusters

ZONE = "topology.kubernetes.io/zone"


@pytest.fixture(scope="module")
def ctk_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("ctk")) as handle:
        yield handle


@pytest.fixture(scope="module")
def cluster(ctk_cluster: ClusterHandle) -> Iterator[Cluster]:
    c = Cluster(Path(ctk_cluster.kubeconfig))
    yield c
    c.close()


@pytest.fixture(scope="module")
def zone(cluster: Cluster) -> str:
    return sorted(cluster.nodes_by_zone())[0]


@pytest.fixture
def ns(cluster: Cluster) -> Iterator[str]:
    with clusters.fresh_namespace(cluster.core, "ctk") as name:
        yield name
    # whatever a test left cordoned is uncordoned, so the next test starts from a whole cluster
    for node in cluster.core.list_node().items:
        if node.spec.unschedulable:
            cluster.core.patch_node(node.metadata.name, {"spec": {"unschedulable": None}})


@pytest.fixture
def deploy(cluster: Cluster, ns: str) -> Callable[..., App]:
    """Deploy the echo app (quick shutdown) and wait until it is Ready and answers through its load balancer."""

    def make(**params: Any) -> App:
        spec = EchoSpec(**{"replicas": 3, "delay_shutdown": 1, "prestop_sleep": 3, "grace_seconds": 10,
                           "node_loss_toleration": 2, **params})
        app = App.deploy(cluster, ns, echo_manifests(spec))
        assert app.wait_ready(60).ok
        app.addresses = app.lb_addresses(30)
        assert app.wait_reachable(app.addresses, 30).ok  # NLB targets healthy before traffic starts
        return app

    return make


def zone_of_pods(cluster: Cluster, app: App) -> dict[str, str]:
    zones = {n.metadata.name: (n.metadata.labels or {}).get(ZONE, "") for n in cluster.core.list_node().items}
    return {p.metadata.name: zones.get(p.spec.node_name, "") for p in app.pods()
            if p.metadata.deletion_timestamp is None}
