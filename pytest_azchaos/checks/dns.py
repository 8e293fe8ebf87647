"""AZ-DNS: cluster DNS keeps answering from every surviving zone while a zone is lost.

Judged over the in-cluster probers' ``dns`` records (one per ``/dial`` by name: the pod's own resolver asked the
cluster DNS): in each surviving zone, the longest run of failed lookups must stay inside ``budget_s`` and the
lookups must answer again before the recording ends. The lost zone's lookups are counted and reported, not
judged (its clients go with it). A failure names CoreDNS's placement before the fault (its pods and zones), and
says when every replica was in the lost zone: the EKS add-on's 2 replicas with a ``ScheduleAnyway`` spread allow
exactly that (``eks-flavours-facts.md`` §6).

Lookups that failed on our side (the prober pod unreachable, the API server's proxy erring) make the result
inconclusive, never a failure; a surviving zone without one lookup is inconclusive too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..traffic.recording import Recording
from .result import CheckResult

if TYPE_CHECKING:
    from ..timing import Profile
    from .addons import Placement

CHECK_ID = "AZ-DNS"
#: Go's and glibc's resolv.conf default ``timeout:5``: a query already sent to an endpoint that goes away waits
#: this long before the resolver tries again.
RESOLVER_TIMEOUT = 5.0


def dns_budget(profile: Profile, fault: str = "drain") -> float:
    """How long lookups from a surviving zone may fail: a lost CoreDNS endpoint leaves kube-proxy after the
    endpoint propagation delay (a drain ends its pods at once; a power-off or partition only once the node is
    NotReady past the node monitor grace period), plus one resolver timeout for a query already in flight."""
    detect = 0.0 if fault in ("drain", "kill") else profile.node_monitor_grace_period
    return detect + profile.endpoint_propagation_delay + RESOLVER_TIMEOUT


def _our_side(detail: str) -> bool:
    from ..traffic.in_cluster import OUR_SIDE

    return detail.startswith(OUR_SIDE)


def dns_answers(recording: Recording, lost_zone: str, budget_s: float, *, coredns_before: Placement | None = None,
                during: tuple[float | None, float | None] = (None, None), check_id: str = CHECK_ID) -> CheckResult:
    """Pass when lookups from every zone but ``lost_zone`` kept answering (failure windows ≤ ``budget_s``)."""
    window = recording.between(*during)
    zones = window.source_zones()
    figures: dict[str, Any] = {"failed_lookups_judged": 0, "lost_zone": lost_zone, "budget_s": budget_s,
                               "lookups": {}, "failed_lookups": {},
                               "longest_failure_s": {}}
    evidence: list[str] = []
    problems: list[str] = []
    unsure: list[str] = []
    if coredns_before is not None:
        evidence.append(f"CoreDNS before the fault: {_placement_text(coredns_before)}")
        figures["coredns_before"] = dict(coredns_before.zones())
    for zone in zones:
        lookups = window.from_zone(zone, "dns")
        ours = [r for r in lookups.snapshot() if not r.ok and _our_side(r.detail)]
        lookups.records = [r for r in lookups.records if r.ok or not _our_side(r.detail)]
        records = lookups.snapshot()
        failed = [r for r in records if not r.ok]
        windows = lookups.failure_windows()
        longest = max((w.duration for w in windows), default=0.0)
        figures["lookups"][zone] = len(records)
        figures["failed_lookups"][zone] = len(failed)
        figures["longest_failure_s"][zone] = round(longest, 3)
        role = "lost zone, not judged" if zone == lost_zone else "surviving"
        line = (f"{zone} ({role}): {len(records)} lookup(s), {len(failed)} failed, longest failure window "
                f"{longest:.2f}s (budget {budget_s:g}s)")
        kinds = lookups.error_counts()
        if kinds:
            line += f"; errors: {', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}"
        evidence.append(line)
        for w in windows[:3]:
            evidence.append(f"  {zone}: {w.describe()}")
        if failed:
            evidence.append(f"  {zone} first failure: {failed[0].detail[:240]}")
        if zone == lost_zone:
            continue
        figures["failed_lookups_judged"] += len(failed)
        if ours:
            unsure.append(f"{len(ours)} lookup(s) from {zone} failed on our side ({ours[0].detail[:200]})")
        if not records:
            unsure.append(f"no lookups were made from {zone}")
            continue
        if longest > budget_s:
            problems.append(f"lookups from {zone} failed for {longest:.1f}s (budget {budget_s:g}s)")
        elif not records[-1].ok:
            problems.append(f"lookups from {zone} were still failing when the recording ended")
    if not any(z != lost_zone for z in zones):
        unsure.append("no surviving zone made any lookup")
    if problems:
        if coredns_before is not None:
            per = coredns_before.zones()
            if coredns_before.pods and set(per) <= {lost_zone}:
                problems.append(f"every CoreDNS replica was in {lost_zone} before the fault "
                                f"({_placement_text(coredns_before)}): the lost zone took cluster DNS with it; "
                                "run one replica per zone with a DoNotSchedule zone spread")
            else:
                problems.append(f"CoreDNS before the fault: {_placement_text(coredns_before)}")
        evidence += [f"also: {u}" for u in unsure]
        return CheckResult(check_id, False, "; ".join(problems), tuple(evidence), figures)
    if unsure:
        return CheckResult(check_id, False, "lookups could not be judged", tuple(evidence), figures, "; ".join(unsure))
    judged = [z for z in zones if z != lost_zone]
    return CheckResult(check_id, True, f"lookups from {', '.join(judged)} kept answering while {lost_zone} was lost "
                       f"(longest failure window {max(figures['longest_failure_s'][z] for z in judged):.2f}s, "
                       f"budget {budget_s:g}s)", tuple(evidence), figures)


def _placement_text(placement: Placement) -> str:
    pods = ", ".join(f"{name} in {zone or 'no zone'}" for name, zone in sorted(placement.pods.items()))
    return f"{placement.ref}: {pods or 'no pods'}"
