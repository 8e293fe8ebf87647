"""AZ-CAPACITY: when the surviving zones lack room for the lost zone's replacements (or a stateful pod needs its
volume's zone back), the node provisioner adds capacity where the Pending pods can run, within the profile's time.

Who adds it follows the provisioner (``provisioners.detect``): Karpenter or EKS Auto Mode (NodePools), or the
Cluster Autoscaler over node groups (Auto Scaling groups); node groups without an autoscaler add nothing, so the
check is not applicable there (``Provisioner.adds_capacity`` says why).

Where a pod "can run": a pod with EBS volumes only in its volumes' zone (their PVs' node affinity); any other pod
in a surviving zone (a new node in the zone taken away refills the zone the test took away: the provisioner was not
kept out of it). The pass: every pod that was Pending is Ready on a node in such a zone, and the workload is whole.
A failure names the pods still Pending (scheduler's message verbatim), the new nodes and their zones, each pod's
volume zone, the autoscaler's / Karpenter's / scheduler's events verbatim, and which node group or NodePool could
not help and why. Our own API reads failing make it inconclusive.

``judge_capacity`` is pure (over a ``CapacityObservation``; what the unit tests feed); ``capacity_added`` observes
the cluster and judges.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..kube.topology import ZoneMap, is_ready
from ..kube.wait import Progress, wait_until
from .ebs import claims_of, pv_zones
from .evidence import NODE_EVENTS_NAMESPACE, EventView, Since, events_for, live_pods, to_datetime
from .result import CheckResult

CHECK_ID = "AZ-CAPACITY"
NODEPOOL_LABEL = "karpenter.sh/nodepool"
NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup"
#: Pod event reasons from the scheduler, Karpenter and the Cluster Autoscaler that explain where capacity came from.
POD_REASONS = frozenset({"FailedScheduling", "Nominated", "TriggeredScaleUp", "NotTriggerScaleUp", "Scheduled"})
#: NodeClaim / NodePool / Node events (cluster-scoped: upstream writes them to ``default``).
NODE_REASONS = frozenset({"Launched", "FailedLaunching", "InsufficientCapacityError", "ScaleUp", "FailedToScaleUp",
                          "ZonalShiftActive", "Registered", "DisruptionTerminating"})
NODE_KINDS = ("NodeClaim", "NodePool", "Node", "ConfigMap")

# Karpenter (kubernetes-sigs/karpenter pkg/controllers/provisioning/scheduling): each NodePool's reason, "; "-joined.
_KARPENTER_POOL = re.compile(r'incompatible with nodepool "(?P<pool>[^"]+)", daemonset overhead=\{[^}]*\}, '
                             r'(?P<why>.*?)(?=; incompatible with nodepool "|; all available instance types|$)')
_KARPENTER_LIMITS = re.compile(r'all available instance types exceed limits for nodepool:? "(?P<pool>[^"]+)"')
# Cluster Autoscaler (core/scaleup/orchestrator, utils/events): "pod triggered scale-up: [{asg 1->2 (max: 6)}]".
_CA_SCALE_UP = re.compile(r"\{(?P<group>\S+) (?P<from>\d+)->(?P<to>\d+) \(max: (?P<max>\d+)\)\}")


@dataclass(frozen=True)
class PodState:
    """One pod of the workload as the last poll saw it, with the zones its volumes allow."""

    name: str
    node: str | None
    node_zone: str | None
    ready: bool
    phase: str
    volume_zones: tuple[str, ...] = ()
    #: The scheduler's latest FailedScheduling message (or PodScheduled=False condition), verbatim.
    scheduling: str = ""

    def allowed_zones(self, zones: Iterable[str], lost_zone: str) -> list[str]:
        """Its volumes' zone(s) when it has zonal volumes, else every zone but the one taken away."""
        if self.volume_zones:
            return sorted(self.volume_zones)
        return [z for z in zones if z != lost_zone]

    def line(self, lost_zone: str, zones: Iterable[str]) -> str:
        where = (f"{self.phase}{', Ready' if self.ready else ''} on {self.node} ({self.node_zone or 'no zone'})"
                 if self.node else "Pending (unscheduled)")
        volume = f", volume zone {', '.join(self.volume_zones)}" if self.volume_zones else ""
        return (f"pod {self.name}: {where}{volume}; can run in "
                f"{', '.join(self.allowed_zones(zones, lost_zone)) or 'no zone'}")


