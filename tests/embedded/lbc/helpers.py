"""Shared pieces of the load-balancer flavour tests: an agnhost netexec app, Services, HTTP from a chosen source,
and questions to the cluster's declared NLB resolver."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rdatatype

from pytest_azchaos.kube.kubeconfig import declared_resolver

from ..waiting import wait_for

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"
ANN = "service.beta.kubernetes.io/"


def deploy(apps: Any, namespace: str, name: str, replicas: int, spread: bool = False) -> None:
    """agnhost netexec on :8080, ``replicas`` pods (one per zone with ``spread``)."""
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": AGNHOST, "args": ["netexec", "--http-port=8080"],
                                            "ports": [{"containerPort": 8080}]}]}
    if spread:
        spec["topologySpreadConstraints"] = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                              "whenUnsatisfiable": "DoNotSchedule",
                                              "labelSelector": {"matchLabels": {"app": name}}}]
    apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}})


def service(core: Any, namespace: str, name: str, app: str, annotations: dict[str, str] | None = None,
            **spec: Any) -> Any:
    body = {"metadata": {"name": name, "annotations": {ANN + k: v for k, v in (annotations or {}).items()}},
            "spec": {"type": "LoadBalancer", "selector": {"app": app},
                     "ports": [{"port": 8080, "targetPort": 8080, "protocol": "TCP"}], **spec}}
    return core.create_namespaced_service(namespace, body)


def hostname_of(core: Any, namespace: str, name: str, timeout: float = 20.0) -> str:
    svc = wait_for(lambda: core.read_namespaced_service(name, namespace),
                   lambda s: bool(s.status.load_balancer and s.status.load_balancer.ingress), timeout=timeout,
                   what=f"an ingress on {namespace}/{name}")
    return str(svc.status.load_balancer.ingress[0].hostname)


def resolver_of(kubeconfig: Path) -> tuple[str, int]:
    server = declared_resolver(kubeconfig)
    assert server, f"{kubeconfig} declares no resolver"
    host, _, port = server.rpartition(":")
    return host, int(port)


def ask(resolver: tuple[str, int], name: str, tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, dns.rdatatype.A)
    if tcp:
        return dns.query.tcp(query, resolver[0], port=resolver[1], timeout=2.0)
    return dns.query.udp(query, resolver[0], port=resolver[1], timeout=2.0)


def a_records(resolver: tuple[str, int], name: str) -> list[str]:
    response = ask(resolver, name)
    return sorted(r.address for rrset in response.answer for r in rrset)


def http_get(host: str, port: int, path: str, source: str | None = None, timeout: float = 2.0) -> str:
    """One HTTP/1.0 GET from ``source``; the body. ``TimeoutError`` when nothing answers in ``timeout``."""
    with socket.socket() as sock:
        sock.settimeout(timeout)
        if source:
            sock.bind((source, 0))
        sock.connect((host, port))
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        data = b""
        deadline = time.monotonic() + timeout
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                raise TimeoutError(f"no answer from {host}:{port} within {timeout}s (source {source})") from None
            if not chunk:
                break
            data += chunk
            if time.monotonic() > deadline:
                raise TimeoutError(f"answer from {host}:{port} too slow")
    head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200"), head
    return body


def node_address(core: Any) -> str:
    node = core.list_node().items[0]
    return next(a.address for a in node.status.addresses if a.type == "InternalIP")
