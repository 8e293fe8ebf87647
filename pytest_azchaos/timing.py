"""Timing profiles: ``realistic`` (upstream and AWS defaults) and ``fast`` (the embedded cluster's default).

One ``Profile`` holds every duration that matters to a run: what the cluster does (kubelet heartbeats,
node lifecycle, taint eviction, kube-proxy propagation, NLB health checks, volume force-detach) and
every wait budget of the plugin and the suites (app ready, load balancer ready, drain, reschedule,
EBS return ...), so a wait is never right on one cluster only. ``realistic`` holds the upstream/AWS
defaults with their sources; ``fast`` scales them down so a suite runs in about a minute. The
embedded cluster reads the same profile, so its clock and the plugin's budgets always agree.

Values that come from the objects themselves (a pod's ``tolerationSeconds``, probe periods,
``terminationGracePeriodSeconds``) are honoured as written in both profiles: the profile only
documents their defaults (``default_*`` fields), it never rewrites a pod.

Plain module, no side effects: safe to import from the cluster process, the plugin and tests.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# Where each realistic value comes from (shown by ``describe()``).
SOURCES: dict[str, str] = {
    "node_lease_duration": "kubelet nodeLeaseDurationSeconds default 40 (kubelet config v1beta1 defaults)",
    "node_lease_renew_interval": "kubelet renews at 0.25 x lease duration = 10 s (pkg/kubelet/nodelease)",
    "node_status_update_frequency": "kubelet --node-status-update-frequency 10 s (computes status)",
    "node_status_report_frequency": "kubelet nodeStatusReportFrequency 5 min (posts unchanged status)",
    "node_monitor_period": "kube-controller-manager --node-monitor-period 5 s",
    "node_monitor_grace_period": "kube-controller-manager --node-monitor-grace-period 50 s since v1.32 "
                                 "(40 s before; kubernetes#126287)",
    "node_startup_grace_period": "kube-controller-manager --node-startup-grace-period 60 s",
    "node_eviction_period": "node lifecycle NoExecute tainting pass every 100 ms (nodeEvictionPeriod)",
    "node_eviction_rate": "--node-eviction-rate 0.1 nodes/s per zone, burst 1",
    "secondary_node_eviction_rate": "--secondary-node-eviction-rate 0.01 (zones of large clusters)",
    "unhealthy_zone_threshold": "--unhealthy-zone-threshold 0.55",
    "large_cluster_size_threshold": "--large-cluster-size-threshold 50",
    "default_not_ready_toleration_seconds": "kube-apiserver --default-not-ready-toleration-seconds 300 "
                                            "(DefaultTolerationSeconds admission; from the pod spec)",
    "default_unreachable_toleration_seconds": "kube-apiserver --default-unreachable-toleration-seconds 300 "
                                              "(from the pod spec)",
    "default_termination_grace_period": "pod spec terminationGracePeriodSeconds default 30 (from the pod spec)",
    "endpoint_propagation_delay": "kube-proxy iptables/nftables --*-min-sync-period 1 s",
    "nlb_cluster_interval": "cloud-provider-aws NLB, ETP=Cluster: TCP traffic-port, interval 30 s",
    "nlb_cluster_healthy_threshold": "cloud-provider-aws NLB, ETP=Cluster: healthy threshold 3",
    "nlb_cluster_unhealthy_threshold": "cloud-provider-aws NLB, ETP=Cluster: unhealthy threshold 3",
    "nlb_local_interval": "cloud-provider-aws NLB, ETP=Local: HTTP /healthz on healthCheckNodePort, interval 10 s",
    "nlb_local_healthy_threshold": "cloud-provider-aws NLB, ETP=Local: healthy threshold 2",
    "nlb_local_unhealthy_threshold": "cloud-provider-aws NLB, ETP=Local: unhealthy threshold 2",
    "nlb_health_check_timeout": "NLB health check timeout: 6 s HTTP, 10 s TCP (not configurable on create)",
    "nlb_deregistration_delay": "AWS target group deregistration_delay.timeout_seconds default 300",
    "lbc_health_check_interval": "AWS Load Balancer Controller target groups: health check interval 10 s "
                                 "(TCP traffic-port 10/10 s 3/3; instance + ETP=Local HTTP /healthz 10/6 s 2/2; "
                                 "lbc pkg/service/model_builder.go)",
    "zonal_shift_spacing": "EKS: wait at least 60 s between zonal shift operations on a cluster "
                           "(eksug zone-shift-enable.adoc)",
    "nlb_registration_delay": "NLB target registration takes 90 to 180 s before health checks begin "
                              "(LBC maintainer, aws-load-balancer-controller#1834; #1786 saw 4-5 min)",
    "nlb_deregistration_new_connections": "an NLB keeps sending new connections to a deregistered target for "
                                          "about 2 min (aws-load-balancer-controller#2366, #3270)",
    "nlb_dns_ttl": "TTL of an NLB DNS name's A records: 60 s (a zone without healthy targets leaves the answer; "
                   "repost.aws elb-dns-cross-zone-balance-configuration)",
    "max_wait_for_unmount": "attach/detach controller maxWaitForUnmountDuration 6 min (force detach)",
    "attach_detach_reconcile_period": "attach/detach reconciler sync period 100 ms",
    "default_probe_period": "probe periodSeconds default 10 (from the pod spec)",
    "default_probe_timeout": "probe timeoutSeconds default 1 (from the pod spec)",
    "default_probe_failure_threshold": "probe failureThreshold default 3 (from the pod spec)",
    "scheduler_unschedulable_retry": "kube-scheduler podMaxInUnschedulablePodsDuration 5 min",
    "karpenter_ice_ttl": "Karpenter pkg/cache/cache.go UnavailableOfferingsTTL 3 min (facts §2)",
    "asg_health_check_interval": "how often the embedded ASGs run EC2 health checks (AWS checks periodically and "
                                 "publishes no interval; ours)",
    "asg_health_check_grace_period": "HealthCheckGracePeriod of the embedded node groups' ASGs: 15 s, as EKS "
                                     "managed node groups set it",
    "ca_scan_interval": "cluster-autoscaler --scan-interval default 10 s",
    "ca_scale_down_unneeded_time": "cluster-autoscaler --scale-down-unneeded-time default 10 min",
    "ca_scale_down_delay_after_add": "cluster-autoscaler --scale-down-delay-after-add default 10 min",
    "cloud_poll_interval": "embedded cloud layer: how often it reconciles instances, groups and target health "
                           "with the cluster (ours; AWS health checks run on their own interval)",
    "pod_gc_orphan_quarantine": "pod GC deletes pods bound to a node that no longer exists after quarantineTime "
                                "40 s (pkg/controller/podgc/gc_controller.go; checked every 20 s upstream)",
    "drain_evict_retry": "kubectl drain retries a 429 eviction after 5 s (EvictErrorRetryDelay)",
    # Wait budgets of the plugin and the suites (ours, sized from the figures above and facts-file timings).
    "app_ready_timeout": "budget for a sample app's pods to be Ready (image pulls, scheduling, probes)",
    "stateful_ready_timeout": "budget for the stateful app: also provisions and attaches one EBS volume per pod",
    "lb_ready_timeout": "budget for a load balancer's address and healthy targets (LBC registers in 90-180 s)",
    "drain_timeout": "budget for a zone drain, PDB-gated evictions and graceful shutdowns included",
    "reschedule_timeout": "budget for lost replicas to be Ready elsewhere once their pods are gone",
    "cordon_settle_timeout": "budget for new pods to be scheduled after a cordon",
    "hcnp_settle_timeout": "budget for every healthCheckNodePort to agree with the endpoints (kube-proxy sync)",
    "volume_wait_timeout": "budget for a stateful pod to show it waits on its volume's zone (scheduler retry)",
    "volume_return_timeout": "budget for a stateful pod to come back on its own volume once its zone returns",
    "zone_return_timeout": "budget for a stopped zone's instances and nodes to be back and Ready",
    "capacity_timeout": "budget for the autoscaler or Karpenter to add a node where a Pending pod can run and the "
                        "pod to be Ready on it (scan, EC2 launch, node registration; AZ-CAPACITY)",
    "app_node_loss_toleration": "tolerationSeconds the sample app sets for not-ready/unreachable nodes; "
                                "None keeps the API server's default 300 s",
}


@dataclass(frozen=True)
class Profile:
    """Durations in seconds (rates in 1/s); see ``SOURCES`` for the upstream origin of each."""

    name: str
    # kubelet -> API: node heartbeat
    node_lease_duration: float
    node_lease_renew_interval: float
    node_status_update_frequency: float
    node_status_report_frequency: float
    # kube-controller-manager: node lifecycle controller
    node_monitor_period: float
    node_monitor_grace_period: float
    node_startup_grace_period: float
    node_eviction_period: float
    node_eviction_rate: float
    secondary_node_eviction_rate: float
    unhealthy_zone_threshold: float
    large_cluster_size_threshold: int
    # defaults that live in the pod spec (documented, honoured as written)
    default_not_ready_toleration_seconds: int
    default_unreachable_toleration_seconds: int
    default_termination_grace_period: int
    default_probe_period: int
    default_probe_timeout: int
    default_probe_failure_threshold: int
    # kube-proxy
    endpoint_propagation_delay: float
    # AWS NLB (cloud-provider-aws defaults, facts §E1/§E3)
    nlb_cluster_interval: float
    nlb_cluster_healthy_threshold: int
    nlb_cluster_unhealthy_threshold: int
    nlb_local_interval: float
    nlb_local_healthy_threshold: int
    nlb_local_unhealthy_threshold: int
    nlb_health_check_timeout: float
    nlb_deregistration_delay: float
    # storage
    max_wait_for_unmount: float
    attach_detach_reconcile_period: float
    # scheduler and clients
    scheduler_unschedulable_retry: float
    pod_gc_orphan_quarantine: float
    drain_evict_retry: float
    cloud_poll_interval: float
    # wait budgets of the plugin and the suites
    app_ready_timeout: float
    stateful_ready_timeout: float
    lb_ready_timeout: float
    drain_timeout: float
    reschedule_timeout: float
    cordon_settle_timeout: float
    hcnp_settle_timeout: float
    volume_wait_timeout: float
    volume_return_timeout: float
    zone_return_timeout: float
    app_node_loss_toleration: int | None
    # AWS Load Balancer Controller NLBs and NLB DNS (eks-flavours-facts.md §1.3); defaults: the realistic values
    lbc_health_check_interval: float = 10.0
    nlb_registration_delay: float = 90.0
    nlb_deregistration_new_connections: float = 120.0
    nlb_dns_ttl: float = 60.0
    # Karpenter: how long an offering that failed with InsufficientInstanceCapacity stays unavailable
    karpenter_ice_ttl: float = 180.0
    # EC2 Auto Scaling health checks and the Cluster Autoscaler (embedded node groups)
    asg_health_check_interval: float = 10.0
    asg_health_check_grace_period: int = 15
    ca_scan_interval: float = 10.0
    ca_scale_down_unneeded_time: float = 600.0
    ca_scale_down_delay_after_add: float = 600.0
    # ARC zonal shift for EKS (eks-flavours-facts.md §5)
    zonal_shift_spacing: float = 60.0
    # AZ-CAPACITY: a new node from the node provisioner and the Pending pod Ready on it
    capacity_timeout: float = 600.0

    @classmethod
    def by_name(cls, name: str) -> Profile:
        """The profile called ``name`` (one of ``NAMES``); ValueError names the choices."""
        try:
            return _BY_NAME[name]
        except KeyError:
            raise ValueError(f"unknown timing profile {name!r}; choose one of: {', '.join(NAMES)}") from None

    # ------------------------------------------------------------------ derived figures

    def heartbeat_loss_detection(self) -> float:
        """Worst case from the last heartbeat to conditions ``Unknown`` (grace + one monitor period)."""
        return self.node_monitor_grace_period + self.node_monitor_period

    def taint_eviction_after(self, toleration_seconds: float | None = None) -> float:
        """Worst case from node loss to a pod's deletion for a given tolerationSeconds (default 300)."""
        tol = self.default_unreachable_toleration_seconds if toleration_seconds is None else toleration_seconds
        return self.heartbeat_loss_detection() + self.node_eviction_period + tol

    def lb_unhealthy_after(self, local: bool) -> float:
        """Time for an NLB target to be marked unhealthy once its check starts failing."""
        if local:
            return self.nlb_local_interval * self.nlb_local_unhealthy_threshold
        return self.nlb_cluster_interval * self.nlb_cluster_unhealthy_threshold

    def lb_healthy_after(self, local: bool) -> float:
        """Time for a new NLB target to start receiving traffic once its check passes."""
        if local:
            return self.nlb_local_interval * self.nlb_local_healthy_threshold
        return self.nlb_cluster_interval * self.nlb_cluster_healthy_threshold

    def partition_detection_window(self, local: bool) -> float:
        """Worst case from a zone's subnets being cut off (network ACL) until traffic no longer reaches it.

        Two things must happen, whichever is later: the load balancer marks the zone's targets unhealthy
        (``lb_unhealthy_after`` plus one health-check timeout), and node lifecycle marks the zone's pods
        NotReady so kube-proxy elsewhere stops forwarding to them (``heartbeat_loss_detection`` plus endpoint
        propagation); plus one cloud poll for the embedded cluster to see the ACL (on AWS it acts at once).

        The load-balancer term is the worst case of ELB's cadence: checks start every ``HealthCheckIntervalSeconds``
        ("the approximate amount of time between health checks of an individual target", ELB CreateTargetGroup
        API reference) whether or not the previous one timed out, so the cut lands at most one interval before
        the first failing check and the last of the unhealthy-threshold failures ends one timeout after it
        started: threshold * interval + timeout. The subnets of the zone's load balancer are not cut here (the
        gameday and AZ-PARTITION cut the node subnets), so no client is left on a DNS answer naming a dead
        address and the record's TTL does not count."""
        load_balancer = self.lb_unhealthy_after(local) + self.nlb_health_check_timeout
        endpoints = self.heartbeat_loss_detection() + self.endpoint_propagation_delay
        return max(load_balancer, endpoints) + self.cloud_poll_interval

    def describe(self) -> str:
        """A table of every value of this profile and where it comes from."""
        other = REALISTIC if self is not REALISTIC else None
        rows = [("setting", self.name, "realistic" if other else "", "source")]
        for f in fields(self):
            if f.name == "name":
                continue
            value = getattr(self, f.name)
            ref = getattr(other, f.name) if other else ""
            rows.append((f.name, _fmt(value), _fmt(ref) if other else "", SOURCES.get(f.name, "")))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = []
        for r in rows:
            cells = [r[i].ljust(widths[i]) for i in range(3)]
            if not other:
                cells = [cells[0], cells[1]]
            lines.append("  ".join([*cells, r[3]]).rstrip())
        return "\n".join(lines)


