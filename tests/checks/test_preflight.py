"""Preflight on the package's own cluster: what makes a zone fault pointless, each with its reason."""

from __future__ import annotations

from kubernetes import client

from pytest_azchaos.checks.preflight import fits_elsewhere, pod_requests, preflight

from ..embedded.waiting import wait_for
from .conftest import echo_deployment, wait_ready


def pdb(name: str) -> client.V1PodDisruptionBudget:
    return client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodDisruptionBudgetSpec(max_unavailable=1, selector=client.V1LabelSelector(
            match_expressions=[client.V1LabelSelectorRequirement(key="app", operator="In", values=[name])])))


def test_well_configured_workload_passes(own_core: client.CoreV1Api, own_apps: client.AppsV1Api,
                                         own_ns: str) -> None:
    own_apps.create_namespaced_deployment(own_ns, echo_deployment("good", 3, cpu="100m"))
    client.PolicyV1Api(own_core.api_client).create_namespaced_pod_disruption_budget(own_ns, pdb("good"))
    wait_ready(own_core, own_ns, "good", 3)
    result = preflight(own_core, own_ns, "app=good")
    assert result.ok, result.reasons
    assert result.facts == {"zones": ["us-east-1a", "us-east-1b", "us-east-1c"], "replicas": 3, "pdbs": ["good"]}


def test_cluster_only_check_needs_three_zones(own_core: client.CoreV1Api) -> None:
    assert preflight(own_core).ok
    result = preflight(own_core, min_zones=4)
    assert not result.ok
    assert result.reasons == [
        "only 3 zone(s) have Ready schedulable nodes (us-east-1a: 2 node(s); us-east-1b: 2 node(s); us-east-1c: 2 "
        "node(s)); a zone fault needs at least 4: add nodes in more zones (label topology.kubernetes.io/zone)"]


def test_cordoned_zone_does_not_count(own_core: client.CoreV1Api, cordon_zone) -> None:
    cordon_zone("us-east-1c")
    result = preflight(own_core)
    assert not result.ok
    assert result.reasons[0].startswith("only 2 zone(s) have Ready schedulable nodes (us-east-1a: 2 node(s); "
                                        "us-east-1b: 2 node(s); us-east-1c: 2 node(s), 2 cordoned)")


def test_one_replica_without_pdb_gives_both_reasons(own_core: client.CoreV1Api, own_apps: client.AppsV1Api,
                                                    own_ns: str) -> None:
    own_apps.create_namespaced_deployment(own_ns, echo_deployment("lonely", 1))
    wait_ready(own_core, own_ns, "lonely", 1)
    result = preflight(own_core, own_ns, "app=lonely")
    assert not result.ok
    assert result.reasons == [
        "1 replica(s) of app=lonely for 3 zones: losing a zone can take all of them; run at least one replica per zone",
        f"no PodDisruptionBudget in {own_ns} selects the pods of app=lonely: a drain may evict them all at once; add "
        "one (e.g. maxUnavailable: 1)"]
    assert preflight(own_core, own_ns, "app=lonely", need_pdb=False, replicas_at_least_zones=False).ok


def test_missing_workload_is_named(own_core: client.CoreV1Api, own_ns: str) -> None:
    result = preflight(own_core, own_ns, "app=ghost")
    assert result.reasons == [f"no pods match app=ghost in namespace {own_ns}: deploy the workload first"]


def test_full_nodes_leave_no_room_for_the_lost_zone(own_core: client.CoreV1Api, own_apps: client.AppsV1Api,
                                                    own_ns: str) -> None:
    """Six 1-CPU pods fill the six 1930m nodes one each: a lost zone's two pods fit nowhere else. (The free total
    leaves out the add-ons' pods on the surviving nodes: CoreDNS, 100m and 70Mi each; the Cluster Autoscaler, no
    requests; where the scheduler put them varies.)"""
    own_apps.create_namespaced_deployment(own_ns, echo_deployment("big", 6, cpu="1"))
    client.PolicyV1Api(own_core.api_client).create_namespaced_pod_disruption_budget(own_ns, pdb("big"))
    wait_ready(own_core, own_ns, "big", 6)
    result = preflight(own_core, own_ns, "app=big", zone="us-east-1a")
    assert not result.ok
    survivors = {n.metadata.name for n in own_core.list_node().items
                 if n.metadata.labels["topology.kubernetes.io/zone"] != "us-east-1a"}
    addons = [p for p in own_core.list_namespaced_pod("kube-system").items if p.spec.node_name in survivors]
    cpu_m = sum(_request_milli(c, "cpu") for p in addons for c in p.spec.containers)
    mem_mi = sum(_request_milli(c, "memory") // 1000 // 2**20 for p in addons for c in p.spec.containers)
    # Four surviving m5.large nodes (1930m, 7220172Ki = 7051Mi, 29 pods each) less the four big pods and the
    # add-on pods (CoreDNS, the Cluster Autoscaler) the scheduler put there.
    assert result.reasons == [
        "not enough spare capacity outside us-east-1a for its 2 pod(s) of app=big: a pod requesting cpu 1000m, pods 1 "
        f"fits on no surviving node (free in total: cpu {3720 - cpu_m}m, memory {28203 - mem_mi}Mi, pods "
        f"{112 - len(addons)}); add nodes or lower the requests"], [p.metadata.name for p in addons]
    own_apps.delete_namespaced_deployment("big", own_ns)
    wait_for(lambda: own_core.list_namespaced_pod(own_ns).items, lambda ps: not ps, what="big pods gone")


def test_first_fit_packs_pods_onto_free_nodes() -> None:
    pod = client.V1Pod(spec=client.V1PodSpec(
        containers=[client.V1Container(name="a", resources=client.V1ResourceRequirements(requests={
            "cpu": "250m", "memory": "64Mi"})), client.V1Container(name="b")],
        init_containers=[client.V1Container(name="i", resources=client.V1ResourceRequirements(requests={
            "cpu": "500m"}))]))
    req = pod_requests(pod)
    assert (req["cpu"], req["memory"], req["pods"]) == (0.5, 64 * 1024 * 1024, 1)
    free = {"n1": {"cpu": req["cpu"], "memory": req["memory"] * 2, "pods": 5}}
    assert fits_elsewhere([req], free) == (True, "")
    ok, why = fits_elsewhere([req, req], free)
    assert not ok
    assert why == "a pod requesting cpu 500m, memory 64Mi, pods 1 fits on no surviving node (free in total: cpu 0m, " \
                  "memory 64Mi, pods 4)"


def _request_milli(container: client.V1Container, resource: str) -> int:
    """A container's request of ``resource`` in thousandths (cpu: millicores; memory: milli-bytes)."""
    from kubernetes.utils import parse_quantity

    requests = (container.resources.requests if container.resources else None) or {}
    return int(parse_quantity(requests.get(resource, "0")) * 1000)
