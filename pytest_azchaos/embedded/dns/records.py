"""CoreDNS's ``kubernetes`` plugin: the cluster's Services and EndpointSlices as ``cluster.local`` records.

What the EKS add-on's Corefile (``kubernetes cluster.local in-addr.arpa ip6.arpa { pods insecure;
fallthrough in-addr.arpa ip6.arpa }``) answers, following ``plugin/kubernetes`` (kubernetes.go ``Records``,
``findServices``, ``parseRequest``; ``plugin/backend_lookup.go``):

- ``<svc>.<ns>.svc.cluster.local``: a ClusterIP Service's ClusterIP; a headless Service's ready endpoint
  addresses (none: NXDOMAIN); an ExternalName Service's CNAME. AAAA of an IPv4-only name: NOERROR, no answer.
- ``<endpoint>.<svc>.<ns>.svc.cluster.local``: the endpoint whose ``hostname`` (StatefulSet pods under
  their governing Service) or dashed address (``10-1-2-3``) it names.
- ``_<port>._<proto>.<svc>.<ns>.svc.cluster.local`` SRV (``<svc>.<ns>...`` SRV: every port): priority 0,
  weight ``floor(100 / records)``, the target's A record in the additional section.
- ``<a-b-c-d>.<ns>.pod.cluster.local`` (``pods insecure``): the address the name spells, if the namespace exists.
- PTR of a ClusterIP or an endpoint address under ``in-addr.arpa``; any other reverse name falls through
  to ``forward``.
- Anything else under ``cluster.local``: NXDOMAIN; ``<ns>.svc.cluster.local`` of an existing namespace and
  the zone's own empty non-terminals: NOERROR without answer. Negative answers carry the zone's SOA
  (``ns.dns.cluster.local. hostmaster.cluster.local. <serial> 7200 1800 86400 <ttl>``). TTL 5 (the plugin's default).

The index follows the store as the plugin's informers follow the API server (every change at once).
"""

from __future__ import annotations

import ipaddress
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.IN.A
import dns.reversename
import dns.rrset

from ..apiserver.store import Event, Store

Obj = dict[str, Any]
CLUSTER_DOMAIN = "cluster.local"
DEFAULT_TTL = 5
SLICES = "endpointslices.discovery.k8s.io"
_REVERSE_V4 = dns.name.from_text("in-addr.arpa.")
_REVERSE_V6 = dns.name.from_text("ip6.arpa.")


@dataclass
class Answer:
    """What the plugin answers: an rcode and the three sections (empty ``answer``: NODATA or an error)."""

    rcode: int = dns.rcode.NOERROR
    answer: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    additional: list[dns.rrset.RRset] = field(default_factory=list)


@dataclass(frozen=True)
class _Endpoint:
    address: str
    hostname: str | None
    ports: tuple[tuple[str, str, int], ...]  # (name, protocol, port)

    @property
    def label(self) -> str:
        return self.hostname or self.address.replace(".", "-").replace(":", "-")


