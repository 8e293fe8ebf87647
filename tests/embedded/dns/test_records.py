"""CoreDNS's ``kubernetes`` plugin answers from the store: Service, headless, StatefulSet hostnames, SRV, PTR,
pods insecure, and NXDOMAIN/NODATA with the zone's SOA, as ``plugin/kubernetes`` answers them."""

from __future__ import annotations

import ipaddress

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from pytest_azchaos.embedded.apiserver.resources import REGISTRY
from pytest_azchaos.embedded.apiserver.store import Store
from pytest_azchaos.embedded.dns.records import ClusterDnsIndex
from pytest_azchaos.embedded.dns.server import respond, to_wire

SERVICES = REGISTRY.lookup("", "v1", "services")
SLICES = REGISTRY.lookup("discovery.k8s.io", "v1", "endpointslices")


def _slice(name: str, service: str, endpoints: list[dict], ports: list[dict]) -> dict:
    return {"metadata": {"name": name, "labels": {"kubernetes.io/service-name": service}},
            "addressType": "IPv4", "endpoints": endpoints, "ports": ports}


@pytest.fixture
def store() -> Store:
    s = Store()
    s.create(REGISTRY.lookup("", "v1", "namespaces"), "", {"metadata": {"name": "shop"}})
    s.create(SERVICES, "shop", {"metadata": {"name": "web"}, "spec": {
        "clusterIP": "127.10.96.20", "clusterIPs": ["127.10.96.20"], "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}})
    s.create(SERVICES, "shop", {"metadata": {"name": "db"}, "spec": {
        "clusterIP": "None", "clusterIPs": ["None"], "selector": {"app": "db"},
        "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}]}})
    s.create(SERVICES, "shop", {"metadata": {"name": "ext"}, "spec": {
        "type": "ExternalName", "externalName": "example.com"}})
    s.create(SLICES, "shop", _slice("db-1", "db", [
        {"addresses": ["127.11.0.5"], "hostname": "db-0", "conditions": {"ready": True}},
        {"addresses": ["127.11.0.6"], "hostname": "db-1", "conditions": {"ready": True}},
        {"addresses": ["127.11.0.7"], "hostname": "db-2", "conditions": {"ready": False}}],
        [{"name": "pg", "port": 5432, "protocol": "TCP"}]))
    return s


def ask(index: ClusterDnsIndex, name: str, rdtype: str = "A") -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    return dns.message.from_wire(to_wire(query, respond(index, query), 512))


def records(msg: dns.message.Message, section: str = "answer") -> list[str]:
    return sorted(rd.to_text() for rrset in getattr(msg, section) for rd in rrset)


def test_a_record_of_a_clusterip_service_is_its_clusterip(store: Store) -> None:
    msg = ask(ClusterDnsIndex(store), "web.shop.svc.cluster.local.")
    assert msg.rcode() == dns.rcode.NOERROR and records(msg) == ["127.10.96.20"], msg
    assert msg.flags & dns.flags.AA and not msg.flags & dns.flags.RA, dns.flags.to_text(msg.flags)
    assert msg.answer[0].ttl == 5


def test_headless_service_answers_its_ready_endpoints_only(store: Store) -> None:
    msg = ask(ClusterDnsIndex(store), "db.shop.svc.cluster.local.")
    assert records(msg) == ["127.11.0.5", "127.11.0.6"], msg


def test_statefulset_hostname_under_its_headless_service(store: Store) -> None:
    index = ClusterDnsIndex(store)
    assert records(ask(index, "db-1.db.shop.svc.cluster.local.")) == ["127.11.0.6"]
    assert ask(index, "db-2.db.shop.svc.cluster.local.").rcode() == dns.rcode.NXDOMAIN  # not ready


def test_srv_of_a_named_port_with_the_target_address_in_additional(store: Store) -> None:
    index = ClusterDnsIndex(store)
    msg = ask(index, "_http._tcp.web.shop.svc.cluster.local.", "SRV")
    assert records(msg) == ["0 100 80 web.shop.svc.cluster.local."], msg
    assert records(msg, "additional") == ["127.10.96.20"], msg
    headless = ask(index, "_pg._tcp.db.shop.svc.cluster.local.", "SRV")
    assert records(headless) == ["0 50 5432 db-0.db.shop.svc.cluster.local.",
                                 "0 50 5432 db-1.db.shop.svc.cluster.local."], headless
    assert ask(index, "_nope._tcp.web.shop.svc.cluster.local.", "SRV").rcode() == dns.rcode.NXDOMAIN


def test_missing_names_are_nxdomain_with_the_zone_soa(store: Store) -> None:
    index = ClusterDnsIndex(store)
    for name in ("nope.shop.svc.cluster.local.", "web.nope.svc.cluster.local.", "x.cluster.local."):
        msg = ask(index, name)
        assert msg.rcode() == dns.rcode.NXDOMAIN and msg.flags & dns.flags.AA, (name, msg)
        (soa,) = msg.authority
        assert soa.to_text().startswith("cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. ")


def test_aaaa_of_an_ipv4_service_and_a_namespace_name_are_nodata(store: Store) -> None:
    index = ClusterDnsIndex(store)
    for name, rdtype in (("web.shop.svc.cluster.local.", "AAAA"), ("shop.svc.cluster.local.", "A")):
        msg = ask(index, name, rdtype)
        assert msg.rcode() == dns.rcode.NOERROR and not msg.answer and msg.authority, (name, msg)


def test_external_name_service_is_a_cname(store: Store) -> None:
    msg = ask(ClusterDnsIndex(store), "ext.shop.svc.cluster.local.")
    assert [r.to_text() for r in msg.answer] == ["ext.shop.svc.cluster.local. 5 IN CNAME example.com."]


def test_pods_insecure_answers_the_spelled_address_in_an_existing_namespace(store: Store) -> None:
    index = ClusterDnsIndex(store)
    assert records(ask(index, "127-11-0-9.shop.pod.cluster.local.")) == ["127.11.0.9"]
    assert ask(index, "127-11-0-9.nope.pod.cluster.local.").rcode() == dns.rcode.NXDOMAIN


def test_ptr_of_a_clusterip_and_of_an_endpoint(store: Store) -> None:
    index = ClusterDnsIndex(store)
    assert records(ask(index, "20.96.10.127.in-addr.arpa.", "PTR")) == ["web.shop.svc.cluster.local."]
    assert records(ask(index, "5.0.11.127.in-addr.arpa.", "PTR")) == ["db-0.db.shop.svc.cluster.local."]


def test_names_outside_the_cluster_are_forwarded_and_fail_without_an_upstream(store: Store) -> None:
    index = ClusterDnsIndex(store)
    assert ask(index, "example.com.").rcode() == dns.rcode.SERVFAIL
    assert ask(index, "9.9.9.10.in-addr.arpa.", "PTR").rcode() == dns.rcode.SERVFAIL  # fallthrough in-addr.arpa
    assert ask(index, "nope.").rcode() == dns.rcode.NXDOMAIN  # no such top-level domain


def test_index_follows_service_changes(store: Store) -> None:
    index = ClusterDnsIndex(store)
    store.create(SERVICES, "shop", {"metadata": {"name": "late"}, "spec": {
        "clusterIP": "127.10.96.30", "clusterIPs": ["127.10.96.30"], "ports": [{"port": 80}]}})
    assert records(ask(index, "late.shop.svc.cluster.local.")) == ["127.10.96.30"]
    store.delete(SERVICES, "shop", "late")
    assert ask(index, "late.shop.svc.cluster.local.").rcode() == dns.rcode.NXDOMAIN


def test_an_answer_too_big_for_udp_comes_back_truncated(store: Store) -> None:
    endpoints = [{"addresses": [f"127.11.1.{i}"], "conditions": {"ready": True}} for i in range(1, 60)]
    store.create(SLICES, "shop", _slice("db-big", "db", endpoints, [{"name": "pg", "port": 5432}]))
    msg = ask(ClusterDnsIndex(store), "db.shop.svc.cluster.local.")
    assert msg.flags & dns.flags.TC and not msg.answer, msg


def test_vpc_hostnames_are_answered_as_the_vpc_resolver_would(store: Store) -> None:
    index = ClusterDnsIndex(store)
    msg = ask(index, "ip-192-168-1-7.ec2.internal.")
    assert records(msg) == ["192.168.1.7"] and msg.flags & dns.flags.RA and not msg.flags & dns.flags.AA, msg
    assert ask(index, "web.ec2.internal.").rcode() == dns.rcode.NXDOMAIN
    assert ask(index, "web.eu-west-1.compute.internal.").rcode() == dns.rcode.NXDOMAIN


def test_the_vpc_resolver_knows_nothing_of_the_cluster_and_cannot_reach_the_internet() -> None:
    from pytest_azchaos.embedded.cloud.layer import VPC_CIDR
    from pytest_azchaos.embedded.dns.vpc import AMAZON_PROVIDED_DNS, vpc_answer

    assert AMAZON_PROVIDED_DNS[0] == str(ipaddress.ip_network(VPC_CIDR).network_address + 2)
    assert vpc_answer(dns.message.make_query("web.shop.svc.cluster.local.", "A")).rcode() == dns.rcode.NXDOMAIN
    assert vpc_answer(dns.message.make_query("example.com.", "A")).rcode() == dns.rcode.SERVFAIL
