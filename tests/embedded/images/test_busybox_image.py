"""The ``busybox`` image against the embedded cluster: ``kubectl run`` with a command runs, the
default ``sh`` exits at once without stdin (Completed, or CrashLoopBackOff under ``Always``), the
init-container pattern works, and option errors carry glibc's wording and busybox's usage."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from kubernetes import client

from ...clusters import without_kubectl_log
from ..waiting import wait_for


def _kubectl(kubectl_path: str, kubeconfig: Path, ns: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), "-n", ns, *args], capture_output=True,
                          text=True, timeout=30)


def test_kubectl_run_busybox_sleep_gives_a_running_pod(core: client.CoreV1Api, namespace: str,
                                                       kubectl_path: str, kubeconfig: Path) -> None:
    run = _kubectl(kubectl_path, kubeconfig, namespace, "run", "bb", "--image=busybox", "--", "sleep", "3600")
    assert run.returncode == 0, run.stderr
    pod = wait_for(lambda: core.read_namespaced_pod("bb", namespace), lambda p: p.status.phase == "Running",
                   what="pod bb Running")
    status = pod.status.container_statuses[0]
    assert status.state.running is not None
    assert status.image == "docker.io/library/busybox:latest"
    assert status.image_id.startswith("docker.io/library/busybox@sha256:")


@pytest.mark.parametrize("image", ["busybox:1.36", "docker.io/library/busybox",
                                   "registry.k8s.io/e2e-test-images/busybox:1.36.1-1"])
def test_every_busybox_name_runs(core: client.CoreV1Api, namespace: str, image: str) -> None:
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="bb"),
        spec=client.V1PodSpec(termination_grace_period_seconds=0, containers=[
            client.V1Container(name="bb", image=image, args=["sleep", "3600"])])))
    wait_for(lambda: core.read_namespaced_pod("bb", namespace), lambda p: p.status.phase == "Running",
             what=f"pod of {image} Running")


def test_the_default_sh_exits_at_once_without_stdin(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="bare"),
        spec=client.V1PodSpec(restart_policy="Never", containers=[client.V1Container(name="bb", image="busybox")])))
    pod = wait_for(lambda: core.read_namespaced_pod("bare", namespace), lambda p: p.status.phase == "Succeeded",
                   what="pod bare Succeeded")
    term = pod.status.container_statuses[0].state.terminated
    assert (term.exit_code, term.reason) == (0, "Completed")


def test_the_default_sh_crash_loops_under_restart_always(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="looping"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="bb", image="busybox")])))
    pod = wait_for(lambda: core.read_namespaced_pod("looping", namespace),
                   lambda p: bool(p.status.container_statuses) and p.status.container_statuses[0].state.waiting
                   is not None and p.status.container_statuses[0].state.waiting.reason == "CrashLoopBackOff",
                   what="pod looping in CrashLoopBackOff")
    status = pod.status.container_statuses[0]
    assert status.restart_count >= 1
    assert (status.last_state.terminated.exit_code, status.last_state.terminated.reason) == (0, "Completed")


def test_with_stdin_the_default_sh_keeps_running(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="interactive"),
        spec=client.V1PodSpec(termination_grace_period_seconds=0, containers=[
            client.V1Container(name="bb", image="busybox", stdin=True)])))
    pod = wait_for(lambda: core.read_namespaced_pod("interactive", namespace), lambda p: p.status.phase == "Running",
                   what="pod interactive Running")
    assert pod.status.container_statuses[0].restart_count == 0


def test_init_container_on_emptydir_then_main_reads_it(core: client.CoreV1Api, namespace: str, kubectl_path: str,
                                                       kubeconfig: Path) -> None:
    work = [client.V1VolumeMount(name="work", mount_path="/work")]
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="ready"),
        spec=client.V1PodSpec(
            termination_grace_period_seconds=0,
            volumes=[client.V1Volume(name="work", empty_dir=client.V1EmptyDirVolumeSource())],
            init_containers=[client.V1Container(name="init", image="busybox", volume_mounts=work,
                                                command=["sh", "-c", "echo ready > /work/x"])],
            containers=[client.V1Container(name="main", image="busybox", volume_mounts=work,
                                           command=["sh", "-c", "cat /work/x && sleep 3600"])])))
    wait_for(lambda: core.read_namespaced_pod("ready", namespace), lambda p: p.status.phase == "Running",
             what="pod ready Running")
    wait_for(lambda: _kubectl(kubectl_path, kubeconfig, namespace, "logs", "ready", "-c", "main").stdout,
             lambda out: out == "ready\n", what="main container log")
    exec_ = _kubectl(kubectl_path, kubeconfig, namespace, "exec", "ready", "-c", "main", "--", "cat", "/work/x")
    assert (exec_.returncode, exec_.stdout) == (0, "ready\n")


def test_an_unknown_option_uses_glibc_wording_and_the_1_36_banner(core: client.CoreV1Api, namespace: str,
                                                                  kubectl_path: str, kubeconfig: Path) -> None:
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="opts"),
        spec=client.V1PodSpec(termination_grace_period_seconds=0, containers=[
            client.V1Container(name="bb", image="busybox:1.36", args=["sleep", "3600"])])))
    wait_for(lambda: core.read_namespaced_pod("opts", namespace), lambda p: p.status.phase == "Running",
             what="pod opts Running")
    result = _kubectl(kubectl_path, kubeconfig, namespace, "exec", "opts", "--", "ls", "-z")
    assert result.returncode == 1
    lines = without_kubectl_log(result.stderr).splitlines()
    assert lines[0] == "ls: invalid option -- 'z'"
    assert lines[1].startswith("BusyBox v1.36.1 (") and lines[1].endswith(") multi-call binary.")
    assert lines[3] == "Usage: ls [-1AaCxdLHRFplinshrSXvctu] [-w WIDTH] [FILE]..."


def test_an_unknown_busybox_like_image_still_fails_to_pull(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="nope"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busyboxx:1.36")])))
    pod = wait_for(lambda: core.read_namespaced_pod("nope", namespace),
                   lambda p: bool(p.status.container_statuses) and p.status.container_statuses[0].state.waiting
                   is not None and p.status.container_statuses[0].state.waiting.reason in ("ErrImagePull",
                                                                                           "ImagePullBackOff"),
                   what="pull failure")
    assert "docker.io/library/busyboxx:1.36" in pod.status.container_statuses[0].state.waiting.message
