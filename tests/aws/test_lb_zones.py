"""The zone of each address of a Service's NLB as AWS reports it (boto3 against the embedded cluster's moto): the
NLB's network interfaces (``ELB net/<name>/<id>``) and their zones; nothing else. (moto does not report an NLB's
``LoadBalancerAddresses``, so that source is exercised only against real AWS.)"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from pytest_azchaos.aws import AwsContext, AwsError
from pytest_azchaos.aws.lb_zones import nlb_address_zones
from pytest_azchaos.embedded.process import ClusterHandle


@pytest.fixture(scope="module")
def aws(embedded_cluster: ClusterHandle) -> AwsContext:
    return AwsContext.for_kubeconfig(embedded_cluster.kubeconfig)


def _subnets(aws: AwsContext) -> dict[str, str]:
    """zone -> a subnet of the cluster's VPC there."""
    out: dict[str, str] = {}
    for s in aws.ec2.describe_subnets()["Subnets"]:
        out.setdefault(s["AvailabilityZone"], s["SubnetId"])
    return out


def _nlb(aws: AwsContext, service: str, **kw: Any) -> dict[str, Any]:
    return aws.elbv2.create_load_balancer(Name=f"t-{uuid.uuid4().hex[:12]}", Type="network",
                                          Tags=[{"Key": "kubernetes.io/service-name", "Value": service}],
                                          **kw)["LoadBalancers"][0]


def test_interface_addresses_map_to_the_interface_zone(aws: AwsContext) -> None:
    subnets = _subnets(aws)
    zone = sorted(subnets)[-1]
    service = f"shop-{uuid.uuid4().hex[:4]}/cart"
    lb = _nlb(aws, service, Subnets=[subnets[zone]])
    eni = aws.ec2.create_network_interface(SubnetId=subnets[zone],
                                           Description="ELB " + lb["LoadBalancerArn"].split(":loadbalancer/")[1])
    address = eni["NetworkInterface"]["PrivateIpAddress"]
    assert nlb_address_zones(aws, *service.split("/"))[address] == zone


def test_an_unrelated_interface_is_not_counted(aws: AwsContext) -> None:
    subnets = _subnets(aws)
    zone = sorted(subnets)[0]
    service = f"shop-{uuid.uuid4().hex[:4]}/search"
    _nlb(aws, service, Subnets=[subnets[zone]])
    other = aws.ec2.create_network_interface(SubnetId=subnets[zone], Description="ELB net/someone-else/123")
    assert other["NetworkInterface"]["PrivateIpAddress"] not in nlb_address_zones(aws, *service.split("/"))


def test_a_service_without_an_nlb_is_an_error_naming_it(aws: AwsContext) -> None:
    with pytest.raises(AwsError, match=r"no load balancer tagged kubernetes\.io/service-name=nowhere/none"):
        nlb_address_zones(aws, "nowhere", "none")
