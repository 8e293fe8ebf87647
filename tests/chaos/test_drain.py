"""Draining a zone: cordon, then evict every evictable pod of the zone in parallel, retry PDB 429s until
the budget allows or the deadline passes, wait for the pods to be gone, and report a per-pod timeline."""

from __future__ import annotations

import re
import threading
import time

import pytest
from kubernetes import client

from pytest_azchaos.chaos.drain import DrainReport, drain_zone
from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.chaos.target import ChaosInputError
from pytest_azchaos.kube.cluster import Cluster

from .conftest import AGNHOST, deploy, wait_for, zone_node_names

ZONE = "us-east-1a"
PDB_CAUSE = "The disruption budget web needs 6 healthy pods and has 6 currently"


def in_zone(cluster: Cluster, pods: list[client.V1Pod]) -> list[str]:
    nodes = set(zone_node_names(cluster, ZONE))
    return sorted(f"{p.metadata.namespace}/{p.metadata.name}" for p in pods if p.spec.node_name in nodes)


def drained(report: DrainReport, ns: str) -> list[str]:
    return sorted(p.key for p in report.pods if p.namespace == ns)


def test_drain_evicts_every_pod_of_the_zone_and_waits_until_they_are_gone(cluster: Cluster, ledger: Ledger,
                                                                          ns: str) -> None:
    expected = in_zone(cluster, deploy(cluster, ns, "web", 12))
    report = drain_zone(cluster, ZONE, ledger, timeout=20)
    assert report.ok and not report.timed_out, report.describe()
    assert drained(report, ns) == expected and len(expected) == 4
    assert all(p.accepted is not None and p.gone is not None and p.gone >= p.accepted for p in report.pods)
    left = cluster.core.list_namespaced_pod(ns).items
    assert not set(in_zone(cluster, left)) & set(expected)


def test_drain_evicts_across_nodes_in_parallel(cluster: Cluster, ledger: Ledger, ns: str) -> None:
    deploy(cluster, ns, "web", 12)
    report = drain_zone(cluster, ZONE, ledger, timeout=20)
    mine = [p for p in report.pods if p.namespace == ns]
    assert len({p.node for p in mine}) == 2
    firsts = [p.first_attempt for p in mine if p.first_attempt is not None]
    assert len(firsts) == len(mine)
    # every eviction was asked for before the first pod was gone: nothing waited for another node
    assert max(firsts) - min(firsts) < 0.5 and max(firsts) < min(p.gone for p in mine if p.gone is not None)


def test_drain_cordons_the_zone_first(cluster: Cluster, ledger: Ledger, ns: str) -> None:
    deploy(cluster, ns, "web", 6)
    report = drain_zone(cluster, ZONE, ledger, timeout=20)
    assert report.cordon.cordoned == sorted(zone_node_names(cluster, ZONE))
    cordoned_at = max(e.at for n in report.nodes for e in report.timeline.of(f"node/{n}"))
    assert all(p.first_attempt is not None and p.first_attempt > cordoned_at for p in report.pods)


def test_daemonset_pods_are_skipped(cluster: Cluster, ledger: Ledger, ns: str) -> None:
    labels = {"app": "agent"}
    cluster.apps.create_namespaced_daemon_set(ns, client.V1DaemonSet(
        metadata=client.V1ObjectMeta(name="agent"),
        spec=client.V1DaemonSetSpec(
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="a", image=AGNHOST, args=["pause"])])))))
    nodes = set(zone_node_names(cluster, ZONE))
    agents = wait_for(lambda: [p for p in cluster.core.list_namespaced_pod(ns, label_selector="app=agent").items
                               if p.spec.node_name in nodes], lambda ps: len(ps) == 2, what="agent pods in zone")
    report = drain_zone(cluster, ZONE, ledger, timeout=20)
    for pod in agents:
        key = f"{ns}/{pod.metadata.name}"
        assert report.skipped[key].startswith("DaemonSet pod") and key not in [p.key for p in report.pods]
        assert cluster.core.read_namespaced_pod(pod.metadata.name, ns).metadata.deletion_timestamp is None


def test_pods_without_a_controller_are_skipped_unless_forced(cluster: Cluster, ledger: Ledger, ns: str) -> None:
    node = zone_node_names(cluster, ZONE)[0]
    cluster.core.create_namespaced_pod(ns, client.V1Pod(
        metadata=client.V1ObjectMeta(name="bare"),
        spec=client.V1PodSpec(node_name=node, containers=[client.V1Container(name="a", image=AGNHOST,
                                                                             args=["pause"])])))
    report = drain_zone(cluster, ZONE, ledger, timeout=10)
    assert "no controller" in report.skipped[f"{ns}/bare"]
    forced = drain_zone(cluster, ZONE, ledger, timeout=10, force=True)
    assert forced.pod(f"{ns}/bare").gone is not None