@dataclass(frozen=True)
class NewNode:
    """A node that joined after the fault began, and what added it (``NodePool X`` / ``node group X`` / '')."""

    name: str
    zone: str | None
    source: str
    ready: bool
    unschedulable: bool = False

    def line(self) -> str:
        state = "Ready" if self.ready else "NotReady"
        return (f"new node {self.name} in {self.zone or 'no zone'} ({state}"
                f"{', cordoned' if self.unschedulable else ''}) from {self.source or 'an unknown provisioner'}")


@dataclass(frozen=True)
class CapacityObservation:
    """What was seen of a workload after a zone was taken away, for ``judge_capacity``."""

    provisioner: str  # karpenter | auto-mode | node-groups
    lost_zone: str
    zones: tuple[str, ...]
    expected: int  # replicas the workload should have Ready
    pods: tuple[PodState, ...]  # its live pods now
    pending_seen: tuple[str, ...]  # pods seen unscheduled after the fault (the ones the provisioner had to help)
    new_nodes: tuple[NewNode, ...] = ()
    events: tuple[EventView, ...] = ()
    waited_s: float = 0.0
    budget_s: float = 0.0
    elapsed_s: float | None = None  # fault start to the workload whole, when it became whole
    #: Our own side failed while observing (API reads); makes a failure inconclusive.
    read_error: str = ""
    figures: dict[str, Any] = field(default_factory=dict)

    def pod(self, name: str) -> PodState | None:
        return next((p for p in self.pods if p.name == name), None)


def _helped(pod: PodState, obs: CapacityObservation) -> bool:
    return pod.ready and pod.node_zone in pod.allowed_zones(obs.zones, obs.lost_zone)


def _pod_problem(name: str, obs: CapacityObservation) -> str:
    pod = obs.pod(name)
    if pod is None:
        return ""  # replaced (a Deployment's pod deleted while Pending); the workload count decides
    allowed = pod.allowed_zones(obs.zones, obs.lost_zone)
    if not pod.node:
        return f"pod {name} still Pending" + (f" (its volume is in {', '.join(pod.volume_zones)})"
                                              if pod.volume_zones else "")
    if pod.node_zone not in allowed:
        new = any(n.name == pod.node for n in obs.new_nodes)
        why = (f"not in its volume's zone {', '.join(pod.volume_zones)}" if pod.volume_zones else
               f"the zone taken away: the provisioner refilled {obs.lost_zone}" if new else
               "the zone taken away, on a node that was there before (never moved: the drain did not evict it)")
        return f"pod {name} runs on {pod.node} in {pod.node_zone}, {why}"
    if not pod.ready:
        return f"pod {name} on {pod.node} ({pod.node_zone}) is not Ready"
    return ""


def _events_about(obs: CapacityObservation, pod: str) -> list[EventView]:
    return [e for e in obs.events if e.kind == "Pod" and e.name == pod]


