"""AZ-PARTITION: a zone's subnets are cut off by a network ACL while its instances keep running (split brain).

What Kubernetes does, and so what each step expects (eks-flavours-facts §3, §4):

- the load balancer stops sending to the zone's targets once their health checks fail, and kube-proxy on the
  other nodes stops forwarding to the zone's pods once node lifecycle marks them NotReady: after the profile's
  detection window (``Profile.partition_detection_window``) every request succeeds through the other zones
  (``serves_through``);
- the zone's nodes go NotReady (Ready ``Unknown``: their kubelets lost the regional API server) and are tainted
  ``node.kubernetes.io/unreachable`` (``zone_unreachable``);
- after the toleration the pods are deleted gracefully, but no kubelet confirms it, so they stay Terminating.
  A Deployment replaces them elsewhere (``checks.rescheduled``); a StatefulSet does not (the pod's name is still
  taken) and its volume stays attached to the partitioned node (``stateful_held``);
- when the partition heals the kubelets reconnect, finish the deletions, and the StatefulSet pods come back on
  their own volumes in their zone (``healed``); at no time do two pods run on one volume (``WriterWatch``).

Each step returns a ``CheckResult`` with check id AZ-PARTITION; a failure names what was seen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..kube.topology import ZoneMap, is_ready
from ..kube.wait import Progress, wait_until
from ..traffic.recording import Recording
from .ebs import claims_of
from .evidence import describe_events, events_for, explaining, node_events
from .result import CheckResult

CHECK_ID = "AZ-PARTITION"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
#: A stall of our own side this long, overlapping a late failure, makes that failure no evidence.
STALL_MIN_LAG = 0.2


# ------------------------------------------------------------------------------------------ traffic


def serves_through(recording: Recording, fault_start: float, detection_window: float, *,
                   check_id: str = CHECK_ID, core: Any = None, namespace: str | None = None,
                   pod_zones: Mapping[str, str] | None = None, min_after: int = 5) -> CheckResult:
    """Pass when no request due later than ``detection_window`` seconds after ``fault_start`` (recording seconds)
    failed, and at least ``min_after`` requests were sent then; failures inside the window are expected (the
    load balancer and kube-proxy have not noticed yet) and counted, not judged."""
    cutoff = fault_start + detection_window
    during = recording.between(fault_start, None)
    records = during.snapshot()
    early = [r for r in records if not r.ok and r.due < cutoff]
    after = [r for r in records if r.due >= cutoff]
    late = [r for r in after if not r.ok]
    windows = during.failure_windows()
    last_failure = max((r.due for r in records if not r.ok), default=None)
    figures: dict[str, Any] = {
        "requests": len(records), "failed_requests": len(early) + len(late), "failed_after_window": len(late),
        "detection_window_s": round(detection_window, 3), "requests_after_window": len(after),
        "failure_windows": len(windows),
        "longest_failure_window_s": round(max((w.duration for w in windows), default=0.0), 3),
        "last_failure_after_fault_s": round(last_failure - fault_start, 3) if last_failure is not None else None,
        "error_classes": during.error_counts(),
    }
    if len(after) < min_after:
        return CheckResult(check_id, False, f"only {len(after)} request(s) were sent after the {detection_window:.1f}s "
                           "detection window: nothing to judge the partition by (keep traffic flowing longer)",
                           (), figures)
    summary = (f"{len(late)} of {len(after)} requests failed after the {detection_window:.1f}s detection window "
               f"({len(early)} failed inside it)")
    if not late:
        return CheckResult(check_id, True, summary, (), figures)
    evidence = [f"failure window {w.describe()} (fault at t={fault_start:.3f}s, window ends t={cutoff:.3f}s)"
                for w in windows[:10]]
    evidence += [f"failed {r.target} at t={r.due:.3f}s: {r.error} {r.detail}".rstrip() for r in late[:5]]
    if pod_zones:
        served = during.per_zone(pod_zones)
        evidence.append("served per zone during the partition: "
                        + (", ".join(f"{z}: {n}" for z, n in sorted(served.items())) or "none"))
    if core is not None and namespace:
        evidence += describe_events(explaining(events_for(core, namespace)))
    stalled = [r for r in late if during.stalls_during(r, STALL_MIN_LAG)]
    result = CheckResult(check_id, False, summary, tuple(evidence), figures)
    if len(stalled) == len(late):
        stalls = {s.describe() for r in late for s in during.stalls_during(r, STALL_MIN_LAG)}
        return result.undecided("every late failure coincides with a stall of our own side "
                                f"({'; '.join(sorted(stalls))})")
    return result


# ------------------------------------------------------------------------------------------ nodes


def _unreachable(node: Any) -> bool:
    return any(t.key == UNREACHABLE_TAINT for t in (node.spec.taints or []))


def zone_unreachable(core: Any, zone: str, timeout: float, *, progress: Progress | None = None,
                     check_id: str = CHECK_ID) -> CheckResult:
    """Every node of ``zone`` goes NotReady and is tainted unreachable within ``timeout``; the other zones stay
    Ready (the control plane is regional: only the cut-off zone loses it)."""
    def fetch() -> ZoneMap:
        return ZoneMap.read(core)

    def done(zones: ZoneMap) -> bool:
        nodes = zones.nodes_in(zone)
        return bool(nodes) and all(not n.ready for n in nodes) and all(
            _unreachable(core.read_node(n.name)) for n in nodes)

    result = wait_until(fetch, done, timeout=timeout, what=f"nodes of {zone} NotReady and tainted unreachable",
                        progress=progress, interval=0.3, describe=lambda z: z.describe())
    zones = result.last or ZoneMap.read(core)
    others = {z: [n.name for n in zones.nodes_in(z) if not n.ready] for z in zones.zones() if z != zone}
    figures: dict[str, Any] = {"waited_s": round(result.elapsed, 2), "zone": zone,
                               "not_ready_elsewhere": sum(len(v) for v in others.values())}
    lost_elsewhere = {z: v for z, v in others.items() if v}
    if result.ok and not lost_elsewhere:
        return CheckResult(check_id, True, f"every node of {zone} NotReady and tainted {UNREACHABLE_TAINT} after "
                           f"{result.elapsed:.1f}s; the other zones stayed Ready", (), figures)
    problems = [] if result.ok else [f"nodes of {zone} not all NotReady/unreachable after {result.elapsed:.1f}s "
                                     f"(timeout {timeout:.0f}s)"]
    problems += [f"{len(v)} node(s) of {z} NotReady too: {', '.join(v)}" for z, v in lost_elsewhere.items()]
    evidence = [f"zones: {zones.describe()}"]
    evidence += describe_events(node_events(core, [n.name for n in zones.nodes_in(zone)]))
    return CheckResult(check_id, False, "; ".join(problems), tuple(evidence), figures).undecided(
        result.inconclusive_reason())


# ------------------------------------------------------------------------------------------ StatefulSets


@dataclass(frozen=True)
class HeldPod:
    """A StatefulSet pod in the partitioned zone before the fault: its identity and its volume."""

    name: str
    uid: str
    node: str
    claims: tuple[str, ...]
    volumes: tuple[str, ...]  # PV names


def stateful_pods_in(core: Any, namespace: str, selector: str, zone: str, zones: ZoneMap) -> list[HeldPod]:
    """The StatefulSet pods (``selector``) running in ``zone`` now, with their claims' PVs."""
    out = []
    for pod in core.list_namespaced_pod(namespace, label_selector=selector).items:
        if zones.zone_of(pod.spec.node_name) != zone or pod.metadata.deletion_timestamp is not None:
            continue
        claims = tuple(claims_of(pod))
        pvs = tuple(core.read_namespaced_persistent_volume_claim(c, namespace).spec.volume_name or "" for c in claims)
        out.append(HeldPod(pod.metadata.name, pod.metadata.uid, pod.spec.node_name, claims, pvs))
    return out


