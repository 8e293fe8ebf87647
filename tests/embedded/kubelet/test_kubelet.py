"""The embedded kubelet, end to end: pods really run on their own address, report status, stop gracefully."""

from __future__ import annotations

import time

import pytest
import requests
from kubernetes import client

from ..waiting import wait_for

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"


def _netexec_pod(name: str, *args: str, readiness: bool = True, grace: int | None = None,
                 image: str = AGNHOST, restart: str | None = None) -> client.V1Pod:
    probe = client.V1Probe(http_get=client.V1HTTPGetAction(path="/readyz", port=8080), period_seconds=1) \
        if readiness else None
    container = client.V1Container(name="app", image=image, args=["netexec", "--http-port=8080", *args],
                                   readiness_probe=probe)
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name, labels={"app": name}),
                        spec=client.V1PodSpec(containers=[container], termination_grace_period_seconds=grace,
                                              restart_policy=restart))


def _ready(pod: client.V1Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def _running(core: client.CoreV1Api, ns: str, name: str) -> client.V1Pod:
    return wait_for(lambda: core.read_namespaced_pod(name, ns), _ready, what=f"pod {name} Ready")


def test_pod_runs_on_its_own_address_and_answers_as_agnhost(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _netexec_pod("web"))
    pod = _running(core, namespace, "web")
    assert pod.status.phase == "Running"
    assert pod.status.pod_ip != pod.status.host_ip
    assert requests.get(f"http://{pod.status.pod_ip}:8080/hostname", timeout=2).text == "web"
    host_ip = next(a.address for a in core.read_node(pod.spec.node_name).status.addresses if a.type == "InternalIP")
    assert pod.status.host_ip == host_ip


def test_pod_status_reports_container_and_conditions_like_the_kubelet(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _netexec_pod("status"))
    pod = _running(core, namespace, "status")
    cs = pod.status.container_statuses[0]
    assert cs.ready and cs.started and cs.restart_count == 0
    assert cs.state.running is not None
    assert cs.image_id.startswith("registry.k8s.io/e2e-test-images/agnhost@sha256:")
    types = [c.type for c in pod.status.conditions]
    assert types[:4] == ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"]
    assert "PodScheduled" in types


def test_kubelet_events_name_the_container(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _netexec_pod("events"))
    _running(core, namespace, "events")
    events = {e.reason: e for e in core.list_namespaced_event(namespace).items if e.involved_object.name == "events"}
    assert events["Created"].message == "Created container: app"
    assert events["Started"].message == "Started container app"
    assert events["Started"].source.component == "kubelet"
    assert events["Started"].involved_object.field_path == "spec.containers{app}"


def test_unknown_image_goes_err_image_pull_then_image_pull_back_off(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _netexec_pod("nope", image="nginx:1.27", readiness=False))
    pod = wait_for(lambda: core.read_namespaced_pod("nope", namespace),
                   lambda p: bool(p.status.container_statuses) and p.status.container_statuses[0].state.waiting
                   is not None and p.status.container_statuses[0].state.waiting.reason == "ImagePullBackOff",
                   what="ImagePullBackOff")
    waiting = pod.status.container_statuses[0].state.waiting
    assert waiting.message.startswith('Back-off pulling image "nginx:1.27": ErrImagePull: rpc error:')
    reasons = [e.message for e in core.list_namespaced_event(namespace).items if e.involved_object.name == "nope"]
    assert "Error: ErrImagePull" in reasons
    assert 'Back-off pulling image "nginx:1.27"' in reasons


def test_readiness_follows_the_probe(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _netexec_pod("flaky", "--delay-shutdown=30", grace=30))
    pod = _running(core, namespace, "flaky")
    # SIGTERM through graceful deletion makes /readyz answer 503: the pod turns not ready, keeps serving.
    core.delete_namespaced_pod("flaky", namespace)
    wait_for(lambda: core.read_namespaced_pod("flaky", namespace), lambda p: not _ready(p), timeout=10,
             what="Ready=False after SIGTERM")
    assert requests.get(f"http://{pod.status.pod_ip}:8080/readyz", timeout=2).status_code == 503
    core.delete_namespaced_pod("flaky", namespace, grace_period_seconds=0)


def test_graceful_delete_waits_for_delay_shutdown_then_the_pod_is_gone(core: client.CoreV1Api,
                                                                       namespace: str) -> None:
    core.create_namespaced_pod(namespace, _netexec_pod("slow", "--delay-shutdown=2", grace=10))
    pod = _running(core, namespace, "slow")
    started = time.monotonic()
    core.delete_namespaced_pod("slow", namespace)
    assert requests.get(f"http://{pod.status.pod_ip}:8080/hostname", timeout=2).text == "slow"

    def gone() -> bool:
        try:
            core.read_namespaced_pod("slow", namespace)
        except client.ApiException as e:
            return e.status == 404
        return False

    wait_for(gone, bool, timeout=10, what="pod deleted")
    assert time.monotonic() - started >= 1.8
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://{pod.status.pod_ip}:8080/hostname", timeout=1)


def test_grace_period_ends_with_sigkill(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _netexec_pod("stubborn", "--delay-shutdown=60", grace=1))
    _running(core, namespace, "stubborn")
    started = time.monotonic()
    core.delete_namespaced_pod("stubborn", namespace)

    def gone() -> bool:
        try:
            core.read_namespaced_pod("stubborn", namespace)
        except client.ApiException as e:
            return e.status == 404
        return False

    wait_for(gone, bool, timeout=10, what="pod killed after its grace period")
    assert time.monotonic() - started < 5


def test_exited_container_restarts_and_counts(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _netexec_pod("crash", readiness=False))
    pod = wait_for(lambda: core.read_namespaced_pod("crash", namespace),
                   lambda p: p.status.pod_ip is not None and p.status.phase == "Running", what="running")
    with pytest.raises(requests.ConnectionError):  # netexec exits before answering, as os.Exit does
        requests.get(f"http://{pod.status.pod_ip}:8080/exit?code=3", timeout=2)
    pod = wait_for(lambda: core.read_namespaced_pod("crash", namespace),
                   lambda p: p.status.container_statuses[0].restart_count >= 1, timeout=20, what="restart")
    last = pod.status.container_statuses[0].last_state.terminated
    assert (last.exit_code, last.reason) == (3, "Error")


def test_logs_are_served_for_kubectl_logs(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _netexec_pod("logs"))
    pod = _running(core, namespace, "logs")
    requests.get(f"http://{pod.status.pod_ip}:8080/clientip", timeout=2)
    text = wait_for(lambda: core.read_namespaced_pod_log("logs", namespace), lambda t: "GET /clientip" in t,
                    what="request log line")
    assert "Started HTTP server on port 8080" in text
