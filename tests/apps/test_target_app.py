"""A ``--azchaos-target`` found in a real (embedded) cluster: its Service, port and addresses, read-only, and each
way of getting it wrong refused naming the fix; lb_zone of a node's own address; a target's probe end to end."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kubernetes import client

from pytest_azchaos.apps.app import AppError
from pytest_azchaos.apps.target_app import needs, resolve_target, traffic_policy
from pytest_azchaos.report.evidence import Evidence
from pytest_azchaos.targets import parse_target
from pytest_azchaos.traffic.generator import Traffic
from pytest_azchaos.traffic.lb_zones import lb_address_zones
from pytest_azchaos.wellknown import ZONE_LABEL

LABELS = {"app": "web"}


def deployment(replicas: int = 2) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": LABELS},
                     "template": {"metadata": {"labels": {**LABELS, "tier": "front"}}, "spec": {"containers": [
                         {"name": "httpd", "image": "busybox:1.36",
                          "command": ["sh", "-c", "mkdir -p /www && echo hi > /www/index.html && "
                                                  "exec sleep 3600"]}]}}}}


def service(name: str, kind: str = "LoadBalancer", ports: tuple[int, ...] = (8080,),
            policy: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": kind, "selector": LABELS,
                            "ports": [{"name": f"p{p}", "port": p, "targetPort": 8080} for p in ports]}
    if policy:
        spec["externalTrafficPolicy"] = policy
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


@pytest.fixture
def web(apps: client.AppsV1Api, namespace: str) -> str:
    apps.create_namespaced_deployment(namespace, deployment())
    return namespace


def test_the_one_load_balancer_service_selecting_the_pods_is_found(plugin_cluster: Any, core: client.CoreV1Api,
                                                                     web: str) -> None:
    core.create_namespaced_service(web, service("web-internal", "ClusterIP"))
    core.create_namespaced_service(web, service("web-lb", ports=(8080, 9090), policy="Local"))
    app = resolve_target(plugin_cluster, parse_target(f"deployment/{web}/web"), lb_timeout=30)
    assert (app.service, app.port, app.kind, app.label_selector) == ("web-lb", 8080, "Deployment", "app=web")
    assert app.addresses and traffic_policy(app) == "Local"


def test_port_picks_one_of_the_service_ports(plugin_cluster: Any, core: client.CoreV1Api, web: str) -> None:
    core.create_namespaced_service(web, service("web-lb", ports=(8080, 9090)))
    app = resolve_target(plugin_cluster, parse_target(f"deployment/{web}/web,port=9090"), lb_timeout=30)
    assert app.port == 9090


def test_a_port_the_service_lacks_names_its_ports(plugin_cluster: Any, core: client.CoreV1Api, web: str) -> None:
    core.create_namespaced_service(web, service("web-lb"))
    with pytest.raises(AppError, match=r"has no port 81; its ports are 8080 \(set ,port=\)"):
        resolve_target(plugin_cluster, parse_target(f"deployment/{web}/web,port=81"), lb_timeout=30)


def test_no_load_balancer_service_names_the_fix(plugin_cluster: Any, core: client.CoreV1Api, web: str) -> None:
    core.create_namespaced_service(web, service("web-internal", "ClusterIP"))
    with pytest.raises(AppError) as info:
        resolve_target(plugin_cluster, parse_target(f"deployment/{web}/web"), lb_timeout=30)
    assert ("no Service of type LoadBalancer selects its pods (Services selecting them: web-internal (ClusterIP)); "
            "traffic must come through a load balancer: add ,service=NAME") in str(info.value)


def test_two_load_balancer_services_are_ambiguous(plugin_cluster: Any, core: client.CoreV1Api, web: str) -> None:
    core.create_namespaced_service(web, service("a"))
    core.create_namespaced_service(web, service("b"))
    with pytest.raises(AppError, match=r"more than one LoadBalancer Service selects its pods \(a, b\): pick one "
                                       r"with ,service=NAME"):
        resolve_target(plugin_cluster, parse_target(f"deployment/{web}/web"), lb_timeout=30)


def test_a_named_cluster_ip_service_is_refused(plugin_cluster: Any, core: client.CoreV1Api, web: str) -> None:
    core.create_namespaced_service(web, service("web-internal", "ClusterIP"))
    with pytest.raises(AppError, match="is of type ClusterIP, without a load balancer"):
        resolve_target(plugin_cluster, parse_target(f"deployment/{web}/web,service=web-internal"), lb_timeout=30)


def test_a_missing_workload_is_refused(plugin_cluster: Any, namespace: str) -> None:
    with pytest.raises(AppError, match=f"StatefulSet {namespace}/db not found"):
        resolve_target(plugin_cluster, parse_target(f"statefulset/{namespace}/db"), lb_timeout=30)


def test_resolving_changes_nothing(plugin_cluster: Any, core: client.CoreV1Api, apps: client.AppsV1Api,
                                   web: str) -> None:
    core.create_namespaced_service(web, service("web-lb"))
    def spec() -> tuple[Any, ...]:
        d = apps.read_namespaced_deployment("web", web)
        s = core.read_namespaced_service("web-lb", web)
        return (d.metadata.generation, d.metadata.labels, d.metadata.annotations, s.metadata.labels,
                s.metadata.annotations, s.spec.to_dict())

    before = spec()
    resolve_target(plugin_cluster, parse_target(f"deployment/{web}/web"), lb_timeout=30)
    assert spec() == before


def test_a_url_target_keeps_its_host_port_and_the_selecting_service(plugin_cluster: Any, core: client.CoreV1Api,
                                                                     web: str) -> None:
    core.create_namespaced_service(web, service("web-lb"))
    app = resolve_target(plugin_cluster, parse_target(f"deployment/{web}/web,url=https://shop.example.com/h"),
                         lb_timeout=30)
    assert (app.addresses, app.port, app.default_host, app.service) == (["shop.example.com"], 443,
                                                                       "shop.example.com", "web-lb")


def test_needs_names_the_setting_that_enables_a_check() -> None:
    bare = parse_target("deployment/shop/web")
    assert needs(None, "echo", "AZ-SRCIP") is None
    assert "add echo=/PATH" in (needs(bare, "echo", "AZ-SRCIP") or "")
    assert "add pod-header=NAME" in (needs(bare, "pod-header", "AZ-BALANCE") or "")
    assert needs(parse_target("deployment/shop/web,echo=/ip,pod-header=X-Pod"), "echo", "AZ-SRCIP") is None


def test_a_node_address_maps_to_its_zone_and_the_nlb_address_stays_unknown(plugin_cluster: Any,
                                                                           core: client.CoreV1Api, web: str) -> None:
    core.create_namespaced_service(web, service("web-lb"))
    app = resolve_target(plugin_cluster, parse_target(f"deployment/{web}/web"), lb_timeout=30)
    zones = lb_address_zones(app)
    node = core.list_node().items[0]
    address = next(a.address for a in node.status.addresses if a.type == "InternalIP")
    assert zones[address] == node.metadata.labels[ZONE_LABEL]
    # The embedded NLB's addresses are not reported by its AWS side: unknown, not guessed from their order.
    assert not set(app.addresses) & set(zones), (app.addresses, zones)


def test_traffic_to_a_node_port_records_the_node_zone(plugin_cluster: Any, core: client.CoreV1Api,
                                                      apps: client.AppsV1Api, namespace: str) -> None:
    """A url= target on a node's own address (its NodePort): every request says which zone's address it used."""
    site = deployment()
    pod = site["spec"]["template"]["spec"]
    pod["initContainers"] = [{"name": "files", "image": "busybox:1.36", "volumeMounts": [{"name": "www",
                                                                                          "mountPath": "/www"}],
                              "command": ["sh", "-c", "echo hi > /www/index.html"]}]
    pod["containers"][0].update(command=["httpd", "-f", "-p", "8080", "-h", "/www"],
                                volumeMounts=[{"name": "www", "mountPath": "/www"}])
    pod["volumes"] = [{"name": "www", "emptyDir": {}}]
    apps.create_namespaced_deployment(namespace, site)
    svc = core.create_namespaced_service(namespace, service("web-lb"))
    node_port = svc.spec.ports[0].node_port
    node = core.list_node().items[0]
    address = next(a.address for a in node.status.addresses if a.type == "InternalIP")
    target = parse_target(f"deployment/{namespace}/web,url=http://{address}:{node_port}/index.html,status=200")
    app = resolve_target(plugin_cluster, target, lb_timeout=30)
    traffic = Traffic(20, Evidence("test"), 30, zone_map=lb_address_zones)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len([p for p in app.pods() if _ready(p)]) < 2:
        time.sleep(0.5)
    prober = traffic.start(app)
    time.sleep(1.5)
    recording = prober.stop()
    traffic.stop_all()
    served = [r for r in recording.records if r.ok]
    assert served, {r.detail for r in recording.records}
    assert {r.lb_zone for r in recording.records} == {node.metadata.labels[ZONE_LABEL]}


def _ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def _ingress(name: str, host: str, backend: str) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name},
            "spec": {"rules": [{"host": host, "http": {"paths": [
                {"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": backend, "port": {"number": 8080}}}}]}}]}}


def test_an_ingress_without_an_address_names_its_controller(plugin_cluster: Any, web: str) -> None:
    client.NetworkingV1Api(plugin_cluster.api).create_namespaced_ingress(web, _ingress("web", "shop.example.com",
                                                                                       "web-lb"))
    with pytest.raises(AppError, match=r"Ingress .*/web got no address within 1s: check that its ingress controller "
                                       r"runs"):
        resolve_target(plugin_cluster, parse_target(f"deployment/{web}/web,ingress=web"), lb_timeout=1)


def test_an_ingress_gives_its_address_host_and_backend_service(plugin_cluster: Any, web: str) -> None:
    api = client.NetworkingV1Api(plugin_cluster.api)
    api.create_namespaced_ingress(web, _ingress("web", "shop.example.com", "web-lb"))
    api.patch_namespaced_ingress_status("web", web, {"status": {"loadBalancer": {"ingress": [
        {"hostname": "k8s-shop-web-0123456789.us-east-1.elb.amazonaws.com"}]}}})
    app = resolve_target(plugin_cluster, parse_target(f"deployment/{web}/web,ingress=web,scheme=https,"
                                                      "verify=false"), lb_timeout=10)
    assert (app.addresses, app.port, app.default_host, app.service) == (
        ["k8s-shop-web-0123456789.us-east-1.elb.amazonaws.com"], 443, "shop.example.com", "web-lb")
