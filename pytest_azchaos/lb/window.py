"""What a load balancer's configuration implies: how long it takes to stop sending to a target that is gone
(the detection window) and how long a terminating pod must keep serving so no new connection meets a closed
socket (the shutdown the app needs). Figures and sources: eks-flavours-facts.md §1.3-§1.5.

- **ip targets** (LBC, Auto Mode): the endpoint turns terminating, the controller deregisters the pod, and the NLB
  keeps sending *new* connections for about 2 min whatever the delay (LBC #2366, #3270), never past the
  deregistration delay itself: the pod must keep serving ``min(DEREGISTRATION_PROPAGATION, delay)`` plus
  kube-proxy's propagation (EKS Best Practices: preStop ``sleep 180``, grace 200).
- **instance targets, externalTrafficPolicy Local**: the node's healthCheckNodePort answers 503 once it has no
  ready local endpoint, and the NLB marks it unhealthy after ``interval x unhealthy threshold``; kube-proxy keeps
  routing to the serving-terminating pod meanwhile (KEP-1669), so the pod must serve that long.
- **instance targets, Cluster**: nodes keep proxying to the other nodes' pods; the pod need only outlast endpoint
  propagation to every kube-proxy. The sample app still sleeps through the detection window (recommended), so a
  node that stops answering is covered too.

**Two clocks.** AWS reports the configuration in AWS seconds. The timing profile says how long the cluster's
load balancer really takes for AWS's *defaults* (its ``nlb_*`` and ``lbc_health_check_interval`` fields;
``timing.REALISTIC`` holds the defaults themselves). Each configured duration is converted by the profile's ratio
for that quantity (health-check interval of its controller and kind, timeout, deregistration delay); what no
configuration states (new connections after deregistration, the DNS TTL) is the profile's own figure. A real
cluster declares ``realistic`` (or nothing, which means realistic), so every ratio is 1 and AWS's figures are taken
as they are; the embedded cluster under ``fast`` runs the same configuration on a faster clock, and the ratios say
how much faster. No profile name is read anywhere: only its fields.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..timing import REALISTIC

if TYPE_CHECKING:
    from ..aws.lb_config import LbConfig, TargetGroupConfig
    from ..timing import Profile

#: Seconds an NLB keeps sending new connections to a deregistered ip target (AWS seconds; LBC #2366, #3270).
DEREGISTRATION_PROPAGATION = 120.0
#: NLB DNS records' TTL (AWS seconds): how long a client may keep a zone's address the NLB no longer answers.
DNS_TTL = 60.0
#: What a well-tuned health check looks like (LBC instance + Local defaults): 10 s interval, unhealthy after 2.
TUNED_INTERVAL, TUNED_UNHEALTHY = 10.0, 2


@dataclass(frozen=True)
class LbClock:
    """AWS seconds to the cluster's seconds, read from a profile's fields: a ratio per configured quantity
    (health-check interval and timeout of the legacy controller's TCP / HTTP checks and of the LBC's, deregistration
    delay), and the AWS behaviours no configuration states, in the cluster's seconds (new connections after
    deregistration, the DNS TTL)."""

    tcp_interval: float = 1.0
    http_interval: float = 1.0
    lbc_interval: float = 1.0
    timeout: float = 1.0
    deregistration: float = 1.0
    new_connections_after_deregistration: float = DEREGISTRATION_PROPAGATION
    dns_ttl: float = DNS_TTL
    propagation: float = 1.0  # kube-proxy's endpoint propagation, in the cluster's seconds (not a ratio)

    @classmethod
    def of(cls, profile: Profile) -> LbClock:
        return cls(profile.nlb_cluster_interval / REALISTIC.nlb_cluster_interval,
                   profile.nlb_local_interval / REALISTIC.nlb_local_interval,
                   profile.lbc_health_check_interval / REALISTIC.lbc_health_check_interval,
                   profile.nlb_health_check_timeout / REALISTIC.nlb_health_check_timeout,
                   profile.nlb_deregistration_delay / REALISTIC.nlb_deregistration_delay,
                   profile.nlb_deregistration_new_connections, profile.nlb_dns_ttl,
                   profile.endpoint_propagation_delay)

    def interval(self, tg: TargetGroupConfig, controller: str = "legacy") -> float:
        """``tg``'s health-check interval on the cluster's clock: the LBC's (and Auto Mode's) scale with the profile's
        LBC interval, the legacy controller's with its TCP or HTTP interval."""
        if controller != "legacy":
            return tg.interval * self.lbc_interval
        http = tg.health_protocol.upper().startswith("HTTP")
        return tg.interval * (self.http_interval if http else self.tcp_interval)

    @property
    def identity(self) -> bool:
        return all(r == 1.0 for r in (self.tcp_interval, self.http_interval, self.lbc_interval, self.timeout,
                                      self.deregistration))


