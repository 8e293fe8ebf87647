"""Which subnets a network ACL cuts off, read from the emulated account's own backend (no API round trip).

The data plane enforces ACLs at the granularity a zone partition needs: a subnet is *cut off* when its
ACL, evaluated as AWS does (entries in ascending rule number, the first match decides, the ``*`` rule
denies what nothing matched), denies TCP to or from the rest of the VPC in either direction (ACLs are
stateless: a flow needs both). An ACL that filters only some ports or addresses is not modelled: it
counts as allowing (documented in the README).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

ALL_PROTOCOLS = ("-1", "all")
TCP = ("6", "tcp")


def _covers_all_tcp(entry: Any, peer: ipaddress.IPv4Network) -> bool:
    """Whether ``entry`` matches every TCP flow with ``peer`` (any port)."""
    protocol = str(entry.protocol).lower()
    if protocol not in ALL_PROTOCOLS + TCP or not entry.cidr_block:
        return False
    try:
        cidr = ipaddress.ip_network(entry.cidr_block, strict=False)
    except ValueError:
        return False
    if cidr.version != 4 or not (cidr == peer or cidr.supernet_of(peer)):  # type: ignore[arg-type]
        return False
    if protocol in TCP and entry.port_range_from not in (None, ""):
        return int(entry.port_range_from) <= 1 and int(entry.port_range_to or 0) >= 65535
    return True


def _is_egress(entry: Any) -> bool:
    return str(entry.egress).lower() in ("true", "1")


def allows(entries: Iterable[Any], egress: bool, peer: ipaddress.IPv4Network) -> bool:
    """The decision of the first entry (lowest rule number) of that direction matching all TCP with ``peer``."""
    for entry in sorted((e for e in entries if _is_egress(e) == egress), key=lambda e: int(e.rule_number)):
        if _covers_all_tcp(entry, peer):
            return str(entry.rule_action).lower() == "allow"
    return False  # the "*" rule


def cut_subnets(backend: Any, vpc_id: str, vpc_cidr: str) -> set[str]:
    """Subnets of ``vpc_id`` whose associated ACL cuts them off from the rest of the VPC."""
    peer = ipaddress.IPv4Network(vpc_cidr)
    out: set[str] = set()
    for acl in list(backend.network_acls.values()):
        if acl.vpc_id != vpc_id:
            continue
        associations = [a.subnet_id for a in acl.associations if a.subnet_id]
        if not associations:
            continue
        entries = list(acl.network_acl_entries)
        if not (allows(entries, False, peer) and allows(entries, True, peer)):
            out.update(associations)
    return out
