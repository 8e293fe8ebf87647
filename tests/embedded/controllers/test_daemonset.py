"""DaemonSet controller against the embedded cluster: one pod per eligible node, pinned by node affinity."""

from __future__ import annotations

from typing import Any

from .podsim import pods_of, template, wait_for

LABELS = {"app": "agent"}
SELECTOR = "app=agent"
ZONE = "topology.kubernetes.io/zone"


def _ds(apps: Any, namespace: str, node_selector: dict[str, str] | None = None) -> Any:
    tmpl = template(LABELS, manual=False)
    if node_selector:
        tmpl["spec"]["nodeSelector"] = node_selector
    return apps.create_namespaced_daemon_set(namespace, {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": LABELS}, "template": tmpl}})


def test_one_pod_per_node_with_node_name_affinity(apps, core, namespace):
    nodes = sorted(n.metadata.name for n in core.list_node().items)
    _ds(apps, namespace)
    pods = wait_for(lambda: (p := pods_of(core, namespace, SELECTOR)) and len(p) == len(nodes) and p)
    assert sorted(p.spec.node_name for p in pods) == nodes
    for p in pods:
        terms = p.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
        assert [(f.key, f.operator, f.values) for f in terms[0].match_fields] == \
            [("metadata.name", "In", [p.spec.node_name])]
        assert p.metadata.labels["pod-template-generation"] == "1"
        assert p.metadata.owner_references[0].kind == "DaemonSet"
    keys = [(t.key, t.effect, t.toleration_seconds) for t in pods[0].spec.tolerations]
    assert keys == [("node.kubernetes.io/not-ready", "NoExecute", None),
                    ("node.kubernetes.io/unreachable", "NoExecute", None),
                    ("node.kubernetes.io/disk-pressure", "NoSchedule", None),
                    ("node.kubernetes.io/memory-pressure", "NoSchedule", None),
                    ("node.kubernetes.io/pid-pressure", "NoSchedule", None),
                    ("node.kubernetes.io/unschedulable", "NoSchedule", None)]
    hashes = {p.metadata.labels["controller-revision-hash"] for p in pods}
    crs = apps.list_namespaced_controller_revision(namespace).items
    assert [c.metadata.name for c in crs] == [f"agent-{h}" for h in hashes]


def test_status_counts_desired_current_and_updated(apps, core, namespace):
    n = len(core.list_node().items)
    _ds(apps, namespace)
    st = wait_for(lambda: (s := apps.read_namespaced_daemon_set("agent", namespace).status)
                  .current_number_scheduled == n and s)
    assert (st.desired_number_scheduled, st.number_misscheduled, st.updated_number_scheduled,
            st.observed_generation) == (n, 0, n, 1)
    events = [e for e in core.list_namespaced_event(namespace).items if e.reason == "SuccessfulCreate"]
    assert len(events) == n and all(e.message.startswith("Created pod: agent-") for e in events)
    assert events[0].source.component == "daemonset-controller"


def test_node_selector_limits_pods_to_matching_nodes(apps, core, namespace):
    nodes = core.list_node().items
    zone = nodes[0].metadata.labels[ZONE]
    in_zone = sorted(n.metadata.name for n in nodes if n.metadata.labels.get(ZONE) == zone)
    _ds(apps, namespace, {ZONE: zone})
    pods = wait_for(lambda: (p := pods_of(core, namespace, SELECTOR)) and len(p) == len(in_zone) and p)
    assert sorted(p.spec.node_name for p in pods) == in_zone
    st = wait_for(lambda: (s := apps.read_namespaced_daemon_set("agent", namespace).status)
                  .desired_number_scheduled == len(in_zone) and s)
    assert st.current_number_scheduled == len(in_zone)


# ---------------------------------------------------------------- node eligibility (pure)

TAINTED = {"metadata": {"name": "n1", "labels": {ZONE: "a"}},
           "spec": {"taints": [{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}]}}


def test_should_run_needs_every_no_schedule_taint_tolerated() -> None:
    from pytest_azchaos.embedded.controllers.daemonset import should_run

    assert not should_run(TAINTED, {})
    assert should_run(TAINTED, {"tolerations": [{"key": "dedicated", "operator": "Exists"}]})
    # An empty key with Equal compares only the value (upstream ToleratesTaint).
    assert should_run(TAINTED, {"tolerations": [{"operator": "Equal", "value": "infra"}]})


def test_should_run_ignores_a_toleration_with_an_unknown_operator() -> None:
    from pytest_azchaos.embedded.controllers.daemonset import should_run

    assert not should_run(TAINTED, {"tolerations": [{"key": "dedicated", "operator": "Bogus", "value": "infra"}]})


def test_should_run_with_required_affinity_but_no_terms_runs_nowhere() -> None:
    from pytest_azchaos.embedded.controllers.daemonset import should_run

    node = {"metadata": {"name": "n1", "labels": {ZONE: "a"}}}
    required = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}
    assert should_run(node, {})
    assert not should_run(node, {"affinity": required})
    zone_a = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["a"]}]}]}}}
    assert should_run(node, {"affinity": zone_a, "nodeSelector": {ZONE: "a"}})
    assert not should_run(node, {"affinity": zone_a, "nodeSelector": {ZONE: "b"}})
