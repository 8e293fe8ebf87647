"""A container's ``command`` resolves on the image's filesystem as the runtime does: every shell and
applet of agnhost's Alpine userland starts, a missing executable is containerd's StartError (128),
and init containers run before the others (sidecars beside them)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kubernetes import client

from ..waiting import wait_for

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"


def _pod(name: str, image: str = AGNHOST, *, command: list[str] | None = None, args: list[str] | None = None,
         init: list[client.V1Container] | None = None, volumes: list[client.V1Volume] | None = None,
         mounts: list[client.V1VolumeMount] | None = None, restart: str = "Always") -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(termination_grace_period_seconds=0, restart_policy=restart, init_containers=init,
                              volumes=volumes, containers=[
                                  client.V1Container(name="main", image=image, command=command, args=args,
                                                     volume_mounts=mounts)]))


def _running(core: client.CoreV1Api, ns: str, name: str) -> client.V1Pod:
    return wait_for(lambda: core.read_namespaced_pod(name, ns), lambda p: p.status.phase == "Running",
                    what=f"pod {name} Running")


def _logs(kubectl_path: str, kubeconfig: Path, ns: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), "-n", ns, "logs", *args],
                          capture_output=True, text=True, timeout=30)


def test_sleep_on_the_path_is_the_containers_command(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("sleeper", command=["sleep", "3600"]))
    pod = _running(core, namespace, "sleeper")
    assert pod.status.container_statuses[0].state.running is not None
    assert pod.status.container_statuses[0].restart_count == 0


def test_an_absolute_applet_path_is_the_containers_command(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("abs", command=["/bin/sleep", "3600"]))
    assert _running(core, namespace, "abs").status.container_statuses[0].state.running is not None


def test_a_shell_command_logs_what_it_prints_while_it_runs(core: client.CoreV1Api, namespace: str,
                                                           kubectl_path: str, kubeconfig: Path) -> None:
    core.create_namespaced_pod(namespace, _pod("talker", command=["/bin/sh", "-c", "echo hi; sleep 3600"]))
    _running(core, namespace, "talker")
    logs = wait_for(lambda: _logs(kubectl_path, kubeconfig, namespace, "talker"), lambda r: r.stdout == "hi\n",
                    what="kubectl logs talker")
    assert logs.returncode == 0


def test_a_missing_executable_is_containerds_start_error(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("missing", command=["nosuchprog"], restart="Never"))
    pod = wait_for(lambda: core.read_namespaced_pod("missing", namespace),
                   lambda p: bool(p.status.container_statuses) and p.status.container_statuses[0].state.terminated,
                   what="pod missing terminated")
    term = pod.status.container_statuses[0].state.terminated
    assert (term.exit_code, term.reason) == (128, "StartError")
    assert term.message == (
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create "
        'failed: unable to start container process: exec: "nosuchprog": executable file not found in $PATH: '
        "unknown")
    assert pod.status.phase == "Failed"


def test_a_missing_absolute_path_is_a_stat_error(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("missing-abs", command=["/usr/bin/nosuch"], restart="Never"))
    pod = wait_for(lambda: core.read_namespaced_pod("missing-abs", namespace),
                   lambda p: bool(p.status.container_statuses) and p.status.container_statuses[0].state.terminated,
                   what="pod missing-abs terminated")
    term = pod.status.container_statuses[0].state.terminated
    assert term.exit_code == 128
    assert 'exec: "/usr/bin/nosuch": stat /usr/bin/nosuch: no such file or directory: unknown' in term.message


def test_a_command_that_exits_completes_the_pod(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("done", command=["sh", "-c", "exit 3"], restart="Never"))
    pod = wait_for(lambda: core.read_namespaced_pod("done", namespace), lambda p: p.status.phase == "Failed",
                   what="pod done Failed")
    term = pod.status.container_statuses[0].state.terminated
    assert (term.exit_code, term.reason) == (3, "Error")


def test_an_applet_error_as_command_is_its_exit_code_and_log(core: client.CoreV1Api, namespace: str,
                                                             kubectl_path: str, kubeconfig: Path) -> None:
    core.create_namespaced_pod(namespace, _pod("baddate", command=["date", "foo"], restart="Never"))
    pod = wait_for(lambda: core.read_namespaced_pod("baddate", namespace), lambda p: p.status.phase == "Failed",
                   what="pod baddate Failed")
    assert pod.status.container_statuses[0].state.terminated.exit_code == 1
    assert _logs(kubectl_path, kubeconfig, namespace, "baddate").stdout == "date: invalid date 'foo'\n"


def test_an_init_container_writes_what_the_main_container_reads(core: client.CoreV1Api, namespace: str,
                                                                kubectl_path: str, kubeconfig: Path) -> None:
    work = [client.V1VolumeMount(name="work", mount_path="/work")]
    init = [client.V1Container(name="prepare", image=AGNHOST, command=["sh", "-c", "echo ready > /work/x"],
                               volume_mounts=work)]
    core.create_namespaced_pod(namespace, _pod(
        "initialized", command=["sh", "-c", "cat /work/x; sleep 3600"], init=init, mounts=work,
        volumes=[client.V1Volume(name="work", empty_dir=client.V1EmptyDirVolumeSource())]))
    pod = _running(core, namespace, "initialized")
    init_status = pod.status.init_container_statuses[0]
    assert (init_status.state.terminated.exit_code, init_status.state.terminated.reason) == (0, "Completed")
    assert init_status.ready is True
    conditions = {c.type: c.status for c in pod.status.conditions}
    assert conditions["Initialized"] == "True" and conditions["Ready"] == "True"
    wait_for(lambda: _logs(kubectl_path, kubeconfig, namespace, "initialized").stdout, lambda out: out == "ready\n",
             what="main container's log")


def test_a_failing_init_container_keeps_the_pod_initializing(core: client.CoreV1Api, namespace: str) -> None:
    init = [client.V1Container(name="gate", image=AGNHOST, command=["sh", "-c", "exit 1"])]
    core.create_namespaced_pod(namespace, _pod("gated", command=["sleep", "3600"], init=init))
    pod = wait_for(lambda: core.read_namespaced_pod("gated", namespace),
                   lambda p: bool(p.status.init_container_statuses)
                   and (p.status.init_container_statuses[0].restart_count or 0) >= 1,
                   what="init container restarted")
    assert pod.status.phase == "Pending"
    assert pod.status.container_statuses[0].state.waiting.reason == "PodInitializing"
    initialized = next(c for c in pod.status.conditions if c.type == "Initialized")
    assert (initialized.status, initialized.reason, initialized.message) == (
        "False", "ContainersNotInitialized", "containers with incomplete status: [gate]")


def test_a_sidecar_runs_beside_the_main_container(core: client.CoreV1Api, namespace: str) -> None:
    sidecar = client.V1Container(name="side", image=AGNHOST, command=["sleep", "3600"], restart_policy="Always")
    core.create_namespaced_pod(namespace, _pod("with-sidecar", command=["sleep", "3600"], init=[sidecar]))
    pod = _running(core, namespace, "with-sidecar")
    side = pod.status.init_container_statuses[0]
    assert side.state.running is not None and side.started is True
    assert pod.status.container_statuses[0].state.running is not None