def _fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


REALISTIC = Profile(
    name="realistic",
    node_lease_duration=40.0,
    node_lease_renew_interval=10.0,
    node_status_update_frequency=10.0,
    node_status_report_frequency=300.0,
    node_monitor_period=5.0,
    node_monitor_grace_period=50.0,
    node_startup_grace_period=60.0,
    node_eviction_period=0.1,
    node_eviction_rate=0.1,
    secondary_node_eviction_rate=0.01,
    unhealthy_zone_threshold=0.55,
    large_cluster_size_threshold=50,
    default_not_ready_toleration_seconds=300,
    default_unreachable_toleration_seconds=300,
    default_termination_grace_period=30,
    default_probe_period=10,
    default_probe_timeout=1,
    default_probe_failure_threshold=3,
    endpoint_propagation_delay=1.0,
    nlb_cluster_interval=30.0,
    nlb_cluster_healthy_threshold=3,
    nlb_cluster_unhealthy_threshold=3,
    nlb_local_interval=10.0,
    nlb_local_healthy_threshold=2,
    nlb_local_unhealthy_threshold=2,
    nlb_health_check_timeout=6.0,
    nlb_deregistration_delay=300.0,
    max_wait_for_unmount=360.0,
    attach_detach_reconcile_period=0.1,
    scheduler_unschedulable_retry=300.0,
    pod_gc_orphan_quarantine=40.0,
    drain_evict_retry=5.0,
    cloud_poll_interval=5.0,
    app_ready_timeout=600.0,
    stateful_ready_timeout=900.0,
    lb_ready_timeout=600.0,
    drain_timeout=900.0,
    reschedule_timeout=600.0,
    cordon_settle_timeout=300.0,
    hcnp_settle_timeout=120.0,
    volume_wait_timeout=360.0,
    volume_return_timeout=900.0,
    zone_return_timeout=900.0,
    app_node_loss_toleration=None,
)