def _attachments(core: Any) -> dict[str, set[str]]:
    """PV name -> nodes a VolumeAttachment says it is attached to."""
    from kubernetes import client

    out: dict[str, set[str]] = {}
    for va in client.StorageV1Api(core.api_client).list_volume_attachment().items:
        pv = va.spec.source.persistent_volume_name if va.spec.source else None
        if pv and va.status is not None and va.status.attached:
            out.setdefault(pv, set()).add(va.spec.node_name)
    return out


def judge_held(held: list[HeldPod], pods: Mapping[str, Any], attachments: Mapping[str, set[str]], *,
               check_id: str = CHECK_ID) -> CheckResult:
    """Each held pod still exists with its uid on its node, Terminating, and each of its volumes is attached to
    that node only. ``pods``: name -> pod now (absent: gone)."""
    evidence, bad = [], 0
    for h in held:
        pod = pods.get(h.name)
        if pod is None:
            bad += 1
            evidence.append(f"{h.name}: gone from the API (force-deleted?) although its node {h.node} never "
                            "confirmed the deletion")
            continue
        if pod.metadata.uid != h.uid:
            bad += 1
            evidence.append(f"{h.name}: replaced by a new pod (uid {pod.metadata.uid}) on "
                            f"{pod.spec.node_name or 'no node'} while the old one may still run on {h.node}")
            continue
        if pod.metadata.deletion_timestamp is None:
            bad += 1
            evidence.append(f"{h.name}: not Terminating (never evicted after the toleration) on {h.node}")
        for pv in h.volumes:
            nodes = attachments.get(pv, set())
            if nodes != {h.node}:
                bad += 1
                evidence.append(f"{h.name}: volume {pv} attached to {sorted(nodes) or 'no node'}, expected {h.node} "
                                "(the partitioned node still holds it)")
    figures = {"held_pods": len(held), "problems": bad}
    if not held:
        return CheckResult(check_id, False, "no StatefulSet pod ran in the partitioned zone: nothing to judge",
                           (), figures)
    if bad:
        return CheckResult(check_id, False, f"{bad} problem(s) with {len(held)} StatefulSet pod(s) of the partitioned "
                           "zone (expected: Terminating on their node, volume still attached there)", tuple(evidence),
                           figures)
    return CheckResult(check_id, True, f"{len(held)} StatefulSet pod(s) of the partitioned zone stay Terminating on "
                       "their nodes, not rescheduled, volumes still attached there", (), figures)


