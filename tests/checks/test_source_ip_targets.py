"""AZ-SRCIP by target type: ip targets without client-IP preservation fail naming preserve_client_ip.enabled (and
the Service annotation that sets it); with it, the client address must show under either policy; instance targets
keep the policy's rule."""

from __future__ import annotations

from pytest_azchaos.checks.source_ip import TargetFacts, source_ip_for_targets

from .records import recording

NODES = {"127.10.0.1": "node-a", "127.10.0.2": "node-b"}
NLB_PRIVATE = "127.200.0.7"  # what a pod behind an ip target group sees without preservation


def _seen(address: str):  # type: ignore[no-untyped-def]
    return lambda seq, due: {"client_ip": address, "local_ip": "127.0.0.99"}


def test_ip_targets_without_preservation_fail_naming_the_attribute_and_annotation() -> None:
    facts = TargetFacts("ip", preserve_client_ip=False, source="AWS target group k8s-shop-echo")
    result = source_ip_for_targets(recording(20, shape=_seen(NLB_PRIVATE)), NODES, "Local", facts)
    assert not result.passed
    text = result.message()
    assert "AZ-SRCIP FAILED: ip targets without client IP preservation" in text
    assert "preserve_client_ip.enabled=true" in text
    assert "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes" in text
    assert f"{NLB_PRIVATE} x20" in text  # what the pods saw


def test_ip_targets_with_preservation_pass_under_cluster_policy_too() -> None:
    facts = TargetFacts("ip", preserve_client_ip=True, source="AWS target group k8s-shop-echo")
    result = source_ip_for_targets(recording(20), NODES, "Cluster", facts)
    assert result.passed, result.message()
    assert "kube-proxy is not on the path" in result.message()


def test_ip_targets_with_preservation_still_fail_when_pods_see_another_address() -> None:
    facts = TargetFacts("ip", preserve_client_ip=True)
    assert not source_ip_for_targets(recording(20, shape=_seen(NLB_PRIVATE)), NODES, "Cluster", facts).passed


def test_instance_targets_keep_the_policy_rule() -> None:
    facts = TargetFacts("instance")
    assert source_ip_for_targets(recording(20), NODES, "Local", facts).passed
    assert not source_ip_for_targets(recording(20), NODES, "Cluster", facts).passed  # Cluster must SNAT
    assert source_ip_for_targets(recording(20, shape=_seen("127.10.0.2")), NODES, "Cluster", facts).passed