def could_not_help(obs: CapacityObservation, names: Iterable[str]) -> list[str]:
    """Which NodePool or node group could not help the named pods and why, from the provisioner's own events and
    where its new nodes landed."""
    out: list[str] = []

    def add(line: str) -> None:
        if line not in out:
            out.append(line)

    for name in names:
        pod = obs.pod(name)
        allowed = pod.allowed_zones(obs.zones, obs.lost_zone) if pod else [z for z in obs.zones if z != obs.lost_zone]
        events = _events_about(obs, name)
        karpenter = [e for e in events if e.reason == "FailedScheduling" and "nodepool" in e.message.lower()]
        if karpenter:
            message = karpenter[-1].message
            for m in _KARPENTER_POOL.finditer(message):
                add(f'NodePool {m.group("pool")} could not help pod {name}: {m.group("why").strip()}')
            for m in _KARPENTER_LIMITS.finditer(message):
                add(f'NodePool {m.group("pool")} could not help pod {name}: {m.group(0)}')
            if not _KARPENTER_POOL.search(message) and not _KARPENTER_LIMITS.search(message):
                add(f"Karpenter could not help pod {name}: {message}")
        scaled: dict[str, list[re.Match[str]]] = {}
        for e in (e for e in events if e.reason == "TriggeredScaleUp"):
            for m in _CA_SCALE_UP.finditer(e.message):
                scaled.setdefault(m.group("group"), []).append(m)
        for group, steps in scaled.items():
            mine = [n for n in obs.new_nodes if n.source and (group in n.source
                                                               or n.source.split(" ", 1)[-1] in group)] \
                or list(obs.new_nodes)
            landed = sorted({n.zone or "no zone" for n in mine})
            sizes = dict.fromkeys(m.group("from") + "->" + m.group("to") for m in steps)
            how = f"it scaled {', '.join(sizes)} (max {steps[-1].group('max')})"
            if mine and not set(landed) & set(allowed):
                target = (f"pod {name}'s volume is in {', '.join(pod.volume_zones)}" if pod and pod.volume_zones
                          else f"pod {name} can run only in {', '.join(allowed)}")
                spans = (" (one group across zones: the autoscaler cannot choose the zone, EC2 balances "
                         "launches across the group's zones)") if pod and pod.volume_zones else ""
                add(f"node group {group} could not help pod {name}: {how} but its new node(s) "
                    f"{', '.join(n.name for n in mine)} landed in {', '.join(landed)}; {target}{spans}")
            elif not mine:
                add(f"node group {group} could not help pod {name}: {how} but no new node joined the cluster")
        refused = [e for e in events if e.reason == "NotTriggerScaleUp"]
        if refused:
            add(f"the Cluster Autoscaler scaled up no node group for pod {name}: {refused[-1].message}")
    for n in obs.new_nodes:  # Karpenter / an autoscaler launching into the zone the test took away
        if n.zone == obs.lost_zone and not any(p.volume_zones and obs.lost_zone in p.volume_zones for p in obs.pods):
            add(f"{n.source or 'the provisioner'} launched {n.name} into {obs.lost_zone}, the zone taken away "
                "(it was not kept out of the zone: a cordoned zone is invisible to it)")
    for e in obs.events:
        if e.reason in ("FailedLaunching", "InsufficientCapacityError", "FailedToScaleUp"):
            add(f"{e.kind} {e.name} could not launch: {e.message}")
    return out


def _latest_scheduler_verdicts(events: Iterable[EventView]) -> list[EventView]:
    """``events`` with only each pod's latest FailedScheduling from the scheduler (it repeats on every retry with
    node counts changing as nodes come and go); the provisioners' events all stay."""
    events = list(events)

    def scheduler_says(e: EventView) -> bool:
        return e.reason == "FailedScheduling" and e.source.endswith("scheduler")

    last = {e.name: i for i, e in enumerate(events) if scheduler_says(e)}
    return [e for i, e in enumerate(events) if not scheduler_says(e) or last.get(e.name) == i]


def judge_capacity(obs: CapacityObservation, check_id: str = CHECK_ID) -> CheckResult:
    """Every pod that was Pending runs Ready where it can (volume zone, else a surviving zone), the workload whole."""
    ready_ok = [p for p in obs.pods if _helped(p, obs)]
    figures: dict[str, Any] = {
        "time_to_recover_s": round(obs.elapsed_s, 2) if obs.elapsed_s is not None else None,
        "waited_s": round(obs.waited_s, 2), "ready": len(ready_ok), "expected": obs.expected,
        "pending_seen": len(obs.pending_seen), "new_nodes": len(obs.new_nodes),
        "new_nodes_per_zone": {z: sum(1 for n in obs.new_nodes if n.zone == z) for z in obs.zones},
        "provisioner": obs.provisioner, **obs.figures}
    evidence = [p.line(obs.lost_zone, obs.zones) for p in sorted(obs.pods, key=lambda p: p.name)
                if p.name in obs.pending_seen or not _helped(p, obs)]
    evidence += [n.line() for n in obs.new_nodes] or ["no new node joined the cluster"]
    if not obs.pending_seen:
        return CheckResult(check_id, False, f"no pod was Pending after {obs.lost_zone} was taken away: the surviving "
                           "zones had room, so the provisioner was never asked for capacity (size the workload to "
                           "exceed their free room)", tuple(evidence), figures).undecided(obs.read_error)
    problems = [p for p in (_pod_problem(n, obs) for n in sorted(obs.pending_seen)) if p]
    problems += [_pod_problem(p.name, obs) for p in obs.pods if p.name not in obs.pending_seen and not _helped(p, obs)]
    problems = [p for p in problems if p]
    if len(ready_ok) < obs.expected:
        problems.append(f"only {len(ready_ok)}/{obs.expected} pods Ready where they can run")
    if not problems:
        took = f"{obs.elapsed_s:.1f}s" if obs.elapsed_s is not None else f"{obs.waited_s:.1f}s"
        zones = ", ".join(f"{z}: {n}" for z, n in figures["new_nodes_per_zone"].items() if n) or "none"
        return CheckResult(check_id, True, f"{len(obs.pending_seen)} Pending pod(s) Ready where they can run after "
                           f"{took} (budget {obs.budget_s:.0f}s); {obs.provisioner} added {len(obs.new_nodes)} "
                           f"node(s) ({zones})", tuple(evidence), figures)
    stuck = [n for n in obs.pending_seen if _pod_problem(n, obs)]
    blame = could_not_help(obs, stuck)
    for p in (obs.pod(n) for n in stuck):
        if p is not None and not p.node:
            evidence.append(f"pod {p.name} Pending: FailedScheduling: {p.scheduling or 'no FailedScheduling event'}")
    evidence += blame
    shown = [e for e in _latest_scheduler_verdicts(obs.events) if (e.kind != "Pod" or e.name in obs.pending_seen)
             and e.reason in POD_REASONS | NODE_REASONS][-25:]
    evidence += [f"event {e.describe()}" for e in shown]
    summary = (f"{'; '.join(problems)} after {obs.waited_s:.1f}s (budget {obs.budget_s:.0f}s, {obs.provisioner})"
               + (f"; {blame[0]}" if blame else ""))
    return CheckResult(check_id, False, summary, tuple(evidence), figures).undecided(obs.read_error)


