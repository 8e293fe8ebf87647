"""Fixtures for the checks' tests: workload builders and an own cluster for tests that cordon or fill nodes.

Tests that only read (spread, health check port) use the session cluster from ``tests/conftest.py``;
tests that cordon a zone or fill every node get this package's own cluster so nothing they do leaks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.kube.topology import ZONE_LABEL

from .. import clusters
from ..embedded.waiting import wait_for

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"


@pytest.fixture(scope="package")
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    """A 3-zone, 6-node embedded cluster only these tests use (they cordon zones and fill nodes)."""
    with clusters.own_cluster(tmp_path_factory.mktemp("checks")) as handle:
        yield handle


@pytest.fixture(scope="package")
def own_api(own_cluster: ClusterHandle) -> Iterator[client.ApiClient]:
    with clusters.api_client(own_cluster) as api:
        yield api


@pytest.fixture
def own_core(own_api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(own_api)


@pytest.fixture
def own_apps(own_api: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(own_api)


@pytest.fixture
def own_ns(own_core: client.CoreV1Api) -> Iterator[str]:
    with clusters.fresh_namespace(own_core, "chk") as name:
        yield name


@pytest.fixture
def cordon_zone(own_core: client.CoreV1Api) -> Iterator[Callable[[str], list[str]]]:
    """``cordon_zone(zone)`` cordons every node of a zone; all are uncordoned after the test."""
    cordoned: list[str] = []

    def cordon(zone: str) -> list[str]:
        nodes = [n.metadata.name for n in own_core.list_node().items if n.metadata.labels.get(ZONE_LABEL) == zone]
        for n in nodes:
            own_core.patch_node(n, {"spec": {"unschedulable": True}})
            cordoned.append(n)
        return nodes

    yield cordon
    for n in cordoned:
        own_core.patch_node(n, {"spec": {"unschedulable": False}})


def echo_deployment(name: str, replicas: int = 3, *, node_selector: dict[str, str] | None = None,
                    spread: client.V1TopologySpreadConstraint | None = None, cpu: str | None = None,
                    tolerations: list[client.V1Toleration] | None = None) -> client.V1Deployment:
    """The agnhost netexec echo app with a fast readiness probe, optionally pinned, spread or sized."""
    resources = client.V1ResourceRequirements(requests={"cpu": cpu}) if cpu else None
    container = client.V1Container(
        name="echo", image=AGNHOST, args=["netexec", "--http-port=8080"], resources=resources,
        readiness_probe=client.V1Probe(http_get=client.V1HTTPGetAction(path="/readyz", port=8080), period_seconds=1,
                                       failure_threshold=1))
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[container], node_selector=node_selector,
                                      termination_grace_period_seconds=1, tolerations=tolerations,
                                      topology_spread_constraints=[spread] if spread else None))))


def zone_spread(app: str, honor_taints: bool) -> client.V1TopologySpreadConstraint:
    """A hard zone spread; without ``nodeTaintsPolicy: Honor`` a cordoned zone still counts as a domain."""
    return client.V1TopologySpreadConstraint(
        max_skew=1, topology_key=ZONE_LABEL, when_unsatisfiable="DoNotSchedule",
        label_selector=client.V1LabelSelector(match_labels={"app": app}),
        node_taints_policy="Honor" if honor_taints else None)


def ready_count(core: client.CoreV1Api, ns: str, app: str) -> int:
    return sum(1 for p in core.list_namespaced_pod(ns, label_selector=f"app={app}").items
               if p.metadata.deletion_timestamp is None
               and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or []))


def wait_ready(core: client.CoreV1Api, ns: str, app: str, n: int, timeout: float = 20) -> None:
    wait_for(lambda: ready_count(core, ns, app), lambda c: c == n, timeout=timeout, what=f"{n} ready pods of {app}")


def lb_app(core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str, name: str, replicas: int) -> list[str]:
    """``name`` with ``replicas`` Ready pods behind a LoadBalancer Service on 8080; its LB addresses."""
    apps.create_namespaced_deployment(namespace, echo_deployment(name, replicas))
    wait_ready(core, namespace, name, replicas)
    core.create_namespaced_service(namespace, client.V1Service(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1ServiceSpec(type="LoadBalancer", selector={"app": name},
                                  ports=[client.V1ServicePort(port=8080, target_port=8080)])))
    svc = wait_for(lambda: core.read_namespaced_service(name, namespace),
                   lambda s: bool(s.status.load_balancer and s.status.load_balancer.ingress), what="LB ingress")
    return [i.ip or i.hostname for i in svc.status.load_balancer.ingress]
