"""As an ordinary user the embedded cluster cannot listen below port 1024 (Linux): a load balancer on such a
port fails the way a cloud provider reports it, with the fix named, and the rest of the cluster keeps working.
As root every port can be bound, so these tests run only for an ordinary user (as on a laptop). Cluster DNS
needs port 53: then the network serves it on an unprivileged port (``network/dns_port.py``) and CoreDNS stays
Ready, names resolve in pods (``tests/embedded/dns/test_dns_port_fallback.py`` forces the same as root)."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from kubernetes import client

from pytest_azchaos.embedded.network import dns_port
from pytest_azchaos.embedded.network.relay import privileged_port_message
from pytest_azchaos.embedded.process import ClusterHandle

from ..dns.fallback import coredns_ready, dial_web_by_name, nslookup_web, web_and_client
from ..waiting import wait_for

ordinary_user = pytest.mark.skipif(os.geteuid() == 0, reason="as root every port can be bound")
port_53_privileged = pytest.mark.skipif(dns_port.port_53_bindable(), reason="this process may bind port 53 (root, "
                                        "CAP_NET_BIND_SERVICE or a low net.ipv4.ip_unprivileged_port_start)")


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


@port_53_privileged
def test_cluster_dns_is_served_on_the_unprivileged_port(embedded_cluster: ClusterHandle) -> None:
    assert embedded_cluster.dns_port == dns_port.fallback_port()
    assert json.loads(embedded_cluster.state_file.read_text())["dns_port"] == dns_port.fallback_port()


@port_53_privileged
def test_coredns_is_ready_without_restarts(api_client: Any) -> None:
    pods = coredns_ready(api_client)
    assert [s.restart_count for p in pods for s in p.status.container_statuses or []] == [0, 0], pods


@port_53_privileged
def test_a_pod_resolves_a_service_name_through_dial_and_nslookup(embedded_cluster: ClusterHandle, api_client: Any,
                                                                 namespace: str) -> None:
    pod, client_ip, web_ip = web_and_client(api_client, namespace)
    body = dial_web_by_name(client_ip)
    assert body["responses"] and not body.get("errors"), body
    nslookup_web(embedded_cluster, api_client, namespace, pod, web_ip)
