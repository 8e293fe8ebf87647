"""AZ-SRCIP: which client address the pods saw.

Under ``externalTrafficPolicy: Local`` every successful request's client address (agnhost ``/clientip``)
must be the prober's own source address for that request (``record.local_ip``) and never a node's.
Under ``Cluster`` kube-proxy SNATs to the node, so pods see node addresses; checking that too is what
lets the check tell the two policies apart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from ..traffic.recording import Recording, RequestRecord
from .result import CheckResult

NodeAddresses = Mapping[str, str] | Iterable[str]


def _nodes(node_addresses: NodeAddresses) -> dict[str, str]:
    """Address -> node name (the address itself when only addresses are known)."""
    if isinstance(node_addresses, Mapping):
        return dict(node_addresses)
    return {a: a for a in node_addresses}


def _sample(r: RequestRecord, nodes: Mapping[str, str]) -> str:
    seen = r.client_ip or "<none>"
    whose = f" (node {nodes[seen]})" if seen in nodes and nodes[seen] != seen else (" (a node)" if seen in nodes
                                                                                   else "")
    return f"#{r.seq} t={r.due:.3f}s pod={r.pod or '?'} saw {seen}{whose}; sent from {r.local_ip or '?'} to {r.target}"


def _seen(records: list[RequestRecord], nodes: Mapping[str, str]) -> str:
    counts = Counter(r.client_ip or "<none>" for r in records)
    return ", ".join(f"{ip}{' (node)' if ip in nodes else ''} x{n}" for ip, n in counts.most_common(8))


def source_ip_preserved(recording: Recording, node_addresses: NodeAddresses,
                        client_addresses: Iterable[str] | None = None, *, check_id: str = "AZ-SRCIP",
                        show: int = 10) -> CheckResult:
    """Pass when every successful request saw the prober's own address (or one of ``client_addresses``)."""
    nodes = _nodes(node_addresses)
    allowed = set(client_addresses) if client_addresses is not None else None
    ok = [r for r in recording.snapshot() if r.ok]
    bad = [r for r in ok if not r.client_ip or r.client_ip in nodes
           or (r.client_ip not in allowed if allowed is not None else r.client_ip != r.local_ip)]
    figures = {"requests": len(ok), "preserved": len(ok) - len(bad), "rewritten": len(bad),
               "seen_node_addresses": sorted({r.client_ip for r in bad if r.client_ip in nodes})}
    if not ok:
        return CheckResult(check_id, False, "no successful requests to judge the client address by", (), figures)
    if not bad:
        return CheckResult(check_id, True, f"all {len(ok)} successful requests saw the client's own address",
                           (f"addresses seen: {_seen(ok, nodes)}",), figures)
    at_nodes = sum(1 for r in bad if r.client_ip in nodes)
    summary = (f"{len(bad)} of {len(ok)} successful requests did not see the client's address "
               f"({at_nodes} saw a node address: SNAT, as under externalTrafficPolicy: Cluster)")
    expected = ", ".join(sorted(allowed)) if allowed is not None else "each request's own source address"
    evidence = [f"addresses seen: {_seen(ok, nodes)}", f"client addresses expected: {expected}"]
    evidence += [f"offending request {_sample(r, nodes)}" for r in bad[:show]]
    if len(bad) > show:
        evidence.append(f"... and {len(bad) - show} more")
    return CheckResult(check_id, False, summary, tuple(evidence), figures)


def source_ip_snat(recording: Recording, node_addresses: NodeAddresses, *, check_id: str = "AZ-SRCIP",
                   show: int = 10) -> CheckResult:
    """Pass when every successful request saw a node's address (``Cluster`` policy SNAT)."""
    nodes = _nodes(node_addresses)
    ok = [r for r in recording.snapshot() if r.ok]
    bad = [r for r in ok if r.client_ip not in nodes]
    figures = {"requests": len(ok), "snat": len(ok) - len(bad), "not_snat": len(bad)}
    if not ok:
        return CheckResult(check_id, False, "no successful requests to judge the client address by", (), figures)
    if not bad:
        return CheckResult(check_id, True, f"all {len(ok)} successful requests saw a node address (SNAT)",
                           (f"addresses seen: {_seen(ok, nodes)}",), figures)
    evidence = [f"addresses seen: {_seen(ok, nodes)}", f"node addresses: {', '.join(sorted(nodes))}"]
    evidence += [f"offending request {_sample(r, nodes)}" for r in bad[:show]]
    if len(bad) > show:
        evidence.append(f"... and {len(bad) - show} more")
    return CheckResult(check_id, False, f"{len(bad)} of {len(ok)} successful requests saw a non-node address: "
                       "no SNAT (as under externalTrafficPolicy: Local)", tuple(evidence), figures)
