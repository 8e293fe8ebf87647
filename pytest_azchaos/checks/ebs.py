"""Stateful EBS behaviour across a zone loss (AZ-EBS-BIND, AZ-EBS-DRAIN, AZ-EBS-RETURN, AZ-EBS-PERM).

An EBS volume lives in one zone; its PV carries that zone as required node affinity. So a pod on such
a volume must run in that zone (BIND); when the zone is drained it waits Pending with the scheduler's
volume-affinity reason instead of moving to an empty disk (DRAIN); when the zone returns it comes back
on the same PV (RETURN); and a non-root pod can write its volume only with ``fsGroup`` (PERM).

Each check has a pure ``judge_*`` function over API objects (what the unit tests feed) and a wrapper
that reads them from the cluster. The AWS half (the EBS volume's AZ via boto3) is a separate concern.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..kube.topology import ZoneMap
from ..kube.wait import Progress, wait_until
from ..wellknown import LEGACY_ZONE_LABEL, PV_ZONE_KEYS
from .evidence import events_for, unscheduled_reason
from .result import CheckResult

#: Label keys a PV's node affinity names its zone by (upstream and the EBS CSI driver's own).
ZONE_KEYS = (*PV_ZONE_KEYS, LEGACY_ZONE_LABEL)
#: The VolumeBinding filter's reason; renamed upstream (PR #129887, ~v1.33). Both are accepted.
VOLUME_AFFINITY_WORDINGS = ("didn't match PersistentVolume's node affinity", "had volume node affinity conflict")


def is_volume_affinity_reason(message: str) -> bool:
    """True when a scheduler message blames a PV's node affinity (either upstream wording)."""
    return any(w in (message or "") for w in VOLUME_AFFINITY_WORDINGS)


def pv_zones(pv: Any) -> set[str]:
    """The zones a PV's required node affinity allows (empty when it names none)."""
    out: set[str] = set()
    affinity = pv.spec.node_affinity if pv and pv.spec else None
    required = affinity.required if affinity else None
    for term in (required.node_selector_terms or []) if required else []:
        for expr in term.match_expressions or []:
            if expr.key in ZONE_KEYS and expr.operator == "In":
                out.update(expr.values or [])
    return out


def claims_of(pod: Any) -> list[str]:
    """The PVC names a pod mounts."""
    return [v.persistent_volume_claim.claim_name for v in pod.spec.volumes or [] if v.persistent_volume_claim]


# ---------------------------------------------------------------------------------------------- AZ-EBS-BIND


def judge_binding(pods: Iterable[Any], pvcs: dict[str, Any], pvs: dict[str, Any], zones: ZoneMap, *,
                  check_id: str = "AZ-EBS-BIND") -> CheckResult:
    """Every scheduled pod's bound PVs allow exactly its node's zone."""
    evidence, bad, judged = [], 0, 0
    for pod in sorted(pods, key=lambda p: p.metadata.name):
        node = pod.spec.node_name
        node_zone = zones.zone_of(node)
        for claim in claims_of(pod):
            pvc = pvcs.get(claim)
            pv_name = pvc.spec.volume_name if pvc and pvc.spec else None
            phase = pvc.status.phase if pvc and pvc.status else None
            pv = pvs.get(pv_name) if pv_name else None
            if not node:
                why = unscheduled_reason(pod)
                evidence.append(f"pod {pod.metadata.name} is not scheduled (claim {claim}: {phase or 'missing'})"
                                + (f": {why}" if why else ""))
                bad += 1
                continue
            if pvc is None or pv is None or phase != "Bound":
                evidence.append(f"pod {pod.metadata.name} on {node} ({node_zone}): claim {claim} is "
                                f"{'missing' if pvc is None else phase}, PV {pv_name or '<none>'}"
                                f"{' missing' if pv_name and pv is None else ''}")
                bad += 1
                continue
            judged += 1
            allowed = pv_zones(pv)
            ok = allowed == {node_zone}
            bad += not ok
            evidence.append(f"pod {pod.metadata.name} on {node} ({node_zone}): claim {claim} -> PV {pv_name} zone "
                            f"{', '.join(sorted(allowed)) or '<no zone affinity>'}{'' if ok else '  <-- MISMATCH'}")
    figures = {"volumes": judged, "mismatches": bad}
    if not judged and not bad:
        return CheckResult(check_id, False, "no pods with persistent volume claims to judge", tuple(evidence), figures)
    if bad:
        return CheckResult(check_id, False, f"{bad} volume(s) not bound in their pod's node zone", tuple(evidence),
                           figures)
    return CheckResult(check_id, True, f"{judged} PV(s) are in their pod's node zone", tuple(evidence), figures)


