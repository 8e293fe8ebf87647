"""In-cluster probers on the embedded cluster: one pod per zone, pinned, restricted, the run's image; every record
with its source zone; lookups recorded; our own channel's failure never counted as the cluster's."""

from __future__ import annotations

import json
import time

import pytest
from kubernetes import client

from pytest_azchaos.apps.images import SampleImages
from pytest_azchaos.traffic.in_cluster import (
    OUR_SIDE,
    DialTarget,
    InClusterError,
    InClusterRun,
    deploy_probers,
    error_class,
)
from pytest_azchaos.wellknown import ZONE_LABEL


def _echo_service(core, namespace, apps):
    labels = {"app": "echo"}
    apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": "echo"}, "spec": {"replicas": 3, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels}, "spec": {
                "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": ZONE_LABEL,
                                               "whenUnsatisfiable": "DoNotSchedule",
                                               "labelSelector": {"matchLabels": labels}}],
                "containers": [{"name": "c", "image": SampleImages().agnhost, "args": ["netexec"]}]}}}})
    core.create_namespaced_service(namespace, {"metadata": {"name": "echo"}, "spec": {
        "selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}})


def test_one_prober_per_zone_pinned_restricted_with_the_runs_image(plugin_cluster, namespace):
    pods = deploy_probers(plugin_cluster, namespace, SampleImages(), timeout=60)
    zones = plugin_cluster.nodes_by_zone()
    assert sorted(p.zone for p in pods) == sorted(zones)
    for p in pods:
        assert p.node in zones[p.zone]
        pod = plugin_cluster.core.read_namespaced_pod(p.name, namespace)
        assert pod.spec.security_context.run_as_non_root is True
        assert pod.spec.containers[0].security_context.capabilities.drop == ["ALL"]
        term = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
        assert term.node_selector_terms[0].match_expressions[0].values == [p.zone]


def test_a_mirror_that_does_not_serve_the_image_fails_naming_the_image(plugin_cluster, namespace):
    mirror = SampleImages(agnhost="mirror.example.com/e2e-test-images/agnhost:2.52", source="--azchaos-image")
    with pytest.raises(InClusterError, match=r"mirror\.example\.com/e2e-test-images/agnhost:2\.52") as e:
        deploy_probers(plugin_cluster, namespace, mirror, timeout=8, zones=["us-east-1a"])
    assert "ErrImagePull" in str(e.value) or "ImagePullBackOff" in str(e.value)
    pod = plugin_cluster.core.read_namespaced_pod("prober-us-east-1a", namespace)
    assert pod.spec.containers[0].image == mirror.agnhost


def test_every_zone_reaches_a_service_by_ip_and_name_and_each_record_names_its_source_zone(plugin_cluster, namespace):
    core, apps = plugin_cluster.core, client.AppsV1Api(plugin_cluster.api)
    _echo_service(core, namespace, apps)
    pods = deploy_probers(plugin_cluster, namespace, SampleImages(), timeout=60)
    targets = DialTarget.service(core, namespace, "echo")
    deadline = time.monotonic() + 30  # the Service's endpoints and the DNS record appear asynchronously
    while True:
        with InClusterRun(plugin_cluster, namespace, pods, targets, rate=10) as run:
            time.sleep(1.5)
        recording = run.recording
        if (recording.total and not recording.failures()) or time.monotonic() > deadline:
            break
    assert run.channel == "direct"  # the embedded cluster's pod addresses route from here
    assert recording.failures() == [], recording.failures()[:3]
    assert recording.source_zones() == sorted(p.zone for p in pods)
    for zone in recording.source_zones():
        for kind in ("service-ip", "service-name", "dns"):
            assert recording.from_zone(zone, kind).total >= 10, (zone, kind)
    assert all(r.pod and r.pod.startswith("echo-") for r in recording.snapshot() if r.kind != "dns")


def test_a_name_that_does_not_resolve_is_a_failed_lookup_not_a_failed_request_of_ours(plugin_cluster, namespace):
    pods = deploy_probers(plugin_cluster, namespace, SampleImages(), timeout=60, zones=["us-east-1b"])
    with InClusterRun(plugin_cluster, namespace, pods, [DialTarget("nothing-here", 80, "service-name")],
                      rate=5) as run:
        time.sleep(1)
    lookups = run.recording.from_zone("us-east-1b", "dns").snapshot()
    assert lookups and all(not r.ok and "lookup nothing-here" in r.detail for r in lookups)
    assert all(not r.detail.startswith(OUR_SIDE) for r in run.recording.snapshot())


def test_a_channel_the_cluster_does_not_serve_is_our_side_failing(plugin_cluster, namespace):
    pods = deploy_probers(plugin_cluster, namespace, SampleImages(), timeout=60, zones=["us-east-1c"])
    with InClusterRun(plugin_cluster, namespace, pods, [DialTarget("127.0.0.1", 1)], rate=5, channel="proxy") as run:
        time.sleep(1)
    records = run.recording.snapshot()
    assert records and all(r.error == "other" and r.detail.startswith(OUR_SIDE) for r in records), records[:2]


@pytest.mark.parametrize(("text", "kind"), [
    ('Get "http://10.0.0.1:80/hostname": dial tcp 10.0.0.1:80: connect: connection refused', "refused"),
    ('Get "http://10.0.0.1:80/hostname": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
     "timeout"),
    ("lookup echo.ns on 10.100.0.10:53: read udp 10.0.1.5:40000->10.100.0.10:53: i/o timeout", "timeout"),
    ('Get "http://10.0.0.1:80/hostname": EOF', "reset"),
    ("lookup nothing-here on 10.100.0.10:53: no such host", "other"),
])
def test_netexec_error_texts_are_classified(text, kind):
    assert error_class(text) == kind


def test_probers_are_admitted_where_pod_security_restricted_is_enforced(plugin_cluster):
    from tests import clusters

    core = plugin_cluster.core
    with clusters.fresh_namespace(core, "psa") as ns:
        core.patch_namespace(ns, {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}})
        pods = deploy_probers(plugin_cluster, ns, SampleImages(), timeout=60, zones=["us-east-1a"])
        assert pods[0].ip
        # The control: the same pod without the restricted securityContext is refused there.
        from pytest_azchaos.traffic.in_cluster import prober_manifest

        bare = prober_manifest("bare", "us-east-1a", SampleImages())
        del bare["spec"]["securityContext"]
        del bare["spec"]["containers"][0]["securityContext"]
        with pytest.raises(client.ApiException) as refused:
            core.create_namespaced_pod(ns, bare)
        message = json.loads(refused.value.body)["message"]
        assert refused.value.status == 403 and 'violates PodSecurity "restricted:latest"' in message, message
