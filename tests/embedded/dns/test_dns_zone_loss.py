"""Cluster DNS is lost with the zones its CoreDNS pods run in: stopping their nodes makes lookups from a
surviving zone time out, and they answer again once CoreDNS pods are rescheduled and Ready elsewhere.

The add-on's pods get short node-loss tolerations here (as the sample app's do) so that rescheduling takes
seconds; with the default 300 s the lookups would stay lost for five minutes, as they do on EKS."""

from __future__ import annotations

import time
from typing import Any

import dns.exception
import pytest
import requests
from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle
from tests.embedded.dns.helpers import ZONE, dial, kube_dns_ip, netexec, query, ready_pods, service_routes
from tests.embedded.waiting import wait_for

SHORT_TOLERATIONS = [{"key": f"node.kubernetes.io/{taint}", "operator": "Exists", "effect": "NoExecute",
                      "tolerationSeconds": 2} for taint in ("not-ready", "unreachable")]


def _coredns_pods(core: client.CoreV1Api, terminating: bool = False) -> list[Any]:
    return [p for p in core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items
            if terminating or p.metadata.deletion_timestamp is None]


def _ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def _power(handle: ClusterHandle, node: str, running: bool) -> None:
    r = requests.put(f"{handle.url}/azchaos/v1/nodes/{node}/power", json={"running": running}, timeout=10)
    r.raise_for_status()


def test_lookups_fail_with_the_coredns_zones_and_return_once_coredns_is_rescheduled(
        dns_cluster: ClusterHandle, kube: Any, ns: str) -> None:
    apps, core = client.AppsV1Api(kube), client.CoreV1Api(kube)
    template = kube.sanitize_for_serialization(apps.read_namespaced_deployment("coredns", "kube-system"))
    tolerations = template["spec"]["template"]["spec"].get("tolerations", []) + SHORT_TOLERATIONS
    apps.patch_namespaced_deployment("coredns", "kube-system",
                                     {"spec": {"template": {"spec": {"tolerations": tolerations}}}})
    pods = wait_for(lambda: _coredns_pods(core), lambda ps: len(ps) == 2 and all(
        _ready(p) and p.spec.tolerations and any(t.toleration_seconds == 2 for t in p.spec.tolerations)
        for p in ps), timeout=30, interval=0.2, what="2 Ready CoreDNS pods with short tolerations")
    # The rollout's old pods serve through their 5 s lame duck (kube-proxy's terminating fallback): wait them out.
    wait_for(lambda: _coredns_pods(core, terminating=True), lambda ps: len(ps) == 2, timeout=30, interval=0.2,
             what="the old CoreDNS pods gone")
    nodes = {n.metadata.name: n.metadata.labels[ZONE] for n in core.list_node().items}
    lost_zones = {nodes[p.spec.node_name] for p in pods}
    survivor = sorted(set(nodes.values()) - lost_zones)[0]
    # A client and a target in the surviving zone; short resolver timeouts so a failed /dial returns in seconds.
    netexec(kube, ns, "web", zone=survivor)
    netexec(kube, ns, "client", zone=survivor, pod_spec={"dnsConfig": {"options": [
        {"name": "timeout", "value": "1"}, {"name": "attempts", "value": "1"}]}})
    web = {p["metadata"]["name"] for p in ready_pods(kube, ns, "web", 1)}
    client_ip = ready_pods(kube, ns, "client", 1)[0]["status"]["podIP"]
    service_routes(kube, ns, "web", 1)
    server = kube_dns_ip(kube)
    name = f"web.{ns}.svc.cluster.local."
    assert query(server, name).answer, "cluster DNS answers before the fault"
    status, body = dial(client_ip, "web", 8080)
    assert status == 200 and isinstance(body, dict) and set(body["responses"]) <= web, body

    stopped = sorted(n for n, zone in nodes.items() if zone in lost_zones)
    try:
        for node in stopped:
            _power(dns_cluster, node, False)
        with pytest.raises(dns.exception.Timeout):
            query(server, name, timeout=1.0)
        with pytest.raises(dns.exception.Timeout):
            query(server, name, tcp=True, timeout=1.0)
        # A rooted name is one question (the search list would take 5 s and outlast the node-loss detection).
        status, body = dial(client_ip, name, 8080)
        assert status == 400 and isinstance(body, str), body
        assert f"lookup {name} on {server}:53: read udp {client_ip}:" in body, body
        assert body.endswith(f"->{server}:53: i/o timeout\n"), body

        started = time.monotonic()
        replacements = wait_for(lambda: _coredns_pods(core), lambda ps: len(ps) == 2 and all(
            _ready(p) and nodes[p.spec.node_name] not in lost_zones for p in ps), timeout=60, interval=0.2,
            what="2 Ready CoreDNS pods outside the stopped zones")
        assert {nodes[p.spec.node_name] for p in replacements} == {survivor}
        msg = wait_for(lambda: _query_or_none(server, name), lambda m: m is not None and bool(m.answer),
                       timeout=10, interval=0.2, what="an answer from the rescheduled CoreDNS")
        assert msg is not None
        status, body = dial(client_ip, "web", 8080)
        assert status == 200 and isinstance(body, dict) and set(body["responses"]) <= web, body
        print(f"cluster DNS answered again {time.monotonic() - started:.1f}s after the failed lookups")
    finally:
        for node in stopped:
            _power(dns_cluster, node, True)


def _query_or_none(server: str, name: str) -> Any:
    try:
        return query(server, name, timeout=0.5)
    except dns.exception.Timeout:
        return None