# Seconds instead of minutes. Thresholds (counts) and pod-spec defaults stay as upstream has them.
FAST = Profile(
    name="fast",
    node_lease_duration=4.0,
    node_lease_renew_interval=1.0,
    node_status_update_frequency=1.0,
    node_status_report_frequency=10.0,
    node_monitor_period=0.5,
    node_monitor_grace_period=4.0,
    node_startup_grace_period=6.0,
    node_eviction_period=0.1,
    node_eviction_rate=1.0,
    secondary_node_eviction_rate=0.1,
    unhealthy_zone_threshold=0.55,
    large_cluster_size_threshold=50,
    default_not_ready_toleration_seconds=300,
    default_unreachable_toleration_seconds=300,
    default_termination_grace_period=30,
    default_probe_period=10,
    default_probe_timeout=1,
    default_probe_failure_threshold=3,
    endpoint_propagation_delay=0.2,
    nlb_cluster_interval=1.0,
    nlb_cluster_healthy_threshold=3,
    nlb_cluster_unhealthy_threshold=3,
    nlb_local_interval=1.0,
    nlb_local_healthy_threshold=2,
    nlb_local_unhealthy_threshold=2,
    nlb_health_check_timeout=0.5,
    nlb_deregistration_delay=2.0,
    max_wait_for_unmount=6.0,
    attach_detach_reconcile_period=0.1,
    scheduler_unschedulable_retry=10.0,
    pod_gc_orphan_quarantine=4.0,
    drain_evict_retry=0.5,
    cloud_poll_interval=0.5,
    app_ready_timeout=120.0,
    stateful_ready_timeout=180.0,
    lb_ready_timeout=30.0,
    drain_timeout=60.0,
    reschedule_timeout=60.0,
    cordon_settle_timeout=30.0,
    hcnp_settle_timeout=20.0,
    volume_wait_timeout=30.0,
    volume_return_timeout=60.0,
    zone_return_timeout=120.0,
    app_node_loss_toleration=2,
    lbc_health_check_interval=0.5,
    nlb_registration_delay=1.0,
    zonal_shift_spacing=1.0,
    nlb_deregistration_new_connections=1.5,
    nlb_dns_ttl=1.0,
    karpenter_ice_ttl=6.0,
    asg_health_check_interval=0.5,
    asg_health_check_grace_period=1,
    ca_scan_interval=0.5,
    ca_scale_down_unneeded_time=3.0,
    ca_scale_down_delay_after_add=3.0,
    capacity_timeout=60.0,
)

NAMES: tuple[str, ...] = (FAST.name, REALISTIC.name)
_BY_NAME = {p.name: p for p in (FAST, REALISTIC)}
#: The embedded cluster's profile unless told otherwise.
DEFAULT_PROFILE = FAST.name
#: Any other cluster's profile unless its kubeconfig context or --azchaos-profile says otherwise.
REAL_CLUSTER_PROFILE = REALISTIC.name
