"""NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts and NodeResourcesFit, one behaviour each."""

from __future__ import annotations

from pytest_azchaos.embedded.scheduler import schedule

from .builders import cordon, golden_nodes, node, pod

NOT_HELPFUL_6 = ("no new claims to deallocate, preemption: 0/6 nodes are available: "
                 "6 Preemption is not helpful for scheduling.")
NO_VICTIMS_6 = ("no new claims to deallocate, preemption: 0/6 nodes are available: "
                "6 No preemption victims found for incoming pod.")


def test_cordoned_node_counts_only_as_unschedulable_though_it_is_also_tainted() -> None:
    nodes = [cordon(n) for n in golden_nodes()]
    result = schedule(pod("p"), nodes, [])
    assert result.message == f"0/6 nodes are available: 6 node(s) were unschedulable. {NOT_HELPFUL_6}"


def test_pod_tolerating_the_unschedulable_taint_lands_on_a_cordoned_node() -> None:
    tolerations = [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]
    nodes = [cordon(n) for n in golden_nodes()]
    assert schedule(pod("p", tolerations=tolerations), nodes, []).node is not None


def test_cordon_without_taint_yet_is_still_unschedulable() -> None:
    nodes = [cordon(n, taint=False) for n in golden_nodes()]
    assert "6 node(s) were unschedulable" in schedule(pod("p"), nodes, []).message


def test_noexecute_taint_is_untolerated_but_prefernoschedule_is_not_filtered() -> None:
    nodes = golden_nodes()
    for n in nodes[:5]:
        n["spec"]["taints"] = [{"key": "gone", "effect": "NoExecute"}]
    nodes[5]["spec"]["taints"] = [{"key": "meh", "effect": "PreferNoSchedule"}]
    result = schedule(pod("p"), nodes, [])
    assert result.node == "node-c2"
    assert result.reasons == {n["metadata"]["name"]: "node(s) had untolerated taint(s)" for n in nodes[:5]}


def test_exists_toleration_with_empty_key_tolerates_every_taint() -> None:
    nodes = golden_nodes(taints=[{"key": "a", "value": "b", "effect": "NoSchedule"}])
    assert schedule(pod("p", tolerations=[{"operator": "Exists"}]), nodes, []).node is not None


def test_toleration_with_the_wrong_value_does_not_tolerate() -> None:
    nodes = golden_nodes(taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
    tolerations = [{"key": "dedicated", "operator": "Equal", "value": "cpu", "effect": "NoSchedule"}]
    result = schedule(pod("p", tolerations=tolerations), nodes, [])
    assert result.message == f"0/6 nodes are available: 6 node(s) had untolerated taint(s). {NOT_HELPFUL_6}"


def test_required_node_affinity_in_picks_only_that_zone() -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-b"]}]}]}}}
    result = schedule(pod("p", affinity=affinity), golden_nodes(), [])
    assert result.tied == ("node-b1", "node-b2")
    assert result.reasons["node-a1"] == "node(s) didn't match Pod's node affinity/selector"


def test_node_affinity_terms_are_ored_and_match_fields_name_nodes() -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-c1"]}]},
        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-a2"]}]}]}}}
    assert schedule(pod("p", affinity=affinity), golden_nodes(), []).tied == ("node-a2", "node-c1")


def test_node_affinity_gt_compares_integers() -> None:
    nodes = golden_nodes()
    for i, n in enumerate(nodes):
        n["metadata"]["labels"]["gen"] = str(i)
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["3"]}]}]}}}
    assert schedule(pod("p", affinity=affinity), nodes, []).tied == ("node-c1", "node-c2")


def test_node_selector_and_node_affinity_must_both_match() -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-b"]}]}]}}}
    p = pod("p", affinity=affinity, nodeSelector={"kubernetes.io/hostname": "node-a1"})
    assert "6 node(s) didn't match Pod's node affinity/selector" in schedule(p, golden_nodes(), []).message


