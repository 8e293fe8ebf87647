"""AZ-ADDONS: read from a real (embedded) cluster; its negative controls name the workload, its zones and the fix."""

from __future__ import annotations

import re

import pytest
from kubernetes import client

from pytest_azchaos.checks import CheckFailed
from pytest_azchaos.checks.addons import Placement, addons, coredns_problems, one_zone_problem, quorum_problems
from pytest_azchaos.wellknown import ZONE_LABEL

from ..docs.capture import capture_failure
from ..embedded.waiting import wait_for
from .in_cluster_helpers import coredns_changed

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"


def _pinned_deployment(name: str, zone: str, replicas: int = 2) -> dict:
    labels = {"app.kubernetes.io/name": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"nodeSelector": {ZONE_LABEL: zone},
                         "containers": [{"name": "c", "image": AGNHOST, "args": ["netexec", "--http-port=8080"]}]}}}}


def test_the_eks_coredns_default_passes_with_a_warning_naming_replicas_and_zones(azchaos_cluster, azchaos_zones,
                                                                                azchaos_check):
    result = azchaos_check(addons(azchaos_cluster.core, azchaos_zones))
    assert re.search(r"1 warning\(s\): CoreDNS \(Deployment kube-system/coredns: 2 pod\(s\) of 2 desired in .*\) "
                     r"runs 2 replica\(s\) for 3 zones: us-east-1\w has no DNS server of its own.* fix: scale CoreDNS",
                     result.summary), result.summary
    assert result.figures["warnings"] == 1


@pytest.mark.azchaos_destructive
def test_coredns_pinned_to_one_zone_fails_az_addons_naming_the_zone(azchaos_cluster, azchaos_zones, azchaos_check):
    zone = azchaos_zones.zones()[2]
    with coredns_changed(azchaos_cluster.api, zone=zone), pytest.raises(CheckFailed) as e:
        azchaos_check(addons(azchaos_cluster.core, azchaos_zones))
    assert (f"AZ-ADDONS FAILED: CoreDNS (Deployment kube-system/coredns: 2 pod(s) of 2 desired in {zone}: 2) runs "
            f"only in {zone}: losing {zone} takes cluster DNS with it; fix: scale CoreDNS") in str(e.value)
    capture_failure("AZ-ADDONS", e.value)


@pytest.mark.azchaos_destructive
def test_coredns_with_a_replica_per_zone_passes_and_nodelocal_dns_is_reported(azchaos_cluster, azchaos_zones,
                                                                               azchaos_check):
    with coredns_changed(azchaos_cluster.api, replicas=3):
        result = addons(azchaos_cluster.core, azchaos_zones)
    assert result.passed, result.message()
    azchaos_check(result)
    assert "NodeLocal DNSCache: not installed" in result.message()
    assert "control plane not visible" in result.message()
    assert result.figures["per_workload"]["Deployment kube-system/coredns"] == {z: 1 for z in azchaos_zones.zones()}


@pytest.mark.azchaos_destructive
def test_load_balancer_controller_in_one_zone_fails_az_addons_naming_it(azchaos_cluster, azchaos_namespace,
                                                                        azchaos_zones, azchaos_check):
    zone = azchaos_zones.zones()[1]
    apps = client.AppsV1Api(azchaos_cluster.api)
    apps.create_namespaced_deployment(azchaos_namespace, _pinned_deployment("aws-load-balancer-controller", zone))
    wait_for(lambda: apps.read_namespaced_deployment("aws-load-balancer-controller", azchaos_namespace),
             lambda d: (d.status.ready_replicas or 0) == 2, timeout=60, what="the pinned controller Ready")
    with pytest.raises(CheckFailed) as e:
        azchaos_check(addons(azchaos_cluster.core, azchaos_zones))
    message = str(e.value)
    assert (f"the AWS Load Balancer Controller (its Service webhook is failurePolicy: Fail) (Deployment "
            f"{azchaos_namespace}/aws-load-balancer-controller: 2 pod(s) of 2 desired in {zone}: 2) runs only in "
            f"{zone}: losing {zone} takes it down; fix: helm upgrade aws-load-balancer-controller") in message
    assert "ebs-csi-controller: not installed" in message


# Judging rules on placements as the survey builds them (the webhook and control-plane objects the embedded
# cluster does not serve: admissionregistration.k8s.io, control-plane nodes, etcd pods).

def test_two_plus_one_control_plane_members_break_quorum_when_the_zone_of_two_is_lost():
    problems = quorum_problems("etcd members", {"etcd-a1": "a", "etcd-a2": "a", "etcd-b1": "b"})
    assert problems == ["etcd members: 2 in a + 1 in b: losing a leaves 1 of 3, below the quorum of 2; fix: spread "
                        "the 3 members so no zone holds 2 or more (e.g. 1 + 1 + 1 over three zones)"]