# ------------------------------------------------------------------------------------------------ observation


def no_headroom(groups: Iterable[Any]) -> str:
    """'' when some node group (``aws.asg.AutoScalingGroup``) can grow; else why the Cluster Autoscaler can add no
    node: every group is at its MaxSize (it would only say ``max node group size reached``)."""
    groups = list(groups)
    if not groups or any(g.max_size > g.desired for g in groups):
        return ""
    sizes = ", ".join(f"{g.name} {g.desired}/{g.max_size}" for g in sorted(groups, key=lambda g: g.name))
    return (f"the Cluster Autoscaler runs but every node group is at its MaxSize ({sizes}): it can add no node; "
            "raise MaxSize (UpdateAutoScalingGroup, or the managed node group's scaling config) to test it")


def instance_ids(nodes: Iterable[Any]) -> list[str]:
    """The EC2 instance ids of nodes, from their ``aws:///<zone>/<id>`` provider ids."""
    return [n.spec.provider_id.rsplit("/", 1)[-1] for n in nodes
            if n.spec and (n.spec.provider_id or "").startswith("aws://")]


def filling_size(nodes: Iterable[Any], share: float = 0.6) -> tuple[int, str]:
    """(replicas, cpu request) of a workload that fills the schedulable Ready nodes with one pod per node (each pod
    asks ``share`` of the smallest node's allocatable cpu, so no node holds two): the lost zone's pods then find
    no room in the surviving zones and only new nodes can take them."""
    from kubernetes.utils import parse_quantity

    usable = [n for n in nodes if not n.spec.unschedulable and _node_ready(n)]
    if not usable:
        raise ValueError("no schedulable Ready node to size the workload by")
    cpu = [float(parse_quantity((n.status.allocatable or {}).get("cpu", "0"))) for n in usable]
    request = int(min(cpu) * 1000 * share)
    replicas = sum(int(c * 1000 // request) for c in cpu)
    return replicas, f"{request}m"


def node_source(node: Any) -> str:
    """What added a node, from its labels: ``NodePool X`` (Karpenter, Auto Mode), ``node group X``, or ''."""
    labels = dict(node.metadata.labels or {})
    if labels.get(NODEPOOL_LABEL):
        return f"NodePool {labels[NODEPOOL_LABEL]}"
    if labels.get(NODEGROUP_LABEL):
        return f"node group {labels[NODEGROUP_LABEL]}"
    return ""


def _node_ready(node: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (node.status.conditions or []) if node.status)


def read_pods(core: Any, namespace: str, selector: str, zones: ZoneMap, node_zones: dict[str, str | None]
              ) -> list[PodState]:
    """The workload's live pods with their volumes' zones and the scheduler's message for the unscheduled ones."""
    from .evidence import failed_scheduling, unscheduled_reason

    pods = live_pods(core, namespace, selector)
    claims = {c.metadata.name: c for c in core.list_namespaced_persistent_volume_claim(namespace).items}
    pvs = {v.metadata.name: v for v in core.list_persistent_volume().items} if claims else {}
    pending = [p.metadata.name for p in pods if not p.spec.node_name]
    messages = failed_scheduling(core, namespace, pending) if pending else {}
    out = []
    for p in pods:
        vz: set[str] = set()
        for claim in claims_of(p):
            pvc = claims.get(claim)
            pv = pvs.get(pvc.spec.volume_name) if pvc is not None and pvc.spec and pvc.spec.volume_name else None
            vz |= pv_zones(pv) if pv is not None else set()
        node = p.spec.node_name
        out.append(PodState(p.metadata.name, node, node_zones.get(node) if node else None, is_ready(p),
                            p.status.phase or "", tuple(sorted(vz)),
                            "" if node else (messages.get(p.metadata.name) or unscheduled_reason(p))))
    return out


def capacity_added(core: Any, namespace: str, selector: str, lost_zone: str, expected: int, timeout: float, *,
                   provisioner: str, nodes_before: Iterable[str], since: Since = None, zones: ZoneMap | None = None,
                   progress: Progress | None = None, check_id: str = CHECK_ID) -> CheckResult:
    """AZ-CAPACITY against the cluster: from ``since`` (the fault's start) wait up to ``timeout`` until every pod of
    ``selector`` that was Pending is Ready where it can run and ``expected`` pods are; ``nodes_before``: the node
    names before the fault (the rest are new)."""
    zones = zones or ZoneMap.read(core)
    before = set(nodes_before)
    pending_seen: set[str] = set()
    start = to_datetime(since)
    t0 = start.timestamp() if start else time.time()

    def fetch() -> CapacityObservation:
        nodes = core.list_node().items
        node_zones = {n.metadata.name: (n.metadata.labels or {}).get("topology.kubernetes.io/zone") for n in nodes}
        new = tuple(NewNode(n.metadata.name, node_zones[n.metadata.name], node_source(n), _node_ready(n),
                            bool(n.spec.unschedulable)) for n in nodes if n.metadata.name not in before)
        pods = read_pods(core, namespace, selector, zones, node_zones)
        # Pending now, or Pending since the fault and already placed (a PDB-gated drain returns only once a
        # replacement is Ready): the scheduler's FailedScheduling events since the fault remember those.
        waited_for_room = {e.name for e in events_for(core, namespace, since=since, reasons=["FailedScheduling"],
                                                      kinds=["Pod"])}
        pending_seen.update(p.name for p in pods if not p.node or p.name in waited_for_room)
        return CapacityObservation(provisioner, lost_zone, tuple(zones.zones()), expected, tuple(pods),
                                   tuple(sorted(pending_seen)), new, waited_s=time.time() - t0, budget_s=timeout)

    what = f"capacity for the Pending pods of {selector} ({provisioner})"
    waited = wait_until(fetch, lambda o: judge_capacity(o, check_id).passed, timeout=timeout, what=what,
                        progress=progress, describe=lambda o: f"{sum(1 for p in o.pods if _helped(p, o))}/"
                        f"{expected} Ready where they can run, {sum(1 for p in o.pods if not p.node)} Pending, "
                        f"{len(o.new_nodes)} new node(s)", interval=0.5)
    read_error = waited.inconclusive_reason()
    elapsed = (time.time() - t0) if waited.ok else None
    last = waited.last
    try:
        last = fetch()  # the final state, and the events that explain it
        events = events_for(core, namespace, since=since, reasons=POD_REASONS, kinds=["Pod"])
        events += events_for(core, NODE_EVENTS_NAMESPACE, since=since, reasons=NODE_REASONS, kinds=NODE_KINDS)
    except Exception as e:  # our read failed: the verdict cannot rest on what we did not see
        events = []
        read_error = read_error or f"reading the final state and events failed: {type(e).__name__}: {e}"
    if last is None:
        return CheckResult(check_id, False, f"nothing observed of {selector}", (), {}, read_error or
                           "the Kubernetes API never answered")
    obs = CapacityObservation(last.provisioner, lost_zone, last.zones, expected, last.pods, last.pending_seen,
                              last.new_nodes, tuple(sorted(events, key=_event_key)), waited_s=waited.elapsed,
                              budget_s=timeout, elapsed_s=elapsed, read_error=read_error)
    return judge_capacity(obs, check_id)


def _event_key(e: EventView) -> tuple[float, str]:
    return (e.time.timestamp() if e.time else 0.0, e.name)
