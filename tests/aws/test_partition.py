"""The zone partition fault against the embedded cluster's AWS (moto) through boto3: the deny-all ACL swap, its
ledger record, the exact undo, the embedded cluster's reaction (nodes of the zone NotReady, back Ready), and
kill -9 mid-partition followed by `azchaos restore`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_azchaos.aws import AwsContext, AwsError, zone_partition
from pytest_azchaos.aws.partition import KIND, check_partition
from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.kube.topology import ZoneMap
from pytest_azchaos.timing import FAST
from pytest_azchaos.wellknown import RUN_ID_LABEL

from .. import clusters

ZONE = "us-east-1b"

RUN_SCRIPT = """
import sys, time
from pathlib import Path
from pytest_azchaos.aws import AwsContext, zone_partition
from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.chaos.lock import ClusterLock
from pytest_azchaos.kube.cluster import Cluster

cluster = Cluster(Path(sys.argv[1]))
ledger = Ledger(cluster, path=Path(sys.argv[3]))
ClusterLock(cluster, ledger.run_id, duration=5).acquire()
zone_partition(AwsContext.for_kubeconfig(sys.argv[1]), ledger, sys.argv[2], nodes=cluster.core.list_node().items,
               include_load_balancer=True)
print("partition in place", flush=True)
time.sleep(600)
"""


@pytest.fixture(scope="module")
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("partition")) as h:
        yield h


@pytest.fixture(scope="module")
def cluster(handle: ClusterHandle) -> Iterator[Cluster]:
    with clusters.plugin_cluster(handle) as c:
        yield c


@pytest.fixture(scope="module")
def aws(handle: ClusterHandle) -> AwsContext:
    return AwsContext.for_kubeconfig(handle.kubeconfig, state_timeout=60, poll_interval=0.5)


def associations(aws: AwsContext) -> dict[str, str]:
    """Subnet -> network ACL id, for every subnet of every ACL (DescribeNetworkAcls)."""
    return {a["SubnetId"]: acl["NetworkAclId"] for acl in aws.ec2.describe_network_acls()["NetworkAcls"]
            for a in acl.get("Associations") or []}


def acl_ids(aws: AwsContext) -> set[str]:
    return {a["NetworkAclId"] for a in aws.ec2.describe_network_acls()["NetworkAcls"]}


def zone_ready(cluster: Cluster, zone: str) -> dict[str, bool]:
    return {n.name: n.ready for n in ZoneMap.read(cluster.core).nodes_in(zone)}


def wait_zone(cluster: Cluster, zone: str, ready: bool, timeout: float) -> dict[str, bool]:
    deadline = time.monotonic() + timeout
    seen = zone_ready(cluster, zone)
    while time.monotonic() < deadline:
        seen = zone_ready(cluster, zone)
        if seen and all(v == ready for v in seen.values()):
            return seen
        time.sleep(0.3)
    return seen


def test_partition_swaps_a_tagged_deny_all_acl_onto_the_zone_node_subnets_recorded_first(
        aws: AwsContext, cluster: Cluster, tmp_path: Path) -> None:
    before, acls_before = associations(aws), acl_ids(aws)
    ledger = Ledger(cluster, path=tmp_path / "ledger.json")
    partition = zone_partition(aws, ledger, ZONE, nodes=cluster.core.list_node().items)
    try:
        after = associations(aws)
        node_subnets = partition.plan.node_subnets
        assert node_subnets and all(after[s] == partition.acl_id for s in node_subnets), after
        assert {s: a for s, a in after.items() if s not in node_subnets} == \
            {s: a for s, a in before.items() if s not in node_subnets}
        acl = aws.ec2.describe_network_acls(NetworkAclIds=[partition.acl_id])["NetworkAcls"][0]
        assert {t["Key"]: t["Value"] for t in acl["Tags"]}[RUN_ID_LABEL] == ledger.run_id
        assert not [e for e in acl["Entries"] if e["RuleAction"] == "allow"], acl["Entries"]
        entry = ledger.pending()[0]
        assert entry.kind == KIND and entry.undo["subnets"] == {s: before[s] for s in node_subnets}
    finally:
        result = partition.undo()
    assert result.ok, result
    assert associations(aws) == before
    assert acl_ids(aws) == acls_before
    assert not ledger.pending()


class _SlowLedger(Ledger):
    """A ledger whose record takes as long as a write to an API server under load can."""

    recorded_at = 0.0

    def record(self, *args, **kw):  # type: ignore[no-untyped-def]
        entry = super().record(*args, **kw)
        time.sleep(0.5)
        self.recorded_at = time.monotonic()
        return entry


def test_the_cut_is_timed_after_the_ledger_record_not_when_the_partition_was_asked_for(
        aws: AwsContext, cluster: Cluster, tmp_path: Path) -> None:
    """A detection window counted from the ask would lose the time of the checks and the ledger (failed CI once)."""
    ledger = _SlowLedger(cluster, path=tmp_path / "ledger.json")
    asked = time.monotonic()
    partition = zone_partition(aws, ledger, ZONE, nodes=cluster.core.list_node().items)
    try:
        assert partition.cut_at >= ledger.recorded_at >= asked + 0.5
        assert partition.cut_at <= time.monotonic()
    finally:
        assert partition.undo().ok


def test_partitioned_zone_nodes_go_not_ready_and_return_ready_after_the_undo(
        aws: AwsContext, cluster: Cluster, tmp_path: Path) -> None:
    others = [z for z in ZoneMap.read(cluster.core).zones() if z != ZONE]
    ledger = Ledger(cluster, path=tmp_path / "ledger.json")
    partition = zone_partition(aws, ledger, ZONE, nodes=cluster.core.list_node().items)
    try:
        budget = FAST.heartbeat_loss_detection() + FAST.cloud_poll_interval + 5
        seen = wait_zone(cluster, ZONE, False, budget)
        assert seen and not any(seen.values()), f"nodes of {ZONE} still Ready after {budget:g}s: {seen}"
        assert all(all(zone_ready(cluster, z).values()) for z in others), {z: zone_ready(cluster, z) for z in others}
    finally:
        assert partition.undo().ok
    seen = wait_zone(cluster, ZONE, True, 30)
    assert seen and all(seen.values()), f"nodes of {ZONE} not Ready 30s after the undo: {seen}"


def test_include_load_balancer_adds_the_load_balancers_subnet_in_the_zone(
        aws: AwsContext, cluster: Cluster, handle: ClusterHandle) -> None:
    from kubernetes import client

    with clusters.fresh_namespace(cluster.core, "partition") as ns:
        cluster.core.create_namespaced_service(ns, client.V1Service(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1ServiceSpec(type="LoadBalancer", selector={"app": "web"},
                                      ports=[client.V1ServicePort(port=8080, target_port=8080)])))
        deadline = time.monotonic() + 30
        plan = check_partition(aws, ZONE, nodes=cluster.core.list_node().items, include_load_balancer=True)
        while not plan.lb_subnets and time.monotonic() < deadline:
            time.sleep(0.5)
            plan = check_partition(aws, ZONE, nodes=cluster.core.list_node().items, include_load_balancer=True)
        without = check_partition(aws, ZONE, nodes=cluster.core.list_node().items)
    assert plan.lb_subnets and not set(plan.lb_subnets) & set(plan.node_subnets), plan
    assert without.lb_subnets == [] and without.node_subnets == plan.node_subnets


def test_partition_of_a_zone_without_instances_changes_nothing(aws: AwsContext, cluster: Cluster) -> None:
    before = associations(aws)
    with pytest.raises(AwsError, match=r"no instances in zone us-east-1q.*nothing was changed"):
        check_partition(aws, "us-east-1q", nodes=cluster.core.list_node().items)
    assert associations(aws) == before


def test_restore_after_kill_9_mid_partition_puts_every_subnet_back_and_deletes_our_acl(
        handle: ClusterHandle, aws: AwsContext, cluster: Cluster, tmp_path: Path) -> None:
    before, acls_before = associations(aws), acl_ids(aws)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    run = subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, str(handle.kubeconfig), ZONE,
                            str(tmp_path / "ledger.json")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, env=env)
    try:
        line = run.stdout.readline() if run.stdout else ""
        assert "partition in place" in line, line + (run.stdout.read() if run.stdout else "")
        assert associations(aws) != before
        seen = wait_zone(cluster, ZONE, False, FAST.heartbeat_loss_detection() + 6)
        assert seen and not any(seen.values()), seen
    finally:
        clusters.kill_9(run)
    result = clusters.restore_after_kill(handle.kubeconfig, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert KIND in result.stdout and "ok" in result.stdout, result.stdout
    assert associations(aws) == before, "every subnet back on its original network ACL"
    assert acl_ids(aws) == acls_before, "our ACL deleted"
    seen = wait_zone(cluster, ZONE, True, 30)
    assert seen and all(seen.values()), f"nodes of {ZONE} not Ready after restore: {seen}"


def _answers(address: str, port: int, timeout: float = 1.0) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{address}:{port}/hostname", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def test_include_load_balancer_cuts_the_zones_load_balancer_address_off_until_the_undo(
        aws: AwsContext, cluster: Cluster, tmp_path: Path) -> None:
    from kubernetes import client

    with clusters.fresh_namespace(cluster.core, "partition-lb") as ns:
        labels = {"app": "web"}
        cluster.apps.create_namespaced_deployment(ns, client.V1Deployment(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1DeploymentSpec(replicas=3, selector=client.V1LabelSelector(match_labels=labels),
                                         template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(
                    name="web", image="registry.k8s.io/e2e-test-images/agnhost:2.52",
                    args=["netexec", "--http-port=8080"])])))))
        cluster.core.create_namespaced_service(ns, client.V1Service(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1ServiceSpec(type="LoadBalancer", selector=labels,
                                      ports=[client.V1ServicePort(port=18080, target_port=8080)])))
        deadline = time.monotonic() + 60
        addresses: list[str] = []
        while time.monotonic() < deadline:
            lb = cluster.core.read_namespaced_service("web", ns).status.load_balancer
            addresses = [i.ip for i in (lb.ingress or [])] if lb else []
            if addresses and all(_answers(a, 18080) for a in addresses):
                break
            time.sleep(0.5)
        assert addresses and all(_answers(a, 18080) for a in addresses), addresses
        zones = ZoneMap.read(cluster.core).zones()
        by_zone = dict(zip(sorted(zones), addresses, strict=True))  # the embedded NLB: one address per zone, in order
        partition = zone_partition(aws, Ledger(cluster, path=tmp_path / "ledger.json"), ZONE,
                                   nodes=cluster.core.list_node().items, include_load_balancer=True)
        try:
            assert partition.plan.lb_subnets, partition.describe()
            # Past the detection window a zone whose nodes alone are cut off answers again through the other
            # zones' targets; a cut-off load-balancer subnet never does.
            time.sleep(FAST.partition_detection_window(False) + 1)
            assert not _answers(by_zone[ZONE], 18080), f"{ZONE}'s load-balancer address still answers"
            assert all(_answers(a, 18080) for z, a in by_zone.items() if z != ZONE), by_zone
        finally:
            assert partition.undo().ok
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not _answers(by_zone[ZONE], 18080):
            time.sleep(0.5)
        assert _answers(by_zone[ZONE], 18080), f"{ZONE}'s load-balancer address not back after the undo"


PLUGIN_RUN = """
import time

