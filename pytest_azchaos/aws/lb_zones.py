"""Which Availability Zone each address of a Service's NLB is in, as AWS reports it (boto3 only).

An NLB has one network interface per enabled zone; its addresses are those interfaces' private (and, when
internet-facing, public) IPs, and the zone is the interface's. ``describe_load_balancers`` lists them per
zone when they are fixed (Elastic IPs, ``PrivateIPv4Address``); the interfaces (description
``ELB net/<name>/<id>``) give them otherwise. An address AWS does not report is left out: unknown, never guessed.
"""

from __future__ import annotations

from .context import AwsContext
from .nlb import find_load_balancer

__all__ = ["nlb_address_zones"]


def nlb_address_zones(ctx: AwsContext, namespace: str, service: str) -> dict[str, str]:
    """``{address: zone}`` of the NLB tagged for ``namespace/service`` (``AwsError`` if there is none)."""
    arn = find_load_balancer(ctx, namespace, service)
    zones: dict[str, str] = {}
    for lb in ctx.elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]:
        for az in lb.get("AvailabilityZones") or []:
            for address in az.get("LoadBalancerAddresses") or []:
                for key in ("IpAddress", "PrivateIPv4Address", "IPv6Address"):
                    if address.get(key):
                        zones[address[key]] = az["ZoneName"]
    description = "ELB " + arn.split(":loadbalancer/", 1)[-1]
    pages = ctx.ec2.get_paginator("describe_network_interfaces").paginate(
        Filters=[{"Name": "description", "Values": [description]}])
    for page in pages:
        for eni in page.get("NetworkInterfaces") or []:
            zone = eni.get("AvailabilityZone")
            if not zone:
                continue
            for ip in eni.get("PrivateIpAddresses") or []:
                if ip.get("PrivateIpAddress"):
                    zones[ip["PrivateIpAddress"]] = zone
                public = (ip.get("Association") or {}).get("PublicIp")
                if public:
                    zones[public] = zone
    return zones
