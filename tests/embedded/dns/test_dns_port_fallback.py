"""Cluster DNS when port 53 needs root, proved as root too: ``AZCHAOS_EMBEDDED_DNS_PORT=10053`` (a test aid)
makes a cluster serve "port 53" on 10053 exactly as an ordinary user's cluster does. Pods and objects still
say 53; CoreDNS stays Ready; names resolve through /dial and nslookup; nothing listens on port 53 at all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import dns.exception
import pytest
from kubernetes import client

from pytest_azchaos.embedded.network.dns_port import FALLBACK_PORT, PORT_ENV
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.topology import Topology
from tests import clusters
from tests.embedded.dns.fallback import coredns_ready, dial_web_by_name, nslookup_web, web_and_client
from tests.embedded.dns.helpers import kube_dns_ip, kubectl, query
from tests.embedded.waiting import wait_for


@pytest.fixture(scope="module")
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(PORT_ENV, str(FALLBACK_PORT))  # read by start_cluster, handed to the cluster process
        with clusters.own_cluster(tmp_path_factory.mktemp("dns53"), topology=Topology(), profile="fast") as h:
            mp.delenv(PORT_ENV)
            yield h


@pytest.fixture(scope="module")
def kube(handle: ClusterHandle) -> Iterator[Any]:
    with clusters.api_client(handle) as api:
        coredns_ready(api)
        yield api


@pytest.fixture
def ns(kube: Any) -> Iterator[str]:
    with clusters.fresh_namespace(client.CoreV1Api(kube), "dns53") as name:
        yield name


def test_the_cluster_records_the_port_standing_for_53(handle: ClusterHandle) -> None:
    assert handle.dns_port == FALLBACK_PORT
    assert json.loads(handle.state_file.read_text())["dns_port"] == FALLBACK_PORT


def test_coredns_pods_are_ready_and_never_restarted(handle: ClusterHandle, kube: Any) -> None:
    for pod in coredns_ready(kube):
        statuses = pod.status.container_statuses or []
        assert [s.restart_count for s in statuses] == [0], (pod.metadata.name, statuses)
        logs = kubectl(handle, "-n", "kube-system", "logs", pod.metadata.name).stdout
        assert logs.startswith(".:53\n") and "permission denied" not in logs, logs


def test_objects_and_resolv_conf_still_say_port_53(handle: ClusterHandle, kube: Any, ns: str) -> None:
    core = client.CoreV1Api(kube)
    svc = core.read_namespaced_service("kube-dns", "kube-system")
    assert [(p.port, p.target_port) for p in svc.spec.ports] == [(53, 53), (53, 53), (9153, 9153)]
    pod = core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items[0]
    assert [p.container_port for p in pod.spec.containers[0].ports] == [53, 53, 9153]
    name, _, _ = web_and_client(kube, ns)
    resolv = kubectl(handle, "-n", ns, "exec", name, "--", "cat", "/etc/resolv.conf").stdout
    assert f"nameserver {kube_dns_ip(kube)}\n" in resolv, resolv


def test_kube_dns_answers_on_the_stand_in_port_and_nothing_on_53(handle: ClusterHandle, kube: Any) -> None:
    server = kube_dns_ip(kube)
    name = "kubernetes.default.svc.cluster.local."
    answer = wait_for(lambda: _ask(server, name, handle.dns_port), lambda a: a is not None, timeout=20,
                      what=f"an answer from {server}:{handle.dns_port}")
    assert answer is not None and answer.answer, answer
    assert query(server, name, tcp=True, port=handle.dns_port).answer
    assert _ask(server, name, 53) is None, "as root with the fallback forced, port 53 must not be served at all"


def test_a_service_name_resolves_through_dial_from_a_pod(kube: Any, ns: str) -> None:
    _, client_ip, _ = web_and_client(kube, ns)
    body = dial_web_by_name(client_ip)
    assert body["responses"] and not body.get("errors"), body


def test_nslookup_from_a_pod_resolves_a_service_name(handle: ClusterHandle, kube: Any, ns: str) -> None:
    name, _, web_ip = web_and_client(kube, ns)
    nslookup_web(handle, kube, ns, name, web_ip)


def _ask(server: str, name: str, port: int) -> Any:
    try:
        return query(server, name, timeout=0.5, port=port)
    except (dns.exception.Timeout, ConnectionRefusedError):
        return None
