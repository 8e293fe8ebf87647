"""As an ordinary user the embedded cluster cannot listen below port 1024 (Linux): a load balancer on such a
port fails the way a cloud provider reports it, with the fix named, and the rest of the cluster keeps working.
As root every port can be bound, so these tests run only for an ordinary user (as on a laptop)."""

from __future__ import annotations

import os

import pytest
from kubernetes import client

from pytest_azchaos.embedded.network.relay import privileged_port_message

from ..waiting import wait_for

ordinary_user = pytest.mark.skipif(os.geteuid() == 0, reason="as root every port can be bound")


def test_the_message_names_both_fixes() -> None:
    text = privileged_port_message("127.9.96.2", 80)
    assert "127.9.96.2:80" in text and "port of 1024 or more" in text
    assert "sudo sysctl net.ipv4.ip_unprivileged_port_start=80" in text


def _lb_service(name: str, port: int) -> client.V1Service:
    return client.V1Service(metadata=client.V1ObjectMeta(name=name), spec=client.V1ServiceSpec(
        type="LoadBalancer", selector={"app": name}, ports=[client.V1ServicePort(port=port, target_port=8080)]))


@ordinary_user
def test_a_load_balancer_on_a_privileged_port_fails_with_an_event_naming_the_fix(core: client.CoreV1Api,
                                                                                 namespace: str) -> None:
    core.create_namespaced_service(namespace, _lb_service("low", 80))
    events = wait_for(lambda: [e for e in core.list_namespaced_event(namespace).items
                               if e.reason == "SyncLoadBalancerFailed"], bool, what="SyncLoadBalancerFailed")
    assert events[0].type == "Warning"
    assert events[0].message.startswith("Error syncing load balancer: failed to ensure load balancer: cannot "
                                        "listen on ")
    assert not core.read_namespaced_service("low", namespace).status.load_balancer.ingress


@ordinary_user
def test_a_load_balancer_on_an_unprivileged_port_gets_its_addresses(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_service(namespace, _lb_service("high", 8080))
    svc = wait_for(lambda: core.read_namespaced_service("high", namespace),
                   lambda s: bool(s.status.load_balancer.ingress), what="load-balancer ingress")
    assert len(svc.status.load_balancer.ingress) == 3