def stateful_held(core: Any, namespace: str, held: list[HeldPod], timeout: float, *,
                  progress: Progress | None = None, check_id: str = CHECK_ID, predicted: Any = None) -> CheckResult:
    """Wait (up to ``timeout``: the taint-eviction time) until every held pod is Terminating, then judge.
    ``predicted``: the oracle's ``Prediction`` for the StatefulSet, compared pod by pod ("terminating")."""
    def fetch() -> CheckResult:
        pods = {p.metadata.name: p for p in core.list_namespaced_pod(namespace).items}
        return judge_held(held, pods, _attachments(core), check_id=check_id)

    result = wait_until(fetch, lambda r: r.passed, timeout=timeout, what="StatefulSet pods of the zone Terminating",
                        progress=progress, interval=0.5, describe=lambda r: r.summary)
    last = (result.last or fetch()).undecided(result.inconclusive_reason())
    if predicted is None:
        return last
    from ..oracle import agreement, annotate

    observed = "terminating" if last.passed else "not held"
    agrees = all(agreement(predicted, pod=h.name, pod_outcome=observed) for h in held)
    return annotate(last, predicted, agrees=agrees,
                    observed=f"{len(held)} StatefulSet pod(s) of the zone {observed} on their nodes")


# ------------------------------------------------------------------------------------------ heal


