"""--azchaos-dry-run against a cluster: names the zone, its nodes, the pods a drain would evict (per
namespace, with the budgets that gate them), the instances and groups an outage would touch; changes nothing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from pytest_azchaos.chaos.dry_run import plan_zone_loss
from pytest_azchaos.chaos.lock import read_lock
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.kube.cluster import Cluster

from .conftest import echo_deployment

ZONE = "us-east-1b"


@pytest.fixture(scope="module")
def workload(cluster: Cluster) -> Iterator[str]:
    """Six pods over the zones, gated by a PDB, in a namespace of their own."""
    ns = "dry-run-app"
    cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    cluster.apps.create_namespaced_deployment(ns, echo_deployment("web", 6))
    client.PolicyV1Api(cluster.api).create_namespaced_pod_disruption_budget(ns, client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name="web-pdb"),
        spec=client.V1PodDisruptionBudgetSpec(max_unavailable=1, selector=client.V1LabelSelector(
            match_labels={"app": "web"}))))
    yield ns
    cluster.core.delete_namespace(ns)


def _state(cluster: Cluster) -> list[tuple[str, bool]]:
    return sorted((n.metadata.name, bool(n.spec.unschedulable)) for n in cluster.core.list_node().items)


def _wait_all_scheduled(cluster: Cluster, ns: str) -> list[client.V1Pod]:
    from pytest_azchaos.kube.wait import wait_until

    result = wait_until(lambda: cluster.core.list_namespaced_pod(ns).items,
                        lambda pods: len(pods) == 6 and all(p.spec.node_name for p in pods), timeout=30,
                        what="six scheduled pods")
    assert result.ok, result.describe()
    return result.last or []


def test_plan_lists_nodes_pods_budgets_instances_and_groups(cluster: Cluster, workload: str) -> None:
    from pytest_azchaos.aws import AwsContext

    pods = _wait_all_scheduled(cluster, workload)
    zone_nodes = cluster.nodes_by_zone()[ZONE]
    in_zone = sorted(p.metadata.name for p in pods if p.spec.node_name in zone_nodes)
    before = _state(cluster)
    text = plan_zone_loss(cluster, ZONE, aws=AwsContext.for_kubeconfig(cluster.kubeconfig)).describe()
    assert f"zone {ZONE} (of us-east-1a, us-east-1b, us-east-1c): {len(zone_nodes)} node(s)" in text
    assert all(n in text for n in zone_nodes)
    assert f"  {workload}: {', '.join(in_zone)}" in text
    assert f"{workload}/web-pdb (disruptionsAllowed=1) gates {len(in_zone)} of them" in text
    assert "an outage would stop instance(s): i-" in text and "group" in text
    assert "a partition would swap a deny-all network ACL onto subnet(s): subnet-" in text and "(now on acl-" in text
    assert _state(cluster) == before


def test_dry_run_of_a_suite_names_what_it_would_touch_and_touches_nothing(
        tmp_path: Path, own_cluster: ClusterHandle, cluster: Cluster, workload: str) -> None:
    _wait_all_scheduled(cluster, workload)
    (tmp_path / "test_suite.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.azchaos_destructive\n"
        "def test_drain(azchaos_chaos, azchaos_zone):\n"
        "    raise AssertionError('must not run under dry run')\n")
    before = _state(cluster)
    lock_before = read_lock(cluster)
    # A subprocess, not pytester: pytester restores sys.modules afterwards, which leaves this process with two
    # copies of the client's lazily imported models (and pydantic then refuses one as the other).
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--azchaos-dry-run", "-rs",
                          "--azchaos-kubeconfig", str(own_cluster.kubeconfig), "--azchaos-zone", ZONE,
                          "test_suite.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    out = run.stdout
    assert run.returncode == 0 and "1 skipped" in out, out + run.stderr
    for node in cluster.nodes_by_zone()[ZONE]:
        assert node in out
    assert f"{workload}/web-pdb" in out and "would be evicted" in out
    assert "context 'azchaos-embedded' is not allowed" not in out  # the embedded context is allowed by default
    assert _state(cluster) == before and read_lock(cluster) == lock_before
    assert not (tmp_path / "azchaos-report" / "ledgers").exists()