def volumes_in_node_zone(core: Any, namespace: str, selector: str, zones: ZoneMap | None = None, *,
                         check_id: str = "AZ-EBS-BIND") -> CheckResult:
    """AZ-EBS-BIND against the cluster: the pods of ``selector`` and their claims' PVs."""
    zones = zones or ZoneMap.read(core)
    pods = [p for p in core.list_namespaced_pod(namespace, label_selector=selector).items
            if p.metadata.deletion_timestamp is None]
    pvcs = {c.metadata.name: c for c in core.list_namespaced_persistent_volume_claim(namespace).items}
    pvs = {v.metadata.name: v for v in core.list_persistent_volume().items}
    return judge_binding(pods, pvcs, pvs, zones, check_id=check_id)


# ---------------------------------------------------------------------------------------------- AZ-EBS-DRAIN


def judge_waiting(pod: Any, pvc: Any, claim_pvs: list[str], pv_name: str, scheduling_message: str, zones: ZoneMap,
                  *, old_node: str | None = None, check_id: str = "AZ-EBS-DRAIN") -> CheckResult:
    """The pod waits Pending for its volume's zone: volume-affinity reason, same PV, no new PV.

    ``claim_pvs`` are the PVs whose claimRef names this claim; ``scheduling_message`` the latest
    FailedScheduling message (or the PodScheduled condition's). ``old_node``: the lost node the pod ran on, which
    its provisioner deletes (a stopped Karpenter node): still there on it is "not yet replaced", not "moved".
    """
    name = pod.metadata.name if pod else "<missing>"
    claim = pvc.metadata.name if pvc else "<missing>"
    problems, evidence = [], []
    node = pod.spec.node_name if pod else None
    phase = pod.status.phase if pod and pod.status else None
    evidence.append(f"pod {name}: {phase}, node {node or '<none>'} ({zones.zone_of(node) if node else 'no zone'})")
    evidence.append(f"scheduler: {scheduling_message or '<no FailedScheduling message>'}")
    bound_to = pvc.spec.volume_name if pvc and pvc.spec else None
    evidence.append(f"claim {claim}: {pvc.status.phase if pvc and pvc.status else 'missing'}, PV "
                    f"{bound_to or '<none>'} (expected {pv_name})")
    evidence.append(f"PVs for claim {claim}: {', '.join(sorted(claim_pvs)) or '<none>'}")
    still = bool(node and old_node and node == old_node)
    if pod is None:
        problems.append(f"pod {name} is gone")
    elif still:
        problems.append(f"pod {name} is still on its lost node {node}: it was not deleted with the node")
    elif node:
        problems.append(f"pod {name} was scheduled to {node} in {zones.zone_of(node)}: it moved away from its volume")
    elif not is_volume_affinity_reason(scheduling_message):
        problems.append(f"pod {name} is Pending without the volume node affinity reason (expected one of: "
                        + " / ".join(VOLUME_AFFINITY_WORDINGS) + ")")
    if bound_to != pv_name or (pvc is not None and pvc.status and pvc.status.phase != "Bound"):
        problems.append(f"claim {claim} is no longer bound to {pv_name}")
    new = sorted(set(claim_pvs) - {pv_name})
    if new:
        problems.append(f"new PV(s) {', '.join(new)} were provisioned for claim {claim}")
    figures: dict[str, Any] = {"pending": bool(pod is not None and not node), "moved": bool(node) and not still,
                               "new_pvs": len(new)}
    if still:
        figures["outcome"] = "stays"
    if problems:
        return CheckResult(check_id, False, "; ".join(problems), tuple(evidence), figures)
    return CheckResult(check_id, True, f"pod {name} waits Pending for {pv_name}'s zone; claim {claim} still bound, "
                       "no new volume", tuple(evidence), figures)


