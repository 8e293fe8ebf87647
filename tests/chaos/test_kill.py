"""Killing pods: all, a count, a fraction, or those in a zone; grace 0; recorded in the ledger."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from kubernetes import client

from pytest_azchaos.chaos.kill import kill_pods
from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.chaos.target import ChaosInputError
from pytest_azchaos.kube.cluster import Cluster

from .conftest import deploy, zone_node_names


@pytest.fixture
def pods(cluster: Cluster, ns: str) -> list[client.V1Pod]:
    return deploy(cluster, ns, "web", 6)


def alive(cluster: Cluster, ns: str) -> set[str]:
    return {p.metadata.name for p in cluster.core.list_namespaced_pod(ns, label_selector="app=web").items
            if p.metadata.deletion_timestamp is None}


def test_kill_without_count_kills_every_matching_pod(cluster: Cluster, ns: str, pods: list, ledger: Ledger) -> None:
    report = kill_pods(cluster, ns, "app=web", ledger=ledger)
    assert report.ok and sorted(report.names) == sorted(p.metadata.name for p in pods)
    assert not alive(cluster, ns) & set(report.names)


def test_grace_zero_pods_are_gone_at_once(cluster: Cluster, ns: str, pods: list, ledger: Ledger) -> None:
    report = kill_pods(cluster, ns, "app=web", count=1, ledger=ledger, rng=random.Random(1))
    with pytest.raises(client.ApiException) as e:
        cluster.core.read_namespaced_pod(report.names[0], ns)
    assert e.value.status == 404


def test_kill_count_picks_the_same_pods_for_the_same_seed(cluster: Cluster, ns: str, pods: list,
                                                          tmp_path: Path) -> None:
    names = sorted(p.metadata.name for p in pods)
    expected = sorted(random.Random(7).sample(names, 2))
    report = kill_pods(cluster, ns, "app=web", count=2, ledger=Ledger(cluster, path=tmp_path / "l.json"),
                       rng=random.Random(7))
    assert sorted(report.names) == expected


def test_kill_fraction_rounds_up(cluster: Cluster, ns: str, pods: list, ledger: Ledger) -> None:
    report = kill_pods(cluster, ns, "app=web", fraction=0.4, ledger=ledger, rng=random.Random(3))
    assert len(report.names) == 3  # ceil(0.4 * 6)


def test_kill_in_a_zone_kills_only_pods_there(cluster: Cluster, ns: str, pods: list, ledger: Ledger) -> None:
    zone_nodes = set(zone_node_names(cluster, "us-east-1c"))
    expected = sorted(p.metadata.name for p in pods if p.spec.node_name in zone_nodes)
    assert expected, "the spread put no pod in us-east-1c"
    report = kill_pods(cluster, ns, "app=web", zone="us-east-1c", ledger=ledger)
    assert sorted(report.names) == expected and {k.zone for k in report.killed} == {"us-east-1c"}


def test_kill_is_recorded_in_the_run_object(cluster: Cluster, ns: str, pods: list, ledger: Ledger) -> None:
    report = kill_pods(cluster, ns, "app=web", count=2, ledger=ledger, rng=random.Random(0))
    doc = json.loads(Path(ledger.path).read_text())
    [entry] = [e for e in doc["entries"] if e["id"] == report.entry_id]
    assert entry["kind"] == "pods.kill" and entry["state"] == "done"
    assert sorted(p["name"] for p in entry["undo"]["pods"]) == sorted(report.names)
    assert ledger.replay() == []


def test_count_larger_than_the_matches_is_refused_and_nothing_is_deleted(cluster: Cluster, ns: str, pods: list,
                                                                         ledger: Ledger) -> None:
    with pytest.raises(ChaosInputError, match="asked to kill 7 pod"):
        kill_pods(cluster, ns, "app=web", count=7, ledger=ledger)
    assert alive(cluster, ns) == {p.metadata.name for p in pods} and ledger.entries == []


def test_count_and_fraction_together_are_refused(cluster: Cluster, ns: str, ledger: Ledger) -> None:
    with pytest.raises(ChaosInputError, match="count or fraction, not both"):
        kill_pods(cluster, ns, "app=web", count=1, fraction=0.5, ledger=ledger)
