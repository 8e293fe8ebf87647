"""A pod's /etc/resolv.conf per dnsPolicy, as the kubelet forms it (GetPodDNS) and containerd writes it."""

from __future__ import annotations

from pytest_azchaos.embedded.kubelet.dns_config import node_resolv_conf, pod_resolv_conf

NODE = node_resolv_conf("us-east-1")
CLUSTER_DNS = ["10.100.0.10"]


def pod(policy: str | None = None, host_network: bool = False, dns_config: dict | None = None) -> dict:
    spec: dict = {"containers": [{"name": "c", "image": "x"}]}
    if policy:
        spec["dnsPolicy"] = policy
    if host_network:
        spec["hostNetwork"] = True
    if dns_config is not None:
        spec["dnsConfig"] = dns_config
    return {"metadata": {"name": "p", "namespace": "shop"}, "spec": spec}


def test_node_file_is_the_vpc_resolver_and_the_region_domain() -> None:
    assert NODE == "nameserver 192.168.0.2\nsearch ec2.internal\n"
    assert node_resolv_conf("eu-west-1") == "nameserver 192.168.0.2\nsearch eu-west-1.compute.internal\n"


def test_cluster_first_searches_the_namespace_then_the_node_domain() -> None:
    text, warnings = pod_resolv_conf(pod(), CLUSTER_DNS, "cluster.local", NODE)
    assert text == ("search shop.svc.cluster.local svc.cluster.local cluster.local ec2.internal\n"
                    "nameserver 10.100.0.10\noptions ndots:5\n")
    assert warnings == []


def test_default_policy_copies_the_node_file() -> None:
    text, _ = pod_resolv_conf(pod("Default"), CLUSTER_DNS, "cluster.local", NODE)
    assert text == "search ec2.internal\nnameserver 192.168.0.2\n"


def test_cluster_first_on_the_host_network_falls_back_to_default() -> None:
    text, _ = pod_resolv_conf(pod("ClusterFirst", host_network=True), CLUSTER_DNS, "cluster.local", NODE)
    assert text == "search ec2.internal\nnameserver 192.168.0.2\n"


def test_cluster_first_with_host_net_uses_the_cluster_dns() -> None:
    text, _ = pod_resolv_conf(pod("ClusterFirstWithHostNet", host_network=True), CLUSTER_DNS, "cluster.local", NODE)
    assert text.startswith("search shop.svc.cluster.local svc.cluster.local cluster.local ec2.internal\n"
                           "nameserver 10.100.0.10\n")


def test_none_takes_dns_config_alone() -> None:
    config = {"nameservers": ["1.2.3.4"], "searches": ["a.example"], "options": [{"name": "ndots", "value": "2"},
                                                                                   {"name": "edns0"}]}
    text, _ = pod_resolv_conf(pod("None", dns_config=config), CLUSTER_DNS, "cluster.local", NODE)
    assert text == "search a.example\nnameserver 1.2.3.4\noptions ndots:2 edns0\n"


def test_dns_config_is_merged_with_the_pods_options_winning() -> None:
    config = {"searches": ["svc.cluster.local", "extra.example"],
              "options": [{"name": "ndots", "value": "1"}, {"name": "timeout", "value": "1"}]}
    text, _ = pod_resolv_conf(pod(dns_config=config), CLUSTER_DNS, "cluster.local", NODE)
    assert text == ("search shop.svc.cluster.local svc.cluster.local cluster.local ec2.internal extra.example\n"
                    "nameserver 10.100.0.10\noptions ndots:1 timeout:1\n")


def test_too_many_nameservers_are_cut_with_the_kubelets_warning() -> None:
    config = {"nameservers": ["1.1.1.1", "2.2.2.2", "3.3.3.3"]}
    text, warnings = pod_resolv_conf(pod(dns_config=config), CLUSTER_DNS, "cluster.local", NODE)
    assert "nameserver 10.100.0.10\nnameserver 1.1.1.1\nnameserver 2.2.2.2\n" in text and "3.3.3.3" not in text
    assert warnings == ["Nameserver limits were exceeded, some nameservers have been omitted, the applied "
                        "nameserver line is: 10.100.0.10 1.1.1.1 2.2.2.2"]