def test_host_port_in_use_everywhere_is_no_victims_for_preemption() -> None:
    port = {"containerPort": 80, "hostPort": 8080}
    existing = [pod(f"h-{n['metadata']['name']}", node_name=n["metadata"]["name"]) for n in golden_nodes()]
    for p in existing:
        p["spec"]["containers"][0]["ports"] = [dict(port)]
    incoming = pod("p")
    incoming["spec"]["containers"][0]["ports"] = [dict(port)]
    assert schedule(incoming, golden_nodes(), existing).message == (
        f"0/6 nodes are available: 6 node(s) didn't have free ports for the requested pod ports. {NO_VICTIMS_6}")


def test_same_host_port_on_another_protocol_is_free() -> None:
    existing = pod("h", node_name="node-a1")
    existing["spec"]["containers"][0]["ports"] = [{"containerPort": 53, "hostPort": 53, "protocol": "UDP"}]
    incoming = pod("p", nodeSelector={"kubernetes.io/hostname": "node-a1"})
    incoming["spec"]["containers"][0]["ports"] = [{"containerPort": 53, "hostPort": 53}]
    assert schedule(incoming, golden_nodes(), [existing]).node == "node-a1"


def test_request_above_allocatable_is_not_helpful_for_preemption() -> None:
    result = schedule(pod("p", cpu="3"), golden_nodes(), [])
    assert result.message == f"0/6 nodes are available: 6 Insufficient cpu. {NOT_HELPFUL_6}"


def test_too_many_pods() -> None:
    nodes = [node("n", "z", pods="1")]
    result = schedule(pod("p"), nodes, [pod("there", node_name="n")])
    assert result.reasons == {"n": "Too many pods"}


def test_terminal_pods_free_their_resources() -> None:
    done = pod("done", cpu="2", node_name="n")
    done["status"] = {"phase": "Succeeded"}
    assert schedule(pod("p", cpu="1"), [node("n", "z")], [done]).node == "n"


def test_terminating_pods_still_hold_their_resources() -> None:
    going = pod("going", cpu="1500m", node_name="n")
    going["metadata"]["deletionTimestamp"] = "2026-11-22T07:24:15Z"
    assert schedule(pod("p", cpu="1"), [node("n", "z")], [going]).reasons == {"n": "Insufficient cpu"}


def test_init_container_request_counts_when_larger_than_the_containers_sum() -> None:
    p = pod("p", cpu="100m", initContainers=[{"name": "i", "image": "x", "resources": {"requests": {"cpu": "3"}}}])
    assert "6 Insufficient cpu" in schedule(p, golden_nodes(), []).message


def test_sidecar_init_container_adds_to_the_containers() -> None:
    sidecar = {"name": "s", "image": "x", "restartPolicy": "Always", "resources": {"requests": {"cpu": "1"}}}
    p = pod("p", cpu="1500m", initContainers=[sidecar])
    assert "6 Insufficient cpu" in schedule(p, golden_nodes(), []).message


def test_limits_without_requests_count_as_requests() -> None:
    p = pod("p")
    p["spec"]["containers"][0]["resources"] = {"limits": {"memory": "9Gi"}}
    assert "6 Insufficient memory" in schedule(p, golden_nodes(), []).message


def test_extended_resource_the_node_lacks() -> None:
    p = pod("p")
    p["spec"]["containers"][0]["resources"] = {"requests": {"nvidia.com/gpu": "1"}}
    assert schedule(p, [node("n", "z")], []).reasons == {"n": "Insufficient nvidia.com/gpu"}


def test_daemonset_style_name_affinity_reports_other_nodes_as_outside_the_prefilter_result() -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-a1"]}]}]}}}
    nodes = golden_nodes()
    cordon(nodes[0])
    result = schedule(pod("ds", affinity=affinity), nodes, [])
    assert result.message == (
        "0/6 nodes are available: 1 node(s) were unschedulable, 5 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
        f"{NOT_HELPFUL_6}")
