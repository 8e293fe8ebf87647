"""Draining the zones that hold CoreDNS keeps cluster DNS answering: the add-on's PodDisruptionBudget
(maxUnavailable 1) lets one replica go at a time, each is replaced before the next goes, and an evicted
replica still answers through its 5 s lame duck while kube-proxy moves its clients to the ready ones."""

from __future__ import annotations

import threading
import time
from typing import Any

import dns.exception
from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle
from tests.embedded.dns.helpers import ZONE, kube_dns_ip, kubectl, query
from tests.embedded.waiting import wait_for


def _coredns(core: client.CoreV1Api) -> list[Any]:
    return core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items


def _ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def _answers(server: str, name: str) -> bool:
    try:
        return bool(query(server, name, timeout=0.5).answer)
    except dns.exception.Timeout:
        return False


def test_dns_keeps_answering_through_a_drain_of_the_coredns_zones(dns_cluster: ClusterHandle, kube: Any) -> None:
    core = client.CoreV1Api(kube)
    nodes = {n.metadata.name: n.metadata.labels[ZONE] for n in core.list_node().items}
    pods = wait_for(lambda: _coredns(core), lambda ps: len(ps) == 2 and all(_ready(p) for p in ps),
                    timeout=30, what="2 Ready CoreDNS pods")
    lost = {nodes[p.spec.node_name] for p in pods}
    drained = sorted(n for n, zone in nodes.items() if zone in lost)
    server = kube_dns_ip(kube)
    name = "kubernetes.default.svc.cluster.local."
    wait_for(lambda: _answers(server, name), bool, timeout=10, what="kube-dns routed to CoreDNS")
    answered, failures = [0], []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                if query(server, name, timeout=1.0).answer:
                    answered[0] += 1
                else:
                    failures.append((time.monotonic(), "empty answer"))
            except dns.exception.Timeout:
                failures.append((time.monotonic(), "timeout"))
            time.sleep(0.05)

    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    try:
        for node in drained:
            assert kubectl(dns_cluster, "cordon", node).returncode == 0
        for node in drained:
            r = kubectl(dns_cluster, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data",
                        "--timeout=90s")
            assert r.returncode == 0, r.stderr
        moved = wait_for(lambda: _coredns(core), lambda ps: len(ps) == 2 and all(
            nodes[p.spec.node_name] not in lost and p.metadata.deletion_timestamp is None for p in ps),
            timeout=30, what="both CoreDNS replicas outside the drained zones")
        assert len(moved) == 2
    finally:
        stop.set()
        asker.join(timeout=5)
    assert answered[0] > 20 and not failures, (answered[0], failures)
