"""Cordoning a zone: every schedulable node of it, named for the run; new pods avoid it; bad zones refused."""

from __future__ import annotations

import pytest

from pytest_azchaos.chaos.cordon import cordon_zone
from pytest_azchaos.chaos.ledger import CORDONED_BY, Ledger
from pytest_azchaos.chaos.target import ChaosInputError
from pytest_azchaos.kube.cluster import Cluster

from .conftest import deploy, zone_node_names

ZONE = "us-east-1b"


def test_cordon_zone_cordons_every_node_of_the_zone(cluster: Cluster, ledger: Ledger) -> None:
    report = cordon_zone(cluster, ZONE, ledger)
    assert report.ok and report.cordoned == sorted(zone_node_names(cluster, ZONE))
    for name in report.cordoned:
        node = cluster.core.read_node(name)
        assert node.spec.unschedulable is True and node.metadata.annotations[CORDONED_BY] == ledger.run_id


def test_cordon_zone_leaves_other_zones_schedulable(cluster: Cluster, ledger: Ledger) -> None:
    cordon_zone(cluster, ZONE, ledger)
    others = [n for z, names in cluster.nodes_by_zone().items() if z != ZONE for n in names]
    assert not any(cluster.core.read_node(n).spec.unschedulable for n in others)


def test_cordon_timeline_has_one_event_per_node(cluster: Cluster, ledger: Ledger) -> None:
    report = cordon_zone(cluster, ZONE, ledger)
    for name in report.cordoned:
        [event] = report.timeline.of(f"node/{name}")
        assert event.what == "cordoned" and ledger.run_id in event.detail and event.at >= 0


def test_new_pods_avoid_a_cordoned_zone(cluster: Cluster, ledger: Ledger, ns: str) -> None:
    cordon_zone(cluster, ZONE, ledger)
    pods = deploy(cluster, ns, "after", 6)
    assert not {p.spec.node_name for p in pods} & set(zone_node_names(cluster, ZONE))


def test_node_cordoned_before_is_reported_and_not_recorded(cluster: Cluster, ledger: Ledger) -> None:
    before = zone_node_names(cluster, ZONE)[0]
    cluster.core.patch_node(before, {"spec": {"unschedulable": True}}, _content_type="application/merge-patch+json")
    try:
        report = cordon_zone(cluster, ZONE, ledger)
        assert report.already_cordoned == [before] and before not in report.cordoned
        assert f"node/{before}" not in [e.target for e in ledger.entries]
        assert CORDONED_BY not in (cluster.core.read_node(before).metadata.annotations or {})
        assert "already cordoned before the run (left alone)" in report.describe()
    finally:
        cluster.core.patch_node(before, {"spec": {"unschedulable": None}},
                                _content_type="application/merge-patch+json")


def test_unknown_zone_lists_the_zones_and_touches_nothing(cluster: Cluster, ledger: Ledger) -> None:
    with pytest.raises(ChaosInputError, match=r"unknown zone 'us-east-1z'.*us-east-1a, us-east-1b, us-east-1c"):
        cordon_zone(cluster, "us-east-1z", ledger)
    assert ledger.entries == []
    assert not any(n.spec.unschedulable for n in cluster.core.list_node().items)