def _scheduler_message(core: Any, namespace: str, pod: str) -> str:
    """The pod's latest FailedScheduling message from the scheduler: the volume-affinity reason is its verdict.
    Karpenter posts FailedScheduling on the same pod in its own words (source ``karpenter``, its NodePools'
    requirements); that one is used only when the scheduler has said nothing."""
    events = list(events_for(core, namespace, [pod], reasons=["FailedScheduling"], kinds=["Pod"]))
    own = [e for e in events if e.source != "karpenter"]
    return (own or events)[-1].message if events else ""


def _claim_pvs(core: Any, namespace: str, claim: str) -> list[str]:
    return [v.metadata.name for v in core.list_persistent_volume().items
            if v.spec.claim_ref and v.spec.claim_ref.namespace == namespace and v.spec.claim_ref.name == claim]


def _read(fn: Any, *args: Any) -> Any:
    from kubernetes.client import ApiException

    try:
        return fn(*args)
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def waits_for_volume(core: Any, namespace: str, pod: str, claim: str, pv_name: str, timeout: float = 10.0, *,
                     zones: ZoneMap | None = None, progress: Progress | None = None,
                     check_id: str = "AZ-EBS-DRAIN", predicted: Any = None, old_node: str | None = None
                     ) -> CheckResult:
    """AZ-EBS-DRAIN against the cluster; waits up to ``timeout`` for the scheduler's verdict to show. With
    ``predicted`` (an ``oracle.Prediction``) the result says whether this was expected; ``old_node`` as in
    :func:`judge_waiting` (the pod on it is waited out)."""
    zones = zones or ZoneMap.read(core)

    def fetch(with_data: bool = False) -> CheckResult:
        p = _read(core.read_namespaced_pod, pod, namespace)
        message = ""
        if p is not None and not p.spec.node_name:
            message = _scheduler_message(core, namespace, pod) or unscheduled_reason(p)
        c = _read(core.read_namespaced_persistent_volume_claim, claim, namespace)
        return judge_waiting(p, c, _claim_pvs(core, namespace, claim), pv_name, message, zones, old_node=old_node,
                             check_id=check_id)

    result = wait_until(fetch, lambda r: r.passed or bool(r.figures["new_pvs"] or r.figures["moved"]),
                        timeout=timeout, what=f"pod {pod} Pending on its volume's zone", progress=progress)
    return _compared((result.last or fetch()).undecided(result.inconclusive_reason()), predicted, pod)


# ---------------------------------------------------------------------------------------------- AZ-EBS-RETURN


#: Provisioners that replace a lost node rather than restart it (facts §2: a stopped Karpenter node is terminated,
#: its NodeClaim deleted; Auto Mode's nodes likewise): the pod comes back on a *new* node in its volume's zone.
REPLACING_PROVISIONERS = ("karpenter", "auto-mode")
NODEPOOL_LABEL = "karpenter.sh/nodepool"


