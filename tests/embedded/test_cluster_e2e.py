"""The embedded cluster as a 3-zone EKS cluster: workloads spread, traffic flows, nodes fail.

Each test here gets the module's own cluster (some stop nodes), uses the official client,
kubectl where it is the thing under test, and real traffic through the NLB.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from kubernetes import client

from pytest_azchaos.embedded.heartbeat import set_node_power
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.traffic import Prober, ProbeTarget

from ..clusters import api_client, fresh_namespace, own_cluster
from .waiting import wait_for

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"
ZONE = "topology.kubernetes.io/zone"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with own_cluster(tmp_path_factory.mktemp("e2e")) as handle:
        yield handle


@pytest.fixture(scope="module")
def api(cluster: ClusterHandle) -> Iterator[client.ApiClient]:
    with api_client(cluster) as api:
        yield api


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture
def ns(core: client.CoreV1Api) -> Iterator[str]:
    with fresh_namespace(core, "e2e") as name:
        yield name


def echo_deployment(name: str, replicas: int = 6, delay_shutdown: int = 0, grace: int = 30,
                    **spec: object) -> client.V1Deployment:
    args = ["netexec", "--http-port=8080"] + ([f"--delay-shutdown={delay_shutdown}"] if delay_shutdown else [])
    container = client.V1Container(
        name="echo", image=AGNHOST, args=args,
        readiness_probe=client.V1Probe(http_get=client.V1HTTPGetAction(path="/readyz", port=8080), period_seconds=1,
                                       failure_threshold=1))
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[container], termination_grace_period_seconds=grace)),
            **spec))


def lb_service(name: str, policy: str = "Cluster") -> client.V1Service:
    return client.V1Service(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1ServiceSpec(type="LoadBalancer", selector={"app": name}, external_traffic_policy=policy,
                                  ports=[client.V1ServicePort(port=8080, target_port=8080)]))


def ready_pods(core: client.CoreV1Api, ns: str, app: str) -> list[client.V1Pod]:
    pods = core.list_namespaced_pod(ns, label_selector=f"app={app}").items
    return [p for p in pods if p.metadata.deletion_timestamp is None
            and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]


def wait_ready(core: client.CoreV1Api, ns: str, app: str, n: int, timeout: float = 30) -> list[client.V1Pod]:
    return wait_for(lambda: ready_pods(core, ns, app), lambda ps: len(ps) == n, timeout=timeout,
                    what=f"{n} ready pods of {app}")


def node_zones(core: client.CoreV1Api) -> dict[str, str]:
    return {n.metadata.name: n.metadata.labels[ZONE] for n in core.list_node().items}


def node_addresses(core: client.CoreV1Api) -> set[str]:
    return {a.address for n in core.list_node().items for a in n.status.addresses if a.type == "InternalIP"}


def lb_addresses(core: client.CoreV1Api, ns: str, name: str) -> list[str]:
    svc = wait_for(lambda: core.read_namespaced_service(name, ns),
                   lambda s: bool(s.status.load_balancer and s.status.load_balancer.ingress), what="LB ingress")
    return [i.ip or i.hostname for i in svc.status.load_balancer.ingress]


def kubectl(cluster: ClusterHandle, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "--kubeconfig", str(cluster.kubeconfig), *args], capture_output=True,
                          text=True, timeout=timeout)


def traffic(addresses: list[str], seconds: float, rate: float = 100) -> Prober:
    prober = Prober(ProbeTarget(addresses, 8080), rate=rate, timeout=2.0).start()
    time.sleep(seconds)
    return prober


# ---------------------------------------------------------------------- placement and traffic


def test_six_replicas_spread_two_per_zone(core: client.CoreV1Api, apps: client.AppsV1Api, ns: str) -> None:
    apps.create_namespaced_deployment(ns, echo_deployment("spread"))
    pods = wait_ready(core, ns, "spread", 6)
    zones = node_zones(core)
    assert Counter(zones[p.spec.node_name] for p in pods) == {"us-east-1a": 2, "us-east-1b": 2, "us-east-1c": 2}


def test_kubectl_expose_load_balancer_reaches_every_pod(cluster: ClusterHandle, core: client.CoreV1Api,
                                                        apps: client.AppsV1Api, ns: str, kubectl_path: str) -> None:
    apps.create_namespaced_deployment(ns, echo_deployment("web"))
    pods = wait_ready(core, ns, "web", 6)
    result = kubectl(cluster, "-n", ns, "expose", "deployment", "web", "--type", "LoadBalancer", "--port", "8080",
                     "--target-port", "8080")
    assert result.returncode == 0, result.stderr
    addresses = lb_addresses(core, ns, "web")
    assert len(addresses) == 3  # one per zone
    time.sleep(1.5)  # targets pass their healthy threshold
    rec = traffic(addresses, 3).stop()
    assert rec.failures() == []
    assert set(rec.per_pod()) == {p.metadata.name for p in pods}


@pytest.mark.parametrize("policy", ["Cluster", "Local"])
def test_client_ip_is_a_node_under_cluster_and_the_client_under_local(
        core: client.CoreV1Api, apps: client.AppsV1Api, ns: str, policy: str) -> None:
    apps.create_namespaced_deployment(ns, echo_deployment("src"))
    wait_ready(core, ns, "src", 6)
    core.create_namespaced_service(ns, lb_service("src", policy))
    addresses = lb_addresses(core, ns, "src")
    time.sleep(1.5)
    rec = traffic(addresses, 2, rate=50).stop()
    assert rec.failures() == []
    seen = set(rec.client_ips())
    nodes = node_addresses(core)
    if policy == "Cluster":
        assert seen <= nodes, f"Cluster policy should SNAT to node addresses; pods saw {seen - nodes}"
    else:
        own = {r.local_ip for r in rec.records}
        assert seen == own, f"Local policy should keep the client address {own}; pods saw {seen}"
        assert not seen & nodes


# ---------------------------------------------------------------------- drain, cordon, node loss


def test_kubectl_drain_waits_out_a_blocking_pdb_and_moves_the_pods(
        cluster: ClusterHandle, core: client.CoreV1Api, apps: client.AppsV1Api, ns: str, kubectl_path: str) -> None:
    apps.create_namespaced_deployment(ns, echo_deployment("drained"))
    pods = wait_ready(core, ns, "drained", 6)
    client.PolicyV1Api(core.api_client).create_namespaced_pod_disruption_budget(ns, client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name="drained"),
        spec=client.V1PodDisruptionBudgetSpec(max_unavailable=0, selector=client.V1LabelSelector(
            match_labels={"app": "drained"}))))
    node = pods[0].spec.node_name
    drain = subprocess.Popen(["kubectl", "--kubeconfig", str(cluster.kubeconfig), "drain", node,
                              "--ignore-daemonsets", "--delete-emptydir-data", "--pod-selector", "app=drained",
                              "--timeout=60s"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(7)  # kubectl retries a 429 every 5 s
        client.PolicyV1Api(core.api_client).patch_namespaced_pod_disruption_budget(
            "drained", ns, {"spec": {"maxUnavailable": 1}})
        out, _ = drain.communicate(timeout=60)
    finally:
        if drain.poll() is None:
            drain.kill()
        kubectl(cluster, "uncordon", node)
    assert drain.returncode == 0, out
    assert "Cannot evict pod as it would violate the pod's disruption budget." in out
    assert "will retry after 5s" in out
    after = wait_ready(core, ns, "drained", 6)
    assert node not in {p.spec.node_name for p in after}


def test_cordoned_zone_gives_failed_scheduling_only_when_nothing_fits(
        cluster: ClusterHandle, core: client.CoreV1Api, apps: client.AppsV1Api, ns: str) -> None:
    zone_nodes = [n for n, z in node_zones(core).items() if z == "us-east-1a"]
    for n in zone_nodes:
        core.patch_node(n, {"spec": {"unschedulable": True}})
    try:
        apps.create_namespaced_deployment(ns, echo_deployment("cordon", replicas=4))
        pods = wait_ready(core, ns, "cordon", 4)
        assert not {p.spec.node_name for p in pods} & set(zone_nodes)
        failed = [e for e in core.list_namespaced_event(ns).items if e.reason == "FailedScheduling"]
        assert failed == []
        pinned = client.V1Pod(metadata=client.V1ObjectMeta(name="pinned"), spec=client.V1PodSpec(
            node_selector={ZONE: "us-east-1a"},
            containers=[client.V1Container(name="c", image=AGNHOST, args=["pause"])]))
        core.create_namespaced_pod(ns, pinned)
        events = wait_for(lambda: [e for e in core.list_namespaced_event(ns).items
                                   if e.reason == "FailedScheduling" and e.involved_object.name == "pinned"],
                          bool, what="FailedScheduling for the pinned pod")
        assert events[0].message == (
            "0/6 nodes are available: 2 node(s) were unschedulable, 4 node(s) didn't match Pod's node "
            "affinity/selector. no new claims to deallocate, preemption: 0/6 nodes are available: 6 Preemption is "
            "not helpful for scheduling.")
    finally:
        for n in zone_nodes:
            core.patch_node(n, {"spec": {"unschedulable": False}})


def test_a_stopped_node_goes_not_ready_and_its_pods_are_replaced(
        cluster: ClusterHandle, core: client.CoreV1Api, apps: client.AppsV1Api, ns: str) -> None:
    deployment = echo_deployment("lost", replicas=3)
    deployment.spec.template.spec.tolerations = [
        client.V1Toleration(key=k, operator="Exists", effect="NoExecute", toleration_seconds=2)
        for k in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")]
    apps.create_namespaced_deployment(ns, deployment)
    pods = wait_ready(core, ns, "lost", 3)
    node = pods[0].spec.node_name
    set_node_power(cluster.url, node, running=False)
    try:
        wait_for(lambda: core.read_node(node), lambda n: any(c.type == "Ready" and c.status == "Unknown"
                                                             for c in n.status.conditions), timeout=20,
                 what="node Ready=Unknown")
        replaced = wait_for(lambda: ready_pods(core, ns, "lost"),
                            lambda ps: len(ps) == 3 and node not in {p.spec.node_name for p in ps}, timeout=30,
                            what="replacement on another node")
        assert pods[0].metadata.name not in {p.metadata.name for p in replaced}
    finally:
        set_node_power(cluster.url, node, running=True)
    wait_for(lambda: core.read_node(node), lambda n: any(c.type == "Ready" and c.status == "True"
                                                         for c in n.status.conditions), timeout=20,
             what="node Ready again")


# ---------------------------------------------------------------------- rolling restart under traffic


@pytest.mark.parametrize(("delay_shutdown", "expect_loss"), [(3, False), (0, True)])
def test_rolling_restart_under_traffic(core: client.CoreV1Api, apps: client.AppsV1Api, ns: str,
                                       delay_shutdown: int, expect_loss: bool) -> None:
    strategy = client.V1DeploymentStrategy(type="RollingUpdate", rolling_update=client.V1RollingUpdateDeployment(
        max_surge=1, max_unavailable=0))
    apps.create_namespaced_deployment(ns, echo_deployment("roll", replicas=3, delay_shutdown=delay_shutdown,
                                                          grace=10, strategy=strategy))
    wait_ready(core, ns, "roll", 3)
    core.create_namespaced_service(ns, lb_service("roll"))
    addresses = lb_addresses(core, ns, "roll")
    time.sleep(1.5)
    prober = traffic(addresses, 1, rate=200)
    apps.patch_namespaced_deployment("roll", ns, {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ")}}}}})
    wait_for(lambda: apps.read_namespaced_deployment("roll", ns),
             lambda d: d.status.updated_replicas == 3 and d.status.ready_replicas == 3
             and (d.status.replicas or 0) == 3, timeout=60, what="rollout done")
    time.sleep(delay_shutdown + 1)
    rec = prober.stop()
    failed = rec.failures()
    if expect_loss:
        assert failed, "an app that exits on SIGTERM at once should drop requests while endpoints still point at it"
    else:
        windows = "; ".join(w.describe() for w in rec.failure_windows())
        assert failed == [], f"{len(failed)} of {rec.total} requests failed: {windows}"
