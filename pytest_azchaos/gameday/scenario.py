"""One fault, every observer: traffic flows to every subject while one fault takes one zone away, then every
check that applies to that fault and subject is judged over the same window.

A game day (``azchaos gameday``) and a suite module sharing one fault (the ``azchaos_gameday`` fixture) both
run a ``Scenario``. It is pytest-free: it reads the cluster, the timing profile and the fault's report, never
the name of either. Steps: ``start()`` (probers, steady-state checks), ``inject()`` (the fault, its undo in the
ledger first), ``judge()`` (the checks that need the fault), ``finish()`` (stop traffic, undo). ``run()`` does
all four, undoing even when a step raised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..checks.result import CheckResult

if TYPE_CHECKING:
    from ..apps.app import App
    from ..chaos.facade import Chaos
    from ..kube.cluster import Cluster
    from ..kube.topology import ZoneMap
    from ..report.evidence import Evidence
    from ..timing import Profile
    from ..traffic.prober import Prober

Fault = Literal["drain", "outage", "partition", "shift"]
FAULTS: tuple[str, ...] = ("drain", "outage", "partition", "shift")
#: Seconds of steady-state traffic before the fault: what AZ-BALANCE and AZ-SRCIP are judged on.
STEADY_SECONDS = 4.0
#: Seconds of traffic kept after the recovery, so the recovery is inside the recording.
SETTLE_SECONDS = 2.0
#: Failed requests an outage may cost beyond the load balancer's unhealthy time (as suites/test_az_outage.py).
OUTAGE_EXTRA_SECONDS = 2.0


class ScenarioError(RuntimeError):
    """The scenario cannot run as asked (unknown fault, a fault this cluster cannot take); names the fix."""


@dataclass
class Skipped:
    """A check that does not apply to a subject under this fault, and what would make it apply."""

    check_id: str
    reason: str


@dataclass
class Subject:
    """A workload observed during the fault: its ``App`` (the sample app, or a ``--azchaos-target``), how its
    Service routes (``Cluster``/``Local``), whether its answers tell the client address and the serving pod,
    and what was seen of it."""

    label: str
    app: App
    evidence: Evidence
    traffic_policy: str = "Cluster"
    #: Why AZ-SRCIP / AZ-BALANCE cannot judge this subject (None: they can; the sample app answers both).
    no_client_address: str | None = None
    no_serving_pod: str | None = None
    prober: Prober | None = None
    traffic: Any = None
    replicas: int = 0
    zones_before: dict[str, str] = field(default_factory=dict)
    window: tuple[float, float | None] = (0.0, None)
    results: list[CheckResult] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)  # ``results`` as they are in the evidence
    skipped: list[Skipped] = field(default_factory=list)

    def record(self, result: CheckResult) -> CheckResult:
        """Keep ``result`` and put it in the evidence, timed now (on the clock of the traffic and the fault)."""
        self.results.append(result)
        self.evidence.add_check(result)
        self.entries.append(self.evidence.checks[-1])
        return result


@dataclass
class Scenario:
    """One fault on ``zone`` observed through every subject (see the module docstring)."""

    cluster: Cluster
    chaos: Chaos
    profile: Profile
    zone: str
    fault: str
    rate: float
    error_budget: float = 0.0
    aws: Any = None
    progress: Any = None
    #: An outage's Auto Scaling processes to suspend (None: ``aws.OUTAGE_PROCESSES``); only for ``outage``.
    suspend_processes: tuple[str, ...] | None = None
    subjects: list[Subject] = field(default_factory=list)
    #: Stateful apps on zonal volumes (``gameday.volumes.VolumeSubject``): no traffic, their own checks.
    volumes: list[Any] = field(default_factory=list)
    phase: str = "not started"
    fault_report: Any = None
    since: float = 0.0
    _zones: ZoneMap | None = None
    _judged: bool = False
    #: A zonal shift: each subject's pods and nodes of the zone before it (``checks.shift.ShiftBaseline``).
    _shift_before: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.fault not in FAULTS:
            raise ScenarioError(f"unknown fault {self.fault!r}: choose one of {', '.join(FAULTS)}")
        if self.fault in ("outage", "partition", "shift") and self.aws is None:
            raise ScenarioError(f"the fault {self.fault!r} acts through AWS (EC2 instances, network ACLs, ARC zonal "
                                "shift) and no AWS "
                                "access was found for this cluster: configure AWS credentials and region (AWS_PROFILE, "
                                "AWS_REGION) or use --fault drain")
        if self.suspend_processes is not None and self.fault != "outage":
            raise ScenarioError(f"suspend_processes only applies to the outage fault, not {self.fault!r}: drop it")

    # ------------------------------------------------------------------ steps

    def add(self, subject: Subject) -> Subject:
        """Observe ``subject``: traffic and the app checks, or for a ``VolumeSubject`` its volume checks."""
        from .volumes import VolumeSubject

        (self.volumes if isinstance(subject, VolumeSubject) else self.subjects).append(subject)
        if isinstance(subject, VolumeSubject) and self.fault == "shift":
            subject.skipped.append(Skipped("AZ-EBS-DRAIN", "a zonal shift evicts nothing: the stateful pods stay on "
                                                          "their volumes"))
        return subject

    def _volumes_judged(self) -> list[Any]:
        """The stateful subjects the fault has volume checks for (none under a zonal shift: nothing moves)."""
        return [] if self.fault == "shift" else self.volumes

    @property
    def observed(self) -> list[Subject]:
        """Every subject, those with traffic first."""
        return [*self.subjects, *self.volumes]

    def run(self) -> list[Subject]:
        """Every step; the fault is undone and traffic stopped even when a step raised."""
        try:
            self.start()
            self.inject()
            self.judge()
        finally:
            self.finish()
        return self.subjects

    def start(self) -> None:
        """Start every subject's traffic and judge what needs no fault (spread, health-check node ports)."""
        from ..checks.health_check_node_port import health_check_node_port
        from ..checks.spread import spread
        from ..kube.topology import ZoneMap
        from ..traffic.generator import Traffic
        from ..traffic.lb_zones import lb_address_zones

        self._set_phase("steady state")
        self._zones = zones = ZoneMap.read(self.cluster.core)
        for s in self.subjects:
            s.replicas = s.app.desired_replicas()
            s.zones_before = s.app.pod_zones(zones)
            s.record(spread(self.cluster.core, s.app.namespace, s.app.label_selector, zones, max_skew=1,
                            min_zones=3, check_id="AZ-TOPO"))
            if s.traffic_policy == "Local" and s.app.service:
                s.record(health_check_node_port(self.cluster.core, s.app.namespace, s.app.service, zones,
                                                timeout=self.profile.hcnp_settle_timeout, progress=self.progress))
            else:
                s.skipped.append(Skipped("AZ-HCNP", "its Service uses externalTrafficPolicy Cluster (no health-check "
                                                    "node port)"))
            s.traffic = Traffic(self.rate, s.evidence, self.profile.lb_ready_timeout, zone_map=lb_address_zones)
            s.prober = s.traffic.start(s.app)
        if self.fault == "shift":
            from ..checks.shift import shift_before

            self._shift_before = {s.label: shift_before(self.cluster.core, s.app.namespace, s.app.label_selector,
                                                        self.zone, zones) for s in self.subjects}
        for v in self._volumes_judged():
            v.prepare(self, zones)
        time.sleep(STEADY_SECONDS)

    def inject(self) -> None:
        """The one fault, on every subject's clock at once."""
        self._set_phase(f"{self.fault} {self.zone}")
        for s in self.subjects:
            s.window = (s.prober.elapsed() if s.prober else 0.0, None)
        self.since = time.time()
        if self.fault == "drain":
            self.fault_report = self.chaos.drain_zone(self.zone)
        elif self.fault == "outage":
            self.fault_report = self.chaos.zone_outage(self.zone, self.aws, suspend_processes=self.suspend_processes)
        elif self.fault == "shift":
            self.fault_report = self.chaos.zonal_shift(self.zone, aws=self.aws)
        else:
            self.fault_report = self.chaos.zone_partition(self.zone, aws=self.aws)
            for s in self.subjects:  # the partition's detection window counts from the cut, not from the ask
                if s.prober is not None:
                    s.window = (s.prober.elapsed_at(self.fault_report.cut_at), None)
        for s in self.subjects:
            s.window = (s.window[0], s.prober.elapsed() if s.prober else None)

    def judge(self) -> None:
        """The checks that need the fault: rescheduling (or recovery) first, then the traffic of each subject."""
        if self.fault == "partition":
            self._set_phase(f"{self.fault} {self.zone}: waiting for the zone's nodes to be unreachable")
            unreachable = self._unreachable()
            for s in self.subjects:
                s.record(unreachable)
        self._set_phase(f"{self.fault} {self.zone}: waiting for the replicas")
        recoveries = {s.label: self._recovery(s) for s in self.subjects}
        time.sleep(SETTLE_SECONDS)
        self._set_phase(f"{self.fault} {self.zone}: judging")
        for s in self.subjects:
            if s.prober is None:
                continue
            recording = s.prober.stop()
            self._judge_traffic(s, recording)
            s.record(recoveries[s.label])
        for v in self._volumes_judged():
            v.judge_lost(self, self._zones)
        self._judged = True

    def finish(self) -> list[str]:
        """Stop whatever traffic still runs and undo the fault (the ledger replays it)."""
        self._set_phase("undo")
        for s in self.subjects:
            if s.traffic is not None:
                try:
                    s.traffic.stop_all()
                except RuntimeError as e:  # a crashed prober: its traffic is no evidence, said in the notes
                    s.evidence.notes.append(str(e))
        try:
            lines = self.chaos.undo_all()
            if self.fault == "outage" and self.fault_report is not None:
                self._capacity_came_back()
            if self.fault in ("outage", "partition") and self.fault_report is not None:
                self._set_phase(f"waiting for {self.zone} to rejoin")
                self._rejoined()
            if self.fault == "shift" and self._judged:
                self._set_phase(f"waiting for the endpoints of {self.zone} to return")
                self._shift_returned()
            if self._judged and self.volumes:
                self._set_phase(f"waiting for the stateful pods of {self.zone} to return on their volumes")
                for v in self._volumes_judged():
                    v.judge_returned(self, self._zones)
        finally:
            for v in self.volumes:
                v.stop()
        self._set_phase("done")
        return lines

    def _shift_settle(self) -> float:
        """How long EKS takes to apply a shift operation and the EndpointSlice change to reach the data plane."""
        p = self.profile
        return p.zonal_shift_spacing + p.cloud_poll_interval + p.endpoint_propagation_delay

    def _shift_returned(self) -> None:
        """After the cancel, each subject's Service has endpoints in the zone again (AZ-SHIFT)."""
        from ..checks.shift import endpoints_return

        for s in self.subjects:
            if s.app.service:
                s.record(endpoints_return(self.cluster.core, s.app.namespace, s.app.service, self.zone,
                                          self._shift_settle() + self.profile.zone_return_timeout,
                                          progress=self.progress))

    def _capacity_came_back(self) -> None:
        """Right after an outage's undo (as suites/test_az_outage.py): the instances it stopped are the ones that
        came back, none terminated by its group meanwhile (AZ-OUTAGE, ``checks.outage_capacity``)."""
        from ..checks.outage_capacity import instances_came_back

        result = instances_came_back(self.fault_report)
        for s in self.observed:
            s.record(result)

    def _rejoined(self) -> None:
        """After an outage or partition is undone, the zone's nodes are Ready again within the profile's time
        (part of the fault's check: a zone that never comes back is a finding too)."""
        from ..kube.topology import ZoneMap
        from ..kube.wait import wait_until

        check_id = "AZ-OUTAGE" if self.fault == "outage" else "AZ-PARTITION"
        back = wait_until(lambda: ZoneMap.read(self.cluster.core).nodes_in(self.zone),
                          lambda nodes: bool(nodes) and all(n.ready for n in nodes),
                          timeout=self.profile.zone_return_timeout, what=f"nodes of {self.zone} Ready again",
                          progress=self.progress)
        summary = (f"the nodes of {self.zone} were Ready again {back.elapsed:.1f}s after the undo" if back.ok
                   else f"the nodes of {self.zone} were not all Ready {back.elapsed:.0f}s after the undo")
        result = CheckResult(check_id, back.ok, summary, (back.describe(),), {"zone_return_s": round(back.elapsed, 1)},
                             "" if back.ok else back.inconclusive_reason())
        for s in self.observed:
            s.record(result)

    # ------------------------------------------------------------------ checks

    def _recovery(self, s: Subject) -> CheckResult:
        from ..checks.rescheduled import rescheduled

        if self.fault == "shift":
            from ..checks.shift import endpoints_leave

            if not s.app.service:
                return CheckResult("AZ-SHIFT", True, f"{s.app.name} has no Service: no endpoints to move")
            return endpoints_leave(self.cluster.core, s.app.namespace, s.app.service, s.app.label_selector,
                                   self._shift_before[s.label],
                                   self._shift_settle() + self.profile.cordon_settle_timeout, progress=self.progress)
        if self.fault == "drain":
            return rescheduled(self.cluster.core, s.app.namespace, s.app.label_selector, self.zone, s.replicas,
                               timeout=self.profile.reschedule_timeout, zones=self._zones, since=self.since,
                               progress=self.progress)
        toleration = _unreachable_toleration(s.app)
        return rescheduled(self.cluster.core, s.app.namespace, s.app.label_selector, self.zone, s.replicas,
                           timeout=self.profile.taint_eviction_after(toleration) + self.profile.reschedule_timeout,
                           zones=self._zones, since=self.since, progress=self.progress,
                           check_id="AZ-OUTAGE" if self.fault == "outage" else "AZ-PARTITION")

    def _unreachable(self) -> CheckResult:
        """A partition: the zone's nodes go NotReady and are tainted unreachable within the detection time."""
        from ..checks.partition import zone_unreachable

        local = any(s.traffic_policy == "Local" for s in self.subjects)
        return zone_unreachable(self.cluster.core, self.zone, self.profile.partition_detection_window(local)
                                + self.profile.heartbeat_loss_detection(), progress=self.progress)

    def _judge_traffic(self, s: Subject, recording: Any) -> None:
        from ..checks.downtime import zero_downtime
        from ..checks.source_ip import TargetFacts, source_ip_for_targets
        from ..checks.spread import balance
        from ..lb.service import target_facts

        pod_zones = {**s.zones_before, **s.app.pod_zones(self._zones)}
        if self.fault == "partition":
            from ..checks.partition import serves_through

            s.record(serves_through(recording, s.window[0],
                                    self.profile.partition_detection_window(s.traffic_policy == "Local"),
                                    core=self.cluster.core, namespace=s.app.namespace, pod_zones=pod_zones))
        elif self.fault in ("drain", "shift"):
            s.record(zero_downtime(recording, self.error_budget, during=(s.window[0], None),
                                   check_id="AZ-DRAIN" if self.fault == "drain" else "AZ-SHIFT",
                                   core=self.cluster.core, namespace=s.app.namespace, pod_zones=pod_zones))
        else:
            allowed = int(self.rate * (self.profile.lb_unhealthy_after(s.traffic_policy == "Local")
                                       + OUTAGE_EXTRA_SECONDS))
            s.record(zero_downtime(recording, max_failed=allowed, during=(s.window[0], None),
                                   check_id="AZ-OUTAGE" if self.fault == "outage" else "AZ-PARTITION",
                                   core=self.cluster.core, namespace=s.app.namespace, pod_zones=pod_zones))
        steady = recording.between(None, s.window[0])
        if s.no_client_address:
            s.skipped.append(Skipped("AZ-SRCIP", s.no_client_address))
        else:
            nodes = {n.address: n.name for n in (self._zones.nodes if self._zones else []) if n.address}
            # ip targets (LBC, Auto Mode) bypass kube-proxy: the target group's client-IP preservation decides.
            facts = (target_facts(self.cluster, s.app.namespace, s.app.service, self.aws) if s.app.service
                     else TargetFacts())
            s.record(source_ip_for_targets(steady, nodes, s.traffic_policy, facts))
        if s.no_serving_pod:
            s.skipped.append(Skipped("AZ-BALANCE", s.no_serving_pod))
        else:
            s.record(balance(steady, s.zones_before, tolerance=0.5))

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        if self.progress is not None:
            self.progress.note(f"game day: {phase}")

    # ------------------------------------------------------------------ verdict

    def results(self) -> list[tuple[Subject, CheckResult]]:
        return [(s, r) for s in self.observed for r in s.results]

    def exit_code(self) -> int:
        """0 every check passed, 1 one failed (the cluster), 3 none failed but one was inconclusive (our side)."""
        verdicts = {r.verdict for _, r in self.results()}
        if "failed" in verdicts:
            return 1
        return 3 if "inconclusive" in verdicts else 0


def _unreachable_toleration(app: App) -> float | None:
    """The pods' ``tolerationSeconds`` for the unreachable taint (None: the API server's default applies)."""
    for pod in app.pods():
        for t in pod.spec.tolerations or []:
            if t.key == "node.kubernetes.io/unreachable" and t.toleration_seconds is not None:
                return float(t.toleration_seconds)
    return None
