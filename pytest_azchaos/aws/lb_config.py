"""A Service's load balancer as AWS reports its configuration (boto3 only): scheme, cross-zone, and per target
group the target type, health check and the attributes that decide what a zone loss or a drain costs.

Attributes AWS leaves out of ``DescribeTargetGroupAttributes`` take AWS's documented defaults, said as such
(``defaulted``): ``preserve_client_ip.enabled`` true for instance targets and false for ip targets (TCP),
``target_health_state.unhealthy.connection_termination.enabled`` true, ``deregistration_delay.timeout_seconds``
300, ``deregistration_delay.connection_termination.enabled`` false, ``proxy_protocol_v2.enabled`` false.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .context import AwsContext
from .errors import AwsError
from .nlb import find_load_balancer

__all__ = ["LbConfig", "TargetGroupConfig", "find_for_service", "lb_config"]

PRESERVE_CLIENT_IP = "preserve_client_ip.enabled"
DEREGISTRATION_DELAY = "deregistration_delay.timeout_seconds"
DEREGISTRATION_TERMINATION = "deregistration_delay.connection_termination.enabled"
UNHEALTHY_TERMINATION = "target_health_state.unhealthy.connection_termination.enabled"
PROXY_PROTOCOL = "proxy_protocol_v2.enabled"
CROSS_ZONE = "load_balancing.cross_zone.enabled"


@dataclass(frozen=True)
class TargetGroupConfig:
    """One target group: target type, health check, and its attributes (AWS defaults filled in)."""

    arn: str
    name: str
    target_type: str  # instance | ip
    port: int
    health_protocol: str
    health_port: str
    health_path: str | None
    interval: float
    timeout: float
    healthy_threshold: int
    unhealthy_threshold: int
    attributes: dict[str, str] = field(default_factory=dict)
    defaulted: tuple[str, ...] = ()  # attribute keys AWS did not report (their default is assumed)

    @property
    def preserve_client_ip(self) -> bool:
        default = "true" if self.target_type == "instance" else "false"  # AWS's default per target type
        return self.attributes.get(PRESERVE_CLIENT_IP, default).lower() == "true"

    def cross_zone(self, load_balancer: bool) -> bool:
        """Cross-zone for this target group: its own ``load_balancing.cross_zone.enabled`` when true/false, the load
        balancer's when ``use_load_balancer_configuration`` (the default)."""
        value = self.attributes.get(CROSS_ZONE, "use_load_balancer_configuration").lower()
        return load_balancer if value not in ("true", "false") else value == "true"

    @property
    def proxy_protocol(self) -> bool:
        return self.attributes.get(PROXY_PROTOCOL, "false").lower() == "true"

    @property
    def deregistration_delay(self) -> float:
        return float(self.attributes.get(DEREGISTRATION_DELAY, "300"))

    @property
    def unhealthy_termination(self) -> bool:
        return self.attributes.get(UNHEALTHY_TERMINATION, "true").lower() == "true"

    @property
    def deregistration_termination(self) -> bool:
        return self.attributes.get(DEREGISTRATION_TERMINATION, "false").lower() == "true"

    def describe(self) -> str:
        path = f" {self.health_path}" if self.health_protocol.upper().startswith("HTTP") and self.health_path else ""
        return (f"target group {self.name}: {self.target_type} targets on {self.port}, health check "
                f"{self.health_protocol}{path} port {self.health_port} every {self.interval:g}s (timeout "
                f"{self.timeout:g}s, healthy {self.healthy_threshold}, unhealthy {self.unhealthy_threshold}), "
                f"deregistration delay {self.deregistration_delay:g}s, {PRESERVE_CLIENT_IP}="
                f"{str(self.preserve_client_ip).lower()}, unhealthy connection termination "
                f"{'on' if self.unhealthy_termination else 'off'}"
                + (f" (AWS defaults for {', '.join(self.defaulted)})" if self.defaulted else ""))


