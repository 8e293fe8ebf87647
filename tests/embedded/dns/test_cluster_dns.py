"""Cluster DNS on a running embedded cluster, over real sockets: the CoreDNS add-on's objects, resolv.conf per
dnsPolicy, Service names resolving from pods (A, headless, SRV) over UDP and TCP, and netexec's /dial by name."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import urllib.request
from typing import Any

import dns.flags
import dns.rcode
import dns.rdatatype
from kubernetes import client

from pytest_azchaos.embedded.dns.resolver import ResolvConf, StubResolver
from pytest_azchaos.embedded.process import ClusterHandle
from tests.embedded.dns.helpers import (
    AGNHOST,
    dial,
    kube_dns_ip,
    kubectl,
    netexec,
    query,
    ready_pods,
    service_routes,
)


def test_coredns_addon_has_the_eks_defaults(kube: Any) -> None:
    apps, core = client.AppsV1Api(kube), client.CoreV1Api(kube)
    deploy = kube.sanitize_for_serialization(apps.read_namespaced_deployment("coredns", "kube-system"))
    spec = deploy["spec"]
    assert spec["replicas"] == 2
    assert spec["template"]["spec"]["topologySpreadConstraints"] == [{
        "labelSelector": {"matchLabels": {"k8s-app": "kube-dns"}}, "maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"}]
    assert spec["selector"]["matchLabels"] == {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"}
    image = spec["template"]["spec"]["containers"][0]["image"]
    assert image.startswith("602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/coredns:v1."), image
    pdb = client.PolicyV1Api(kube).read_namespaced_pod_disruption_budget("coredns", "kube-system")
    assert pdb.spec.max_unavailable == 1 and pdb.spec.min_available is None
    svc = core.read_namespaced_service("kube-dns", "kube-system")
    kubernetes_ip = ipaddress.ip_address(core.read_namespaced_service("kubernetes", "default").spec.cluster_ip)
    assert svc.spec.cluster_ip == str(kubernetes_ip + 9), "the service CIDR's 10th address (.1 is kubernetes)"
    assert [(p.name, p.port, p.protocol) for p in svc.spec.ports] == [
        ("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
    pods = core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items
    assert len(pods) == 2 and all(p.status.phase == "Running" for p in pods), [p.status.phase for p in pods]


def _pause_pod(core: client.CoreV1Api, ns: str, name: str, **spec: Any) -> None:
    core.create_namespaced_pod(ns, {"metadata": {"name": name}, "spec": {
        "containers": [{"name": "c", "image": AGNHOST, "args": ["pause"]}], **spec}})


def test_kubelet_writes_resolv_conf_per_dns_policy(dns_cluster: ClusterHandle, kube: Any, ns: str) -> None:
    core = client.CoreV1Api(kube)
    dns_ip = kube_dns_ip(kube)
    _pause_pod(core, ns, "cluster-first")
    _pause_pod(core, ns, "default", dnsPolicy="Default")
    _pause_pod(core, ns, "none", dnsPolicy="None", dnsConfig={
        "nameservers": ["1.2.3.4"], "searches": ["corp.example"], "options": [{"name": "ndots", "value": "2"}]})
    _pause_pod(core, ns, "host-net", hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet")
    _pause_pod(core, ns, "tuned", dnsConfig={"options": [{"name": "timeout", "value": "1"}]})
    expected = {
        "cluster-first": f"search {ns}.svc.cluster.local svc.cluster.local cluster.local ec2.internal\n"
                         f"nameserver {dns_ip}\noptions ndots:5\n",
        "default": "search ec2.internal\nnameserver 192.168.0.2\n",
        "none": "search corp.example\nnameserver 1.2.3.4\noptions ndots:2\n",
        "host-net": f"search {ns}.svc.cluster.local svc.cluster.local cluster.local ec2.internal\n"
                    f"nameserver {dns_ip}\noptions ndots:5\n",
        "tuned": f"search {ns}.svc.cluster.local svc.cluster.local cluster.local ec2.internal\n"
                 f"nameserver {dns_ip}\noptions ndots:5 timeout:1\n",
    }
    for name, text in expected.items():
        kubectl(dns_cluster, "-n", ns, "wait", "--for=condition=Ready", f"pod/{name}", "--timeout=30s")
        r = kubectl(dns_cluster, "-n", ns, "exec", name, "--", "cat", "/etc/resolv.conf")
        assert r.returncode == 0 and r.stdout == text, (name, r.stdout, r.stderr)


def _lookup(resolv_conf: str, source: str, name: str) -> list[str]:
    return asyncio.run(StubResolver(ResolvConf.parse(resolv_conf), source).lookup_host(name))


def test_service_name_resolves_from_a_pod(dns_cluster: ClusterHandle, kube: Any, ns: str) -> None:
    netexec(kube, ns, "web", replicas=2)
    netexec(kube, ns, "db", replicas=2, headless=True)
    netexec(kube, ns, "client")
    client_pod = ready_pods(kube, ns, "client", 1)[0]
    ready_pods(kube, ns, "web", 2)
    db = ready_pods(kube, ns, "db", 2)
    resolv = kubectl(dns_cluster, "-n", ns, "exec", client_pod["metadata"]["name"], "--", "cat",
                     "/etc/resolv.conf").stdout
    source = client_pod["status"]["podIP"]
    web_ip = client.CoreV1Api(kube).read_namespaced_service("web", ns).spec.cluster_ip
    assert _lookup(resolv, source, "web") == [web_ip]
    assert _lookup(resolv, source, f"web.{ns}") == [web_ip]
    assert sorted(_lookup(resolv, source, "db")) == sorted(p["status"]["podIP"] for p in db)


def test_srv_record_names_the_service_and_its_port(kube: Any, ns: str) -> None:
    netexec(kube, ns, "web")
    msg = query(kube_dns_ip(kube), f"_http._tcp.web.{ns}.svc.cluster.local.", "SRV")
    assert [rd.to_text() for rrset in msg.answer for rd in rrset] == [f"0 100 8080 web.{ns}.svc.cluster.local."], msg
    web_ip = client.CoreV1Api(kube).read_namespaced_service("web", ns).spec.cluster_ip
    assert [rd.to_text() for rrset in msg.additional for rd in rrset] == [web_ip], msg


def test_cluster_dns_answers_over_udp_and_tcp_through_the_kube_dns_clusterip(kube: Any, ns: str) -> None:
    netexec(kube, ns, "web")
    name = f"web.{ns}.svc.cluster.local."
    web_ip = client.CoreV1Api(kube).read_namespaced_service("web", ns).spec.cluster_ip
    for tcp in (False, True):
        msg = query(kube_dns_ip(kube), name, tcp=tcp)
        assert [rd.to_text() for rrset in msg.answer for rd in rrset] == [web_ip], (tcp, msg)
        assert msg.flags & dns.flags.AA and not msg.flags & dns.flags.RA, dns.flags.to_text(msg.flags)


def test_missing_service_is_nxdomain_with_authority(kube: Any, ns: str) -> None:
    msg = query(kube_dns_ip(kube), f"nope.{ns}.svc.cluster.local.")
    assert msg.rcode() == dns.rcode.NXDOMAIN and msg.flags & dns.flags.AA, msg
    assert msg.authority and msg.authority[0].rdtype == dns.rdatatype.SOA, msg


def test_dial_by_service_name_reaches_another_services_pods(kube: Any, ns: str) -> None:
    netexec(kube, ns, "web", replicas=2)
    netexec(kube, ns, "client")
    names = {p["metadata"]["name"] for p in ready_pods(kube, ns, "web", 2)}
    client_ip = ready_pods(kube, ns, "client", 1)[0]["status"]["podIP"]
    service_routes(kube, ns, "web", 2)
    status, body = dial(client_ip, "web", 8080, "http", tries=3)
    assert status == 200 and isinstance(body, dict) and len(body.get("responses", [])) == 3, body
    assert set(body["responses"]) <= names, (body, names)
    status, body = dial(client_ip, f"web.{ns}.svc.cluster.local", 8081, "udp", tries=2)
    assert status == 200 and isinstance(body, dict) and set(body.get("responses", [])) <= names, body
    assert len(body["responses"]) == 2, body


def test_dial_to_an_unknown_name_is_no_such_host_from_the_cluster_dns(kube: Any, ns: str) -> None:
    netexec(kube, ns, "client")
    client_ip = ready_pods(kube, ns, "client", 1)[0]["status"]["podIP"]
    status, body = dial(client_ip, "nope", 8080)
    assert (status, body) == (400, "host and/or port param are invalid. "
                                    f"lookup nope on {kube_dns_ip(kube)}:53: no such host\n")


def test_nslookup_in_an_agnhost_pod_resolves_a_service_name(dns_cluster: ClusterHandle, kube: Any, ns: str) -> None:
    netexec(kube, ns, "web")
    netexec(kube, ns, "client")
    pod = ready_pods(kube, ns, "client", 1)[0]["metadata"]["name"]
    server = kube_dns_ip(kube)
    web_ip = client.CoreV1Api(kube).read_namespaced_service("web", ns).spec.cluster_ip
    fqdn = f"web.{ns}.svc.cluster.local"
    r = kubectl(dns_cluster, "-n", ns, "exec", pod, "--", "nslookup", fqdn)
    # The A answer, then the AAAA one (authoritative, empty: only its blank line).
    assert (r.returncode, r.stdout) == (0, f"Server:\t\t{server}\nAddress:\t{server}:53\n\n"
                                           f"Name:\t{fqdn}\nAddress: {web_ip}\n\n\n"), r
    # A short name is asked under every search domain (never bare): the others are NXDOMAIN, so busybox exits 1.
    r = kubectl(dns_cluster, "-n", ns, "exec", pod, "--", "sh", "-c", "nslookup web")
    assert r.returncode == 1, r
    assert f"Name:\t{fqdn}\nAddress: {web_ip}\n" in r.stdout, r.stdout
    assert "** server can't find web.svc.cluster.local: NXDOMAIN\n" in r.stdout, r.stdout
    assert "** server can't find web.ec2.internal: NXDOMAIN\n" in r.stdout, r.stdout
    # The same through netexec's /shell, as upstream e2e tests run it.
    ip = ready_pods(kube, ns, "client", 1)[0]["status"]["podIP"]
    with urllib.request.urlopen(f"http://{ip}:8080/shell?cmd=nslookup+{fqdn}", timeout=30) as resp:
        output = json.loads(resp.read())
    assert output == {"output": f"Server:\t\t{server}\nAddress:\t{server}:53\n\n"
                                f"Name:\t{fqdn}\nAddress: {web_ip}\n\n\n"}, output


def test_agnhost_dns_suffix_and_server_list_read_the_pods_resolv_conf(dns_cluster: ClusterHandle, kube: Any,
                                                                      ns: str) -> None:
    netexec(kube, ns, "client")
    pod = ready_pods(kube, ns, "client", 1)[0]["metadata"]["name"]
    r = kubectl(dns_cluster, "-n", ns, "exec", pod, "--", "/agnhost", "dns-suffix")
    assert (r.returncode, r.stdout) == (0, f"{ns}.svc.cluster.local,svc.cluster.local,cluster.local,ec2.internal\n"), r
    r = kubectl(dns_cluster, "-n", ns, "exec", pod, "--", "/agnhost", "dns-server-list")
    assert (r.returncode, r.stdout) == (0, f"{kube_dns_ip(kube)}\n"), r


def test_statefulset_pods_resolve_as_hostname_dot_governing_service(dns_cluster: ClusterHandle, kube: Any,
                                                                     ns: str) -> None:
    client.CoreV1Api(kube).create_namespaced_service(ns, {"metadata": {"name": "db"}, "spec": {
        "clusterIP": "None", "selector": {"app": "db"}, "ports": [{"name": "http", "port": 8080}]}})
    client.AppsV1Api(kube).create_namespaced_stateful_set(ns, {"metadata": {"name": "db"}, "spec": {
        "serviceName": "db", "replicas": 2, "selector": {"matchLabels": {"app": "db"}},
        "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [
            {"name": "netexec", "image": AGNHOST, "args": ["netexec", "--http-port=8080"]}]}}}})
    netexec(kube, ns, "client")
    pods = {p["metadata"]["name"]: p["status"]["podIP"] for p in ready_pods(kube, ns, "db", 2, timeout=60)}
    client_pod = ready_pods(kube, ns, "client", 1)[0]
    resolv = kubectl(dns_cluster, "-n", ns, "exec", client_pod["metadata"]["name"], "--", "cat",
                     "/etc/resolv.conf").stdout
    for name, ip in pods.items():
        assert _lookup(resolv, client_pod["status"]["podIP"], f"{name}.db") == [ip], name
    status, body = dial(client_pod["status"]["podIP"], "db-1.db", 8080)
    assert status == 200 and isinstance(body, dict) and body["responses"] == ["db-1"], body


def test_a_default_policy_pod_asks_the_vpc_resolver(dns_cluster: ClusterHandle, kube: Any, ns: str) -> None:
    netexec(kube, ns, "node-dns", pod_spec={"dnsPolicy": "Default"})
    pod = ready_pods(kube, ns, "node-dns", 1)[0]
    node_ip = next(a.address for a in client.CoreV1Api(kube).read_node(pod["spec"]["nodeName"]).status.addresses
                   if a.type == "InternalIP")
    status, body = dial(pod["status"]["podIP"], "kubernetes.default.svc.cluster.local", 443)
    assert (status, body) == (400, "host and/or port param are invalid. lookup kubernetes.default.svc.cluster.local "
                                   "on 192.168.0.2:53: no such host\n")
    r = kubectl(dns_cluster, "-n", ns, "exec", pod["metadata"]["name"], "--", "nslookup",
                "ip-" + node_ip.replace(".", "-") + ".ec2.internal")
    assert r.returncode == 0 and "Non-authoritative answer:\n" in r.stdout and f"Address: {node_ip}\n" in r.stdout, r