def judge_returned(pod: Any, pvc: Any, pv_name: str, zone: str, zones: ZoneMap, *, expected_data: str | None = None,
                   read_back: str | None = None, old_node: str | None = None, provisioner: str = "",
                   known_nodes: Iterable[str] | None = None, node_labels: dict[str, str] | None = None,
                   claim_pvs: list[str] | None = None, replaced_by: str = "",
                   check_id: str = "AZ-EBS-RETURN") -> CheckResult:
    """The pod is Running and Ready in ``zone`` on ``pv_name`` (and read back the data, when given), and no other
    volume was provisioned for its claim (``claim_pvs``: the PVs whose claimRef names it).

    ``old_node`` / ``known_nodes`` (the nodes before the fault) and ``provisioner`` (``provisioners.detect``'s kind)
    say where "back" may be: on Karpenter or Auto Mode the lost node was terminated and replaced, so a new node in
    the volume's zone is the expected return (its NodePool named from ``node_labels``); on node groups the lost
    instances restart, and a new node is reported as such, unless ``replaced_by`` says who replaced the old one
    (an Auto Scaling group that terminated the stopped instance and launched another once resumed). Either way the
    volume's zone is what decides."""
    name = pod.metadata.name if pod else "<missing>"
    node = pod.spec.node_name if pod else None
    node_zone = zones.zone_of(node)
    ready = bool(pod) and any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))
    bound_to = pvc.spec.volume_name if pvc and pvc.spec else None
    claim = pvc.metadata.name if pvc else "<missing>"
    evidence = [f"pod {name}: {pod.status.phase if pod else 'missing'}{', Ready' if ready else ''} on "
                f"{node or '<no node>'} ({node_zone or 'no zone'}); expected zone {zone}",
                f"claim {claim} -> PV {bound_to or '<none>'} (expected {pv_name})"]
    new_node = bool(node and known_nodes is not None and node not in set(known_nodes))
    if node and old_node and node != old_node:
        labels = node_labels or {}
        how = (f"a new node (NodePool {labels[NODEPOOL_LABEL]})" if NODEPOOL_LABEL in labels else
               "a new node" if new_node else "another node that was there before")
        if provisioner in REPLACING_PROVISIONERS or replaced_by:
            evidence.append(f"{replaced_by or provisioner}: its old node {old_node} was replaced, not restarted; "
                            f"back on {how}")
        else:
            evidence.append(f"{provisioner or 'provisioner unknown'}: back on {how}, not on its old node {old_node}")
    problems = []
    if not ready:
        if pod is not None and not node:
            evidence.append(f"scheduler: {unscheduled_reason(pod) or '<no message>'}")
        problems.append(f"pod {name} is not Running and Ready")
    if node and node_zone != zone:
        problems.append(f"pod {name} runs in {node_zone or f'no known zone (node {node})'}, not in its volume's "
                        f"zone {zone}")
    if bound_to != pv_name:
        problems.append(f"claim is bound to {bound_to or 'nothing'}, not {pv_name}")
    new_pvs = sorted(set(claim_pvs or ()) - {pv_name})
    if claim_pvs is not None:
        evidence.append(f"PVs for claim {claim}: {', '.join(sorted(claim_pvs)) or '<none>'}")
    if new_pvs:
        problems.append(f"new PV(s) {', '.join(new_pvs)} were provisioned for claim {claim}")
    if expected_data is not None:
        evidence.append(f"data written before: {expected_data!r}; read back: {read_back!r}")
        if read_back != expected_data:
            problems.append("the data written before the drain did not read back (empty or new volume?)")
    figures = {"ready": ready, "new_node": new_node, "new_pvs": len(new_pvs)}
    if problems:
        return CheckResult(check_id, False, "; ".join(problems), tuple(evidence), figures)
    where = " on a new node" if new_node else ""
    return CheckResult(check_id, True, f"pod {name} is back in {zone}{where} on {pv_name}"
                       + (" with its data" if expected_data is not None else ""), tuple(evidence), figures)