def test_pdb_refusals_are_retried_until_the_budget_allows(cluster: Cluster, ledger: Ledger, ns: str) -> None:
    expected = in_zone(cluster, deploy(cluster, ns, "web", 6, budget=0))
    raised_at: list[float] = []

    def raise_budget() -> None:
        time.sleep(2)
        raised_at.append(time.monotonic())
        client.PolicyV1Api(cluster.api).patch_namespaced_pod_disruption_budget(
            "web", ns, {"spec": {"maxUnavailable": 1}}, _content_type="application/merge-patch+json")

    helper = threading.Thread(target=raise_budget)
    helper.start()
    report = drain_zone(cluster, ZONE, ledger, timeout=25, retry_interval=0.5)
    helper.join()
    assert report.ok, report.describe()
    mine = [p for p in report.pods if p.namespace == ns]
    assert sorted(p.key for p in mine) == expected
    budget_raised = raised_at[0] - report.timeline.start
    for p in mine:
        assert p.refusals and p.refusals[0][1] == PDB_CAUSE
        assert all(re.fullmatch(r"The disruption budget web needs [56] healthy pods and has [56] currently", cause)
                   for _, cause in p.refusals)
        assert p.accepted is not None and p.accepted > budget_raised
        assert any(e.what == "eviction refused (429)" and e.detail == PDB_CAUSE for e in report.timeline.of(p.key))


def test_drain_timeout_reports_the_blocked_pods_with_the_budget(cluster: Cluster, ledger: Ledger, ns: str) -> None:
    expected = in_zone(cluster, deploy(cluster, ns, "web", 6, budget=0))
    report = drain_zone(cluster, ZONE, ledger, timeout=2, retry_interval=0.5)
    assert report.timed_out and not report.ok
    assert sorted(p.key for p in report.not_evicted if p.namespace == ns) == expected
    assert all(p.error == f"still refused at the deadline (2s): {PDB_CAUSE}" for p in report.not_evicted)
    assert report.wall_time < 4
    text = report.describe()
    assert "TIMED OUT after 2s" in text and "not evicted" in text and PDB_CAUSE in text


def test_progress_says_how_many_pods_are_evicted_and_what_blocks_the_rest(cluster: Cluster, ledger: Ledger,
                                                                          ns: str) -> None:
    deploy(cluster, ns, "web", 6, budget=0)
    details: list[str] = []

    class Collect:
        def update(self, what: str, elapsed: float, timeout: float, detail: str = "") -> None:
            details.append(f"{what}: {detail}")

        def done(self, what: str, elapsed: float, ok: bool) -> None:
            details.append(f"{what}: done ok={ok}")

    drain_zone(cluster, ZONE, ledger, timeout=1.5, retry_interval=0.5, progress=Collect())
    assert f"drain {ZONE}: 0/2 pods evicted, 2 blocked by PDB web (needs 6 healthy, has 6)" in details
    assert details[-1] == f"drain {ZONE}: done ok=False"


def test_other_eviction_errors_stop_with_the_api_answer(cluster: Cluster, ledger: Ledger, ns: str) -> None:
    deploy(cluster, ns, "web", 6, budget=1)
    policy = client.PolicyV1Api(cluster.api)
    policy.create_namespaced_pod_disruption_budget(ns, client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name="second"),
        spec=client.V1PodDisruptionBudgetSpec(max_unavailable=1,
                                              selector=client.V1LabelSelector(match_labels={"app": "web"}))))
    report = drain_zone(cluster, ZONE, ledger, timeout=15, retry_interval=0.5)
    assert not report.timed_out and not report.ok and report.wall_time < 5
    for p in report.not_evicted:
        assert not p.refusals
        assert p.error.startswith("500 ") and "more than one PodDisruptionBudget" in p.error


def test_unknown_zone_is_refused_before_anything_is_touched(cluster: Cluster, ledger: Ledger) -> None:
    with pytest.raises(ChaosInputError, match="unknown zone 'eu-west-1a'"):
        drain_zone(cluster, "eu-west-1a", ledger, timeout=5)
    assert ledger.entries == [] and not any(n.spec.unschedulable for n in cluster.core.list_node().items)