@dataclass(frozen=True)
class Window:
    """One target group's figures, in the cluster's seconds (``aws_*``: the same in AWS seconds)."""

    target_group: str
    target_type: str
    traffic_policy: str
    detection: float  # a target that stops answering still gets new flows this long
    required_serving: float  # a terminating pod must keep serving at least this long
    recommended_prestop: int  # what the sample app sleeps in preStop
    aws_detection: float
    aws_required_serving: float  # on a cluster with AWS's timings and upstream kube-proxy propagation
    why: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def recommended_grace(self, delay_shutdown: int) -> int:
        """terminationGracePeriodSeconds for a preStop of ``recommended_prestop`` and ``delay_shutdown``: the
        kubelet's grace covers preStop and the shutdown after SIGTERM, with a margin, and never below 30 (the API
        default)."""
        return max(30, self.recommended_prestop + delay_shutdown + max(5, math.ceil(0.1 * self.recommended_prestop)))


def window_for(tg: TargetGroupConfig, traffic_policy: str, clock: LbClock, controller: str = "legacy") -> Window:
    """The detection window and the serving time ``tg``'s configuration implies for a pod behind it; ``controller``
    (``legacy`` | ``lbc`` | ``auto-mode``): whose target group it is, which decides the clock of its interval."""
    interval_c = clock.interval(tg, controller)
    aws_detection = tg.interval * tg.unhealthy_threshold
    detection = interval_c * tg.unhealthy_threshold
    margin = 2 * clock.propagation
    if tg.target_type == "ip":
        aws_need = min(DEREGISTRATION_PROPAGATION, tg.deregistration_delay)
        need = min(clock.new_connections_after_deregistration, tg.deregistration_delay * clock.deregistration) + margin
        why = (f"ip targets: after deregistration the NLB keeps sending new connections for about "
               f"{DEREGISTRATION_PROPAGATION:g} s (never past the {tg.deregistration_delay:g} s deregistration delay)")
    elif traffic_policy == "Local":
        aws_need = aws_detection
        need = detection + margin
        why = (f"instance targets, externalTrafficPolicy Local: the node's health check fails once it has no ready "
               f"local endpoint, and the NLB marks it unhealthy after {tg.interval:g} s x {tg.unhealthy_threshold}")
    else:
        aws_need = 0.0
        need = margin
        why = ("instance targets, externalTrafficPolicy Cluster: nodes keep proxying to other nodes' pods, so only "
               "endpoint propagation must be outlasted")
    recommended = math.ceil(max(need, detection + margin) + 1)
    notes = []
    if not clock.identity:
        notes.append(f"AWS reports {tg.interval:g} s / {tg.deregistration_delay:g} s; this cluster's timing profile "
                     f"runs them at {interval_c:g} s / {tg.deregistration_delay * clock.deregistration:g} s")
    return Window(tg.name, tg.target_type, traffic_policy, detection, need, recommended, aws_detection,
                  aws_need + 2 * REALISTIC.endpoint_propagation_delay, why, tuple(notes))


def windows(config: LbConfig, traffic_policy: str, clock: LbClock, controller: str = "legacy") -> list[Window]:
    return [window_for(tg, traffic_policy, clock, controller) for tg in config.target_groups]


def nominal(target_type: str, traffic_policy: str, profile: Profile, deregistration_delay: float | None = None,
            controller: str = "legacy") -> Window:
    """The window of a flavour's *default* configuration before its load balancer exists (the sample app's preStop
    is chosen before the Service is created). The LBC's and Auto Mode's defaults (``model_builder.go``): TCP
    traffic-port 10 s 3/3, instance + Local HTTP /healthz 10 s 2/2; the legacy controller's: instance + Local HTTP
    10 s 2/2, Cluster TCP 30 s 3/3; ``deregistration_delay`` default AWS's 300 s."""
    from ..aws.lb_config import DEREGISTRATION_DELAY, TargetGroupConfig

    attrs = {DEREGISTRATION_DELAY: f"{deregistration_delay:g}"} if deregistration_delay is not None else {}
    if traffic_policy == "Local" and target_type == "instance":
        tg = TargetGroupConfig("", "default", target_type, 0, "HTTP", "healthCheckNodePort", "/healthz",
                               REALISTIC.nlb_local_interval, 6.0, REALISTIC.nlb_local_healthy_threshold,
                               REALISTIC.nlb_local_unhealthy_threshold, attrs)
    elif controller != "legacy":
        tg = TargetGroupConfig("", "default", target_type, 0, "TCP", "traffic-port", None,
                               REALISTIC.lbc_health_check_interval, 10.0, 3, 3, attrs)
    else:
        tg = TargetGroupConfig("", "default", "instance", 0, "TCP", "traffic-port", None,
                               REALISTIC.nlb_cluster_interval, 10.0, REALISTIC.nlb_cluster_healthy_threshold,
                               REALISTIC.nlb_cluster_unhealthy_threshold, attrs)
    return window_for(tg, traffic_policy, LbClock.of(profile), controller)
