"""The run ledger: undo recorded before the fault acts, in a local file, a run object and node
annotations; replay is newest-first and idempotent; only this run's changes are undone."""

from __future__ import annotations

import json
from pathlib import Path

from kubernetes import client, watch

from pytest_azchaos.chaos.cordon import cordon_zone
from pytest_azchaos.chaos.ledger import (
    CORDONED_BY,
    MANAGED_BY_LABEL,
    RUN_ID_LABEL,
    RUN_NAMESPACE,
    RUN_STATE_LABEL,
    Ledger,
    UndoOutcome,
    find_unfinished,
    register_undo,
    restore,
    run_object_name,
)
from pytest_azchaos.chaos.lock import ClusterLock
from pytest_azchaos.kube.cluster import Cluster

from .conftest import zone_node_names

ZONE = "us-east-1a"
CALLS: list[str] = []
FAIL_ONCE: set[str] = set()


def marker_undo(undo: dict, cluster: Cluster) -> UndoOutcome:
    """A real undo handler for the tests: it records that it ran (and fails once when asked to)."""
    CALLS.append(undo["name"])
    if undo["name"] in FAIL_ONCE:
        FAIL_ONCE.discard(undo["name"])
        return UndoOutcome("test.marker", undo["name"], False, "undo failed", "asked to fail once")
    return UndoOutcome("test.marker", undo["name"], True, "undone")


register_undo("test.marker", marker_undo)


def run_object(cluster: Cluster, run_id: str) -> client.V1ConfigMap:
    return cluster.core.read_namespaced_config_map(run_object_name(run_id), RUN_NAMESPACE)


def test_run_id_is_a_valid_object_name_and_label_value(ledger: Ledger) -> None:
    assert ledger.run_id.startswith("azchaos-")
    assert len(ledger.run_id) <= 63 and ledger.run_id == ledger.run_id.lower()


def test_record_is_in_the_local_file_and_the_run_object_when_it_returns(cluster: Cluster, ledger: Ledger) -> None:
    entry = ledger.record("test.marker", {"name": "a"}, "thing/a")
    local = json.loads(Path(ledger.path).read_text())
    cm = run_object(cluster, ledger.run_id)
    remote = json.loads(cm.data["run.json"])
    for doc in (local, remote):
        assert [(e["id"], e["kind"], e["target"], e["state"]) for e in doc["entries"]] == [
            (entry, "test.marker", "thing/a", "pending")]
    assert cm.metadata.labels[MANAGED_BY_LABEL] == "pytest-azchaos"
    assert cm.metadata.labels[RUN_ID_LABEL] == ledger.run_id
    assert cm.metadata.labels[RUN_STATE_LABEL] == "active"
    assert not [p for p in Path(ledger.path).parent.iterdir() if p.name.startswith(".")], "temp file left behind"


def test_cordon_undo_is_recorded_before_the_node_changes(cluster: Cluster, ledger: Ledger) -> None:
    rv = cluster.core.list_node().metadata.resource_version
    report = cordon_zone(cluster, ZONE, ledger)
    recorded_rv = int(run_object(cluster, ledger.run_id).metadata.resource_version)
    cordoned_rv: dict[str, int] = {}
    w = watch.Watch()
    for ev in w.stream(cluster.core.list_node, resource_version=rv, timeout_seconds=2):
        node = ev["object"]
        if node.spec.unschedulable and node.metadata.name not in cordoned_rv:
            cordoned_rv[node.metadata.name] = int(node.metadata.resource_version)
        if len(cordoned_rv) == len(report.cordoned):
            w.stop()
    assert sorted(cordoned_rv) == report.cordoned
    assert all(v > recorded_rv for v in cordoned_rv.values()), (recorded_rv, cordoned_rv)


def test_cordoned_node_names_the_run(cluster: Cluster, ledger: Ledger) -> None:
    report = cordon_zone(cluster, ZONE, ledger)
    for name in report.cordoned:
        node = cluster.core.read_node(name)
        assert node.spec.unschedulable is True
        assert node.metadata.annotations[CORDONED_BY] == ledger.run_id


def test_replay_undoes_newest_first(ledger: Ledger) -> None:
    CALLS.clear()
    for name in ("first", "second", "third"):
        ledger.record("test.marker", {"name": name}, name)
    outcomes = ledger.replay()
    assert CALLS == ["third", "second", "first"]
    assert [o.target for o in outcomes] == ["third", "second", "first"] and all(o.ok for o in outcomes)


def test_replay_twice_does_nothing_the_second_time(cluster: Cluster, ledger: Ledger) -> None:
    CALLS.clear()
    ledger.record("test.marker", {"name": "once"}, "once")
    ledger.replay()
    assert ledger.replay() == []
    assert CALLS == ["once"]
    assert run_object(cluster, ledger.run_id).metadata.labels[RUN_STATE_LABEL] == "restored"


def test_replay_after_a_partial_replay_runs_only_what_is_pending(ledger: Ledger) -> None:
    CALLS.clear()
    FAIL_ONCE.add("b")
    for name in ("a", "b", "c"):
        ledger.record("test.marker", {"name": name}, name)
    first = ledger.replay()
    assert [o.ok for o in first] == [True, False, True]
    assert [o.target for o in ledger.replay()] == ["b"]
    assert CALLS == ["c", "b", "a", "b"]


