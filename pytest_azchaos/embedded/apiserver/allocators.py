"""Service IP and port allocation, done by the apiserver's REST layer upstream.

ClusterIPs come from the service CIDR (kept on loopback, 127.96.0.0/16, so the embedded
data plane can listen on them); NodePorts and healthCheckNodePorts from 30000-32767.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from . import errors
from .errors import Cause

Obj = dict[str, Any]
NODE_PORT_RANGE = (30000, 32767)


class ServiceAllocator:
    def __init__(self, cidr: str = "127.96.0.0/16", first_node_port: int = NODE_PORT_RANGE[0]):
        self.network = ipaddress.ip_network(cidr)
        self._hosts = self.network.hosts()
        self.ips: set[str] = set()
        self.ports: set[int] = set()
        self._next_port = first_node_port
        self.kubernetes_ip = self._next_ip()

    def _next_ip(self) -> str:
        for ip in self._hosts:
            s = str(ip)
            if s not in self.ips:
                self.ips.add(s)
                return s
        raise errors.internal("failed to allocate a serviceIP: range is full")

    def _port(self) -> int:
        for _ in range(NODE_PORT_RANGE[1] - NODE_PORT_RANGE[0] + 1):
            p = self._next_port
            self._next_port = p + 1 if p < NODE_PORT_RANGE[1] else NODE_PORT_RANGE[0]
            if p not in self.ports:
                self.ports.add(p)
                return p
        raise errors.internal("failed to allocate a nodePort: range is full")

    def _claim_port(self, svc: Obj, port: int, field: str) -> None:
        if not NODE_PORT_RANGE[0] <= port <= NODE_PORT_RANGE[1]:
            raise errors.invalid("", "Service", svc["metadata"].get("name", ""), [
                Cause("FieldValueInvalid", f"Invalid value: {port}: provided port is not in the valid range. "
                      f"The range of valid ports is {NODE_PORT_RANGE[0]}-{NODE_PORT_RANGE[1]}", field)])
        if port in self.ports:
            raise errors.invalid("", "Service", svc["metadata"].get("name", ""), [
                Cause("FieldValueInvalid", f"Invalid value: {port}: provided port is already allocated", field)])
        self.ports.add(port)

    def allocate(self, svc: Obj, dry_run: bool = False) -> None:
        spec = svc.setdefault("spec", {})
        stype = spec.get("type", "ClusterIP")
        if stype == "ExternalName":
            return
        if spec.get("clusterIP") != "None":
            ip = spec.get("clusterIP")
            if ip:
                self.ips.add(ip)
            else:
                ip = self._next_ip()
            spec["clusterIP"] = ip
            spec["clusterIPs"] = [ip]
        else:
            spec["clusterIPs"] = ["None"]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        if stype in ("NodePort", "LoadBalancer"):
            for i, p in enumerate(spec.get("ports") or []):
                if p.get("nodePort"):
                    self._claim_port(svc, int(p["nodePort"]), f"spec.ports[{i}].nodePort")
                elif stype == "NodePort" or spec.get("allocateLoadBalancerNodePorts", True):
                    p["nodePort"] = self._port()
            if stype == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local":
                if spec.get("healthCheckNodePort"):
                    self._claim_port(svc, int(spec["healthCheckNodePort"]), "spec.healthCheckNodePort")
                else:
                    spec["healthCheckNodePort"] = self._port()
        if dry_run:
            self.release(svc)

    def release(self, svc: Obj) -> None:
        spec = svc.get("spec") or {}
        self.ips.discard(spec.get("clusterIP", ""))
        for p in spec.get("ports") or []:
            self.ports.discard(p.get("nodePort", 0))
        self.ports.discard(spec.get("healthCheckNodePort", 0))

    def reconcile_update(self, new: Obj, old: Obj) -> None:
        """Keep allocations across updates; allocate or release on type / policy changes."""
        nspec, ospec = new.setdefault("spec", {}), old.get("spec") or {}
        if ospec.get("clusterIP") and not nspec.get("clusterIP"):
            nspec["clusterIP"] = ospec["clusterIP"]
            nspec["clusterIPs"] = ospec.get("clusterIPs", [ospec["clusterIP"]])
        for k in ("ipFamilies", "ipFamilyPolicy"):
            if k in ospec:
                nspec.setdefault(k, ospec[k])
        ntype = nspec.get("type", "ClusterIP")
        old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort") for p in ospec.get("ports") or []}
        kept: set[int] = set()
        if ntype in ("NodePort", "LoadBalancer"):
            for p in nspec.get("ports") or []:
                prev = old_ports.get((p.get("port"), p.get("protocol", "TCP")))
                if not p.get("nodePort") and prev:
                    p["nodePort"] = prev
                elif not p.get("nodePort"):
                    p["nodePort"] = self._port()
                elif p["nodePort"] not in old_ports.values():
                    self._claim_port(new, int(p["nodePort"]), "spec.ports.nodePort")
                kept.add(p["nodePort"])
        for port in old_ports.values():
            if port and port not in kept:
                self.ports.discard(port)
        local = ntype == "LoadBalancer" and nspec.get("externalTrafficPolicy") == "Local"
        old_hc = ospec.get("healthCheckNodePort")
        if local:
            if not nspec.get("healthCheckNodePort"):
                nspec["healthCheckNodePort"] = old_hc or self._port()
        else:
            nspec.pop("healthCheckNodePort", None)
            if old_hc:
                self.ports.discard(old_hc)