def healed(core: Any, namespace: str, zone: str, held: list[HeldPod], timeout: float, *,
           progress: Progress | None = None, check_id: str = CHECK_ID) -> CheckResult:
    """After the undo: the zone's nodes Ready and untainted, the held pods' old incarnations gone, each back Ready
    in the zone on the same volume(s)."""
    def fetch() -> tuple[ZoneMap, dict[str, Any], dict[str, str]]:
        zones = ZoneMap.read(core)
        pods = {p.metadata.name: p for p in core.list_namespaced_pod(namespace).items}
        claims = {c: core.read_namespaced_persistent_volume_claim(c, namespace).spec.volume_name or ""
                  for h in held for c in h.claims}
        return zones, pods, claims

    def problems(state: tuple[ZoneMap, dict[str, Any], dict[str, str]]) -> list[str]:
        zones, pods, claims = state
        out = [f"node {n.name} of {zone} not Ready" for n in zones.nodes_in(zone) if not n.ready]
        for h in held:
            pod = pods.get(h.name)
            if pod is None:
                out.append(f"{h.name}: not recreated yet")
            elif pod.metadata.uid == h.uid:
                what = "Terminating" if pod.metadata.deletion_timestamp else "not deleted"
                out.append(f"{h.name}: the old pod is still there ({what})")
            elif not is_ready(pod):
                out.append(f"{h.name}: new pod not Ready ({pod.status.phase} on {pod.spec.node_name or 'no node'})")
            elif zones.zone_of(pod.spec.node_name) != zone:
                out.append(f"{h.name}: came back in {zones.zone_of(pod.spec.node_name)}, not {zone}")
            for claim, pv in zip(h.claims, h.volumes, strict=True):
                if claims.get(claim) != pv:
                    out.append(f"{h.name}: claim {claim} now bound to {claims.get(claim)!r}, not {pv}")
        return out

    result = wait_until(fetch, lambda s: not problems(s), timeout=timeout,
                        what=f"{zone} healed: nodes Ready, old pods cleaned up, StatefulSet pods back",
                        progress=progress, interval=0.5, describe=lambda s: "; ".join(problems(s)) or "healed")
    figures = {"waited_s": round(result.elapsed, 2), "held_pods": len(held)}
    if result.ok:
        return CheckResult(check_id, True, f"{zone} healed after {result.elapsed:.1f}s: nodes Ready, "
                           f"{len(held)} old pod(s) cleaned up and back on their volumes", (), figures)
    last = problems(result.last) if result.last is not None else ["nothing was read"]
    evidence = [*last, *describe_events(explaining(events_for(core, namespace)))]
    return CheckResult(check_id, False, f"{zone} not healed after {result.elapsed:.1f}s (timeout {timeout:.0f}s)",
                       tuple(evidence), figures).undecided(result.inconclusive_reason())


# ------------------------------------------------------------------------------------------ second writer


@dataclass
class WriterWatch:
    """Samples a namespace's pods and the cluster's VolumeAttachments in a thread: a claim used by two running pods
    (different uids) at once, or a PV attached to two nodes at once, is a second writer."""

    core: Any
    namespace: str
    interval: float = 0.5
    samples: int = 0
    errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _started: float = 0.0

    def start(self) -> WriterWatch:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="azchaos-writer-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> WriterWatch:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample()
            except Exception as e:  # our side failing is no evidence: counted, judged as inconclusive
                self.errors.append(f"{type(e).__name__}: {e}")
            self._stop.wait(self.interval)

    def sample(self) -> None:
        pods = self.core.list_namespaced_pod(self.namespace).items
        attachments = _attachments(self.core)
        self.samples += 1
        at = time.monotonic() - self._started
        users: dict[str, list[str]] = {}
        for pod in pods:
            running = any(s.state is not None and s.state.running is not None
                          for s in (pod.status.container_statuses or []))
            if not running or (pod.status.phase or "") in ("Succeeded", "Failed"):
                continue
            for claim in claims_of(pod):
                users.setdefault(claim, []).append(f"{pod.metadata.name} (uid {pod.metadata.uid[:8]}) on "
                                                   f"{pod.spec.node_name}")
        for claim, who in users.items():
            if len(who) > 1:
                self.violations.append(f"t={at:.1f}s claim {claim} used by {len(who)} running pods: {'; '.join(who)}")
        for pv, nodes in attachments.items():
            if len(nodes) > 1:
                self.violations.append(f"t={at:.1f}s volume {pv} attached to {len(nodes)} nodes: {sorted(nodes)}")

    def judge(self, check_id: str = CHECK_ID) -> CheckResult:
        """No second writer in any sample."""
        figures = {"samples": self.samples, "violations": len(self.violations), "sample_errors": len(self.errors)}
        if self.violations:
            return CheckResult(check_id, False,
                               f"a second writer on {len(self.violations)} sample(s) of {self.samples}",
                               tuple(self.violations[:20]), figures)
        if self.samples < 2:
            reason = f"only {self.samples} sample(s) were taken" + (f" (last error: {self.errors[-1]})"
                                                                    if self.errors else "")
            return CheckResult(check_id, False, "nothing to judge", (), figures, inconclusive=reason)
        return CheckResult(check_id, True, f"no volume had two writers in {self.samples} samples", (), figures)
