"""Fixtures for the fault tests: a module's own embedded cluster (faults cordon whole zones, which
would disturb the session cluster's other tests), the plugin's ``Cluster`` for it, a fresh namespace,
and small workload builders."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.kube.cluster import Cluster

from .. import clusters

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"
ZONE = "topology.kubernetes.io/zone"


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("chaos")) as handle:
        yield handle


@pytest.fixture(scope="module")
def cluster(own_cluster: ClusterHandle) -> Iterator[Cluster]:
    c = Cluster(own_cluster.kubeconfig)
    yield c
    c.close()


@pytest.fixture
def ns(cluster: Cluster) -> Iterator[str]:
    with clusters.fresh_namespace(cluster.core, "chaos") as name:
        yield name


@pytest.fixture
def ledger(cluster: Cluster, tmp_path: Path) -> Iterator[Ledger]:
    """A run's ledger; whatever the test leaves pending is replayed afterwards, so zones come back."""
    led = Ledger(cluster, path=tmp_path / "ledger.json")
    yield led
    outcomes = led.replay()
    assert all(o.ok for o in outcomes), [o.describe() for o in outcomes]


def zone_node_names(cluster: Cluster, zone: str) -> list[str]:
    return cluster.nodes_by_zone()[zone]


def echo_deployment(name: str, replicas: int, *, grace: int = 1) -> client.V1Deployment:
    labels = {"app": name}
    container = client.V1Container(
        name="echo", image=AGNHOST, args=["netexec", "--http-port=8080"],
        readiness_probe=client.V1Probe(http_get=client.V1HTTPGetAction(path="/readyz", port=8080), period_seconds=1))
    spread = client.V1TopologySpreadConstraint(max_skew=1, topology_key=ZONE, when_unsatisfiable="ScheduleAnyway",
                                               label_selector=client.V1LabelSelector(match_labels=labels))
    spread_nodes = client.V1TopologySpreadConstraint(
        max_skew=1, topology_key="kubernetes.io/hostname", when_unsatisfiable="ScheduleAnyway",
        label_selector=client.V1LabelSelector(match_labels=labels))
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[container], termination_grace_period_seconds=grace,
                                      topology_spread_constraints=[spread, spread_nodes]))))


def pdb(name: str, *, max_unavailable: int) -> client.V1PodDisruptionBudget:
    return client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodDisruptionBudgetSpec(max_unavailable=max_unavailable,
                                              selector=client.V1LabelSelector(match_labels={"app": name})))


def wait_for(fetch: Callable[[], Any], ok: Callable[[Any], bool], timeout: float = 15.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last = fetch()
    while not ok(last):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last seen: {last!r}")
        time.sleep(0.05)
        last = fetch()
    return last


def ready_pods(cluster: Cluster, namespace: str, app: str) -> list[Any]:
    pods = cluster.core.list_namespaced_pod(namespace, label_selector=f"app={app}").items
    return [p for p in pods if p.metadata.deletion_timestamp is None and any(
        c.type == "Ready" and c.status == "True" for c in (p.status.conditions or []))]


def deploy(cluster: Cluster, namespace: str, name: str, replicas: int, *, budget: int | None = None) -> list[Any]:
    """Create the echo Deployment (and a PDB with ``maxUnavailable=budget``) and wait until all are Ready."""
    cluster.apps.create_namespaced_deployment(namespace, echo_deployment(name, replicas))
    if budget is not None:
        client.PolicyV1Api(cluster.api).create_namespaced_pod_disruption_budget(
            namespace, pdb(name, max_unavailable=budget))
    pods = wait_for(lambda: ready_pods(cluster, namespace, name), lambda ps: len(ps) == replicas,
                    what=f"{replicas} ready {name} pods")
    if budget is not None:
        policy = client.PolicyV1Api(cluster.api)
        wait_for(lambda: policy.read_namespaced_pod_disruption_budget(name, namespace).status,
                 lambda st: st is not None and st.current_healthy == replicas
                 and st.disruptions_allowed == budget, what="PDB status")
    return pods
