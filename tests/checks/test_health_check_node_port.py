"""AZ-HCNP against the embedded cluster's kube-proxy health servers."""

from __future__ import annotations

from kubernetes import client

from pytest_azchaos.checks.health_check_node_port import NodeHealth, health_check_node_port

from ..docs.capture import capture_failure
from ..embedded.waiting import wait_for
from .conftest import echo_deployment, wait_ready


def lb_service(name: str, policy: str) -> client.V1Service:
    return client.V1Service(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1ServiceSpec(type="LoadBalancer", selector={"app": name}, external_traffic_policy=policy,
                                  ports=[client.V1ServicePort(port=8080, target_port=8080)]))


def test_local_service_answers_200_only_where_endpoints_are(core: client.CoreV1Api, apps: client.AppsV1Api,
                                                             namespace: str) -> None:
    apps.create_namespaced_deployment(namespace, echo_deployment("hc", 3))
    wait_ready(core, namespace, "hc", 3)
    core.create_namespaced_service(namespace, lb_service("hc", "Local"))
    result = health_check_node_port(core, namespace, "hc", timeout=10)
    assert result.passed, result.message()
    assert result.figures["nodes"] == 6
    assert result.figures["nodes_with_endpoints"] == 3
    port = core.read_namespaced_service("hc", namespace).spec.health_check_node_port
    assert result.summary == (f"healthCheckNodePort {port}: 200 on the 3 node(s) with local endpoints, 503 on the "
                              "other 3")
    assert sum("expected 200 localEndpoints=1, got 200 localEndpoints=1" in line for line in result.evidence) == 3
    assert sum("expected 503 localEndpoints=0, got 503 localEndpoints=0" in line for line in result.evidence) == 3


def test_scaling_to_zero_turns_every_node_503(core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str) -> None:
    apps.create_namespaced_deployment(namespace, echo_deployment("hc0", 2))
    wait_ready(core, namespace, "hc0", 2)
    core.create_namespaced_service(namespace, lb_service("hc0", "Local"))
    apps.patch_namespaced_deployment_scale("hc0", namespace, {"spec": {"replicas": 0}})
    wait_for(lambda: core.list_namespaced_pod(namespace, label_selector="app=hc0").items, lambda ps: not ps,
             what="pods gone")
    result = health_check_node_port(core, namespace, "hc0", timeout=10)
    assert result.passed, result.message()
    assert result.figures["nodes_with_endpoints"] == 0


def test_cluster_policy_service_fails_with_the_reason(core: client.CoreV1Api, apps: client.AppsV1Api,
                                                      namespace: str) -> None:
    apps.create_namespaced_deployment(namespace, echo_deployment("hcc", 3))
    core.create_namespaced_service(namespace, lb_service("hcc", "Cluster"))
    result = health_check_node_port(core, namespace, "hcc", timeout=2)
    assert not result.passed
    assert result.summary == (
        f"service {namespace}/hcc has externalTrafficPolicy: Cluster and healthCheckNodePort: None; the health check "
        "port exists only for type LoadBalancer with externalTrafficPolicy: Local")
    capture_failure("AZ-HCNP", result)


def test_node_mismatch_line_names_expected_and_actual() -> None:
    bad = NodeHealth("node-a1", "us-east-1a", "http://127.0.0.1:31000/healthz", 1, 503, 0)
    silent = NodeHealth("node-b1", "us-east-1b", "http://127.0.0.2:31000/healthz", 0, None, None, "ReadTimeout")
    assert not bad.ok and not silent.ok
    assert bad.describe() == ("node-a1 (us-east-1a) http://127.0.0.1:31000/healthz: expected 200 localEndpoints=1, "
                              "got 503 localEndpoints=0  <-- MISMATCH")
    assert silent.describe().endswith("expected 503 localEndpoints=0, got no answer (ReadTimeout)  <-- MISMATCH")


def test_a_stopped_node_that_still_has_endpoints_fails(own_cluster, own_core: client.CoreV1Api,
                                                       own_apps: client.AppsV1Api, own_ns: str) -> None:
    """The node's kube-proxy stops answering while the EndpointSlice still lists its pod as ready."""
    from pytest_azchaos.embedded.heartbeat import set_node_power

    own_apps.create_namespaced_deployment(own_ns, echo_deployment("hcs", 3))
    wait_ready(own_core, own_ns, "hcs", 3)
    own_core.create_namespaced_service(own_ns, lb_service("hcs", "Local"))
    assert health_check_node_port(own_core, own_ns, "hcs", timeout=10).passed
    node = own_core.list_namespaced_pod(own_ns, label_selector="app=hcs").items[0].spec.node_name
    set_node_power(own_cluster.url, node, running=False)
    try:
        result = health_check_node_port(own_core, own_ns, "hcs", timeout=1, request_timeout=0.5)
    finally:
        set_node_power(own_cluster.url, node, running=True)
        wait_for(lambda: own_core.read_node(node), lambda n: any(
            c.type == "Ready" and c.status == "True" for c in n.status.conditions), timeout=20, what="node Ready")
    assert not result.passed
    assert "1 of 6 nodes answer healthCheckNodePort" in result.summary
    line = next(line for line in result.evidence if line.startswith(node))
    assert line.endswith("expected 200 localEndpoints=1, got no answer (ReadTimeout)  <-- MISMATCH"), line
    capture_failure("AZ-HCNP", result, name="stopped-node")