import pytest


@pytest.mark.azchaos_destructive
def test_partition_long(azchaos_chaos, azchaos_zone):
    azchaos_chaos.zone_partition(azchaos_zone, include_load_balancer=True)
    print("partition in place", flush=True)
    time.sleep(600)
"""


def test_a_plugin_run_killed_mid_partition_is_undone_by_azchaos_restore(
        handle: ClusterHandle, aws: AwsContext, cluster: Cluster, tmp_path: Path) -> None:
    """kill -9 of a pytest run holding a partition (lock, ledger in the cluster and under the report dir), then
    `azchaos restore` from the run's directory: subnets on their original ACLs, ours deleted, nodes Ready,
    the lock free for the next run."""
    from pytest_azchaos.chaos.lock import read_lock

    before, acls_before = associations(aws), acl_ids(aws)
    (tmp_path / "test_plugin_run.py").write_text(PLUGIN_RUN)
    log = tmp_path / "run.log"
    with log.open("w") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "test_plugin_run.py",
             "--azchaos-kubeconfig", str(handle.kubeconfig), "--azchaos-allow-context", ".*",
             "--azchaos-zone", ZONE, "--azchaos-report-dir", str(tmp_path / "report")],
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while "partition in place" not in log.read_text():
            assert run.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert associations(aws) != before
        seen = wait_zone(cluster, ZONE, False, FAST.heartbeat_loss_detection() + 6)
        assert seen and not any(seen.values()), seen
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    result = subprocess.run([sys.executable, "-m", "pytest_azchaos.cli", "restore", "--kubeconfig",
                             str(handle.kubeconfig)], cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert KIND in result.stdout, result.stdout
    assert associations(aws) == before, "every subnet back on its original network ACL"
    assert acl_ids(aws) == acls_before, "our ACL deleted"
    assert read_lock(cluster).holder is None, result.stdout
    seen = wait_zone(cluster, ZONE, True, 30)
    assert seen and all(seen.values()), f"nodes of {ZONE} not Ready after restore: {seen}"
