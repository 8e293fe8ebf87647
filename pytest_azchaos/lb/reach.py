"""Can this run reach the load balancer at all? An internal NLB answers only inside its VPC: from outside a
connection to it times out (no refusal, no reset), as AWS does. When every address times out while the API says
the load balancer is provisioned and internal, the run stops before any fault and says how to fix it
(eks-flavours-facts.md §1.1)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from .flavours import INTERNAL_ANNOTATION, SCHEME_ANNOTATION, service_scheme
from .resolve import LbResolver, ResolveError


@dataclass(frozen=True)
class Probe:
    address: str  # the IP tried
    outcome: str  # connected | timeout | refused | reset | unresolved | error


def connect_probes(names: list[str], port: int, resolver: LbResolver, timeout: float = 3.0) -> list[Probe]:
    """One TCP connection and request to every address ``names`` resolve to; how each went (``timeout``: no
    connection, or no byte of an answer, within ``timeout``)."""
    out: list[Probe] = []
    for name in names:
        try:
            ips = resolver.resolve(name).addresses
        except ResolveError as e:
            out.append(Probe(name, f"unresolved ({e})"))
            continue
        for ip in ips:
            try:
                with socket.create_connection((ip, port), timeout=timeout) as sock:
                    # Connected is not answered: a relay may accept and then drop what it cannot deliver, so the
                    # first byte of an answer decides (an HTTP request; any reply at all counts).
                    sock.sendall(f"GET / HTTP/1.0\r\nHost: {name}\r\n\r\n".encode())
                    out.append(Probe(ip, "connected" if sock.recv(1) else "reset"))
            except TimeoutError:
                out.append(Probe(ip, "timeout"))
            except ConnectionRefusedError:
                out.append(Probe(ip, "refused"))
            except ConnectionResetError:
                out.append(Probe(ip, "reset"))
            except OSError as e:
                out.append(Probe(ip, f"error ({e})"))
    return out


def internal_unreachable(service: Any, probes: list[Probe], aws_scheme: str | None = None) -> str:
    """The message that stops the run when ``service``'s load balancer is internal (its annotations as its controller
    reads them, or AWS's ``Scheme``) and every connection from here timed out; ``""`` otherwise."""
    annotations = dict(service.metadata.annotations or {})
    scheme = aws_scheme or service_scheme(annotations, service.spec.load_balancer_class)
    if scheme != "internal" or not probes or any(p.outcome != "timeout" for p in probes):
        return ""
    name = f"{service.metadata.namespace}/{service.metadata.name}"
    said = (f"{SCHEME_ANNOTATION}: {annotations[SCHEME_ANNOTATION]}" if SCHEME_ANNOTATION in annotations else
            f"{INTERNAL_ANNOTATION}: {annotations[INTERNAL_ANNOTATION]}" if INTERNAL_ANNOTATION in annotations else
            f"no {SCHEME_ANNOTATION} annotation, so the controller of class {service.spec.load_balancer_class} "
            "made it internal (its default)")
    return (f"the load balancer of service {name} is internal ({said}; AWS scheme {aws_scheme or 'not read'}) and "
            f"every connection from this runner timed out ({', '.join(p.address for p in probes)}): an internal NLB "
            f"answers only inside the cluster's VPC. Either make it internet-facing ({SCHEME_ANNOTATION}: "
            "internet-facing; for the sample app --azchaos-lb-scheme internet-facing) or run the suites inside the VPC "
            "(the in-cluster CronJob runner, ci/). Nothing was faulted")
