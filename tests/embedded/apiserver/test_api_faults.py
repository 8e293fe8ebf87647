"""API faults on demand (``/azchaos/v1/api-faults``): a real cluster process, real HTTP, the official client.

The module has its own small cluster, so switching faults on never disturbs other tests; every test
starts with the switch off and leaves it off.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3
from kubernetes import client, config, watch

from pytest_azchaos.embedded.api_faults_client import (
    ApiFaultsError,
    api_faults,
    clear_api_faults,
    get_api_faults,
    set_api_faults,
)
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.topology import Topology
from pytest_azchaos.timing import Profile

from ...clusters import fresh_namespace, own_cluster

ENDPOINT = "/azchaos/v1/api-faults"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with own_cluster(tmp_path_factory.mktemp("api-faults"), topology=Topology.make(zones=3, nodes_per_zone=1),
                     profile="fast") as handle:
        yield handle


@pytest.fixture(autouse=True)
def switch_off(cluster: ClusterHandle) -> Iterator[None]:
    """Every test starts and ends with no fault on."""
    clear_api_faults(cluster.kubeconfig)
    yield
    clear_api_faults(cluster.kubeconfig)


def _api(kubeconfig: Path, retries: int | None = None) -> client.ApiClient:
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    cfg.retries = retries
    return client.ApiClient(cfg)


@pytest.fixture(scope="module")
def core(cluster: ClusterHandle) -> Iterator[client.CoreV1Api]:
    """The official client with urllib3's retries off, so each call is exactly one HTTP request."""
    api = _api(cluster.kubeconfig, retries=0)
    yield client.CoreV1Api(api)
    api.close()


@pytest.fixture
def namespace(cluster: ClusterHandle, core: client.CoreV1Api) -> Iterator[str]:
    with fresh_namespace(core, "faults") as name:
        yield name
        clear_api_faults(cluster.kubeconfig)  # before the namespace is deleted


def _fails(call: Any) -> client.ApiException:
    with pytest.raises(client.ApiException) as info:
        call()
    return info.value