def returned_on_volume(core: Any, namespace: str, pod: str, claim: str, pv_name: str, zone: str,
                       timeout: float = 30.0, *, zones: ZoneMap | None = None, expected_data: str | None = None,
                       read_back: str | None = None, progress: Progress | None = None, old_node: str | None = None,
                       provisioner: str = "", replaced_by: str = "", check_id: str = "AZ-EBS-RETURN") -> CheckResult:
    """AZ-EBS-RETURN against the cluster; waits up to ``timeout`` for the pod to come back. ``zones`` are the nodes
    before the fault; a node that joined since (Karpenter's replacement) is read fresh for its zone."""
    before = zones or ZoneMap.read(core)
    known = [n.name for n in before.nodes]

    def fetch(with_data: bool = False) -> CheckResult:
        p = _read(core.read_namespaced_pod, pod, namespace)
        node = p.spec.node_name if p is not None else None
        now = before if node is None or before.node(node) is not None else ZoneMap.read(core)
        labels: dict[str, str] = {}
        if node and node not in known:
            n = _read(core.read_node, node)
            labels = dict((n.metadata.labels or {}) if n is not None else {})
        return judge_returned(p, _read(core.read_namespaced_persistent_volume_claim, claim, namespace), pv_name, zone,
                              now, expected_data=expected_data if with_data else None, read_back=read_back,
                              old_node=old_node,
                              provisioner=provisioner, known_nodes=known, node_labels=labels,
                              claim_pvs=_claim_pvs(core, namespace, claim), replaced_by=replaced_by,
                              check_id=check_id)

    result = wait_until(fetch, lambda r: r.passed or bool(r.figures["new_pvs"]), timeout=timeout,
                        what=f"pod {pod} back in {zone} on {pv_name}", progress=progress)
    last = result.last or fetch()
    if expected_data is None or not last.passed:
        return last.undecided(result.inconclusive_reason())
    return fetch(with_data=True)


# ---------------------------------------------------------------------------------------------- AZ-EBS-PERM


@dataclass(frozen=True)
class ExecResult:
    """What a write attempt inside the pod returned (exit code and combined output)."""

    exit_code: int
    output: str


def volume_writable(result: ExecResult, pod: str, path: str, *, run_as_user: int | None = None,
                    fs_group: int | None = None, check_id: str = "AZ-EBS-PERM") -> CheckResult:
    """Pass when the write in the pod succeeded; a failure names ``Permission denied`` and the fsGroup fix."""
    who = f"uid {run_as_user}" if run_as_user is not None else "the container user"
    group = f"fsGroup {fs_group}" if fs_group is not None else "no fsGroup"
    evidence = (f"pod {pod}: write to {path} as {who} with {group}: exit {result.exit_code}",
                f"output: {result.output.strip()[:400] or '<empty>'}")
    figures = {"exit_code": result.exit_code}
    if result.exit_code == 0:
        return CheckResult(check_id, True, f"pod {pod} wrote {path}", evidence, figures)
    if "permission denied" in result.output.lower():
        fix = ("set securityContext.fsGroup (e.g. to the container's group) so the kubelet makes the volume "
               "group-writable" if fs_group is None else
               f"fsGroup {fs_group} is set but did not apply: check the CSI driver's fsGroupPolicy and fsType")
        return CheckResult(check_id, False, f"Permission denied writing {path} in pod {pod} as {who}: {fix}",
                           evidence, figures)
    return CheckResult(check_id, False, f"writing {path} in pod {pod} failed (exit {result.exit_code})", evidence,
                       figures)


# ---------------------------------------------------------------------------------- AZ-EBS-DRAIN, by flavour
# After a drain the pod is Pending on its volume's zone (above). After a power-off or a partition it is not:
# the node is tainted, not deleted; the pod is evicted after its toleration but stays Terminating on the
# unreachable node (no kubelet confirms, no out-of-service taint), so the StatefulSet does not recreate it.


def pod_outcome(pod: Any, zones: ZoneMap, lost_zone: str) -> str:
    """What became of a pod, in the oracle's words: gone, pending, terminating, stays (in the lost zone), moves."""
    if pod is None:
        return "gone"
    node = pod.spec.node_name
    if not node:
        return "pending"
    if zones.zone_of(node) != lost_zone:
        return "moves"
    return "terminating" if pod.metadata.deletion_timestamp is not None else "stays"


