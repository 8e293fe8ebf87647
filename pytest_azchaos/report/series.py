"""Per-zone series over time from an evidence's requests: how many each zone got, how many succeeded.

A request's zone is the zone of the load-balancer address it used (``lb_zone``) when known, else the
zone of the pod that served it (``pod_zones``: pod -> zone, as the zone sampler saw them), else
``unknown`` (a failed request with no pod and no load-balancer zone). The buckets are plain data kept in
the evidence JSON; the HTML report draws the success rate and the traffic share per zone from them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

UNKNOWN_ZONE = "unknown"


def zone_of(request: Mapping[str, Any], pod_zones: Mapping[str, str]) -> str:
    """The zone a request is counted in: its ``lb_zone``, else its pod's zone, else ``unknown``."""
    if request.get("lb_zone"):
        return str(request["lb_zone"])
    pod = request.get("pod")
    if pod and pod in pod_zones:
        return pod_zones[pod]
    return UNKNOWN_ZONE


def zone_buckets(requests: Iterable[Mapping[str, Any]], pod_zones: Mapping[str, str],
                 step: float = 1.0) -> list[dict[str, Any]]:
    """Requests per ``step`` seconds (``t`` is the bucket's start) and per zone: ``{"t", "zones": {zone:
    {"requests", "ok"}}}``, oldest first, only buckets that saw requests."""
    buckets: dict[int, dict[str, dict[str, int]]] = {}
    for r in requests:
        index = math.floor(float(r["t"]) / step)
        counts = buckets.setdefault(index, {}).setdefault(zone_of(r, pod_zones), {"requests": 0, "ok": 0})
        counts["requests"] += 1
        counts["ok"] += 1 if r.get("ok") else 0
    return [{"t": round(i * step, 3), "zones": {z: dict(c) for z, c in sorted(zones.items())}}
            for i, zones in sorted(buckets.items())]


def source_zone_buckets(requests: Iterable[Mapping[str, Any]], step: float = 1.0) -> list[dict[str, Any]]:
    """The in-cluster probers' requests per ``step`` seconds and per zone they left from (each zone's view of
    the cluster), shaped as ``zone_buckets``; requests from outside the cluster are not in it."""
    buckets: dict[int, dict[str, dict[str, int]]] = {}
    for r in requests:
        if not r.get("source_zone"):
            continue
        index = math.floor(float(r["t"]) / step)
        counts = buckets.setdefault(index, {}).setdefault(str(r["source_zone"]), {"requests": 0, "ok": 0})
        counts["requests"] += 1
        counts["ok"] += 1 if r.get("ok") else 0
    return [{"t": round(i * step, 3), "zones": {z: dict(c) for z, c in sorted(zones.items())}}
            for i, zones in sorted(buckets.items())]


def source_zone_table(requests: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], tuple[int, int]]:
    """Per (zone the request left from, what it asked: ``dns``, ``service-name`` ...), ``(requests, failed)``:
    e.g. the DNS lookups each surviving zone lost during the fault."""
    out: dict[tuple[str, str], list[int]] = {}
    for r in requests:
        if r.get("source_zone"):
            counts = out.setdefault((str(r["source_zone"]), str(r.get("kind") or "request")), [0, 0])
            counts[0] += 1
            counts[1] += 0 if r.get("ok") else 1
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


def zones_in(buckets: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every zone seen in ``buckets``, sorted, with ``unknown`` last."""
    seen = {z for b in buckets for z in b["zones"]}
    return sorted(seen - {UNKNOWN_ZONE}) + ([UNKNOWN_ZONE] if UNKNOWN_ZONE in seen else [])


def success_rate(buckets: Iterable[Mapping[str, Any]], step: float = 1.0) -> dict[str, list[tuple[float, float]]]:
    """Per zone, ``(bucket middle s, percent of its requests that succeeded)`` for buckets where it had any."""
    out: dict[str, list[tuple[float, float]]] = {}
    for b in buckets:
        for zone, c in b["zones"].items():
            if c["requests"]:
                out.setdefault(zone, []).append((b["t"] + step / 2, 100.0 * c["ok"] / c["requests"]))
    return out


def traffic_share(buckets: Iterable[Mapping[str, Any]], step: float = 1.0) -> dict[str, list[tuple[float, float]]]:
    """Per zone, ``(bucket middle s, percent of the bucket's requests it got)``; 0 where it got none, so a
    zone losing its traffic shows as a drop, not a gap."""
    buckets = list(buckets)
    zones = zones_in(buckets)
    out: dict[str, list[tuple[float, float]]] = {z: [] for z in zones}
    for b in buckets:
        total = sum(c["requests"] for c in b["zones"].values())
        if not total:
            continue
        for zone in zones:
            n = b["zones"].get(zone, {}).get("requests", 0)
            out[zone].append((b["t"] + step / 2, 100.0 * n / total))
    return out


def zone_totals(buckets: Iterable[Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """Per zone, ``(requests, succeeded)`` over the whole test."""
    out: dict[str, tuple[int, int]] = {}
    for b in buckets:
        for zone, c in b["zones"].items():
            n, ok = out.get(zone, (0, 0))
            out[zone] = (n + c["requests"], ok + c["ok"])
    return out
