"""AZ-TOPOROUTE: with ``trafficDistribution: PreferSameZone`` surviving zones stay zone-local, and the clients of
the zone that lost its endpoints fall back to the other zones, with no refused (or dropped) connection.

Judged over the in-cluster probers' ``service-ip`` records (``/dial`` to the Service's ClusterIP: kube-proxy on the
client's node routes it) after the fault, given where each serving pod ran (``pod_zones``):

- a surviving zone's requests are all answered by pods of that zone (``min_local`` of them, default all);
- the lost zone's clients are answered by pods of other zones, none refused, reset or timed out: kube-proxy
  uses zone hints only while "every ready endpoint has a zone hint, and at least one endpoint is hinted for
  this node's zone", otherwise all endpoints (``k8s:pkg/proxy/topology.go`` ``topologyModeFromHints``).
  Cilium 1.18 refused instead (cilium/cilium #41022); ``internalTrafficPolicy: Local`` never falls back (a node
  without a local endpoint drops the traffic), and the failure names the Service's policy then.

Requests that failed on our side (prober pod unreachable, proxy errors) make the result inconclusive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from ..traffic.recording import Recording
from .result import CheckResult

CHECK_ID = "AZ-TOPOROUTE"


def service_routing(service: Any) -> dict[str, str | None]:
    """The Service's routing knobs as the check reports them."""
    spec = service.spec
    return {"trafficDistribution": getattr(spec, "traffic_distribution", None),
            "internalTrafficPolicy": spec.internal_traffic_policy or "Cluster"}


def topology_routing(recording: Recording, pod_zones: Mapping[str, str], lost_zone: str, *,
                     service: Any = None, during: tuple[float | None, float | None] = (None, None),
                     refused_since: float | None = None, min_local: float = 1.0,
                     check_id: str = CHECK_ID) -> CheckResult:
    """Pass when surviving zones stayed local and the lost zone's clients fell back without failures (judged over
    ``during``: after the fault has settled); with ``refused_since`` a refused connection from any zone from then on
    (the fault's start: while the endpoints go) fails too, as a dataplane that refuses instead of falling back does."""
    from ..traffic.in_cluster import OUR_SIDE

    window = recording.between(*during)
    zones = window.source_zones()
    name = f"Service {service.metadata.namespace}/{service.metadata.name}" if service is not None else "the Service"
    routing = service_routing(service) if service is not None else {}
    figures: dict[str, Any] = {"failed_requests": 0, "requests": 0, "lost_zone": lost_zone, "per_zone_requests": {},
                               "failed": {}, "local_share": {},
                               "served_from": {}, **routing}
    evidence = [f"{name}: " + ", ".join(f"{k} {v}" for k, v in routing.items())] if routing else []
    problems: list[str] = []
    unsure: list[str] = []
    for zone in zones:
        records = window.from_zone(zone, "service-ip").snapshot()
        ours = [r for r in records if not r.ok and r.detail.startswith(OUR_SIDE)]
        records = [r for r in records if r.ok or not r.detail.startswith(OUR_SIDE)]
        failed = [r for r in records if not r.ok]
        served = Counter(pod_zones.get(r.pod or "", "unknown") for r in records if r.ok)
        ok = sum(served.values())
        local = served.get(zone, 0) / ok if ok else 0.0
        figures["per_zone_requests"][zone] = len(records)
        figures["requests"] += len(records)
        figures["failed_requests"] += len(failed)
        figures["failed"][zone] = len(failed)
        figures["local_share"][zone] = round(local, 3)
        figures["served_from"][zone] = dict(served)
        kinds = Counter(r.error for r in failed)
        kinds_text = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        role = "lost zone" if zone == lost_zone else "surviving"
        evidence.append(f"clients in {zone} ({role}): {len(records)} request(s), {len(failed)} failed"
                        + (f" ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})" if kinds else "")
                        + f", served from {', '.join(f'{z}: {n}' for z, n in sorted(served.items())) or 'nowhere'}")
        if failed:
            evidence.append(f"  {zone} first failure: {failed[0].detail[:240]}")
        if ours:
            unsure.append(f"{len(ours)} request(s) from {zone} failed on our side ({ours[0].detail[:200]})")
        if not records:
            unsure.append(f"no requests were made from {zone}")
            continue
        if zone == lost_zone:
            if failed:
                why = _no_fallback_reason(routing)
                problems.append(f"clients in {lost_zone} did not fall back: {len(failed)} of {len(records)} request(s) "
                                f"failed ({kinds_text}){why}")
            elif served.get(lost_zone):
                problems.append(f"clients in {lost_zone} were still served from {lost_zone} "
                                f"({served[lost_zone]} request(s)) after its endpoints were gone")
        else:
            if failed:
                problems.append(f"clients in {zone} saw {len(failed)} failed request(s) ({kinds_text})"
                                f"{_no_fallback_reason(routing)}")
            if ok and local < min_local:
                problems.append(f"clients in {zone} were served {local:.0%} from their own zone (want "
                                f"{min_local:.0%}): {name} is not routed zone-locally"
                                + ("" if routing.get("trafficDistribution") else " (it has no trafficDistribution)"))
    if refused_since is not None:
        refused = [r for r in recording.between(refused_since, None).snapshot()
                   if r.kind == "service-ip" and r.error == "refused"]
        figures["refused_during_fault"] = len(refused)
        if refused:
            where = Counter(r.source_zone or "unknown" for r in refused)
            problems.append(f"{len(refused)} connection(s) refused during the fault (clients in "
                            f"{', '.join(f'{z}: {n}' for z, n in sorted(where.items()))}; first at "
                            f"t={refused[0].due:.2f}s: {refused[0].detail[:160]})")
    if lost_zone not in zones:
        unsure.append(f"no client in {lost_zone} made requests")
    if problems:
        evidence += [f"also: {u}" for u in unsure]
        return CheckResult(check_id, False, f"{name}: " + "; ".join(problems), tuple(evidence), figures)
    if unsure:
        return CheckResult(check_id, False, "routing could not be judged", tuple(evidence), figures, "; ".join(unsure))
    return CheckResult(check_id, True, f"{name}: surviving zones stayed zone-local and clients in {lost_zone} "
                       "fell back to the other zones with no failed request", tuple(evidence), figures)


def _no_fallback_reason(routing: Mapping[str, str | None]) -> str:
    if routing.get("internalTrafficPolicy") == "Local":
        return ("; internalTrafficPolicy: Local never falls back: a client on a node without a local endpoint has "
                "its traffic dropped; use trafficDistribution: PreferSameZone with internalTrafficPolicy: Cluster")
    return ""
