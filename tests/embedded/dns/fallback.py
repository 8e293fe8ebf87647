"""Checks of cluster DNS seen from inside the cluster, shared by the tests of the port-53 fallback
(``network/dns_port.py``): forced as root (``test_dns_port_fallback.py``) and real as an ordinary user
(``tests/embedded/network/test_unprivileged.py``). Every Service port here is 1024 or more, so they hold for
an ordinary user too."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle
from tests.embedded.dns.helpers import AGNHOST, dial, kube_dns_ip, kubectl, ready_pods
from tests.embedded.waiting import wait_for


def coredns_ready(kube: Any, timeout: float = 60.0) -> list[client.V1Pod]:
    """CoreDNS's two pods once both are Ready (fails with their statuses when they are not, e.g. CrashLoop)."""
    core = client.CoreV1Api(kube)

    def fetch() -> list[client.V1Pod]:
        return core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items

    def ready(pods: list[client.V1Pod]) -> bool:
        return len(pods) == 2 and all(any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
                                      for p in pods)

    return wait_for(fetch, ready, timeout=timeout, interval=0.2, what="2 Ready CoreDNS pods")


def web_and_client(kube: Any, namespace: str) -> tuple[str, str, str]:
    """netexec Deployment ``web`` behind Service ``web`` (8080/TCP) and a netexec pod ``client``, both Ready:
    (client pod name, client pod IP, web's ClusterIP)."""
    apps, core = client.AppsV1Api(kube), client.CoreV1Api(kube)
    for name in ("web", "client"):
        apps.create_namespaced_deployment(namespace, {
            "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
                         {"name": "netexec", "image": AGNHOST, "args": ["netexec", "--http-port=8080"]}]}}}})
    core.create_namespaced_service(namespace, {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}})
    ready_pods(kube, namespace, "web", 1, timeout=60)
    pod = ready_pods(kube, namespace, "client", 1, timeout=60)[0]
    web_ip = core.read_namespaced_service("web", namespace).spec.cluster_ip
    return pod["metadata"]["name"], pod["status"]["podIP"], web_ip


def dial_web_by_name(client_ip: str) -> dict:
    """netexec's /dial from the client pod to ``web:8080`` by its short name (Go's resolver, resolv.conf's
    kube-dns); retried while the Service's endpoints reach kube-proxy."""
    def fetch() -> tuple[int, dict | str]:
        return dial(client_ip, "web", 8080, "http", tries=1, timeout=30)

    _, body = wait_for(fetch, lambda r: r[0] == 200 and isinstance(r[1], dict) and bool(r[1].get("responses")),
                       timeout=30, interval=0.5, what="/dial web:8080 answered")
    assert isinstance(body, dict)
    return body


def nslookup_web(handle: ClusterHandle, kube: Any, namespace: str, pod: str, web_ip: str) -> str:
    """``kubectl exec POD -- nslookup web.<ns>.svc.cluster.local``; asserts busybox's output names kube-dns's
    ClusterIP and port 53 and web's ClusterIP; returns it."""
    server = kube_dns_ip(kube)
    fqdn = f"web.{namespace}.svc.cluster.local"
    r = kubectl(handle, "-n", namespace, "exec", pod, "--", "nslookup", fqdn)
    assert (r.returncode, r.stdout) == (0, f"Server:\t\t{server}\nAddress:\t{server}:53\n\n"
                                           f"Name:\t{fqdn}\nAddress: {web_ip}\n\n\n"), r
    return r.stdout