def test_one_member_per_zone_keeps_quorum_when_any_zone_is_lost():
    assert quorum_problems("control-plane nodes", {"cp1": "a", "cp2": "b", "cp3": "c"}) == []


def test_a_webhook_backend_in_one_zone_and_one_without_backends_are_findings():
    one = Placement("Service", "gatekeeper-system", "gatekeeper-webhook-service", {"p1": "a", "p2": "a"})
    none = Placement("Service", "kyverno", "kyverno-svc", {})
    assert "runs only in a: losing a takes it down" in (one_zone_problem(one, "webhook x", "spread it") or "")
    assert "has no running pods" in (one_zone_problem(none, "webhook y", "spread it") or "")
    assert one_zone_problem(Placement("Service", "n", "s", {"p1": "a", "p2": "b"}), "w", "f") is None


def test_coredns_with_enough_replicas_all_in_one_zone_fails():
    dns = Placement("Deployment", "kube-system", "coredns", {"c1": "a", "c2": "a", "c3": "a"})
    problems, warnings = coredns_problems(dns, ["a", "b", "c"])
    assert "runs only in a: losing a takes cluster DNS with it" in problems[0] and warnings == []


def test_coredns_sharing_a_zone_while_another_has_none_is_not_spread():
    dns = Placement("Deployment", "kube-system", "coredns", {"c1": "a", "c2": "a", "c3": "b"})
    problems, _ = coredns_problems(dns, ["a", "b", "c"])
    assert "is not spread: replicas share a zone while c has none" in problems[0]


@pytest.fixture(scope="module")
def lbc_cluster(tmp_path_factory: pytest.TempPathFactory):
    """An embedded cluster whose LoadBalancer Services the AWS Load Balancer Controller provisions: its Deployment
    in kube-system and its fail-closed MutatingWebhookConfiguration, as the Helm chart installs them."""
    from .. import clusters

    with clusters.own_cluster(tmp_path_factory.mktemp("lbc"), lb_controller="lbc") as handle, \
            clusters.plugin_cluster(handle) as cluster:
        yield cluster


def test_the_load_balancer_controller_and_its_fail_closed_webhook_are_found_with_their_zones(lbc_cluster):
    result = addons(lbc_cluster.core)
    workloads = result.figures["per_workload"]
    assert len(workloads["Deployment kube-system/aws-load-balancer-controller"]) == 2, workloads
    assert workloads["Service kube-system/aws-load-balancer-webhook-service"], workloads
    assert result.passed, result.message()


def test_the_real_load_balancer_controller_pinned_to_one_zone_fails_naming_it_and_its_webhook(lbc_cluster):
    apps = client.AppsV1Api(lbc_cluster.api)
    name, namespace = "aws-load-balancer-controller", "kube-system"
    zone = sorted(lbc_cluster.nodes_by_zone())[0]
    before = apps.read_namespaced_deployment(name, namespace).spec.template.spec.node_selector
    patch = {"spec": {"template": {"spec": {"nodeSelector": {ZONE_LABEL: zone}}}}}
    try:
        apps.patch_namespaced_deployment(name, namespace, patch)

        def pinned(_: object) -> bool:
            pods = [p for p in lbc_cluster.core.list_namespaced_pod(
                namespace, label_selector="app.kubernetes.io/name=aws-load-balancer-controller").items
                if p.metadata.deletion_timestamp is None]
            nodes = set(lbc_cluster.nodes_by_zone()[zone])
            return len(pods) == 2 and all(p.spec.node_name in nodes and p.status.phase == "Running" for p in pods)

        wait_for(lambda: None, pinned, timeout=60, what="the controller's pods all in one zone")
        result = addons(lbc_cluster.core)
    finally:
        apps.patch_namespaced_deployment(name, namespace, {"spec": {"template": {"spec": {"nodeSelector": before}}}})
    assert not result.passed
    assert (f"the AWS Load Balancer Controller (its Service webhook is failurePolicy: Fail) (Deployment "
            f"kube-system/aws-load-balancer-controller: 2 pod(s) of 2 desired in {zone}: 2) runs only in {zone}: "
            f"losing {zone} takes it down; fix: helm upgrade aws-load-balancer-controller") in result.summary
    assert re.search(rf"webhook [\w.]+ \(MutatingWebhookConfiguration/[\w-]+, failurePolicy Fail: while it has no "
                     rf"backend the API server refuses what it matches\) \(Service kube-system/"
                     rf"aws-load-balancer-webhook-service: 2 pod\(s\) in {zone}: 2\) runs only in {zone}",
                     result.summary), result.summary
