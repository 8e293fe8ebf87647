"""The oracle over literal cluster states: one behaviour per test, each named for what Kubernetes does."""

from __future__ import annotations

import pytest

from pytest_azchaos.oracle import Fault, predict
from pytest_azchaos.oracle.filters import fit_error
from pytest_azchaos.oracle.lifecycle import compute_zone_state
from pytest_azchaos.timing import Profile

from .builders import anti_affinity, node, nodes, one_per_node, pdb, pod, pv, pvc, spread, state

FAST = Profile.by_name("fast")
REAL = Profile.by_name("realistic")


def test_drain_of_a_well_spread_deployment_moves_every_replica_to_the_other_zones() -> None:
    p = predict(state(nodes(), one_per_node(nodes(), spread_with=spread())), Fault.of("drain", "a"), FAST)
    assert p.recovers, p
    assert sorted(x.to_zone or "" for x in p.affected()) == ["b", "c"]
    assert p.summary.startswith("expected all 6 replica(s) Ready outside a")


def test_drain_with_zone_spread_without_honor_predicts_pending_naming_node_taints_policy() -> None:
    p = predict(state(nodes(), one_per_node(nodes(), spread_with=spread(honor=False))), Fault.of("drain", "a"), FAST)
    assert not p.recovers and p.ready_after == 4
    assert {x.outcome for x in p.affected()} == {"pending"}
    assert "nodeTaintsPolicy is not Honor" in p.summary
    assert ("0/6 nodes are available: 2 node(s) were unschedulable, 4 node(s) didn't match pod topology spread "
            "constraints.") in p.summary


def test_min_domains_caps_what_fits_while_a_zone_is_gone() -> None:
    # 3 zones, minDomains 3, maxSkew 1: with a zone gone the minimum counts as 0, each zone holds at most 1.
    node_list = nodes(per_zone=3)
    pods = [pod(f"web-{i}", f"n-{z}1", spread_with=spread(min_domains=3)) for i, z in enumerate("abc")]
    p = predict(state(node_list, pods), Fault.of("drain", "a"), FAST)
    assert p.outcome_of("web-0").outcome == "pending"
    assert "minDomains 3 > 2 eligible domain(s)" in p.summary


def test_per_host_anti_affinity_with_as_many_replicas_as_nodes_predicts_pending() -> None:
    p = predict(state(nodes(), one_per_node(nodes(), affinity=anti_affinity())), Fault.of("drain", "a"), FAST)
    assert not p.recovers
    assert "required pod anti-affinity" in p.summary
    assert "4 node(s) didn't match pod anti-affinity rules" in p.summary


def test_insufficient_cpu_in_the_surviving_zones_predicts_pending() -> None:
    p = predict(state(nodes(), one_per_node(nodes(), cpu="1500m")), Fault.of("drain", "a"), FAST)
    assert not p.recovers and "4 Insufficient cpu" in p.summary


def test_pdb_that_allows_no_disruption_blocks_the_drain() -> None:
    node_list = nodes()
    pods = one_per_node(node_list, affinity=anti_affinity())
    p = predict(state(node_list, pods, pdbs=[pdb(max_unavailable=0)]), Fault.of("drain", "a"), FAST)
    assert {x.outcome for x in p.affected()} == {"blocked"}
    assert "PodDisruptionBudget web allows no more disruptions" in p.affected()[0].reason


def test_pdb_lets_a_drain_proceed_when_replacements_become_healthy() -> None:
    node_list = nodes()
    p = predict(state(node_list, one_per_node(node_list, spread_with=spread()), pdbs=[pdb(max_unavailable=1)]),
                Fault.of("drain", "a"), FAST)
    assert p.recovers and {x.outcome for x in p.affected()} == {"moves"}


def test_statefulset_pod_on_a_zonal_volume_waits_pending_after_a_drain() -> None:
    s = state(nodes(), [pod("db-0", "n-a1", kind="StatefulSet", claim="data-db-0")],
              pvcs={"ns/data-db-0": pvc("data-db-0", "pv-1")}, pvs={"pv-1": pv("pv-1", "a")})
    p = predict(s, Fault.of("drain", "a"), FAST)
    out = p.outcome_of("db-0")
    assert out.outcome == "pending"
    assert "2 node(s) were unschedulable, 4 node(s) didn't match PersistentVolume's node affinity" in out.reason
    assert "its volume is in a" in out.reason


def test_statefulset_pod_on_a_zone_labelled_volume_fails_volume_zone() -> None:
    labelled = {"metadata": {"name": "pv-1", "labels": {"topology.kubernetes.io/zone": "a"}}, "spec": {}}
    s = state(nodes(), [pod("db-0", "n-a1", kind="StatefulSet", claim="data-db-0")],
              pvcs={"ns/data-db-0": pvc("data-db-0", "pv-1")}, pvs={"pv-1": labelled})
    out = predict(s, Fault.of("drain", "a"), FAST).outcome_of("db-0")
    assert out.outcome == "pending" and "4 node(s) had no available volume zone" in out.reason


def test_drain_leaves_a_pod_without_a_controller_where_it_is() -> None:
    p = predict(state(nodes(), [pod("bare", "n-a1", kind="")]), Fault.of("drain", "a"), FAST)
    assert p.outcome_of("bare").outcome == "stays" and "--force" in p.outcome_of("bare").reason


