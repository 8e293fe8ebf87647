"""What the Kubernetes side says about a Service's load balancer and about its app's shutdown.

The Service's class and annotations, read as its controller reads them (target type, scheme, target-group
attributes), for when AWS cannot be asked; and from the workload's pod template how long a terminating pod keeps
serving: its preStop sleep (native ``sleep`` or an ``exec`` of ``sleep N``), agnhost netexec's
``--delay-shutdown``, bounded by ``terminationGracePeriodSeconds`` (the kubelet kills at the end of it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .flavours import (
    AUTO_MODE_CLASS,
    LBC_CLASS,
    PRESERVE_CLIENT_IP,
    PROXY_PROTOCOL_ANNOTATION,
    TARGET_TYPE_ANNOTATION,
    TG_ATTRIBUTES_ANNOTATION,
    parse_attributes,
    service_scheme,
)

DEFAULT_GRACE = 30  # terminationGracePeriodSeconds when the pod spec leaves it out


@dataclass(frozen=True)
class ServiceLb:
    """A LoadBalancer Service's load balancer as the Service asks for it."""

    controller: str  # legacy | lbc | auto-mode | other
    load_balancer_class: str | None
    target_type: str  # instance | ip
    scheme: str
    preserve_client_ip: bool
    proxy_protocol: bool
    traffic_policy: str
    source: str  # where the figures come from, for the evidence

    @classmethod
    def of(cls, service: Any) -> ServiceLb:
        annotations = dict(service.metadata.annotations or {})
        lb_class = service.spec.load_balancer_class
        controller = ("lbc" if lb_class == LBC_CLASS else "auto-mode" if lb_class == AUTO_MODE_CLASS
                      else "legacy" if not lb_class else "other")
        target_type = annotations.get(TARGET_TYPE_ANNOTATION, "instance") if controller != "legacy" else "instance"
        if target_type == "nlb-ip":
            target_type = "ip"
        attrs = parse_attributes(annotations.get(TG_ATTRIBUTES_ANNOTATION))
        preserve = attrs.get(PRESERVE_CLIENT_IP, "true" if target_type == "instance" else "false").lower() == "true"
        proxy = (attrs.get("proxy_protocol_v2.enabled", "false").lower() == "true"
                 or annotations.get(PROXY_PROTOCOL_ANNOTATION) == "*")
        return cls(controller, lb_class, target_type, service_scheme(annotations, lb_class), preserve, proxy,
                   service.spec.external_traffic_policy or "Cluster",
                   f"service {service.metadata.namespace}/{service.metadata.name}'s class and annotations")


@dataclass(frozen=True)
class Shutdown:
    """How long a terminating pod of the workload keeps serving, and why."""

    prestop_sleep: float
    delay_shutdown: float
    grace: float

    @property
    def serving(self) -> float:
        """Seconds a terminating pod keeps answering: preStop, then the app's own delay, cut at the grace period."""
        return min(self.prestop_sleep + self.delay_shutdown, self.grace)

    def describe(self) -> str:
        cut = " (cut by the grace period)" if self.prestop_sleep + self.delay_shutdown > self.grace else ""
        return (f"preStop sleep {self.prestop_sleep:g}s + delay after SIGTERM {self.delay_shutdown:g}s, "
                f"terminationGracePeriodSeconds {self.grace:g}: serves {self.serving:g}s after termination starts{cut}")


_SLEEP = re.compile(r"(?:^|[;&|\s])sleep\s+(\d+(?:\.\d+)?)")
_DELAY = re.compile(r"--delay-shutdown[= ](\d+)")


def shutdown_of(pod_spec: Any) -> Shutdown:
    """The shutdown a pod template gives (the official client's ``V1PodSpec``): its first container's preStop and
    agnhost ``--delay-shutdown``, its grace period."""
    grace = float(pod_spec.termination_grace_period_seconds if pod_spec.termination_grace_period_seconds is not None
                  else DEFAULT_GRACE)
    prestop = delay = 0.0
    for container in pod_spec.containers or []:
        hook = container.lifecycle.pre_stop if container.lifecycle and container.lifecycle.pre_stop else None
        if hook is not None:
            if getattr(hook, "sleep", None) is not None:
                prestop = max(prestop, float(hook.sleep.seconds))
            elif hook._exec is not None:
                match = _SLEEP.search(" ".join(hook._exec.command or []))
                if match:
                    prestop = max(prestop, float(match.group(1)))
        match = _DELAY.search(" ".join([*(container.command or []), *(container.args or [])]))
        if match:
            delay = max(delay, float(match.group(1)))
    return Shutdown(prestop, delay, grace)


def target_facts(cluster: Any, namespace: str, service: str, aws: Any = None) -> Any:
    """``checks.source_ip.TargetFacts`` of the Service's load balancer: from its AWS target groups when ``aws`` (an
    ``aws.AwsContext``; default the cluster's, if configured) can read them, else from the Service's class and
    annotations."""
    from ..checks.source_ip import TargetFacts

    svc = cluster.core.read_namespaced_service(service, namespace)
    if aws is None:
        aws = _aws_or_none(cluster)
    if aws is not None:
        from ..aws.lb_config import lb_config

        ingress = (svc.status.load_balancer.ingress if svc.status and svc.status.load_balancer else None) or []
        hostname = next((i.hostname for i in ingress if i.hostname), None)
        try:
            config = lb_config(aws, namespace, service, hostname)
        except Exception:  # no such load balancer in AWS, or AWS not answering: the Service's side says it
            config = None
        if config is not None and config.target_groups:
            tg = next((t for t in config.target_groups if t.target_type == "ip"), config.target_groups[0])
            return TargetFacts(tg.target_type, tg.preserve_client_ip, tg.proxy_protocol,
                               f"AWS target group {tg.name}" + (f", {', '.join(tg.defaulted)} by AWS's default"
                                                                if "preserve_client_ip.enabled" in tg.defaulted
                                                                else ""))
    lb = ServiceLb.of(svc)
    return TargetFacts(lb.target_type, lb.preserve_client_ip, lb.proxy_protocol, lb.source)


def _aws_or_none(cluster: Any) -> Any:
    """The cluster's AWS (``aws.AwsContext.for_kubeconfig``), or None when none is configured."""
    try:
        from ..aws import AwsConfigError, AwsContext

        return AwsContext.for_kubeconfig(cluster.kubeconfig)
    except (AwsConfigError, ImportError, OSError):
        return None
