"""A LoadBalancer Service's NLB as AWS reports it: target health per Availability Zone."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .context import AwsContext
from .errors import AwsError
from .inventory import describe_instances

SERVICE_TAG = "kubernetes.io/service-name"
#: The tags other controllers put ``<namespace>/<name>`` in: the AWS Load Balancer Controller's stack tag, and EKS
#: Auto Mode's (⚠ its name is inferred from the LBC's; the DNS-name lookup in ``aws.lb_config`` needs no tag).
STACK_TAGS = ("service.k8s.aws/stack", "service.eks.amazonaws.com/stack")


@dataclass(frozen=True)
class TargetHealth:
    instance_id: str
    port: int
    zone: str
    state: str  # initial | healthy | unhealthy | unused | draining | unavailable
    reason: str | None = None


@dataclass
class ZoneTargets:
    """The targets of one zone, all target groups of the NLB together."""

    zone: str
    targets: list[TargetHealth] = field(default_factory=list)

    @property
    def states(self) -> Counter[str]:
        return Counter(t.state for t in self.targets)

    @property
    def healthy(self) -> int:
        return self.states["healthy"]


def find_load_balancer(ctx: AwsContext, namespace: str, name: str) -> str:
    """The ARN of the load balancer tagged ``kubernetes.io/service-name=<namespace>/<name>``."""
    want = f"{namespace}/{name}"
    arns = [lb["LoadBalancerArn"] for page in ctx.elbv2.get_paginator("describe_load_balancers").paginate()
            for lb in page["LoadBalancers"]]
    for start in range(0, len(arns), 20):
        for desc in ctx.elbv2.describe_tags(ResourceArns=arns[start:start + 20])["TagDescriptions"]:
            if any(t["Key"] in (SERVICE_TAG, *STACK_TAGS) and t["Value"] == want for t in desc.get("Tags") or []):
                return desc["ResourceArn"]
    raise AwsError(f"no load balancer tagged {SERVICE_TAG}={want} in {ctx.describe()}: is the Service of type "
                   "LoadBalancer, provisioned (status.loadBalancer.ingress set), and is the region right?")


def target_health_by_zone(ctx: AwsContext, namespace: str, name: str) -> dict[str, ZoneTargets]:
    """Zone -> the NLB's targets there with their DescribeTargetHealth state."""
    arn = find_load_balancer(ctx, namespace, name)
    raw = []
    for tg in ctx.elbv2.describe_target_groups(LoadBalancerArn=arn)["TargetGroups"]:
        for d in ctx.elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]:
            raw.append((d["Target"]["Id"], int(d["Target"].get("Port") or tg["Port"]), d["TargetHealth"]))
    zones = {i.id: i.zone for i in describe_instances(ctx, {r[0] for r in raw}).values()}
    out: dict[str, ZoneTargets] = {}
    for iid, port, health in raw:
        zone = zones.get(iid, "")
        out.setdefault(zone, ZoneTargets(zone)).targets.append(
            TargetHealth(iid, port, zone, health["State"], health.get("Reason")))
    return dict(sorted(out.items()))
