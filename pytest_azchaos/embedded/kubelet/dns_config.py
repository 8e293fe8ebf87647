"""A pod's ``/etc/resolv.conf``, as the kubelet forms it and containerd writes it.

The kubelet (``pkg/kubelet/network/dns/dns.go`` ``GetPodDNS``) starts from the node's resolv.conf
(``resolvConf``) and, per ``dnsPolicy``:

- ``ClusterFirst`` (not hostNetwork) and ``ClusterFirstWithHostNet``: nameservers = ``clusterDNS``;
  search = ``<ns>.svc.<domain> svc.<domain> <domain>`` then the node's, duplicates omitted; options =
  ``ndots:5`` only.
- ``Default`` (and ``ClusterFirst`` with hostNetwork): the node's file as it is.
- ``None``: empty, then ``dnsConfig`` alone.

``dnsConfig`` is appended (nameservers, searches: duplicates omitted; options merged by name, the pod's
value winning), then cut to the limits (3 nameservers; 32 search paths, 2048 characters, each at most 253)
with a ``DNSConfigForming`` warning naming what was applied. containerd writes ``search``, ``nameserver``
and ``options`` lines in that order (``parseDNSOptions``), or copies the host's file when all are empty.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
CLUSTER_DOMAIN = "cluster.local"
DEFAULT_DNS_OPTIONS = ("ndots:5",)
MAX_NAMESERVERS = 3
MAX_SEARCH_PATHS = 32  # ExpandedDNSConfig, GA in v1.28
MAX_SEARCH_CHARS = 2048
MAX_SEARCH_LENGTH = 253  # DNS1123SubdomainMaxLength


@dataclass
class PodDnsSettings:
    """The kubelet config's ``clusterDNS``, ``clusterDomain`` and the node's ``resolvConf`` contents."""

    cluster_dns: list[str] = field(default_factory=list)
    cluster_domain: str = CLUSTER_DOMAIN
    host_resolv_conf: str = ""


def node_resolv_conf(region: str, vpc_cidr: str = "192.168.0.0/16") -> str:
    """An EKS node's resolver file: the VPC's AmazonProvidedDNS (base + 2) and the region's DHCP domain."""
    resolver = ipaddress.ip_network(vpc_cidr).network_address + 2
    domain = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    return f"nameserver {resolver}\nsearch {domain}\n"


def parse_resolv_conf(text: str) -> tuple[list[str], list[str], list[str]]:
    """``parseResolvConf``: nameservers accumulate, the last ``search`` and ``options`` lines win."""
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for line in text.split("\n"):
        trimmed = line.strip()
        if trimmed.startswith("#"):
            continue
        fields = trimmed.split()
        if not fields:
            continue
        if fields[0] == "nameserver" and len(fields) >= 2:
            servers.append(fields[1])
        elif fields[0] == "search":
            searches = [s.removesuffix(".") for s in fields[1:]]
        elif fields[0] == "options":
            options = fields[1:]
    return servers, searches, options


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _merge_options(existing: list[str], pod_options: list[Obj]) -> list[str]:
    merged: dict[str, str] = {}
    for op in existing:
        name, sep, value = op.partition(":")
        merged[name] = value if sep else ""
    for pod_op in pod_options:
        merged[str(pod_op.get("name", ""))] = "" if pod_op.get("value") is None else str(pod_op["value"])
    return [f"{k}:{v}" if v else k for k, v in merged.items()]


def pod_dns(pod: Obj, cluster_dns: list[str], cluster_domain: str, host_resolv_conf: str
            ) -> tuple[list[str], list[str], list[str], list[str]]:
    """``GetPodDNS``: (nameservers, searches, options, warnings for ``DNSConfigForming`` events)."""
    spec = pod.get("spec") or {}
    servers, searches, options = parse_resolv_conf(host_resolv_conf)
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    host_network = bool(spec.get("hostNetwork"))
    warnings: list[str] = []
    if policy == "None":
        servers, searches, options = [], [], []
    elif (policy == "ClusterFirstWithHostNet" or (policy == "ClusterFirst" and not host_network)) and cluster_dns:
        servers = list(cluster_dns)
        if cluster_domain:
            ns = pod["metadata"]["namespace"]
            searches = _unique([f"{ns}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain,
                                *searches])
        options = list(DEFAULT_DNS_OPTIONS)
    config = spec.get("dnsConfig")
    if config:
        servers = _unique(servers + list(config.get("nameservers") or []))
        searches = _unique(searches + list(config.get("searches") or []))
        options = _merge_options(options, list(config.get("options") or []))
    if len(servers) > MAX_NAMESERVERS:
        servers = servers[:MAX_NAMESERVERS]
        warnings.append("Nameserver limits were exceeded, some nameservers have been omitted, the applied "
                        f"nameserver line is: {' '.join(servers)}")
    searches, cut = _fit_search(searches)
    if cut:
        warnings.append("Search Line limits were exceeded, some search paths have been omitted, the applied "
                        f"search line is: {' '.join(searches)}")
    return servers, searches, options, warnings


def _fit_search(searches: list[str]) -> tuple[list[str], bool]:
    cut = False
    if len(searches) > MAX_SEARCH_PATHS:
        searches, cut = searches[:MAX_SEARCH_PATHS], True
    kept = [s for s in searches if len(s) <= MAX_SEARCH_LENGTH]
    cut = cut or len(kept) != len(searches)
    line = len(" ".join(kept))
    if line > MAX_SEARCH_CHARS:
        dropped = 0
        for s in reversed(kept):
            line -= len(s) + 1
            dropped += 1
            if line <= MAX_SEARCH_CHARS:
                break
        kept, cut = kept[:len(kept) - dropped], True
    return kept, cut


def resolv_conf_text(servers: list[str], searches: list[str], options: list[str], host_resolv_conf: str) -> str:
    """containerd's ``parseDNSOptions`` file, or the host's file when the kubelet passed nothing."""
    text = ""
    if searches:
        text += f"search {' '.join(searches)}\n"
    if servers:
        text += "nameserver " + "\nnameserver ".join(servers) + "\n"
    if options:
        text += f"options {' '.join(options)}\n"
    return text or host_resolv_conf


def pod_resolv_conf(pod: Obj, cluster_dns: list[str], cluster_domain: str, host_resolv_conf: str
                    ) -> tuple[str, list[str]]:
    """The file a pod's containers see at ``/etc/resolv.conf``, and the kubelet's warnings forming it."""
    servers, searches, options, warnings = pod_dns(pod, cluster_dns, cluster_domain, host_resolv_conf)
    return resolv_conf_text(servers, searches, options, host_resolv_conf), warnings