def judge_stuck(pod: Any, pvc: Any, claim_pvs: list[str], pv_name: str, node: str, lost_zone: str, zones: ZoneMap,
                *, expect_terminating: bool, remedy: str = "", check_id: str = "AZ-EBS-DRAIN") -> CheckResult:
    """Power-off / partition: the pod stays on ``node`` (its unreachable node in ``lost_zone``), Terminating once
    evicted when ``expect_terminating``; its claim stays on ``pv_name``; no new volume; the remedy is named."""
    name = pod.metadata.name if pod else "<missing>"
    claim = pvc.metadata.name if pvc else "<missing>"
    outcome = pod_outcome(pod, zones, lost_zone)
    on = pod.spec.node_name if pod else None
    ready = bool(pod) and any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))
    state = {"terminating": f"Terminating on {on} (deletionTimestamp {pod.metadata.deletion_timestamp if pod else ''})",
             "stays": f"{pod.status.phase if pod else ''}, Ready={ready} on {on}", "pending": "Pending (unscheduled)",
             "moves": f"running on {on} in {zones.zone_of(on)}", "gone": "gone"}[outcome]
    bound_to = pvc.spec.volume_name if pvc and pvc.spec else None
    evidence = [f"pod {name}: {state}; its node {node} is in the lost zone {lost_zone}",
                f"claim {claim}: {pvc.status.phase if pvc and pvc.status else 'missing'}, PV {bound_to or '<none>'} "
                f"(expected {pv_name})", f"PVs for claim {claim}: {', '.join(sorted(claim_pvs)) or '<none>'}"]
    if remedy:
        evidence.append(f"remedy: {remedy}")
    problems = []
    if outcome in ("moves", "pending", "gone"):
        problems.append(f"pod {name} is {state}: after a power-off or partition it should stay on its unreachable "
                        f"node {node} (the node is tainted, not deleted)")
    elif on != node:
        problems.append(f"pod {name} is on {on}, not on {node}")
    elif expect_terminating and outcome != "terminating":
        problems.append(f"pod {name} is not Terminating on {node} ({state})")
    if bound_to != pv_name:
        problems.append(f"claim {claim} is no longer bound to {pv_name}")
    new = sorted(set(claim_pvs) - {pv_name})
    if new:
        problems.append(f"new PV(s) {', '.join(new)} were provisioned for claim {claim}")
    figures = {"outcome": outcome, "terminating": outcome == "terminating", "moved": outcome == "moves",
               "new_pvs": len(new)}
    if problems:
        return CheckResult(check_id, False, "; ".join(problems), tuple(evidence), figures)
    what = "stays Terminating" if outcome == "terminating" else "stays (Ready=False) until evicted"
    return CheckResult(check_id, True, f"pod {name} {what} on its unreachable node {node}; claim {claim} still on "
                       f"{pv_name}, no new volume" + (f"; remedy: {remedy}" if remedy else ""), tuple(evidence),
                       figures)


def judge_volume_zone_lost(core: Any, namespace: str, pod: str, claim: str, pv_name: str, node: str, lost_zone: str,
                           fault: str, predicted: Any, wait: float, *, hold: float = 0.0,
                           zones: ZoneMap | None = None, progress: Progress | None = None,
                           terminations: Callable[[], Iterable[Any]] | None = None) -> CheckResult:
    """AZ-EBS-DRAIN while ``lost_zone`` is lost by ``fault`` (drain | power-off | partition), as the oracle's
    ``predicted`` says it goes: after a drain, or when the pod's stopped node was replaced (Karpenter) or its
    instance terminated by its Auto Scaling group (HealthCheck/ReplaceUnhealthy left active: the Node is deleted),
    the pod waits Pending for its volume; otherwise it stays Terminating on its lost node (``hold`` more seconds
    watched). ``wait``: the profile's volume wait, added to the predicted time of the outcome. ``terminations``:
    a look at the instances the outage saw terminated (``aws.outage_watch.Termination``), named in the result."""
    if fault == "drain":
        return waits_for_volume(core, namespace, pod, claim, pv_name, timeout=wait, zones=zones, progress=progress,
                                predicted=predicted)
    expected = predicted.outcome_of(pod)
    timeout = ((expected.after_s if expected else 0) or 0) + wait
    if expected is not None and expected.node_replaced:
        result = waits_for_volume(core, namespace, pod, claim, pv_name, timeout=timeout, zones=zones,
                                  progress=progress, old_node=node)
        if expected.terminated_by and result.passed:
            result = _node_went_with_instance(core, result, node, expected.terminated_by, terminations)
        return _compared(result, predicted, pod)
    return stays_on_lost_node(core, namespace, pod, claim, pv_name, node, lost_zone, timeout,
                              expect_terminating=True, remedy=predicted.remedy, zones=zones, hold=hold,
                              progress=progress, predicted=predicted)


