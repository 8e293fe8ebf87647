"""The rescheduling oracle: from the cluster's real state and a fault flavour, what Kubernetes will do.

Per flavour (facts: ``eks-flavours-facts.md`` section 3 and 4, ``k8s-aws-facts.md`` B4, C2-C4):

* **drain**: the zone's nodes are cordoned and their pods evicted through the Eviction API (PDBs can refuse,
  429, until the drain's timeout). A Deployment's pod is replaced wherever the filters allow; a StatefulSet's
  pod is recreated under its name and stays Pending when its volume's zone has no schedulable node.
* **power-off** (the zone's instances stop) and **partition** (its subnets cut off): the nodes stop renewing
  their leases and go Ready=Unknown after the grace period; whether anything is evicted depends on the zone's
  disruption state (``lifecycle``); evicted pods stay Terminating on the unreachable node (no kubelet confirms
  the deletion, no ``out-of-service`` taint), so a Deployment is replaced elsewhere but a StatefulSet's pod is
  not recreated until someone acts. Under a partition the old containers keep running (split brain).
  Unless the node's provisioner replaces it: a stopped Karpenter node is terminated (facts section 2), and so is
  a stopped instance whose Auto Scaling group keeps HealthCheck and ReplaceUnhealthy active (``groups``): the
  Node is deleted, its pods with it, and a StatefulSet's pod is recreated and waits for its volume's zone.
* **zonal-shift**: EKS cordons the zone's nodes and removes its endpoints; nothing is evicted.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..timing import Profile
from .filters import ANTI, EXISTING_ANTI, SPREAD, VOLUME_AFFINITY, VOLUME_ZONE, Simulation, fit_error
from .groups import GroupTermination
from .lifecycle import Lifecycle, lifecycle_after
from .model import (
    OUT_OF_SERVICE_TAINT,
    UNREACHABLE_TAINT,
    UNSCHEDULABLE_TAINT,
    ClusterState,
    Fault,
    Obj,
    controller_of,
    labels_of,
    matches_selector,
    name_of,
    node_of_pod,
    pod_key,
    pod_ready,
    pv_zones,
    terminating,
    toleration_seconds,
    zone_of_node,
)

#: The label Karpenter puts on the nodes it launched (their stop means replacement, not restart).
KARPENTER_NODEPOOL = "karpenter.sh/nodepool"
Outcome = Literal["unaffected", "stays", "moves", "pending", "terminating", "blocked", "gone"]
#: The upstream remedy for pods stuck on a shut-down node (non-graceful node shutdown, GA in v1.28).
REMEDY = (f"once the node is really shut down, taint it `{OUT_OF_SERVICE_TAINT}=nodeshutdown:NoExecute` "
          "(non-graceful node shutdown, kubernetes.io/docs/concepts/cluster-administration/node-shutdown): its "
          "pods are force-deleted and their volumes detached; remove the taint when the node is back")
PARTITION_WARNING = ("under a partition the node is alive: its container keeps running and writing (split brain), "
                     "so the out-of-service taint is only safe once the node is stopped")


@dataclass(frozen=True)
class PodPrediction:
    """One pod's expected fate: ``outcome`` with the ``reason``; ``after_s`` seconds after the fault began
    (None: at once or never); ``to_zone`` where its replacement runs."""

    pod: str
    controller: str
    node: str | None
    zone: str | None
    outcome: Outcome
    reason: str
    after_s: float | None = None
    to_zone: str | None = None
    #: Its node is replaced, not kept (a stopped Karpenter node: InstanceStopped -> drained, deleted, terminated):
    #: the old pod is deleted rather than left Terminating on an unreachable node.
    node_replaced: bool = False
    #: Who replaces the node (empty: nobody or Karpenter): its Auto Scaling group's termination, in words.
    terminated_by: str = ""

    def line(self) -> str:
        when = f" at ~{self.after_s:.0f}s" if self.after_s is not None else ""
        where = f" -> {self.to_zone}" if self.to_zone else ""
        return f"{self.pod} ({self.controller or 'no controller'}, {self.node or 'unscheduled'}): " \
               f"{self.outcome}{where}{when}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"pod": self.pod, "controller": self.controller, "node": self.node, "zone": self.zone,
                "outcome": self.outcome, "reason": self.reason, "after_s": self.after_s, "to_zone": self.to_zone,
                "node_replaced": self.node_replaced, "terminated_by": self.terminated_by}


@dataclass(frozen=True)
class Prediction:
    """What the oracle expects after ``fault``; ``summary`` reads "expected because ..."."""

    fault: Fault
    replicas: int
    ready_after: int  # Ready replicas outside the lost zone once everything settled
    pods: tuple[PodPrediction, ...]
    summary: str
    lifecycle: Lifecycle | None = None
    remedy: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def recovers(self) -> bool:
        """All replicas Ready outside the lost zone once settled."""
        return self.ready_after >= self.replicas

    @property
    def evicts(self) -> bool | None:
        return self.lifecycle.evicts if self.lifecycle else None

    def outcome_of(self, pod: str) -> PodPrediction | None:
        return next((p for p in self.pods if p.pod == pod), None)

    def affected(self) -> list[PodPrediction]:
        return [p for p in self.pods if p.outcome != "unaffected"]

    def settled_after(self) -> float:
        """Seconds after the fault by which every predicted change has shown (0 if all at once)."""
        return max((p.after_s for p in self.pods if p.after_s is not None), default=0.0)

    def lines(self) -> list[str]:
        """A few lines for the terminal: the summary, then each affected pod."""
        out = [f"prediction for {self.fault.describe()}: {self.summary}"]
        groups: dict[tuple[Any, ...], list[PodPrediction]] = {}
        for p in self.affected():
            groups.setdefault((p.outcome, p.controller, p.reason), []).append(p)
        for (outcome, controller, reason), members in groups.items():
            names = ", ".join(f"{p.pod}@{p.node}" + (f"->{p.to_zone}" if p.to_zone else "") for p in members)
            when = [p.after_s for p in members if p.after_s is not None]
            at = f" at ~{min(when):.0f}-{max(when):.0f}s" if when else ""
            out.append(f"  {outcome}{at}: {names} ({controller or 'no controller'}): {reason}")
        if self.remedy:
            out.append(f"  remedy: {self.remedy}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def to_evidence(self) -> dict[str, Any]:
        """The record ``Evidence.predictions`` keeps: ``{"fault", "summary", "details"}`` plus figures."""
        return {"fault": self.fault.describe(), "kind": self.fault.kind, "zone": self.fault.zone,
                "summary": self.summary, "details": [p.to_dict() for p in self.pods],
                "replicas": self.replicas, "ready_after": self.ready_after, "recovers": self.recovers,
                "zone_state": self.lifecycle.state if self.lifecycle else None, "evicts": self.evicts,
                "remedy": self.remedy, "notes": list(self.notes)}


# ---------------------------------------------------------------------------------------------- helpers


def _controller(pod: Obj) -> str:
    kind, _ = controller_of(pod)
    return "Deployment" if kind == "ReplicaSet" else kind


def _replacement(pod: Obj, index: int) -> Obj:
    """The pod its controller creates instead: same template; a StatefulSet keeps the name (and claims)."""
    new = copy.deepcopy(pod)
    meta = new["metadata"]
    if _controller(pod) != "StatefulSet":
        meta["name"] = f"{meta['name']}-replacement-{index}"
    meta.pop("deletionTimestamp", None)
    new["spec"] = {k: v for k, v in (new.get("spec") or {}).items() if k != "nodeName"}
    new["status"] = {}
    return new


def _taint(key: str, effect: str) -> Obj:
    return {"key": key, "effect": effect}


def _after_fault(nodes: list[Obj], lost: set[str], fault: Fault, lifecycle: Lifecycle | None) -> list[Obj]:
    """The nodes as they will look: cordoned (drain, shift) or unreachable-tainted (power-off, partition)."""
    out = []
    for node in nodes:
        if name_of(node) not in lost:
            out.append(node)
            continue
        node = copy.deepcopy(node)
        spec = node.setdefault("spec", {})
        taints = list(spec.get("taints") or [])
        if fault.kind in ("drain", "zonal-shift"):
            spec["unschedulable"] = True
            taints.append(_taint(UNSCHEDULABLE_TAINT, "NoSchedule"))
        else:
            taints.append(_taint(UNREACHABLE_TAINT, "NoSchedule"))
            if lifecycle is not None and lifecycle.evicts:
                taints.append(_taint(UNREACHABLE_TAINT, "NoExecute"))
            node["status"] = {**(node.get("status") or {}), "conditions": [{"type": "Ready", "status": "Unknown"}]}
        spec["taints"] = taints
        out.append(node)
    return out


def _drain_leaves(pod: Obj) -> str:
    """Why a drain leaves ``pod`` where it is (kubectl drain's filters, as chaos/drain.py applies them), or ""."""
    if _controller(pod) == "DaemonSet":
        return "kubectl drain leaves DaemonSet pods (--ignore-daemonsets)"
    if "kubernetes.io/config.mirror" in (pod["metadata"].get("annotations") or {}):
        return "a mirror (static) pod: the API cannot evict it"
    if not _controller(pod):
        return "it declares no controller: kubectl drain refuses it without --force (the plugin's drain skips it)"
    return ""


def _pdb_budget(state: ClusterState, pdb: Obj) -> int:
    """Evictions the PDB allows now: healthy pods minus the desired healthy count (``getExpectedPodCount``)."""
    ns = pdb["metadata"].get("namespace", "")
    selector = (pdb.get("spec") or {}).get("selector")
    pods = [p for p in state.pods if p["metadata"].get("namespace", "") == ns and not terminating(p)
            and matches_selector(selector, labels_of(p))]
    expected, healthy = len(pods), sum(1 for p in pods if pod_ready(p))
    spec = pdb.get("spec") or {}

    def scaled(v: Any) -> int:
        if isinstance(v, str) and v.endswith("%"):
            return math.ceil(expected * int(v[:-1]) / 100)
        return int(v)

    if spec.get("minAvailable") is not None:
        desired = scaled(spec["minAvailable"])
    elif spec.get("maxUnavailable") is not None:
        desired = expected - scaled(spec["maxUnavailable"])
    else:
        desired = expected
    return healthy - desired


def _pdbs_of(state: ClusterState, pod: Obj) -> list[Obj]:
    ns = pod["metadata"].get("namespace", "")
    return [b for b in state.pdbs if b["metadata"].get("namespace", "") == ns
            and matches_selector((b.get("spec") or {}).get("selector"), labels_of(pod))]


def _why_pending(pod: Obj, reasons: Counter[str], sim: Simulation, fault: Fault, total: int) -> str:
    """The scheduler's message plus what in the spec causes it (the part a user must change)."""
    causes = []
    if reasons.get(VOLUME_AFFINITY) or reasons.get(VOLUME_ZONE):
        zones = sorted({z for _, pv in sim.state.pod_pvs(pod) for z in pv_zones(pv)})
        causes.append(f"its volume is in {', '.join(zones) or fault.zone}, which has no schedulable node")
    if reasons.get(SPREAD):
        for c in (pod.get("spec") or {}).get("topologySpreadConstraints") or ():
            if c.get("whenUnsatisfiable", "DoNotSchedule") != "DoNotSchedule":
                continue
            eligible = [n for n in sim.nodes if c["topologyKey"] in labels_of(n) and sim.spread_eligible(pod, n, c)]
            domains = {labels_of(n)[c["topologyKey"]] for n in eligible}
            if fault.zone in domains and c.get("nodeTaintsPolicy", "Ignore") != "Honor":
                causes.append(f"the DoNotSchedule spread on {c['topologyKey']} keeps {fault.zone} as a domain "
                              "(nodeTaintsPolicy is not Honor), so its missing pods pin the minimum and the "
                              f"other zones may not exceed it by more than maxSkew {c.get('maxSkew', 1)}")
            elif int(c.get("minDomains") or 1) > len(domains):
                causes.append(f"minDomains {c['minDomains']} > {len(domains)} eligible domain(s): the global "
                              f"minimum counts as 0, so each surviving domain holds at most maxSkew "
                              f"{c.get('maxSkew', 1)} matching pod(s)")
    if reasons.get(ANTI) or reasons.get(EXISTING_ANTI):
        causes.append("required pod anti-affinity: every surviving node (or domain) already runs a matching pod")
    if any(r.startswith("Insufficient") or r == "Too many pods" for r in reasons):
        causes.append("the surviving nodes lack allocatable room for its requests")
    message = fit_error(total, reasons)
    return message + (f" ({'; '.join(causes)})" if causes else "")


# ---------------------------------------------------------------------------------------------- predict


def predict(state: ClusterState, fault: Fault, profile: Profile, *, drain_timeout: float | None = None,
            groups: Mapping[str, GroupTermination] | None = None) -> Prediction:
    """What Kubernetes will do for ``state``'s workload under ``fault`` (``profile`` gives the controllers'
    timings; ``drain_timeout`` how long a drain retries PDB refusals, default the profile's). ``groups``: under a
    power-off, the lost nodes whose Auto Scaling group terminates their stopped instance (``groups.
    terminated_by_groups``): their Nodes are deleted, their pods garbage-collected and recreated."""
    zone_nodes = [name_of(n) for n in state.nodes if zone_of_node(n) == fault.zone]
    lost = set(fault.nodes) if fault.nodes is not None else set(zone_nodes)
    lifecycle = lifecycle_after(state, fault, sorted(lost), profile) if fault.kind in ("power-off", "partition") \
        else None
    replaced = {name_of(n) for n in state.nodes if name_of(n) in lost and labels_of(n).get(KARPENTER_NODEPOOL)}
    # Nodes whose group terminates their instance are deleted: the scheduler no longer counts them.
    by_group = {n: t for n, t in (groups or {}).items()
                if fault.kind == "power-off" and n in lost and n not in replaced}
    kept_nodes = [n for n in state.nodes if name_of(n) not in by_group]
    sim = Simulation(state, _after_fault(kept_nodes, lost, fault, lifecycle),
                     [copy.deepcopy(p) for p in state.pods])
    workload = sorted(state.workload_pods(), key=lambda p: name_of(p))
    total_nodes = len(kept_nodes)
    on_lost = [p for p in workload if node_of_pod(p) in lost and not terminating(p)]
    lost_order = sorted(lost)
    out: dict[str, PodPrediction] = {}
    notes: list[str] = []
    remedy = ""

    def base(pod: Obj) -> dict[str, Any]:
        node = node_of_pod(pod)
        return {"pod": name_of(pod), "controller": _controller(pod), "node": node, "zone": state.zone_of(node)}

    def replace(pod: Obj, index: int, after: float | None, lead: str) -> PodPrediction:
        node, reasons = sim.place(_replacement(pod, index))
        if node is None:
            return PodPrediction(**base(pod), outcome="pending", after_s=after,
                                 reason=f"{lead}; its replacement stays Pending: "
                                        f"{_why_pending(pod, reasons, sim, fault, total_nodes)}")
        return PodPrediction(**base(pod), outcome="moves", after_s=after, to_zone=state.zone_of(node),
                             reason=f"{lead}; a replacement fits there")

    def drop(pod: Obj) -> None:
        sim.pods[:] = [p for p in sim.pods if pod_key(p) != pod_key(pod)]

    def mark_terminating(pod: Obj) -> None:
        for p in sim.pods:
            if pod_key(p) == pod_key(pod):
                p["metadata"]["deletionTimestamp"] = "predicted"

    if fault.kind == "zonal-shift":
        for pod in on_lost:
            out[name_of(pod)] = PodPrediction(**base(pod), outcome="stays", reason=(
                "a zonal shift cordons the zone and removes its endpoints; nothing is evicted"))
    elif fault.kind == "drain":
        budget = {b["metadata"]["name"]: _pdb_budget(state, b) for b in state.pdbs}
        pending = []
        for pod in on_lost:
            left = _drain_leaves(pod)
            if left:
                out[name_of(pod)] = PodPrediction(**base(pod), outcome="stays", reason=left)
            else:
                pending.append(pod)
        progress, index = True, 0
        while pending and progress:
            progress = False
            for pod in list(pending):
                pdbs = _pdbs_of(state, pod)
                if any(budget[b["metadata"]["name"]] <= 0 for b in pdbs):
                    continue
                pending.remove(pod)
                progress = True
                for b in pdbs:
                    budget[b["metadata"]["name"]] -= 1
                drop(pod)
                index += 1
                lead = "evicted by the drain" if _controller(pod) != "StatefulSet" else \
                    "evicted by the drain and recreated under its name"
                result = replace(pod, index, None, lead)
                out[name_of(pod)] = result
                if result.outcome == "moves":
                    for b in pdbs:
                        budget[b["metadata"]["name"]] += 1  # the replacement becomes healthy again
        timeout = drain_timeout if drain_timeout is not None else profile.drain_timeout
        for pod in pending:
            names = ", ".join(b["metadata"]["name"] for b in _pdbs_of(state, pod))
            out[name_of(pod)] = PodPrediction(**base(pod), outcome="blocked", after_s=None, reason=(
                f"the PodDisruptionBudget {names} allows no more disruptions (its replacements cannot become "
                f"healthy): every eviction answers 429 until the drain's timeout ({timeout:.0f}s)"))
    else:
        assert lifecycle is not None
        if fault.kind == "partition":
            notes.append("partition: the zone's kubelets and containers keep running and keep serving whatever "
                         "still reaches them; the API server sees the nodes as unreachable")
        for index, pod in enumerate(on_lost):
            node = node_of_pod(pod) or ""
            if fault.kind == "power-off" and node in replaced:
                # Karpenter's interruption handling (facts §2): a stopped instance's node is cordoned and drained,
                # its NodeClaim deleted, the instance terminated: the pod is deleted at once, never Terminating.
                drop(pod)
                lead = (f"Karpenter replaces its stopped node {node} (InstanceStopped: cordoned, drained, NodeClaim "
                        "deleted, instance terminated): the pod is deleted, not left Terminating")
                after = profile.cloud_poll_interval
                if not _controller(pod) or _controller(pod) == "DaemonSet":
                    out[name_of(pod)] = PodPrediction(**base(pod), outcome="gone", after_s=after,
                                                      reason=lead + "; nothing recreates it", node_replaced=True)
                else:
                    out[name_of(pod)] = dataclasses.replace(replace(pod, index + 1, after, lead), node_replaced=True)
                continue
            if node in by_group:
                # The group's EC2 health check fails the stopped instance and ReplaceUnhealthy terminates it; the
                # cloud node lifecycle controller deletes the Node; pod GC deletes its pods (groups.py).
                term = by_group[node]
                drop(pod)
                lead = (f"{term.describe()}: the cloud node lifecycle controller deletes node {node} and pod GC "
                        "its pods: the pod is deleted, not left Terminating")
                after = profile.asg_health_check_interval + profile.cloud_poll_interval + \
                    profile.pod_gc_orphan_quarantine
                if not _controller(pod) or _controller(pod) == "DaemonSet":
                    out[name_of(pod)] = PodPrediction(**base(pod), outcome="gone", after_s=after,
                                                      reason=lead + "; nothing recreates it", node_replaced=True,
                                                      terminated_by=term.describe())
                else:
                    out[name_of(pod)] = dataclasses.replace(replace(pod, index + 1, after, lead), node_replaced=True,
                                                            terminated_by=term.describe())
                continue
            tainted = lifecycle.taint_after(lost_order.index(node)) if node in lost_order else None
            tolerate = toleration_seconds(pod, UNREACHABLE_TAINT)
            if tainted is None:
                out[name_of(pod)] = PodPrediction(**base(pod), outcome="stays", reason=(
                    f"{lifecycle.reason(profile)}; the pod stays on its NotReady node (Ready=False) and is "
                    "never replaced"))
                continue
            if tolerate is None:
                out[name_of(pod)] = PodPrediction(**base(pod), outcome="stays", reason=(
                    "it tolerates node.kubernetes.io/unreachable:NoExecute forever"))
                continue
            after = tainted + tolerate + profile.node_eviction_period
            lead = (f"evicted {tolerate:.0f}s after its node's unreachable:NoExecute taint "
                    f"(node loss detected after ~{lifecycle.detection_s:.0f}s); the old pod stays Terminating "
                    "on the unreachable node")
            mark_terminating(pod)
            if _controller(pod) == "StatefulSet":
                remedy = REMEDY + ("; " + PARTITION_WARNING if fault.kind == "partition" else "")
                out[name_of(pod)] = PodPrediction(**base(pod), outcome="terminating", after_s=after, reason=(
                    f"evicted {tolerate:.0f}s after its node's unreachable:NoExecute taint, then stays Terminating "
                    "on the unreachable node: no kubelet confirms the deletion and nothing adds the "
                    f"{OUT_OF_SERVICE_TAINT} taint, "
                    "so the StatefulSet does not recreate it (and its volume stays attached there)"))
            elif not _controller(pod) or _controller(pod) == "DaemonSet":
                out[name_of(pod)] = PodPrediction(**base(pod), outcome="terminating", after_s=after,
                                                  reason=lead + "; nothing replaces it elsewhere")
            else:
                out[name_of(pod)] = replace(pod, index + 1, after, lead)
    for pod in workload:
        out.setdefault(name_of(pod), PodPrediction(**base(pod), outcome="unaffected",
                                                   reason="not on a lost node"))
    for node, term in sorted(by_group.items()):
        notes.append(f"{term.describe()}: node {node} is deleted once its instance is terminated; the group "
                     "launches a replacement in the zone only when Launch is resumed (the undo)")
    preds = tuple(out[name_of(p)] for p in workload)
    outside = sum(1 for p in workload if node_of_pod(p) not in lost and pod_ready(p))
    controlled = [p for p in workload if _controller(p) and _controller(p) != "DaemonSet"]
    replicas = len(controlled) if controlled else len(workload)
    ready_after = outside + sum(1 for p in preds if p.outcome == "moves")
    summary = _summary(fault, preds, lifecycle, profile, replicas, ready_after)
    return Prediction(fault, replicas, ready_after, preds, summary, lifecycle, remedy, tuple(notes))


def _summary(fault: Fault, preds: tuple[PodPrediction, ...], lifecycle: Lifecycle | None, profile: Profile,
             replicas: int, ready_after: int) -> str:
    counts = Counter(p.outcome for p in preds)
    moved = Counter(p.to_zone for p in preds if p.outcome == "moves")
    where = ", ".join(f"{z}: {n}" for z, n in sorted(moved.items(), key=lambda x: str(x[0])))
    parts = []
    if lifecycle is not None:
        parts.append(lifecycle.reason(profile))
    if counts["moves"]:
        parts.append(f"{counts['moves']} replica(s) move ({where})")
    first = next((p for p in preds if p.outcome == "pending"), None)
    if first is not None:
        parts.append(f"{counts['pending']} replacement(s) stay Pending: "
                     f"{first.reason.partition('stays Pending: ')[2] or first.reason}")
    by_group = sorted({p.terminated_by for p in preds if p.terminated_by})
    if by_group:
        parts.append("their nodes are deleted: " + "; ".join(by_group))
    if counts["terminating"]:
        parts.append(f"{counts['terminating']} pod(s) stay Terminating on the unreachable node(s)")
    if counts["blocked"]:
        parts.append(f"{counts['blocked']} pod(s) cannot be evicted (PodDisruptionBudget)")
    if counts["stays"]:
        parts.append(f"{counts['stays']} pod(s) stay on the lost node(s)")
    if counts["gone"]:
        parts.append(f"{counts['gone']} pod(s) without a controller are not recreated")
    if not any(counts[k] for k in ("moves", "pending", "terminating", "blocked", "stays", "gone")):
        parts.append("no replica of the workload runs on the lost node(s)")
    settled = max((p.after_s for p in preds if p.after_s is not None), default=None)
    when = f" by ~{settled:.0f}s after the fault" if settled else ""
    away = f"off the lost node(s) of {fault.zone}" if fault.nodes is not None else f"outside {fault.zone}"
    verdict = (f"all {replicas} replica(s) Ready {away}{when}" if ready_after >= replicas else
               f"only {ready_after}/{replicas} replica(s) Ready {away}")
    return f"expected {verdict}, because " + "; ".join(parts)
