"""The chaos façade a test gets: one ledger and one cluster lock per test, safety rules, undo at the end.

Safety before any fault acts (``design.md``, "Safety, always"): the context must be allowed, only one
zone may be taken away at a time, and at least two other zones must stay healthy. Every fault
records its undo in the ledger first; ``undo_all()`` replays it (the fixture calls it at teardown,
including after Ctrl-C/SIGTERM), and ``azchaos restore`` replays what a killed run left.
"""

from __future__ import annotations

import contextlib
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..kube.cluster import Cluster
from ..kube.topology import ZoneMap
from .ledger import Ledger
from .lock import ClusterLock
from .target import ChaosInputError, unknown_zone


class ChaosRefused(RuntimeError):
    """A fault was refused before touching anything; the message says why and what to change."""


class ChaosUnsupported(ChaosRefused):
    """A fault this kind of cluster cannot take at all (EC2 StopInstances on EKS Auto Mode), not a mistake in the
    test: a suite skips naming the fault that can be used instead."""


@dataclass
class Chaos:
    """What a test (or a chaostoolkit run) injects faults through: the safety rules first, then the fault, its
    undo already in the ledger; ``undo_all()`` replays the ledger and frees the cluster lock."""

    cluster: Cluster
    settings: Any
    run: Any
    profile: Any
    test_id: str
    evidence: Any = None
    ledger: Ledger | None = None
    lock: ClusterLock | None = None
    zones_taken: list[str] = field(default_factory=list)
    reports: list[Any] = field(default_factory=list)

    # ------------------------------------------------------------------ safety

    def _guard(self, zone: str | None) -> None:
        context = self.cluster.context_name
        if not self.settings.context_allowed(context):
            raise ChaosRefused(
                f"context {context!r} is not allowed for chaos: allow it with --azchaos-allow-context "
                f"'^{context}$' (or the azchaos_allow_context ini key) if this cluster may lose a zone; "
                "nothing was touched")
        if zone is None:
            return
        zones = ZoneMap.read(self.cluster.core)
        known = zones.zones()
        if zone not in known:
            raise unknown_zone(zone, zones)
        if self.zones_taken and zone not in self.zones_taken:
            raise ChaosRefused(f"zone {self.zones_taken[0]} is already taken away in this test; chaos never takes "
                               f"two zones at once (asked for {zone})")
        healthy_others = [z for z in known if z != zone and any(n.ready and not n.unschedulable
                                                                 for n in zones.nodes_in(z))]
        if len(healthy_others) < 2:
            raise ChaosRefused(
                f"taking {zone} away would leave {len(healthy_others)} healthy zone(s) "
                f"({', '.join(healthy_others) or 'none'}); chaos needs at least two other healthy zones. "
                f"Zones now: {zones.describe()}")
        if not self.zones_taken:
            self._refuse_if_shifted_elsewhere(zone)

    def _refuse_if_shifted_elsewhere(self, zone: str) -> None:
        """A zonal shift or autoshift practice run away from another zone (ARC; EKS cordons that zone and drops its
        endpoints, which the ready nodes above do not show) would make taking ``zone`` a two-zone loss: refused,
        naming it. Without AWS access this cannot be read: noted, not refused."""
        from botocore.exceptions import BotoCoreError, ClientError

        from ..aws import AwsContext, AwsError
        from ..aws.zonal_shift import shifts_elsewhere

        try:
            others = shifts_elsewhere(AwsContext.for_kubeconfig(self.cluster.kubeconfig), zone)
        except (AwsError, BotoCoreError, ClientError) as e:
            if self.evidence is not None:
                self.evidence.notes.append(f"active zonal shifts not checked before taking {zone} away: {e}")
            return
        if others:
            raise ChaosRefused(f"{others[0]} is active on this cluster: taking {zone} away now would take two zones "
                               "away; wait for it to end (or cancel it). Nothing was touched")

    def _start(self) -> Ledger:
        """The test's ledger and the cluster lock, both under one id (``<run id>-<test key>``): the lock's
        holder is the ledger's run, so ``azchaos restore`` of a killed test frees the lock it held."""
        if self.ledger is None:
            ledger_id = f"{self.run.run_id}-{zlib.crc32(self.test_id.encode()):08x}"
            self.lock = ClusterLock(self.cluster, ledger_id).acquire()
            path = Path(self.settings.report_dir) / "ledgers" / f"ledger-{ledger_id}.json"
            self.ledger = Ledger(self.cluster, ledger_id, path=path)
        return self.ledger

    def _phase(self, name: str, action: str = "", **arguments: Any) -> Any:
        """Open an evidence phase; ``action``/``arguments`` name the same fault in ``ctk.actions`` (journal)."""
        if self.evidence is None:
            return None
        return self.evidence.phase(name, action=action, arguments=arguments)

    def _end(self, phase: Any) -> None:
        if phase is not None and self.evidence is not None:
            self.evidence.end_phase(phase)

    @contextlib.contextmanager
    def _acting(self, name: str, action: str, *, stays_open: bool = False, **arguments: Any) -> Iterator[Any]:
        """A fault's phase from start to end, with the error if the fault raised. ``stays_open``: a fault
        whose effect lasts (an outage) keeps its phase open until the undo, unless it raised."""
        phase = self._phase(name, action, **arguments)
        try:
            yield phase
        except BaseException as e:
            if phase is not None:
                phase.error = f"{type(e).__name__}: {e}"
            self._end(phase)
            raise
        if not stays_open:
            self._end(phase)

    # ------------------------------------------------------------------ faults

    def cordon_zone(self, zone: str) -> Any:
        """Cordon every node of ``zone`` (nodes cordoned before stay as they are, and are not uncordoned)."""
        from .cordon import cordon_zone

        self._guard(zone)
        ledger = self._start()
        self.zones_taken.append(zone)
        with self._acting(f"cordon {zone}", "cordon_zone", zone=zone):
            report = cordon_zone(self.cluster, zone, ledger)
        self.reports.append(report)
        return report

    def drain_zone(self, zone: str, timeout: float | None = None, *, keep_provisioner_out: bool = False) -> Any:
        """Cordon ``zone`` and evict its pods in parallel, retrying PDB refusals until ``timeout``.
        ``keep_provisioner_out``: on Karpenter, first fence its NodePools out of the zone as ``zone_outage`` does
        (a cordoned zone is invisible to Karpenter, which would launch the replacements' nodes back into it); on node
        groups with the Cluster Autoscaler, cap the zone's single-zone groups at their size (it does not see cordons
        either); on EKS Auto Mode, whose built-in NodePools are not ours to edit, shift the cluster away from the zone
        (ARC zonal shift: Auto Mode launches nothing there). Each is recorded in the ledger first and undone exactly."""
        from .drain import drain_zone

        self._guard(zone)
        ledger = self._start()
        self.zones_taken.append(zone)
        timeout = timeout or self.drain_timeout
        if keep_provisioner_out:
            from ..provisioners.detect import detect, list_nodepools

            provisioner = detect(self.cluster.api)
            fence: Any = None
            if provisioner.kind == "karpenter":
                from ..provisioners.karpenter_fence import fence_nodepools

                fence = fence_nodepools(self.cluster.api, ledger, zone, list_nodepools(self.cluster.api) or [])
            elif provisioner.kind == "node-groups" and provisioner.autoscaler:
                fence = self._fence_node_groups(zone, ledger)
            elif provisioner.kind == "auto-mode":
                fence = self._shift_auto_mode_away(zone, ledger)
            if fence is not None:
                self.reports.append(fence)
                if self.evidence is not None:
                    self.evidence.notes.append(fence.describe())
        with self._acting(f"drain {zone}", "drain_zone", zone=zone, timeout=timeout):
            report = drain_zone(self.cluster, zone, ledger, timeout, self.run.progress,
                                retry_interval=self.profile.drain_evict_retry)
        self.reports.append(report)
        if self.evidence is not None:
            self.evidence.notes.append(report.describe() if hasattr(report, "describe") else str(report))
        return report

    def _shift_auto_mode_away(self, zone: str, ledger: Ledger) -> Any:
        """Keep EKS Auto Mode out of ``zone`` with a zonal shift (AWS: "you should not edit default NodePools", and
        Auto Mode honours zonal shifts); None without AWS access (noted: it may launch the replacements' nodes back
        into the zone)."""
        from ..aws import AwsConfigError, AwsContext, zonal_shift
        from ..aws.zonal_shift import check_shift

        try:
            aws = AwsContext.for_kubeconfig(self.cluster.kubeconfig)
            check_shift(aws, zone)
        except AwsConfigError as e:
            if self.evidence is not None:
                self.evidence.notes.append(f"EKS Auto Mode was not kept out of {zone} (no zonal shift: {e})")
            return None
        return zonal_shift(aws, ledger, zone, spacing=self.profile.zonal_shift_spacing)

    def _fence_node_groups(self, zone: str, ledger: Ledger) -> Any:
        """Cap the zone's single-zone Auto Scaling groups (``provisioners.node_group_fence``); None without AWS
        access (noted: the autoscaler may then add the replacements' nodes back into the zone)."""
        from ..aws import AwsConfigError, AwsContext, groups_of, parse_provider_id
        from ..provisioners.node_group_fence import fence_node_groups

        try:
            aws = AwsContext.for_kubeconfig(self.cluster.kubeconfig)
        except AwsConfigError as e:
            if self.evidence is not None:
                self.evidence.notes.append(f"the Cluster Autoscaler was not kept out of {zone} (no AWS access: {e})")
            return None
        ids = [p[1] for p in (parse_provider_id(n.spec.provider_id) for n in self.cluster.core.list_node().items)
               if p]
        return fence_node_groups(aws, ledger, zone, groups_of(aws, ids))

    def kill_pods(self, app: Any, *, count: int | None = None, fraction: float | None = None,
                  zone: str | None = None, grace_seconds: int = 0) -> Any:
        """Delete ``app``'s pods abruptly (grace 0): all, ``count``, ``fraction``, or those in ``zone``."""
        from .kill import kill_pods

        self._guard(zone)
        ledger = self._start()
        what = f"kill {count if count is not None else (f'{fraction:.0%}' if fraction else 'all')} pod(s)"
        arguments: dict[str, Any] = {k: v for k, v in (("count", count), ("fraction", fraction), ("zone", zone))
                                     if v is not None}
        with self._acting(what + (f" in {zone}" if zone else ""), "kill_pods", namespace=app.namespace,
                          label_selector=app.label_selector, grace_seconds=grace_seconds, **arguments):
            report = kill_pods(self.cluster, app.namespace, app.label_selector, count=count, fraction=fraction,
                               zone=zone, grace_seconds=grace_seconds, ledger=ledger,
                               rng=random.Random(self.run.rng.random()))
        self.reports.append(report)
        return report

    def zone_outage(self, zone: str, aws: Any, suspend_processes: Any = None) -> Any:
        """Stop the zone's EC2 instances and freeze its Auto Scaling groups (undo: start, resume). The strategy
        follows the node provisioner (``provisioners.detect``): on Karpenter its NodePools are first kept out of
        the zone (``provisioners.karpenter_fence``, ledger); on EKS Auto Mode it is refused before anything.
        ``suspend_processes``: the groups' processes to suspend (default ``aws.OUTAGE_PROCESSES``); leaving
        HealthCheck/ReplaceUnhealthy active lets the groups terminate the stopped instances (reported)."""
        from ..aws import OUTAGE_PROCESSES, zone_outage
        from ..aws.asg import validate_processes
        from ..aws.outage import check_outage
        from ..provisioners.detect import detect, list_nodepools

        try:
            processes = validate_processes(OUTAGE_PROCESSES if suspend_processes is None else suspend_processes)
        except ValueError as e:
            raise ChaosInputError(str(e)) from None
        self._guard(zone)
        nodes = self.cluster.core.list_node().items
        provisioner = detect(self.cluster.api, nodes)
        if provisioner.kind == "auto-mode":
            raise ChaosUnsupported(
                f"zone_outage refused on EKS Auto Mode ({provisioner.evidence}): EC2 refuses StopInstances on its "
                "managed instances (UnauthorizedOperation; Auto Mode does not support ec2:StopInstances, "
                f"automode-learn-instances.adoc). Take {zone} away with a zonal shift instead: `--fault shift` or "
                "azchaos_chaos.zonal_shift(zone). Nothing was changed")
        check_outage(aws, zone, nodes=nodes)  # read-only: a bad region or endpoint fails before lock and ledger
        ledger = self._start()
        self.zones_taken.append(zone)
        with self._acting(f"outage {zone}", "zone_outage", stays_open=True, zone=zone):
            replaceable: list[str] = []
            if provisioner.kind == "karpenter":  # keep it out of the zone first; its nodes there are replaced
                from ..provisioners.karpenter_fence import fence_nodepools, karpenter_instance_ids

                fence = fence_nodepools(self.cluster.api, ledger, zone, list_nodepools(self.cluster.api) or [])
                self.reports.append(fence)
                if self.evidence is not None:
                    self.evidence.notes.append(fence.describe())
                replaceable = karpenter_instance_ids(nodes, zone)
            outage = zone_outage(aws, ledger, zone, nodes=nodes, replaceable=replaceable,
                                 suspend_processes=processes, watch_every=5 * float(aws.poll_interval))
        self.reports.append(outage)
        return outage

    def zone_partition(self, zone: str, include_load_balancer: bool = False, aws: Any = None) -> Any:
        """Cut ``zone``'s subnets off with a deny-all network ACL (FIS disrupt-connectivity); its instances keep
        running. ``include_load_balancer``: the load balancers' subnets in the zone too; ``aws``: the
        ``AwsContext`` (default: the cluster kubeconfig's). Undo: the original ACLs back on every subnet, ours
        deleted."""
        from ..aws import AwsContext, zone_partition
        from ..aws.partition import check_partition

        self._guard(zone)
        if aws is None:
            aws = AwsContext.for_kubeconfig(self.cluster.kubeconfig)
        nodes = self.cluster.core.list_node().items
        # read-only: a bad region, endpoint or VPC fails before lock and ledger
        check_partition(aws, zone, nodes=nodes, include_load_balancer=include_load_balancer)
        ledger = self._start()
        self.zones_taken.append(zone)
        with self._acting(f"partition {zone}", "zone_partition", stays_open=True, zone=zone,
                          include_load_balancer=include_load_balancer):
            partition = zone_partition(aws, ledger, zone, nodes=nodes, include_load_balancer=include_load_balancer)
        self.reports.append(partition)
        if self.evidence is not None:
            self.evidence.notes.append(partition.describe())
        return partition

    def zonal_shift(self, zone: str, aws: Any = None) -> Any:
        """ARC zonal shift of the EKS cluster away from ``zone`` (EKS cordons it and drops its endpoints; nothing is
        evicted). Refused while another shift or autoshift practice run is active. Undo: cancel the shift."""
        from ..aws import AwsContext, zonal_shift
        from ..aws.zonal_shift import check_shift

        self._guard(zone)
        if aws is None:
            aws = AwsContext.for_kubeconfig(self.cluster.kubeconfig)
        check_shift(aws, zone)  # read-only: no cluster resource or a shift already active fails before lock, ledger
        ledger = self._start()
        self.zones_taken.append(zone)
        with self._acting(f"zonal shift {zone}", "zonal_shift", stays_open=True, zone=zone):
            shift = zonal_shift(aws, ledger, zone, spacing=self.profile.zonal_shift_spacing)
        self.reports.append(shift)
        if self.evidence is not None:
            self.evidence.notes.append(shift.describe())
        return shift

    @property
    def drain_timeout(self) -> float:
        return float(self.profile.drain_timeout)

    # ------------------------------------------------------------------ undo

    def undo_all(self) -> list[str]:
        """Replay the ledger (uncordon what this test cordoned ...); release the lock. Returns what was done."""
        lines: list[str] = []
        for report in self.reports:  # a zone outage's background watch over its stopped instances ends here
            if callable(getattr(report, "stop_watching", None)):
                report.stop_watching()
        if self.evidence is not None:
            for open_phase in self.evidence.phases:
                if open_phase.end is None:
                    self.evidence.end_phase(open_phase)
        try:
            if self.ledger is not None:
                with self._acting("restore", "undo_faults") as phase:
                    for outcome in self.ledger.replay():
                        lines.append(outcome.describe())
                    if phase is not None:
                        phase.detail = "; ".join(lines)
        finally:
            if self.lock is not None:
                self.lock.release()
                self.lock = None
        return lines


__all__ = ["Chaos", "ChaosInputError", "ChaosRefused", "ChaosUnsupported"]
