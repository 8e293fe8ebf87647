"""Helpers of the cluster DNS tests: agnhost netexec workloads, their /dial, DNS questions over real sockets."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from typing import Any

import dns.message
import dns.query

from pytest_azchaos.embedded.process import ClusterHandle
from tests.embedded.waiting import wait_for

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.53"
ZONE = "topology.kubernetes.io/zone"


def kubectl(handle: ClusterHandle, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "--kubeconfig", str(handle.kubeconfig), *args], capture_output=True,
                          text=True, timeout=60)


def netexec(kube: Any, namespace: str, name: str, *, zone: str | None = None, replicas: int = 1,
            pod_spec: dict | None = None, headless: bool = False) -> None:
    """A netexec Deployment ``name`` (HTTP 8080, UDP 8081) and its Service (8080 -> 8080, 8081/UDP -> 8081: ports an
    ordinary user's cluster can serve, as the sample app's)."""
    from kubernetes import client

    spec: dict = {"containers": [{"name": "netexec", "image": AGNHOST, "args": ["netexec", "--http-port=8080"]}],
                  **(pod_spec or {})}
    if zone is not None:
        spec["nodeSelector"] = {ZONE: zone}
    client.AppsV1Api(kube).create_namespaced_deployment(namespace, {
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}})
    client.CoreV1Api(kube).create_namespaced_service(namespace, {
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, **({"clusterIP": "None"} if headless else {}),
                 "ports": [{"name": "http", "port": 8080, "targetPort": 8080},
                           {"name": "udp", "port": 8081, "targetPort": 8081,
                            "protocol": "UDP"}]}})


def ready_pods(kube: Any, namespace: str, app: str, count: int, timeout: float = 30.0) -> list[dict]:
    """The app's Running, Ready pods once there are ``count`` of them."""
    from kubernetes import client

    core = client.CoreV1Api(kube)

    def fetch() -> list[dict]:
        pods = core.list_namespaced_pod(namespace, label_selector=f"app={app}").items
        return [kube.sanitize_for_serialization(p) for p in pods
                if p.metadata.deletion_timestamp is None
                and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]

    return wait_for(fetch, lambda pods: len(pods) == count, timeout=timeout, interval=0.2,
                    what=f"{count} ready {app} pods")


def service_routes(kube: Any, namespace: str, name: str, endpoints: int, timeout: float = 10.0) -> None:
    """Wait until kube-proxy routes ``name``'s ClusterIP to its ``endpoints`` netexec pods (EndpointSlice updates
    reach the proxy after the profile's propagation delay, as they reach real nodes)."""
    from kubernetes import client

    ip = client.CoreV1Api(kube).read_namespaced_service(name, namespace).spec.cluster_ip
    seen: set[str] = set()

    def fetch() -> set[str]:
        try:
            with urllib.request.urlopen(f"http://{ip}:8080/hostname", timeout=0.5) as r:
                seen.add(r.read().decode())
        except OSError:
            pass
        return seen

    wait_for(fetch, lambda s: len(s) >= endpoints, timeout=timeout, interval=0.05,
             what=f"{name}'s ClusterIP answering from {endpoints} pods")


def dial(pod_ip: str, host: str, port: int, protocol: str = "http", tries: int = 1, request: str = "hostname",
         timeout: float = 60.0) -> tuple[int, dict | str]:
    """netexec's ``/dial`` on ``pod_ip``: (status, JSON body or text)."""
    url = (f"http://{pod_ip}:8080/dial?request={request}&host={host}&port={port}&protocol={protocol}"
           f"&tries={tries}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


# The port each known cluster serves DNS's 53 on (53, or 10053 when 53 needs root), by its addresses' second
# octet: this process is outside the cluster, so it dials that port itself, as ``ClusterHandle.dns_port`` says.
_DNS_PORTS: dict[int, int] = {}


def know_dns_port(handle: ClusterHandle) -> None:
    """Let :func:`query` find ``handle``'s DNS port for its ClusterIPs (127.<block>) and pods (127.<block+1>)."""
    _DNS_PORTS[handle.block] = _DNS_PORTS[handle.block + 1] = handle.dns_port


def query(server: str, name: str, rdtype: str = "A", tcp: bool = False, timeout: float = 2.0,
          port: int | None = None) -> dns.message.Message:
    """One DNS question to ``server``:``port`` over UDP (or TCP) from this process; ``port`` None: the DNS port
    of the cluster ``server`` is in (:func:`know_dns_port`), else 53."""
    if port is None:
        port = _DNS_PORTS.get(int(server.split(".")[1]), 53) if server.startswith("127.") else 53
    q = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(q, server, timeout=timeout, port=port)
    return dns.query.udp(q, server, timeout=timeout, port=port)


def kube_dns_ip(kube: Any) -> str:
    from kubernetes import client

    return client.CoreV1Api(kube).read_namespaced_service("kube-dns", "kube-system").spec.cluster_ip
