"""AZ-SRCIP: which client address the pods saw.

Under ``externalTrafficPolicy: Local`` every successful request's client address (agnhost ``/clientip``)
must be the prober's own source address for that request (``record.local_ip``) and never a node's.
Under ``Cluster`` kube-proxy SNATs to the node, so pods see node addresses; checking that too is what
lets the check tell the two policies apart.

The load balancer's target type decides first (``source_ip_for_targets``): **ip targets** (AWS Load Balancer
Controller, Auto Mode) reach the pod directly, past kube-proxy, so the policy does not matter; the pod sees the
client only with the target group's ``preserve_client_ip.enabled=true`` (off by default for ip targets), else the
NLB's own private address, and the check fails naming the attribute and the Service annotation that sets it
(eks-flavours-facts.md §1.2). **instance targets** keep the client address to the node, and the policy decides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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


PRESERVE_ATTRIBUTE = "preserve_client_ip.enabled"
PRESERVE_ANNOTATION = ("service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: "
                       "preserve_client_ip.enabled=true")


@dataclass(frozen=True)
class TargetFacts:
    """What the load balancer does to the client address: its target type, client-IP preservation and proxy
    protocol, and where that was read (an AWS target group, or the Service's annotations)."""

    target_type: str = "instance"
    preserve_client_ip: bool = True
    proxy_protocol: bool = False
    source: str = ""


def source_ip_for_targets(recording: Recording, node_addresses: NodeAddresses, traffic_policy: str,
                          facts: TargetFacts, *, check_id: str = "AZ-SRCIP", show: int = 10) -> CheckResult:
    """AZ-SRCIP as the target type says: ip targets without client-IP preservation fail naming
    ``preserve_client_ip.enabled``; ip targets with it must show the client's address under either policy;
    instance targets: ``Local`` preserved, ``Cluster`` SNAT to a node."""
    if facts.target_type == "ip":
        if not facts.preserve_client_ip and not facts.proxy_protocol:
            nodes = _nodes(node_addresses)
            ok = [r for r in recording.snapshot() if r.ok]
            evidence = [f"target type ip, {PRESERVE_ATTRIBUTE}=false ({facts.source or 'the target group'}): the "
                        "NLB connects to the pod from its own private address",
                        f"fix: set the target group attribute {PRESERVE_ATTRIBUTE}=true, on the Service as "
                        f"{PRESERVE_ANNOTATION} (or proxy protocol v2 with an app that reads its header)"]
            if ok:
                evidence.insert(1, f"addresses seen: {_seen(ok, nodes)}")
            return CheckResult(check_id, False, f"ip targets without client IP preservation ({PRESERVE_ATTRIBUTE} is "
                               "false): pods see the load balancer's address, never the client's", tuple(evidence),
                               {"requests": len(ok), "target_type": "ip", "preserve_client_ip": False})
        result = source_ip_preserved(recording, node_addresses, check_id=check_id, show=show)
        note = (f"target type ip with {PRESERVE_ATTRIBUTE}=true ({facts.source or 'the target group'}): "
                f"kube-proxy is not on the path, so externalTrafficPolicy {traffic_policy} does not matter")
        if facts.proxy_protocol and not facts.preserve_client_ip:
            note = ("target type ip with proxy protocol v2 only: the client address is in the protocol header, "
                    "which the app must read")
        return CheckResult(result.check_id, result.passed, result.summary, (note, *result.evidence),
                           {**result.figures, "target_type": "ip"}, result.inconclusive)
    if traffic_policy == "Local":
        return source_ip_preserved(recording, node_addresses, check_id=check_id, show=show)
    return source_ip_snat(recording, node_addresses, check_id=check_id, show=show)