def _node_went_with_instance(core: Any, result: CheckResult, node: str, predicted_by: str,
                             terminations: Callable[[], Iterable[Any]] | None) -> CheckResult:
    """``result`` (the pod waits for its volume) saying why: which group terminated which instance (as the outage
    saw it, else as predicted) and whether the Node object is gone."""
    import dataclasses

    seen = None
    if terminations is not None:
        try:
            seen = next((t for t in terminations() if t.node == node), None)
        except Exception as e:  # our side: the look failed; the prediction still names the group
            result = dataclasses.replace(result, evidence=(*result.evidence, f"terminations not read: {e}"))
    if seen is not None:
        why = f"instance {seen.instance_id} terminated by {seen.by()}"
    else:
        why = f"not seen by the outage's watch; predicted: {predicted_by}"
    gone = _read(core.read_node, node) is None
    what = f"node {node} deleted" if gone else f"node {node} still exists"
    return dataclasses.replace(result, summary=f"{result.summary}; {why}; {what}",
                               evidence=(*result.evidence, f"lost node {node}: {why}; {what}"),
                               figures={**result.figures, "node_deleted": gone,
                                        "terminated_instance": seen.instance_id if seen else None})


def stays_on_lost_node(core: Any, namespace: str, pod: str, claim: str, pv_name: str, node: str, lost_zone: str,
                       timeout: float, *, expect_terminating: bool, remedy: str = "", zones: ZoneMap | None = None,
                       progress: Progress | None = None, predicted: Any = None, hold: float = 0.0,
                       check_id: str = "AZ-EBS-DRAIN") -> CheckResult:
    """AZ-EBS-DRAIN after a power-off or partition, against the cluster: waits up to ``timeout`` for the pod to be
    Terminating (``expect_terminating``), then watches ``hold`` more seconds that it stays so: it never moves, is
    never recreated, never gets a new volume."""
    zones = zones or ZoneMap.read(core)

    def fetch() -> CheckResult:
        return judge_stuck(_read(core.read_namespaced_pod, pod, namespace),
                           _read(core.read_namespaced_persistent_volume_claim, claim, namespace),
                           _claim_pvs(core, namespace, claim), pv_name, node, lost_zone, zones,
                           expect_terminating=expect_terminating, remedy=remedy, check_id=check_id)

    what = f"pod {pod} {'Terminating' if expect_terminating else 'kept'} on its unreachable node {node}"
    if expect_terminating:
        waited = wait_until(fetch, lambda r: r.passed or r.figures["moved"] or bool(r.figures["new_pvs"]),
                            timeout=timeout, what=what, progress=progress)
    else:  # nothing should change: watch for the whole window
        waited = wait_until(fetch, lambda r: not r.passed, timeout=timeout, what=what, progress=progress)
    result = (waited.last or fetch()).undecided(waited.inconclusive_reason() if expect_terminating else "")
    if expect_terminating and result.passed and hold > 0:
        kept = wait_until(fetch, lambda r: not r.passed, timeout=hold, what=f"pod {pod} still Terminating on {node}",
                          progress=progress)
        result = kept.last or fetch()
    return _compared(result, predicted, pod)


def _compared(result: CheckResult, predicted: Any, pod: str) -> CheckResult:
    if predicted is None:
        return result
    from ..oracle.compare import agreement, annotate

    figures = result.figures
    observed = str(figures.get("outcome") or ("pending" if figures.get("pending") else
                                              "moves" if figures.get("moved") else "gone"))
    return annotate(result, predicted, agrees=agreement(predicted, pod=pod, pod_outcome=observed),
                    observed=f"pod {pod}: {observed}")
