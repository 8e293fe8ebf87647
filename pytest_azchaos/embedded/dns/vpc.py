"""The VPC's resolver (AmazonProvidedDNS), as far as the embedded cluster can answer for it.

A node's ``/etc/resolv.conf`` names the VPC's base address + 2 (``192.168.0.2`` in the embedded VPC,
``192.168.0.0/16`` as eksctl makes it); ``169.254.169.253`` reaches the same resolver. Network ACLs do not
filter traffic to it, so every running instance reaches it. What it answers here:

- the VPC's private hostnames: ``ip-a-b-c-d.ec2.internal`` (us-east-1) and ``ip-a-b-c-d.<region>.compute.internal``
  give ``a.b.c.d``; any other name in ``*.internal`` and ``*.local`` (``cluster.local`` included: the VPC
  resolver knows nothing of the cluster), and every single-label name: NXDOMAIN;
- anything else would need the internet's DNS, which the embedded cluster does not have: SERVFAIL.

Answers are recursive (``ra``), not authoritative.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

AMAZON_PROVIDED_DNS = ("192.168.0.2", "169.254.169.253")  # VPC_CIDR of cloud/layer.py, base + 2
_NO_SUCH_TLD = (dns.name.from_text("internal."), dns.name.from_text("local."))
_VPC_DOMAINS = (dns.name.from_text("ec2.internal."), dns.name.from_text("compute.internal."))
_VPC_HOST = re.compile(r"ip-(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})")
HOST_TTL = 60
#: Public names this cluster's own resources have (its NLBs' DNS names, lbc/dns.py), which the VPC resolver answers
#: as Route 53 would: each gives (A records, TTL) or None. Registered by the cluster process (one cluster each).
EXTRA_NAMES: list[Callable[[str], tuple[list[str], int] | None]] = []


def vpc_answer(query: dns.message.Message) -> dns.message.Message:
    """The VPC resolver's answer to ``query`` (SERVFAIL for what only the internet's DNS could answer)."""
    response = dns.message.make_response(query, recursion_available=True)
    if len(query.question) != 1:
        response.set_rcode(dns.rcode.FORMERR)
        return response
    question = query.question[0]
    name = question.name
    for extra in EXTRA_NAMES:
        found = extra(name.to_text(omit_final_dot=True).lower())
        if found is not None:
            if question.rdtype == dns.rdatatype.A and found[0]:
                response.answer.append(dns.rrset.from_text_list(name, found[1], "IN", "A", found[0]))
            return response
    if len(name.labels) == 2 or any(name.is_subdomain(tld) for tld in _NO_SUCH_TLD):
        host = _VPC_HOST.fullmatch(name.labels[0].decode("ascii", "replace")) if len(name.labels) >= 4 else None
        if host is None or not any(name.is_subdomain(d) for d in _VPC_DOMAINS):
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.A:
            response.answer.append(dns.rrset.from_text(name, HOST_TTL, "IN", "A", ".".join(host.groups())))
        return response
    response.set_rcode(dns.rcode.SERVFAIL)
    return response


def is_vpc_resolver(address: str) -> bool:
    return address in AMAZON_PROVIDED_DNS