@dataclass(frozen=True)
class LbConfig:
    """The load balancer of one Service."""

    arn: str
    name: str
    dns_name: str
    scheme: str  # internet-facing | internal
    cross_zone: bool
    zones: tuple[str, ...]
    target_groups: tuple[TargetGroupConfig, ...]

    @property
    def target_types(self) -> set[str]:
        return {tg.target_type for tg in self.target_groups}

    def describe(self) -> str:
        return (f"{self.name} ({self.dns_name}): {self.scheme}, cross-zone {'on' if self.cross_zone else 'off'}, "
                f"zones {', '.join(self.zones)}")


def find_for_service(ctx: AwsContext, namespace: str, name: str, hostname: str | None = None) -> str:
    """The ARN of the Service's load balancer: the one whose DNS name is the Service's ingress ``hostname`` (any
    controller), else the one its controller tagged for ``namespace/name`` (``aws.nlb.find_load_balancer``)."""
    if hostname:
        for page in ctx.elbv2.get_paginator("describe_load_balancers").paginate():
            for lb in page["LoadBalancers"]:
                if str(lb.get("DNSName", "")).lower() == hostname.lower():
                    return str(lb["LoadBalancerArn"])
    return find_load_balancer(ctx, namespace, name)


def lb_config(ctx: AwsContext, namespace: str, name: str, hostname: str | None = None) -> LbConfig:
    """The Service's load balancer and target groups as AWS describes them (``AwsError`` if there is none)."""
    arn = find_for_service(ctx, namespace, name, hostname)
    lbs = ctx.elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
    if not lbs:
        raise AwsError(f"load balancer {arn} of service {namespace}/{name} is gone")
    lb = lbs[0]
    lb_attrs = _attributes(ctx.elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn))
    groups = []
    for tg in ctx.elbv2.describe_target_groups(LoadBalancerArn=arn)["TargetGroups"]:
        groups.append(_target_group(tg, _attributes(ctx.elbv2.describe_target_group_attributes(
            TargetGroupArn=tg["TargetGroupArn"]))))
    return LbConfig(arn, str(lb.get("LoadBalancerName", "")), str(lb.get("DNSName", "")),
                    str(lb.get("Scheme", "internet-facing")), lb_attrs.get(CROSS_ZONE, "false").lower() == "true",
                    tuple(sorted(z["ZoneName"] for z in lb.get("AvailabilityZones") or [])), tuple(groups))


def _attributes(answer: dict[str, Any]) -> dict[str, str]:
    return {a["Key"]: str(a.get("Value", "")) for a in answer.get("Attributes") or []}


def _target_group(tg: dict[str, Any], attrs: dict[str, str]) -> TargetGroupConfig:
    target_type = str(tg.get("TargetType") or "instance")
    defaults = {PRESERVE_CLIENT_IP: "true" if target_type == "instance" else "false",
                UNHEALTHY_TERMINATION: "true", DEREGISTRATION_DELAY: "300",
                DEREGISTRATION_TERMINATION: "false", PROXY_PROTOCOL: "false"}
    defaulted = tuple(k for k in defaults if k not in attrs)
    protocol = str(tg.get("HealthCheckProtocol") or "TCP")
    return TargetGroupConfig(
        str(tg["TargetGroupArn"]), str(tg.get("TargetGroupName", "")), target_type, int(tg.get("Port") or 0),
        protocol, str(tg.get("HealthCheckPort") or "traffic-port"), tg.get("HealthCheckPath"),
        float(tg.get("HealthCheckIntervalSeconds") or 30), float(tg.get("HealthCheckTimeoutSeconds") or
                                                                 (6 if protocol.upper().startswith("HTTP") else 10)),
        int(tg.get("HealthyThresholdCount") or 3), int(tg.get("UnhealthyThresholdCount") or 3),
        {**defaults, **attrs}, defaulted)
