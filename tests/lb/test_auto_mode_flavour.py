"""The plugin side on an embedded cluster started with ``lb_controller="auto-mode"``: Auto Mode detected from its
nodes, the sample app asks for class eks.amazonaws.com/nlb with scheme and target type stated, serves through the
NLB's DNS name, and AZ-SRCIP / AZ-LBCONF judge its real target group."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from pytest_azchaos.apps import EchoSpec
from pytest_azchaos.apps.deploy import deploy_echo
from pytest_azchaos.aws import AwsContext
from pytest_azchaos.checks.lb_config import lb_config_of_app
from pytest_azchaos.checks.source_ip import source_ip_for_targets
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.kube.topology import ZoneMap
from pytest_azchaos.lb.detect import LbChoiceError, choose, detect
from pytest_azchaos.lb.flavours import AUTO_MODE_CLASS, SCHEME_ANNOTATION, TARGET_TYPE_ANNOTATION
from pytest_azchaos.lb.service import target_facts
from pytest_azchaos.timing import FAST
from pytest_azchaos.traffic.generator import Traffic
from pytest_azchaos.traffic.prober import Prober

from ..clusters import fresh_namespace, own_cluster, plugin_cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    handle: ClusterHandle
    with own_cluster(tmp_path_factory.mktemp("auto-mode-plugin"), lb_controller="auto-mode") as handle, \
            plugin_cluster(handle) as c:
        yield c


def test_auto_mode_is_detected_and_legacy_refused(cluster: Cluster) -> None:
    found = detect(cluster)
    assert found.controller == "auto-mode" and found.stamped_class == AUTO_MODE_CLASS, found
    assert choose("auto", "internet-facing", found).flavour == "auto-mode"
    with pytest.raises(LbChoiceError, match="use --azchaos-lb auto-mode"):
        choose("legacy", "internet-facing", found)


def test_auto_mode_sample_app_serves_and_passes_srcip_and_lbconf(cluster: Cluster) -> None:
    with fresh_namespace(cluster.core, "automode") as ns:
        flavour = choose("auto", "internet-facing", detect(cluster))
        app = deploy_echo(cluster, ns, EchoSpec(replicas=3, lb=flavour, traffic_policy="Local"), FAST)
        svc = cluster.core.read_namespaced_service(app.service, ns)
        ann = svc.metadata.annotations or {}
        assert svc.spec.load_balancer_class == AUTO_MODE_CLASS
        assert (ann[SCHEME_ANNOTATION], ann[TARGET_TYPE_ANNOTATION]) == ("internet-facing", "instance")
        prober = Prober(Traffic(50, None, FAST.lb_ready_timeout).probe_target(app),  # type: ignore[arg-type]
                        rate=50, timeout=1.0).start()
        time.sleep(1.5)
        recording = prober.stop()
        records = recording.snapshot()
        assert records and all(r.ok for r in records), [r.detail for r in records if not r.ok][:3]
        nodes = {n.address: n.name for n in ZoneMap.read(cluster.core).nodes if n.address}
        srcip = source_ip_for_targets(recording, nodes, "Local", target_facts(cluster, ns, app.service))
        assert srcip.passed, srcip.message()
        lbconf = lb_config_of_app(app, AwsContext.for_kubeconfig(cluster.kubeconfig), FAST)
        assert lbconf.passed, lbconf.message()
