"""A StatefulSet bound to zonal EBS volumes, observed through one shared fault: AZ-EBS-DRAIN while its zone is
lost, AZ-EBS-RETURN once the zone is back, and under a partition the split-brain checks of AZ-PARTITION
(its old pods healed away, never a second writer on a volume).

What the pod of the lost zone must do depends on the fault, and the rescheduling oracle says so before it
(as ``suites/test_az_ebs_drain.py`` and ``test_az_ebs_return.py`` do one fault at a time): after a drain it
waits Pending with the volume's node-affinity reason; after a power-off or a partition it stays Terminating on
its unreachable node, with the upstream remedy named; unless the outage leaves its Auto Scaling group's
HealthCheck/ReplaceUnhealthy active (``--suspend-processes Launch``): the group terminates the stopped instance, the
Node is deleted, and the pod is recreated and waits Pending for its volume, then returns on the group's new node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..checks.result import CheckResult
from .scenario import Skipped, Subject

#: The oracle's name of each scenario fault.
ORACLE_FAULT = {"drain": "drain", "outage": "power-off", "partition": "partition"}
EXPECTED = {"drain": "pending", "outage": "terminating", "partition": "terminating"}


@dataclass
class VolumeSubject(Subject):
    """The stateful app and, once ``prepare``d, its pod in the lost zone with claim, volume and data marker."""

    pod: str = ""
    node: str = ""
    claim: str = ""
    pv: str = ""
    marker: str = ""
    prediction: Any = None
    held: list[Any] = field(default_factory=list)
    watch: Any = None

    def prepare(self, scenario: Any, zones: Any) -> None:
        """Before the fault: pick the zone's pod, write a marker to its volume, predict, watch for a second
        writer (partition)."""
        from ..checks.partition import WriterWatch, stateful_pods_in
        from ..oracle import predict_for

        core = scenario.cluster.core
        pod = next((p for p in self.app.pods() if zones.zone_of(p.spec.node_name) == scenario.zone), None)
        if pod is None:
            why = f"no replica of {self.app.name} runs in {scenario.zone}"
            self.skipped += [Skipped("AZ-EBS-DRAIN", why), Skipped("AZ-EBS-RETURN", why)]
            return
        self.pod, self.node = pod.metadata.name, pod.spec.node_name
        self.claim = f"data-{self.pod}"
        self.pv = core.read_namespaced_persistent_volume_claim(self.claim, self.app.namespace).spec.volume_name
        self.marker = f"written-by-{scenario.chaos.run.run_id}"
        wrote = self.app.exec(self.pod, ["sh", "-c", f"echo {self.marker} > {self.app.spec.mount_path}/marker"])
        if wrote.exit_code != 0:
            raise RuntimeError(f"could not write the marker to {self.pod}'s volume: {wrote.output}")
        outage = scenario.fault == "outage" and scenario.aws is not None
        self.prediction = predict_for(core, self.app.namespace, self.app.label_selector,
                                      ORACLE_FAULT[scenario.fault], scenario.zone, scenario.profile,
                                      drain_timeout=float(scenario.profile.drain_timeout),
                                      aws=scenario.aws if outage else None,
                                      suspend_processes=scenario.suspend_processes if outage else None)
        self.evidence.predictions.append(self.prediction.to_evidence())
        if scenario.progress is not None:
            for line in self.prediction.lines():
                scenario.progress.note(line)
        if scenario.fault == "partition":
            self.held = stateful_pods_in(core, self.app.namespace, self.app.label_selector, scenario.zone, zones)
            self.watch = WriterWatch(core, self.app.namespace, interval=scenario.profile.cloud_poll_interval).start()

    def judge_lost(self, scenario: Any, zones: Any) -> None:
        """During the fault: the pod is Pending on its volume (drain) or held Terminating on its node."""
        from ..checks.ebs import judge_volume_zone_lost

        if not self.pod:
            return
        profile = scenario.profile
        self.record(judge_volume_zone_lost(scenario.cluster.core, self.app.namespace, self.pod, self.claim, self.pv,
                                           self.node, scenario.zone, scenario.fault, self.prediction,
                                           profile.volume_wait_timeout, hold=profile.volume_wait_timeout / 3,
                                           zones=zones, progress=scenario.progress,
                                           terminations=_terminations(scenario.fault_report)))

    def judge_returned(self, scenario: Any, zones: Any) -> None:
        """After the undo (and the zone's return): the pod back on the same volume with its data; under a
        partition, its old incarnation gone and never a second writer."""
        from ..checks.ebs import returned_on_volume
        from ..checks.partition import healed

        if not self.pod:
            return
        core, profile = scenario.cluster.core, scenario.profile
        lost_zone = scenario.fault in ("outage", "partition")
        timeout = profile.volume_return_timeout + (profile.zone_return_timeout if lost_zone else 0)
        expected = self.prediction.outcome_of(self.pod) if self.prediction is not None else None
        replaced_by = expected.terminated_by if expected is not None else ""
        result: CheckResult = returned_on_volume(core, self.app.namespace, self.pod, self.claim, self.pv,
                                                 scenario.zone, timeout=timeout, zones=zones,
                                                 progress=scenario.progress, old_node=self.node,
                                                 replaced_by=replaced_by)
        if result.passed:
            read = self.app.exec(self.pod, ["cat", f"{self.app.spec.mount_path}/marker"])
            result = returned_on_volume(core, self.app.namespace, self.pod, self.claim, self.pv, scenario.zone,
                                        timeout=5, zones=zones, expected_data=self.marker,
                                        read_back=read.output.strip(), old_node=self.node, replaced_by=replaced_by)
        self.record(result)
        if self.held:
            self.record(healed(core, self.app.namespace, scenario.zone, self.held,
                               profile.zone_return_timeout + profile.stateful_ready_timeout,
                               progress=scenario.progress))
        if self.watch is not None:
            self.record(self.watch.stop().judge())
            self.watch = None

    def stop(self) -> None:
        if self.watch is not None:
            self.watch.stop()
            self.watch = None


def _terminations(report: Any) -> Any:
    """A look at the instances an outage saw terminated (None for other faults): a fresh look, else what its
    watch already found."""
    if report is None or not hasattr(report, "watch"):
        return None

    def look() -> list[Any]:
        try:
            return list(report.watch())
        except Exception:  # our side; the background watch's findings still hold
            return list(report.terminated)

    return look


def expected_outcome(fault: str) -> str:
    """What the oracle must predict for the lost zone's pod under ``fault`` (pending / terminating)."""
    return EXPECTED[fault]