def test_error500_answers_an_internal_error_status(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    set_api_faults(cluster.kubeconfig, {"kinds": {"error500": 1.0}})
    e = _fails(lambda: core.list_namespace())
    assert e.status == 500
    assert e.headers["Content-Type"] == "application/json"
    assert json.loads(e.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Internal error occurred: injected by azchaos api-faults", "reason": "InternalError",
        "details": {"causes": [{"message": "injected by azchaos api-faults"}]}, "code": 500}


def test_unavailable503_answers_a_service_unavailable_status(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    set_api_faults(cluster.kubeconfig, {"kinds": {"unavailable503": 1.0}})
    e = _fails(lambda: core.list_namespace())
    assert e.status == 503
    assert "Retry-After" not in e.headers  # NewServiceUnavailable carries no retry delay
    assert json.loads(e.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the server is currently unable to handle the request", "reason": "ServiceUnavailable",
        "code": 503}


def test_error_messages_can_be_chosen(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    cause = "etcdserver: leader changed"
    set_api_faults(cluster.kubeconfig, {"kinds": {"error500": {"fraction": 1.0, "message": cause}}})
    body = json.loads(_fails(lambda: core.list_namespace()).body)
    assert body["message"] == "Internal error occurred: etcdserver: leader changed"
    assert body["details"] == {"causes": [{"message": "etcdserver: leader changed"}]}


def test_throttle429_answers_as_priority_and_fairness_with_retry_after(
        cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    set_api_faults(cluster.kubeconfig, {"kinds": {"throttle429": 1.0}})
    e = _fails(lambda: core.list_namespace())
    assert e.status == 429
    assert e.headers["Retry-After"] == "1"
    # APF's http.Error: plain text with a newline, not a Status object.
    assert e.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert e.headers["X-Content-Type-Options"] == "nosniff"
    assert e.body == "Too many requests, please try again later.\n"


def test_throttle429_retry_after_can_be_chosen(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    set_api_faults(cluster.kubeconfig, {"kinds": {"throttle429": {"fraction": 1.0, "retryAfter": 7}}})
    assert _fails(lambda: core.list_namespace()).headers["Retry-After"] == "7"


def test_throttle429_leaves_long_running_log_requests_alone(
        cluster: ClusterHandle, core: client.CoreV1Api, namespace: str) -> None:
    set_api_faults(cluster.kubeconfig, {"kinds": {"throttle429": 1.0}})
    e = _fails(lambda: core.read_namespaced_pod_log("nope", namespace))
    assert e.status == 404  # the log request went through to the API (no such pod), as APF lets it


def test_slow_delays_the_answer(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    start = time.monotonic()
    core.list_namespace()
    quick = time.monotonic() - start
    set_api_faults(cluster.kubeconfig, {"kinds": {"slow": {"fraction": 1.0, "delay": 0.8}}})
    start = time.monotonic()
    core.list_namespace()
    slow = time.monotonic() - start
    assert quick < 0.5
    assert slow >= 0.8
    assert get_api_faults(cluster.kubeconfig)["injected"]["slow"] == 1


def test_slow_comes_on_top_of_an_error(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    set_api_faults(cluster.kubeconfig, {"kinds": {"error500": 1.0, "slow": {"fraction": 1.0, "delay": 0.5}}})
    start = time.monotonic()
    assert _fails(lambda: core.list_namespace()).status == 500
    assert time.monotonic() - start >= 0.5


def test_drop_watch_cuts_the_stream_mid_flight(cluster: ClusterHandle, core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="before")))
    set_api_faults(cluster.kubeconfig, {"kinds": {"drop-watch": {"fraction": 1.0, "after": 0.5}}})
    seen: list[str] = []
    start = time.monotonic()
    with pytest.raises(urllib3.exceptions.ProtocolError):
        for event in watch.Watch().stream(core.list_namespaced_config_map, namespace, timeout_seconds=30):
            seen.append(f"{event['type']} {event['object'].metadata.name}")
    elapsed = time.monotonic() - start
    assert "ADDED before" in seen  # the stream had started: the initial events came before the cut
    assert 0.5 <= elapsed < 5  # cut at 0.5 s, long before the 30 s timeout
    assert get_api_faults(cluster.kubeconfig)["injected"]["drop-watch"] == 1


def test_a_watch_that_ends_by_itself_is_not_cut_later(cluster: ClusterHandle, namespace: str) -> None:
    """The cut is for the watch, not its connection: a keep-alive request after it is left alone."""
    set_api_faults(cluster.kubeconfig, {"kinds": {"drop-watch": {"fraction": 1.0, "after": 2.0},
                                                  "slow": {"fraction": 1.0, "delay": 1.5}}})
    url = f"{cluster.url}/api/v1/namespaces/{namespace}/configmaps"
    with requests.Session() as session:
        with session.get(url, params={"watch": "1", "timeoutSeconds": "1"}, stream=True, timeout=30) as stream:
            lines = list(stream.iter_lines())  # ends cleanly after 1 s, before the 2 s cut
        assert lines
        # Same connection, in flight from about 2.5 s to 4 s: across the moment the cut would have come.
        assert session.get(url, timeout=30).status_code == 200
    assert get_api_faults(cluster.kubeconfig)["injected"]["drop-watch"] == 0


def test_drop_watch_leaves_plain_requests_alone(cluster: ClusterHandle, core: client.CoreV1Api, namespace: str) -> None:
    set_api_faults(cluster.kubeconfig, {"kinds": {"drop-watch": 1.0}})
    assert core.list_namespaced_config_map(namespace).items is not None
    state = get_api_faults(cluster.kubeconfig)
    assert state["requests"] == 1
    assert sum(state["injected"].values()) == 0


def test_a_client_rewatches_after_the_cut(cluster: ClusterHandle, core: client.CoreV1Api, namespace: str) -> None:
    set_api_faults(cluster.kubeconfig, {"kinds": {"drop-watch": {"fraction": 1.0, "after": 0.3}}})
    with pytest.raises(urllib3.exceptions.ProtocolError):
        for _ in watch.Watch().stream(core.list_namespaced_config_map, namespace, timeout_seconds=30):
            pass
    clear_api_faults(cluster.kubeconfig)
    listed = core.list_namespaced_config_map(namespace)
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="after")))
    names = [e["object"].metadata.name for e in watch.Watch().stream(
        core.list_namespaced_config_map, namespace, resource_version=listed.metadata.resource_version,
        timeout_seconds=2)]
    assert "after" in names


def test_a_fraction_hits_about_that_share_of_requests(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    set_api_faults(cluster.kubeconfig, {"kinds": {"error500": 0.1}, "seed": 7})
    failed = 0
    for _ in range(200):
        try:
            core.read_namespace("default")
        except client.ApiException as e:
            assert e.status == 500
            failed += 1
    assert 8 <= failed <= 35  # 10% of 200 = 20; binomial sd ~4.2
    state = get_api_faults(cluster.kubeconfig)
    assert state["requests"] == 200
    assert state["injected"]["error500"] == failed


def _outcomes(core: client.CoreV1Api, n: int) -> list[int]:
    out = []
    for _ in range(n):
        try:
            core.read_namespace("default")
            out.append(200)
        except client.ApiException as e:
            out.append(e.status)
    return out


def test_the_same_seed_replays_the_same_faults(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    spec = {"kinds": {"error500": 0.2, "unavailable503": 0.2}, "seed": 42}
    set_api_faults(cluster.kubeconfig, spec)
    first = _outcomes(core, 40)
    set_api_faults(cluster.kubeconfig, spec)
    second = _outcomes(core, 40)
    set_api_faults(cluster.kubeconfig, {**spec, "seed": 43})
    other = _outcomes(core, 40)
    assert first == second
    assert {200, 500, 503} <= set(first)
    assert other != first


def test_a_random_seed_is_reported_so_a_run_can_be_replayed(cluster: ClusterHandle) -> None:
    state = set_api_faults(cluster.kubeconfig, {"kinds": {"error500": 0.5}})
    assert isinstance(state["seed"], int)


def test_verbs_aim_at_writes_only(cluster: ClusterHandle, core: client.CoreV1Api, namespace: str) -> None:
    set_api_faults(cluster.kubeconfig, {"kinds": {"throttle429": 1.0},
                                        "verbs": ["create", "update", "patch", "delete"]})
    core.list_namespaced_config_map(namespace)
    core.read_namespace(namespace)
    e = _fails(lambda: core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x"))))
    assert e.status == 429


def test_path_aims_at_pods_only(cluster: ClusterHandle, core: client.CoreV1Api, namespace: str) -> None:
    set_api_faults(cluster.kubeconfig, {"kinds": {"error500": 1.0}, "path": "/api/v1/namespaces/[^/]+/pods"})
    core.list_namespaced_config_map(namespace)
    assert _fails(lambda: core.list_namespaced_pod(namespace)).status == 500


def test_off_clears_and_answers_what_was_injected(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    set_api_faults(cluster.kubeconfig, {"kinds": {"error500": 1.0}})
    _fails(lambda: core.list_namespace())
    cleared = clear_api_faults(cluster.kubeconfig)
    assert cleared["injected"]["error500"] == 1
    core.list_namespace()
    state = get_api_faults(cluster.kubeconfig)
    assert state["active"] is False
    assert state["kinds"] == {}


def test_the_context_manager_switches_faults_off_afterwards(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    with api_faults(cluster.kubeconfig, {"kinds": {"unavailable503": 1.0}}):
        assert _fails(lambda: core.list_namespace()).status == 503
    core.list_namespace()


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz", "/readyz/ping", ENDPOINT, "/azchaos/v1/audit"])
def test_probes_and_the_fault_endpoint_are_never_faulted(cluster: ClusterHandle, path: str) -> None:
    set_api_faults(cluster.kubeconfig, {"kinds": {"error500": 1.0}})
    assert requests.get(cluster.url + path, timeout=10).status_code == 200
    assert requests.get(cluster.url + "/version", timeout=10).status_code == 500  # not exempt upstream either


def test_the_endpoint_refuses_a_bad_spec_naming_the_fix(cluster: ClusterHandle) -> None:
    set_api_faults(cluster.kubeconfig, {"kinds": {"slow": 0.5}, "seed": 1})
    for body, words in (({"kinds": {"error501": 0.1}}, "unknown fault kind 'error501': use one of error500"),
                        ({"kinds": {"error500": 1.5}}, "error500 fraction 1.5 is outside 0..1"),
                        ({"kinds": {"error500": 0.6, "throttle429": 0.6}}, "together they must be at most 1"),
                        ({"kinds": {"error500": 0.1}, "verbs": ["fetch"]}, "unknown verb(s) fetch"),
                        ({"kinds": {"error500": 0.1}, "path": "("}, "not a valid regular expression")):
        resp = requests.put(cluster.url + ENDPOINT, json=body, timeout=10)
        assert resp.status_code == 400
        assert words in resp.json()["error"]
    assert get_api_faults(cluster.kubeconfig)["kinds"] == {"slow": {"fraction": 0.5, "delay": 1.0}}  # unchanged


def test_the_client_refuses_a_bad_spec_before_sending_it(cluster: ClusterHandle) -> None:
    with pytest.raises(ApiFaultsError, match="unknown fault kind 'error501'"):
        set_api_faults(cluster.kubeconfig, {"kinds": {"error501": 0.1}})


def test_nodes_stay_ready_while_every_external_request_fails(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    """Kubelet heartbeats are in-process: a lost API for clients is not a lost API for the nodes."""
    profile = Profile.by_name("fast")
    before = {n.metadata.name: n for n in core.list_node().items}
    start = time.time()
    set_api_faults(cluster.kubeconfig, {"kinds": {"error500": 1.0}})
    time.sleep(profile.heartbeat_loss_detection() + 1.5)  # long enough for the node controller to notice
    assert _fails(lambda: core.list_node()).status == 500
    clear_api_faults(cluster.kubeconfig)
    coordination = client.CoordinationV1Api(core.api_client)
    for node in core.list_node().items:
        ready = next(c for c in node.status.conditions if c.type == "Ready")
        assert ready.status == "True", node.metadata.name
        assert ready.last_transition_time == next(
            c for c in before[node.metadata.name].status.conditions if c.type == "Ready").last_transition_time
        lease = coordination.read_namespaced_lease(node.metadata.name, "kube-node-lease")
        assert lease.spec.renew_time.timestamp() > start + profile.heartbeat_loss_detection()
