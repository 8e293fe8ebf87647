"""The plugin side of the load-balancer flavours on an embedded cluster started with ``lb_controller="lbc"``: the
flavour detected from the LBC's webhook, the sample app deployed as lbc-ip (readiness gates, class, scheme, target
type), traffic through the NLB's DNS name via the declared resolver, AZ-SRCIP and AZ-LBCONF on the real target
groups, and the negative controls (no client-IP preservation; an internal NLB from outside the VPC)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_azchaos.apps import EchoSpec
from pytest_azchaos.apps.app import App, AppError
from pytest_azchaos.apps.deploy import deploy_echo
from pytest_azchaos.aws import AwsContext
from pytest_azchaos.checks.lb_config import lb_config_of_app
from pytest_azchaos.checks.source_ip import source_ip_for_targets
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.kube.topology import ZoneMap
from pytest_azchaos.lb.detect import choose, detect
from pytest_azchaos.lb.flavours import LBC_CLASS, READINESS_GATE_LABEL, READINESS_GATE_PREFIX, LbFlavour
from pytest_azchaos.lb.service import target_facts
from pytest_azchaos.timing import FAST
from pytest_azchaos.traffic.generator import Traffic
from pytest_azchaos.traffic.prober import Prober

from ..clusters import fresh_namespace, own_cluster, plugin_cluster
from ..embedded.waiting import wait_for


@pytest.fixture(scope="module")
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with own_cluster(tmp_path_factory.mktemp("lbc-plugin"), lb_controller="lbc") as h:
        yield h


@pytest.fixture(scope="module")
def cluster(handle: ClusterHandle) -> Iterator[Cluster]:
    with plugin_cluster(handle) as c:
        wait_for(lambda: c.apps.read_namespaced_deployment("aws-load-balancer-controller", "kube-system"),
                 lambda d: (d.status.ready_replicas or 0) == 2, timeout=30, what="both LBC replicas ready")
        wait_for(lambda: c.core.read_namespaced_endpoints("aws-load-balancer-webhook-service", "kube-system"),
                 lambda e: bool(e.subsets), timeout=30, what="the webhook Service's endpoints")
        yield c


@pytest.fixture
def ns(cluster: Cluster) -> Iterator[str]:
    with fresh_namespace(cluster.core, "lbplug") as name:
        yield name


def _deploy(cluster: Cluster, ns: str, **spec: Any) -> App:
    return deploy_echo(cluster, ns, EchoSpec(replicas=3, **spec), FAST)


def _traffic(app: App, seconds: float = 2.0) -> Any:
    probe = Traffic(50, None, FAST.lb_ready_timeout).probe_target(app)  # type: ignore[arg-type]
    prober = Prober(probe, rate=50, timeout=1.0).start()
    time.sleep(seconds)
    return prober.stop()


def test_lbc_webhook_is_detected_and_auto_chooses_lbc(cluster: Cluster) -> None:
    found = detect(cluster)
    assert found.controller == "lbc" and found.stamped_class == LBC_CLASS and found.failure_policy == "Fail", found
    assert found.lbc_ready == "2/2"
    assert choose("auto", "internet-facing", found) == LbFlavour("lbc-instance", "internet-facing")


def test_lbc_ip_sample_app_gets_gates_a_hostname_and_keeps_the_client_address(cluster: Cluster, ns: str) -> None:
    app = _deploy(cluster, ns, lb=LbFlavour("lbc-ip", "internet-facing"), traffic_policy="Cluster")
    svc = cluster.core.read_namespaced_service(app.service, ns)
    assert svc.spec.load_balancer_class == LBC_CLASS
    assert (cluster.core.read_namespace(ns).metadata.labels or {}).get(READINESS_GATE_LABEL) == "enabled"
    for pod in app.pods():
        assert any(g.condition_type.startswith(READINESS_GATE_PREFIX) for g in pod.spec.readiness_gates or []), \
            f"{pod.metadata.name} has no LBC readiness gate"
    assert app.addresses and all(a.endswith(".amazonaws.com") for a in app.addresses), app.addresses
    recording = _traffic(app)
    records = recording.snapshot()
    assert records and all(r.ok for r in records), [r.detail for r in records if not r.ok][:3]
    assert all(r.lb_address and r.lb_address != r.target.rsplit(":", 1)[0] for r in records)  # resolved, not the name
    facts = target_facts(cluster, ns, app.service)
    assert (facts.target_type, facts.preserve_client_ip) == ("ip", True), facts
    nodes = {n.address: n.name for n in ZoneMap.read(cluster.core).nodes if n.address}
    result = source_ip_for_targets(recording, nodes, "Cluster", facts)
    assert result.passed, result.message()
    lbconf = lb_config_of_app(app, AwsContext.for_kubeconfig(cluster.kubeconfig), FAST)
    assert lbconf.passed, lbconf.message()
    assert lbconf.figures["target_type"] == "ip" and "ip targets: after deregistration" in lbconf.message()


def test_negative_control_ip_targets_without_preservation_fail_az_srcip(cluster: Cluster, ns: str) -> None:
    app = _deploy(cluster, ns, lb=LbFlavour("lbc-ip", "internet-facing"), preserve_client_ip=False,
                  traffic_policy="Local")
    recording = _traffic(app, 1.5)
    facts = target_facts(cluster, ns, app.service)
    nodes = {n.address: n.name for n in ZoneMap.read(cluster.core).nodes if n.address}
    result = source_ip_for_targets(recording, nodes, "Local", facts)
    assert not result.passed
    assert "preserve_client_ip.enabled" in result.message() and "AWS target group" in result.message()
    seen = {r.client_ip for r in recording.snapshot() if r.ok}
    assert seen and not seen & {r.local_ip for r in recording.snapshot()}, seen  # the pods saw the NLB, not us


def test_negative_control_internal_nlb_from_outside_the_vpc_stops_before_any_fault(cluster: Cluster, ns: str) -> None:
    with pytest.raises(AppError) as refused:
        _deploy(cluster, ns, lb=LbFlavour("lbc-instance", "internal"))
    text = str(refused.value)
    assert "is internal (service.beta.kubernetes.io/aws-load-balancer-scheme: internal" in text
    assert "every connection from this runner timed out" in text and "in-cluster CronJob runner" in text


def test_legacy_is_refused_under_the_lbc_webhook_before_anything_is_created(cluster: Cluster) -> None:
    from pytest_azchaos.lb.detect import LbChoiceError

    with pytest.raises(LbChoiceError, match="--azchaos-lb legacy cannot work here"):
        choose("legacy", "internet-facing", detect(cluster))


def test_negative_control_ip_targets_with_a_short_prestop_fail_az_lbconf_naming_the_prestop(cluster: Cluster,
                                                                                            ns: str) -> None:
    app = _deploy(cluster, ns, lb=LbFlavour("lbc-ip", "internet-facing"), prestop_sleep=0, delay_shutdown=0)
    result = lb_config_of_app(app, AwsContext.for_kubeconfig(cluster.kubeconfig), FAST)
    assert not result.passed
    text = result.message()
    assert "AZ-LBCONF FAILED: the app stops serving 0s after termination starts" in text
    assert "(122s in AWS's seconds)" in text and "set the preStop sleep to at least" in text
    assert "ip targets: after deregistration the NLB keeps sending new connections" in text
