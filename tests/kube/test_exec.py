"""Exec into a pod survives an API server that refuses some WebSocket upgrades (429/5xx, as one under load does):
the upgrade is retried, since a refused one never ran the command; what keeps failing reaches the caller as an API
failure (inconclusive), never as the command's result. Real exec streams against the embedded cluster's fault
switch."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from pytest_azchaos.embedded.api_faults_client import api_faults, get_api_faults
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.kube.exec import exec_in_pod, refused_upgrade_status
from pytest_azchaos.kube.retry import api_failure

from ..embedded.waiting import wait_for

BUSYBOX = "registry.k8s.io/e2e-test-images/busybox:1.36.1-1"
EXEC_PATHS = r"/exec$"


@pytest.fixture
def shell_pod(core: client.CoreV1Api, namespace: str) -> str:
    """A running pod with a shell to exec into."""
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="shell"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="shell", image=BUSYBOX,
                                                             command=["sleep", "3600"])])))
    wait_for(lambda: core.read_namespaced_pod("shell", namespace).status.phase, lambda phase: phase == "Running",
             timeout=30, what="pod shell Running")
    return "shell"


def test_an_exec_whose_upgrade_is_refused_now_and_then_is_retried_and_runs(
        plugin_cluster: Cluster, kubeconfig: Path, namespace: str, shell_pod: str) -> None:
    with api_faults(kubeconfig, {"kinds": {"unavailable503": 0.5, "throttle429": 0.2}, "path": EXEC_PATHS,
                                 "seed": 11}):
        results = [exec_in_pod(plugin_cluster, namespace, shell_pod, ["sh", "-c", f"echo run-{i}"])
                   for i in range(6)]
        injected = get_api_faults(kubeconfig)["injected"]
    assert [(r.exit_code, r.output.strip()) for r in results] == [(0, f"run-{i}") for i in range(6)]
    assert injected.get("unavailable503", 0) + injected.get("throttle429", 0) > 0, injected  # upgrades were refused


def test_an_exec_refused_every_time_reaches_the_caller_as_an_api_failure(
        plugin_cluster: Cluster, kubeconfig: Path, namespace: str, shell_pod: str) -> None:
    with api_faults(kubeconfig, {"kinds": {"unavailable503": 1.0}, "path": EXEC_PATHS}), \
            pytest.raises(ApiException) as raised:
        exec_in_pod(plugin_cluster, namespace, shell_pod, ["true"])
    assert refused_upgrade_status(raised.value) == 503
    assert api_failure(raised.value).startswith("the Kubernetes API answered 0 Handshake status 503")


def _scheduled_pod_whose_container_starts_late(core: client.CoreV1Api, namespace: str, name: str,
                                               init_seconds: int) -> str:
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(
            init_containers=[client.V1Container(name="wait", image=BUSYBOX, command=["sleep", str(init_seconds)])],
            containers=[client.V1Container(name="shell", image=BUSYBOX, command=["sleep", "3600"])])))
    wait_for(lambda: core.read_namespaced_pod(name, namespace).spec.node_name, bool, timeout=30,
             what=f"pod {name} scheduled")
    return name


def test_an_exec_before_the_container_runs_is_retried_until_it_does(
        plugin_cluster: Cluster, core: client.CoreV1Api, namespace: str) -> None:
    """A pod just back (AZ-EBS-RETURN) can be exec'd into a moment before its container runs (failed CI once)."""
    pod = _scheduled_pod_whose_container_starts_late(core, namespace, "late", 2)
    result = exec_in_pod(plugin_cluster, namespace, pod, ["sh", "-c", "echo ran"])
    assert (result.exit_code, result.output.strip()) == (0, "ran")


def test_an_exec_whose_container_never_runs_raises_naming_the_kubelets_answer(
        plugin_cluster: Cluster, core: client.CoreV1Api, namespace: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_azchaos.kube import exec as exec_module

    monkeypatch.setattr(exec_module, "NOT_RUN_RETRY_SECONDS", 1.0)
    pod = _scheduled_pod_whose_container_starts_late(core, namespace, "never", 3600)
    with pytest.raises(exec_module.ExecNotRun, match=r'did not run .* container not found \("shell"\)'):
        exec_in_pod(plugin_cluster, namespace, pod, ["true"])