def test_unknown_kind_is_reported_and_kept_pending(cluster: Cluster, tmp_path: Path) -> None:
    led = Ledger(cluster, path=tmp_path / "l.json")
    led.record("nobody.knows", {}, "x")
    [outcome] = led.replay()
    assert not outcome.ok and "no handler is registered for kind 'nobody.knows'" in outcome.detail
    assert [e.kind for e in led.pending()] == ["nobody.knows"]
    led.done(led.pending()[0].id)


def test_node_cordoned_before_the_run_stays_cordoned(cluster: Cluster, ledger: Ledger) -> None:
    before, other = zone_node_names(cluster, ZONE)
    cluster.core.patch_node(before, {"spec": {"unschedulable": True}}, _content_type="application/merge-patch+json")
    try:
        report = cordon_zone(cluster, ZONE, ledger)
        assert report.already_cordoned == [before] and report.cordoned == [other]
        ledger.replay()
        assert cluster.core.read_node(before).spec.unschedulable is True
        assert not cluster.core.read_node(other).spec.unschedulable
        assert CORDONED_BY not in (cluster.core.read_node(other).metadata.annotations or {})
    finally:
        cluster.core.patch_node(before, {"spec": {"unschedulable": None}},
                                _content_type="application/merge-patch+json")


def test_undo_leaves_a_node_alone_once_another_run_owns_it(cluster: Cluster, ledger: Ledger) -> None:
    report = cordon_zone(cluster, ZONE, ledger)
    taken = report.cordoned[0]
    cluster.core.patch_node(taken, {"metadata": {"annotations": {CORDONED_BY: "someone-else"}}},
                            _content_type="application/merge-patch+json")
    try:
        outcomes = {o.target: o for o in ledger.replay()}
        assert outcomes[f"node/{taken}"].action == "left alone"
        assert cluster.core.read_node(taken).spec.unschedulable is True
    finally:
        cluster.core.patch_node(taken, {"metadata": {"annotations": {CORDONED_BY: None}},
                                        "spec": {"unschedulable": None}},
                                _content_type="application/merge-patch+json")


def test_restore_replays_an_unfinished_run_from_its_run_object(cluster: Cluster, tmp_path: Path) -> None:
    led = Ledger(cluster, path=tmp_path / "gone" / "ledger.json")
    report = cordon_zone(cluster, ZONE, led)
    restored = restore(cluster, led.run_id, local_dir=None)
    assert restored.ok and [r.run_id for r in restored.runs] == [led.run_id]
    assert sorted(o.target for o in restored.runs[0].outcomes) == sorted(f"node/{n}" for n in report.cordoned)
    assert all(not cluster.core.read_node(n).spec.unschedulable for n in report.cordoned)
    assert run_object(cluster, led.run_id).metadata.labels[RUN_STATE_LABEL] == "restored"
    assert find_unfinished(cluster, led.run_id, local_dir=None) == []


def test_restore_uses_node_annotations_when_the_run_object_is_gone(cluster: Cluster, tmp_path: Path) -> None:
    led = Ledger(cluster, path=tmp_path / "ledger.json")
    report = cordon_zone(cluster, ZONE, led)
    cluster.core.delete_namespaced_config_map(run_object_name(led.run_id), RUN_NAMESPACE)
    restored = restore(cluster, led.run_id, local_dir=None)
    assert restored.ok and restored.runs[0].sources == ["node annotations"]
    assert all(not cluster.core.read_node(n).spec.unschedulable for n in report.cordoned)


def test_restore_leaves_a_run_that_still_holds_the_lock_alone(cluster: Cluster, tmp_path: Path) -> None:
    led = Ledger(cluster, path=tmp_path / "ledger.json")
    with ClusterLock(cluster, led.run_id):
        report = cordon_zone(cluster, ZONE, led)
        restored = restore(cluster, led.run_id, local_dir=None)
        assert not restored.ok
        assert "still running" in restored.runs[0].skipped and led.run_id in restored.runs[0].skipped
        assert all(cluster.core.read_node(n).spec.unschedulable for n in report.cordoned)
    assert all(o.ok for o in led.replay())


def test_dry_run_restore_changes_nothing(cluster: Cluster, ledger: Ledger) -> None:
    report = cordon_zone(cluster, ZONE, ledger)
    plan = restore(cluster, ledger.run_id, local_dir=None, dry_run=True)
    assert [e.target for e in plan.runs[0].planned] == [f"node/{n}" for n in report.cordoned]
    assert "would undo node.cordon" in plan.describe()
    assert all(cluster.core.read_node(n).spec.unschedulable for n in report.cordoned)


def test_local_file_alone_is_enough_to_restore(cluster: Cluster, tmp_path: Path) -> None:
    local = tmp_path / "dir"
    led = Ledger(cluster, path=local / "ledger-x.json", in_cluster=False)
    led.path = local / f"ledger-{led.run_id}.json"
    led.record("test.marker", {"name": "local"}, "local")
    CALLS.clear()
    restored = restore(cluster, led.run_id, local_dir=local)
    assert restored.ok and CALLS == ["local"]
    assert json.loads(led.path.read_text())["entries"][0]["state"] == "done"
