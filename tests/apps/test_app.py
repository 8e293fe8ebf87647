"""The App handle: waiting for the workload and its load balancer, with the fix named when it never comes."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from pytest_azchaos.apps.app import App, AppError
from pytest_azchaos.kube.cluster import Cluster


@pytest.fixture
def unserved_service(core: client.CoreV1Api, namespace: str) -> str:
    """A LoadBalancer Service of a class no controller serves: it never gets an address."""
    core.create_namespaced_service(namespace, client.V1Service(
        metadata=client.V1ObjectMeta(name="nolb"),
        spec=client.V1ServiceSpec(type="LoadBalancer", load_balancer_class="example.com/nobody-serves-this",
                                  selector={"app": "x"}, ports=[client.V1ServicePort(port=80)])))
    return "nolb"


def test_no_load_balancer_address_within_the_deadline_names_the_fix(kubeconfig: Path, namespace: str,
                                                                  unserved_service: str) -> None:
    app = App(Cluster(kubeconfig), namespace, "x", {"app": "x"}, service=unserved_service)
    with pytest.raises(AppError, match=r"got no load-balancer address within 2s: check that a load-balancer "
                                       r"controller runs.*no controller wrote an event about the Service"):
        app.lb_addresses(2)
    app.cluster.close()


def test_no_load_balancer_address_shows_the_controllers_events(kubeconfig: Path, core: client.CoreV1Api,
                                                               namespace: str, unserved_service: str) -> None:
    core.create_namespaced_event(namespace, client.CoreV1Event(
        metadata=client.V1ObjectMeta(name="nolb.1"), type="Warning", reason="FailedDeployModel",
        message="Failed deploy model due to AccessDenied: not authorized to perform: "
                "elasticloadbalancing:CreateLoadBalancer",
        involved_object=client.V1ObjectReference(kind="Service", name=unserved_service, namespace=namespace),
        source=client.V1EventSource(component="service")))
    app = App(Cluster(kubeconfig), namespace, "x", {"app": "x"}, service=unserved_service)
    with pytest.raises(AppError, match=r"Warning FailedDeployModel service/nolb \[service\]: Failed deploy model "
                                       r"due to AccessDenied"):
        app.lb_addresses(1)
    app.cluster.close()