class ClusterDnsIndex:
    """The plugin's informer caches (Services, EndpointSlices, Namespaces) and its answers."""

    def __init__(self, store: Store, domain: str = CLUSTER_DOMAIN, ttl: int = DEFAULT_TTL):
        self.zone = dns.name.from_text(domain.rstrip(".") + ".")
        self.ttl = ttl
        self.services: dict[tuple[str, str], Obj] = {}
        self.slices: dict[tuple[str, str], dict[str, Obj]] = {}
        self.namespaces: set[str] = set()
        self.serial = int(time.time())
        self._soa: tuple[int, dns.rrset.RRset] | None = None
        for ns in store.scan("namespaces"):
            self.namespaces.add(ns["metadata"]["name"])
        for svc in store.scan("services"):
            self.services[(svc["metadata"]["namespace"], svc["metadata"]["name"])] = svc
        for s in store.scan(SLICES):
            self._put_slice(s)
        store.add_listener(self._on_event)

    # ------------------------------------------------------------------ informers
    def _on_event(self, ev: Event) -> None:
        if ev.key == "services":
            key = (ev.namespace, ev.obj["metadata"]["name"])
            if ev.type == "DELETED":
                self.services.pop(key, None)
            else:
                self.services[key] = ev.obj
        elif ev.key == SLICES:
            if ev.type == "DELETED":
                svc = (ev.obj["metadata"].get("labels") or {}).get("kubernetes.io/service-name")
                if svc:
                    self.slices.get((ev.namespace, svc), {}).pop(ev.obj["metadata"]["name"], None)
            else:
                self._put_slice(ev.obj)
        elif ev.key == "namespaces":
            name = ev.obj["metadata"]["name"]
            if ev.type == "DELETED":
                self.namespaces.discard(name)
            else:
                self.namespaces.add(name)
        else:
            return
        self.serial = int(time.time())

    def _put_slice(self, s: Obj) -> None:
        svc = (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name")
        if svc:
            self.slices.setdefault((s["metadata"]["namespace"], svc), {})[s["metadata"]["name"]] = s

    def ready_endpoints(self, namespace: str, service: str) -> list[_Endpoint]:
        """Ready endpoints of a Service's slices, one per address (the plugin skips not-ready ones)."""
        out: dict[str, _Endpoint] = {}
        for s in (self.slices.get((namespace, service)) or {}).values():
            ports = tuple((p.get("name") or "", p.get("protocol") or "TCP", int(p["port"]))
                          for p in s.get("ports") or [] if p.get("port") is not None)
            for ep in s.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready") is False:
                    continue
                for addr in ep.get("addresses") or []:
                    out.setdefault(addr, _Endpoint(addr, ep.get("hostname"), ports))
        return list(out.values())

    # ------------------------------------------------------------------ answers
    def authoritative_for(self, qname: dns.name.Name) -> bool:
        """Whether the plugin owns ``qname`` (else the query falls through to ``forward``)."""
        if qname.is_subdomain(self.zone):
            return True
        return qname.is_subdomain(_REVERSE_V4) and self._reverse(qname) is not None

    def answer(self, qname: dns.name.Name, qtype: int) -> Answer:
        """The plugin's answer for one question it is authoritative for."""
        if not qname.is_subdomain(self.zone):
            targets = self._reverse(qname) or []
            out = Answer()
            if qtype in (dns.rdatatype.PTR, dns.rdatatype.ANY):
                out.answer.append(dns.rrset.from_text_list(qname, self.ttl, "IN", "PTR", [str(t) for t in targets]))
            else:
                out.authority.append(self.soa())
            return out
        labels = [b.decode("ascii", "replace").lower() for b in qname.relativize(self.zone).labels]
        if not labels:  # the apex
            if qtype == dns.rdatatype.SOA:
                return Answer(answer=[self.soa()])
            return self._nodata()
        kind = labels[-1]
        if kind == "svc":
            return self._service_query(qname, qtype, labels[:-1])
        if kind == "pod":
            return self._pod_query(qname, qtype, labels[:-1])
        return self._nxdomain()

    def _service_query(self, qname: dns.name.Name, qtype: int, labels: list[str]) -> Answer:
        if not labels:
            return self._nodata()
        namespace = labels[-1]
        if namespace not in self.namespaces:
            return self._nxdomain()
        if len(labels) == 1:
            return self._nodata()  # <ns>.svc.<zone>: an empty non-terminal
        service = labels[-2]
        port = proto = endpoint = None
        if len(labels) == 4 and labels[0].startswith("_") and labels[1].startswith("_"):
            port, proto = labels[0][1:], labels[1][1:]
        elif len(labels) == 3:
            endpoint = labels[0]
        elif len(labels) != 2:
            return self._nxdomain()
        svc = self.services.get((namespace, service))
        if svc is None:
            return self._nxdomain()
        spec = svc.get("spec") or {}
        base = dns.name.from_text(f"{service}.{namespace}.svc", origin=self.zone)
        if spec.get("type") == "ExternalName":
            if endpoint is not None or port is not None:
                return self._nxdomain()
            target = dns.name.from_text(str(spec.get("externalName", "")).rstrip(".") + ".")
            return Answer(answer=[dns.rrset.from_text_list(qname, self.ttl, "IN", "CNAME", [str(target)])])
        # (target name, address, port number) per record, as findServices builds them
        records: list[tuple[dns.name.Name, str, int]] = []
        cluster_ips = [ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip and ip != "None"]
        if cluster_ips and endpoint is None:
            for p in spec.get("ports") or [{}]:
                if not _port_matches(p.get("name") or "", p.get("protocol") or "TCP", port, proto):
                    continue
                records += [(base, ip, int(p.get("port") or 0)) for ip in cluster_ips]
        else:
            for ep in self.ready_endpoints(namespace, service):
                if endpoint is not None and ep.label != endpoint:
                    continue
                for pname, pproto, pnum in ep.ports or (("", "TCP", 0),):
                    if _port_matches(pname, pproto, port, proto):
                        records.append((dns.name.from_text(ep.label, origin=base), ep.address, pnum))
        if not records:
            return self._nxdomain()
        out = Answer()
        if qtype == dns.rdatatype.SRV:
            weight = math.floor(100 / len(records))
            srv = [f"0 {weight} {pnum} {target}" for target, _, pnum in records]
            out.answer.append(dns.rrset.from_text_list(qname, self.ttl, "IN", "SRV", _unique(srv)))
            for target in _unique_names([t for t, _, _ in records]):
                addrs = _unique([a for t, a, _ in records if t == target and _is_v4(a)])
                if addrs:
                    out.additional.append(dns.rrset.from_text_list(target, self.ttl, "IN", "A", addrs))
            return out
        return self._addresses(qname, qtype, [a for _, a, _ in records])

    def _pod_query(self, qname: dns.name.Name, qtype: int, labels: list[str]) -> Answer:
        if len(labels) != 2 or labels[1] not in self.namespaces:
            return self._nxdomain()
        text = labels[0].replace("-", ".")
        try:
            ipaddress.IPv4Address(text)
        except ValueError:
            return self._nxdomain()
        return self._addresses(qname, qtype, [text])

    def _addresses(self, qname: dns.name.Name, qtype: int, addresses: list[str]) -> Answer:
        v4 = _unique([a for a in addresses if _is_v4(a)])
        random.shuffle(v4)  # the Corefile's ``loadbalance``: round-robin order of A records
        if qtype in (dns.rdatatype.A, dns.rdatatype.ANY) and v4:
            rrset = dns.rrset.RRset(qname, dns.rdataclass.IN, dns.rdatatype.A)
            for address in v4:
                rrset.add(dns.rdtypes.IN.A.A(dns.rdataclass.IN, dns.rdatatype.A, address), self.ttl)
            return Answer(answer=[rrset])
        return self._nodata()  # AAAA of an IPv4 cluster, TXT, ...: the name exists, no such record

    def _reverse(self, qname: dns.name.Name) -> list[dns.name.Name] | None:
        try:
            address = dns.reversename.to_address(qname)
        except Exception:
            return None
        found: list[dns.name.Name] = []
        for (ns, name), svc in self.services.items():
            spec = svc.get("spec") or {}
            if address in (spec.get("clusterIPs") or [spec.get("clusterIP")]):
                found.append(dns.name.from_text(f"{name}.{ns}.svc", origin=self.zone))
        if not found:
            for (ns, name) in list(self.slices):
                for ep in self.ready_endpoints(ns, name):
                    if ep.address == address:
                        found.append(dns.name.from_text(f"{ep.label}.{name}.{ns}.svc", origin=self.zone))
        return found or None

    def soa(self) -> dns.rrset.RRset:
        """The zone's SOA (its serial moves with every change the plugin sees); built once per serial."""
        if self._soa is None or self._soa[0] != self.serial:
            rrset = dns.rrset.from_text(self.zone, self.ttl, "IN", "SOA",
                                        f"ns.dns.{self.zone} hostmaster.{self.zone} {self.serial} 7200 1800 86400 "
                                        f"{self.ttl}")
            self._soa = (self.serial, rrset)
        return self._soa[1]

    def _nodata(self) -> Answer:
        return Answer(authority=[self.soa()])

    def _nxdomain(self) -> Answer:
        return Answer(rcode=dns.rcode.NXDOMAIN, authority=[self.soa()])


def _port_matches(name: str, protocol: str, want_port: str | None, want_proto: str | None) -> bool:
    if want_port is not None and want_port != "*" and want_port != name.lower():
        return False
    return want_proto is None or want_proto == "*" or want_proto == protocol.lower()


def _is_v4(address: str) -> bool:
    return ":" not in address


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _unique_names(items: list[dns.name.Name]) -> list[dns.name.Name]:
    return list(dict.fromkeys(items))


__all__ = ["CLUSTER_DOMAIN", "DEFAULT_TTL", "Answer", "ClusterDnsIndex"]
