"""AZ-SRCIP over constructed recordings: Local keeps the client address, Cluster SNATs to a node."""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from pytest_azchaos.checks.source_ip import source_ip_preserved, source_ip_snat
from pytest_azchaos.kube.topology import ZoneMap
from pytest_azchaos.traffic import Prober, ProbeTarget

from ..embedded.waiting import wait_for
from .conftest import echo_deployment, wait_ready
from .records import failed, recording

NODES = {"127.172.1.1": "ip-127-172-1-1", "127.172.1.2": "ip-127-172-1-2"}


def preserved(seq: int, due: float) -> dict[str, object]:
    ip = f"127.0.1.{seq % 4 + 1}"
    return {"client_ip": ip, "local_ip": ip}


def snat(seq: int, due: float) -> dict[str, object]:
    return {"client_ip": "127.172.1.1" if seq % 2 else "127.172.1.2", "local_ip": "127.0.1.1"}


def test_local_policy_recording_is_preserved() -> None:
    result = source_ip_preserved(recording(20, shape=preserved), NODES)
    assert result.passed, result.message()
    assert "addresses seen: 127.0.1.1 x5" in result.evidence[0]


def test_snat_recording_fails_preserved_naming_the_nodes_seen() -> None:
    result = source_ip_preserved(recording(20, shape=snat), NODES)
    assert not result.passed
    msg = result.message()
    assert "20 of 20 successful requests did not see the client's address (20 saw a node address: SNAT" in msg
    assert "offending request #0 t=0.000s pod=echo-0 saw 127.172.1.2 (node ip-127-172-1-2); sent from 127.0.1.1" in msg
    assert "... and 10 more" in msg
    assert result.figures["seen_node_addresses"] == ["127.172.1.1", "127.172.1.2"]


def test_a_single_rewritten_request_fails_preserved() -> None:
    def one_off(seq: int, due: float) -> dict[str, object]:
        return {"client_ip": "127.0.9.9", "local_ip": "127.0.1.1"} if seq == 7 else preserved(seq, due)

    result = source_ip_preserved(recording(20, shape=one_off), NODES.keys())
    assert not result.passed
    assert "offending request #7 t=0.700s pod=echo-1 saw 127.0.9.9; sent from 127.0.1.1" in result.message()


def test_expected_client_addresses_can_be_given_explicitly() -> None:
    rec = recording(10, shape=lambda s, d: {"client_ip": "198.51.100.7", "local_ip": "10.0.0.5"})  # behind a NAT
    assert source_ip_preserved(rec, NODES, client_addresses=["198.51.100.7"]).passed
    result = source_ip_preserved(rec, NODES, client_addresses=["203.0.113.1"])
    assert not result.passed
    assert "client addresses expected: 203.0.113.1" in result.message()


def test_failed_requests_are_not_judged() -> None:
    rec = recording(10, shape=lambda s, d: failed() if s % 2 else preserved(s, d))
    result = source_ip_preserved(rec, NODES)
    assert result.passed
    assert result.figures["requests"] == 5


def test_no_successful_requests_fails_rather_than_passing_vacuously() -> None:
    result = source_ip_preserved(recording(5, shape=lambda s, d: failed()), NODES)
    assert not result.passed
    assert result.summary == "no successful requests to judge the client address by"


def test_cluster_policy_recording_passes_snat() -> None:
    result = source_ip_snat(recording(20, shape=snat), NODES)
    assert result.passed, result.message()


def test_preserved_recording_fails_snat() -> None:
    result = source_ip_snat(recording(20, shape=preserved), NODES)
    assert not result.passed
    msg = result.message()
    assert "20 of 20 successful requests saw a non-node address: no SNAT" in msg
    assert "node addresses: 127.172.1.1, 127.172.1.2" in msg
    assert "offending request #1 t=0.100s pod=echo-1 saw 127.0.1.2; sent from 127.0.1.2" in msg


@pytest.mark.parametrize("policy", ["Local", "Cluster"])
def test_real_traffic_tells_the_policies_apart(core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str,
                                               policy: str) -> None:
    """Through the embedded NLB: Local passes preserved and fails SNAT, Cluster the other way round."""
    apps.create_namespaced_deployment(namespace, echo_deployment("src", 3))
    wait_ready(core, namespace, "src", 3)
    core.create_namespaced_service(namespace, client.V1Service(
        metadata=client.V1ObjectMeta(name="src"),
        spec=client.V1ServiceSpec(type="LoadBalancer", selector={"app": "src"}, external_traffic_policy=policy,
                                  ports=[client.V1ServicePort(port=8080, target_port=8080)])))
    svc = wait_for(lambda: core.read_namespaced_service("src", namespace),
                   lambda s: bool(s.status.load_balancer and s.status.load_balancer.ingress), what="LB ingress")
    time.sleep(1.5)  # targets pass their healthy threshold
    prober = Prober(ProbeTarget([i.ip or i.hostname for i in svc.status.load_balancer.ingress], 8080),
                    rate=50).start()
    time.sleep(1.5)
    rec = prober.stop()
    nodes = {n.address: n.name for n in ZoneMap.read(core).nodes if n.address}
    preserved, snat = source_ip_preserved(rec, nodes), source_ip_snat(rec, nodes)
    if policy == "Local":
        assert preserved.passed, preserved.message()
        assert not snat.passed
        assert "no SNAT (as under externalTrafficPolicy: Local)" in snat.summary
    else:
        assert snat.passed, snat.message()
        assert not preserved.passed
        assert "saw a node address: SNAT, as under externalTrafficPolicy: Cluster" in preserved.summary
        assert "(node ip-127-" in preserved.message()