@pytest.mark.parametrize("kind", ["power-off", "partition"])
def test_statefulset_pod_stays_terminating_after_a_power_off_or_partition_and_the_remedy_is_named(kind: str) -> None:
    s = state(nodes(), [pod("db-0", "n-a1", kind="StatefulSet", claim="data-db-0")],
              pvcs={"ns/data-db-0": pvc("data-db-0", "pv-1")}, pvs={"pv-1": pv("pv-1", "a")})
    p = predict(s, Fault.of(kind, "a"), FAST)
    out = p.outcome_of("db-0")
    assert out.outcome == "terminating"
    assert "node.kubernetes.io/out-of-service" in p.remedy
    assert ("split brain" in p.remedy) == (kind == "partition")


def test_power_off_evicts_after_detection_plus_toleration() -> None:
    # The 300 s tolerations the DefaultTolerationSeconds admission adds to every pod.
    p = predict(state(nodes(), one_per_node(nodes(), tolerate=300)), Fault.of("power-off", "a"), REAL)
    first = p.outcome_of("web-0")
    # 50 s grace + 5 s monitor period, then the 300 s toleration, then the 0.1 s tainting pass
    assert first.outcome == "moves" and first.after_s == pytest.approx(355.1)
    # the second node of the zone is tainted 1 / 0.1 node/s = 10 s later
    assert p.outcome_of("web-1").after_s == pytest.approx(365.1)


def test_three_of_four_nodes_lost_is_partial_disruption_and_nothing_is_evicted() -> None:
    node_list = nodes() + nodes(per_zone=4, zones="d")
    s = state(node_list, one_per_node(node_list))
    p = predict(s, Fault.of("power-off", "d", ["n-d1", "n-d2", "n-d3"]), FAST)
    assert p.lifecycle.state == "PartialDisruption" and p.evicts is False
    assert "no eviction: partial disruption" in p.summary
    assert {x.outcome for x in p.affected()} == {"stays"}
    assert p.ready_after == 7


def test_partial_disruption_of_a_large_zone_evicts_at_the_secondary_rate() -> None:
    node_list = [node(f"n-d{i}", "d") for i in range(60)] + nodes()
    lost = [f"n-d{i}" for i in range(40)]
    p = predict(state(node_list, one_per_node(node_list)), Fault.of("power-off", "d", lost), REAL)
    assert p.lifecycle.state == "PartialDisruption" and p.lifecycle.rate == REAL.secondary_node_eviction_rate
    assert p.evicts


def test_two_of_four_nodes_lost_keeps_the_zone_normal_and_evicts() -> None:
    node_list = nodes() + nodes(per_zone=4, zones="d")
    p = predict(state(node_list, one_per_node(node_list)), Fault.of("power-off", "d", ["n-d1", "n-d2"]), FAST)
    assert p.lifecycle.state == "Normal" and p.evicts


def test_every_zone_down_evicts_nothing() -> None:
    node_list = nodes(zones="a") + nodes(zones="b", ready=False)
    p = predict(state(node_list, one_per_node(node_list)), Fault.of("power-off", "a"), FAST)
    assert p.lifecycle.all_zones_down and not p.evicts


def test_pod_without_a_matching_toleration_is_evicted_as_soon_as_its_node_is_tainted() -> None:
    p = predict(state(nodes(), one_per_node(nodes(), tolerate=None)), Fault.of("power-off", "a"), REAL)
    assert p.outcome_of("web-0").after_s == pytest.approx(55.1)


def test_pod_tolerating_unreachable_forever_stays() -> None:
    forever = pod("web-0", "n-a1")
    forever["spec"]["tolerations"] = [{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                       "effect": "NoExecute"}]
    p = predict(state(nodes(), [forever]), Fault.of("power-off", "a"), FAST)
    assert p.outcome_of("web-0").outcome == "stays"


def test_zone_spread_without_honor_is_stuck_after_a_power_off_too() -> None:
    p = predict(state(nodes(), one_per_node(nodes(), spread_with=spread(honor=False))), Fault.of("partition", "a"),
                FAST)
    assert not p.recovers and "2 node(s) had untolerated taint(s)" in p.summary


def test_zonal_shift_evicts_nothing() -> None:
    p = predict(state(nodes(), one_per_node(nodes())), Fault.of("zonal-shift", "a"), FAST)
    assert {x.outcome for x in p.affected()} == {"stays"} and p.lifecycle is None


def test_unknown_fault_flavour_names_the_choices() -> None:
    with pytest.raises(ValueError, match="use one of drain, power-off, partition, zonal-shift"):
        Fault.of("meteor", "a")


def test_zone_outage_is_an_alias_for_power_off() -> None:
    assert Fault.of("zone_outage", "a").kind == "power-off"


@pytest.mark.parametrize(("ready", "not_ready", "expected"), [
    (0, 4, "FullDisruption"), (1, 3, "PartialDisruption"), (2, 2, "Normal"), (1, 2, "Normal"),
    (2, 3, "PartialDisruption"), (3, 3, "Normal"), (0, 0, "Normal")])
def test_zone_state_follows_compute_zone_state(ready: int, not_ready: int, expected: str) -> None:
    assert compute_zone_state(ready, not_ready, 0.55) == expected


def test_fit_error_sorts_reasons_as_strings() -> None:
    from collections import Counter

    assert fit_error(12, Counter({"node(s) were unschedulable": 2, "Insufficient cpu": 10})) == \
        "0/12 nodes are available: 10 Insufficient cpu, 2 node(s) were unschedulable."


def test_prediction_prints_in_a_few_lines_and_records_as_evidence() -> None:
    p = predict(state(nodes(), one_per_node(nodes(), spread_with=spread(honor=False))), Fault.of("drain", "a"), FAST)
    assert len(p.lines()) <= 4
    ev = p.to_evidence()
    assert ev["fault"] == "drain of a" and ev["summary"] == p.summary and len(ev["details"]) == 6
