"""The kubelet's runAsNonRoot check (``verifyRunAsNonRoot``) seen through the API: waiting reason, message, event.

agnhost and busybox have no ``USER`` (root): under ``runAsNonRoot: true`` without a ``runAsUser`` the
kubelet refuses them with ``CreateContainerConfigError``. Images with a named or a numeric non-root
``USER`` exist only in a cluster of this module's own (in-process, with two extra images registered).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from kubernetes import client, config
from kubernetes.stream import stream

from pytest_azchaos.embedded.cluster import EmbeddedCluster
from pytest_azchaos.embedded.images import ImageDefinition, default_registry
from pytest_azchaos.embedded.network.addresses import AddressPlan, choose_block
from pytest_azchaos.embedded.process import kubeconfig_document
from pytest_azchaos.embedded.topology import Topology

from ..waiting import wait_for

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"
BUSYBOX = "registry.k8s.io/e2e-test-images/busybox:1.36.1-1"
NAMED_USER_IMAGE = "example.test/azchaos/named-user:1"  # USER nobody
NUMERIC_USER_IMAGE = "example.test/azchaos/numeric-user:1"  # USER 1234


def _pod(name: str, pod_sc: dict[str, Any] | None = None, container_sc: dict[str, Any] | None = None,
         image: str = AGNHOST, args: list[str] | None = None, init_image: str | None = None) -> client.V1Pod:
    containers = [client.V1Container(name="app", image=image, args=args if args is not None else ["netexec"],
                                     security_context=client.V1SecurityContext(**container_sc)
                                     if container_sc else None)]
    init = [client.V1Container(name="setup", image=init_image, command=["true"])] if init_image else None
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(termination_grace_period_seconds=1, containers=containers, init_containers=init,
                              security_context=client.V1PodSecurityContext(**pod_sc) if pod_sc else None))


def _waiting(core: client.CoreV1Api, ns: str, name: str, init: bool = False) -> tuple[client.V1Pod, Any]:
    def statuses(p: client.V1Pod) -> list[Any]:
        return (p.status.init_container_statuses if init else p.status.container_statuses) or []

    pod = wait_for(lambda: core.read_namespaced_pod(name, ns),
                   lambda p: any(s.state.waiting is not None and s.state.waiting.reason == "CreateContainerConfigError"
                                 for s in statuses(p)),
                   timeout=20, what=f"pod {name} CreateContainerConfigError")
    return pod, statuses(pod)[0].state.waiting


def _failed_events(core: client.CoreV1Api, ns: str, name: str, expected: str) -> list[client.CoreV1Event]:
    return wait_for(lambda: [e for e in core.list_namespaced_event(ns).items
                             if e.involved_object.name == name and e.reason == "Failed"],
                    lambda evs: any(e.message == expected for e in evs), timeout=10, what=f"Failed event {expected}")


def _assert_refused(core: client.CoreV1Api, ns: str, name: str, message: str, field: str = "spec.containers{app}",
                    init: bool = False) -> None:
    pod, waiting = _waiting(core, ns, name, init=init)
    expected = message.format(pod=f"{name}_{ns}({pod.metadata.uid})")
    assert waiting.message == expected
    assert pod.status.phase == "Pending"
    events = _failed_events(core, ns, name, f"Error: {expected}")
    event = next(e for e in events if e.message == f"Error: {expected}")
    assert event.type == "Warning"
    assert event.involved_object.field_path == field
    assert event.source.component == "kubelet"


ROOT_IMAGE = 'container has runAsNonRoot and image will run as root (pod: "{pod}", container: app)'
ROOT_USER = 'container\'s runAsUser breaks non-root policy (pod: "{pod}", container: app)'
NAMED = ('container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root '
         '(pod: "{pod}", container: app)')


def test_root_image_without_run_as_user_is_refused(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("rootimg", pod_sc={"run_as_non_root": True}))
    _assert_refused(core, namespace, "rootimg", ROOT_IMAGE)
    cs = core.read_namespaced_pod("rootimg", namespace).status.container_statuses[0]
    assert cs.image == AGNHOST and not cs.image_id and cs.restart_count == 0 and not cs.started


def test_run_as_user_zero_breaks_non_root_policy(core: client.CoreV1Api, namespace: str) -> None:
    # Pod-level runAsNonRoot, container-level runAsUser 0: the effective security context merges both.
    core.create_namespaced_pod(namespace, _pod("uid0", pod_sc={"run_as_non_root": True},
                                               container_sc={"run_as_user": 0}))
    _assert_refused(core, namespace, "uid0", ROOT_USER)


def test_init_container_is_checked_too_and_kubectl_shows_the_reason(core: client.CoreV1Api, namespace: str,
                                                                    kubectl_path: str, kubeconfig: Path) -> None:
    # The pod allows the regular container (runAsUser on it) but the busybox init container runs as root.
    core.create_namespaced_pod(namespace, _pod("initroot", pod_sc={"run_as_non_root": True},
                                               container_sc={"run_as_user": 1000}, init_image=BUSYBOX))
    pod, waiting = _waiting(core, namespace, "initroot", init=True)
    assert waiting.message == ROOT_IMAGE.format(pod=f"initroot_{namespace}({pod.metadata.uid})").replace(
        "container: app", "container: setup")
    assert pod.status.container_statuses[0].state.waiting.reason == "PodInitializing"
    event = _failed_events(core, namespace, "initroot", f"Error: {waiting.message}")[0]
    assert event.involved_object.field_path == "spec.initContainers{setup}"  # pkg/kubelet/container/ref.go
    out = subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), "-n", namespace, "get", "pod", "initroot",
                          "--no-headers"], capture_output=True, text=True, timeout=30, check=True).stdout
    assert out.split()[2] == "Init:CreateContainerConfigError"


def test_non_root_uid_runs_and_serves_netexec(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("uid1000", pod_sc={"run_as_non_root": True, "run_as_user": 1000}))
    pod = wait_for(lambda: core.read_namespaced_pod("uid1000", namespace), lambda p: p.status.phase == "Running",
                   timeout=20, what="pod uid1000 Running")
    assert requests.get(f"http://{pod.status.pod_ip}:8080/hostname", timeout=2).text == "uid1000"
    assert _exec(core, namespace, "uid1000", ["id", "-u"]) == "1000\n"
    assert not [e for e in core.list_namespaced_event(namespace).items if e.reason == "Failed"]


def test_container_run_as_non_root_false_overrides_the_pod(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("override", pod_sc={"run_as_non_root": True},
                                               container_sc={"run_as_non_root": False}))
    wait_for(lambda: core.read_namespaced_pod("override", namespace), lambda p: p.status.phase == "Running",
             timeout=20, what="pod override Running")


def _exec(core: client.CoreV1Api, ns: str, name: str, argv: list[str]) -> str:
    resp = stream(core.connect_get_namespaced_pod_exec, name, ns, command=argv, stderr=True, stdout=True,
                  stdin=False, tty=False, _preload_content=False)
    try:
        resp.run_forever(timeout=10)
        return str(resp.read_stdout())
    finally:
        resp.close()
        resp.sock.shutdown()


# ------------------------------------------------------------ images with a USER (a cluster of our own)


@pytest.fixture(scope="module")
def user_images_core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[client.CoreV1Api]:
    """An in-process one-node cluster whose registry also serves agnhost with ``USER nobody`` / ``USER 1234``."""
    registry = default_registry()
    agnhost = registry.resolve(AGNHOST).definition
    registry.register(NAMED_USER_IMAGE, lambda ref: ImageDefinition(
        entrypoint=agnhost.entrypoint, cmd=agnhost.cmd, executables=agnhost.executables, user="nobody"))
    registry.register(NUMERIC_USER_IMAGE, lambda ref: ImageDefinition(
        entrypoint=agnhost.entrypoint, cmd=agnhost.cmd, executables=agnhost.executables, user="1234"))
    previous = os.environ.get("AZCHAOS_EMBEDDED_CLOUD")
    os.environ["AZCHAOS_EMBEDDED_CLOUD"] = "0"  # no moto: the kubelet is all this needs
    try:
        plan = AddressPlan(choose_block())
        cluster = EmbeddedCluster(Topology(zones=("us-east-1a",), nodes_per_zone=1), plan)
    finally:
        if previous is None:
            os.environ.pop("AZCHAOS_EMBEDDED_CLOUD", None)
        else:
            os.environ["AZCHAOS_EMBEDDED_CLOUD"] = previous
    cluster.kubelets.registry = registry
    started = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        state["loop"] = asyncio.get_running_loop()
        state["stop"] = asyncio.Event()
        try:
            state["url"] = await cluster.start(plan.api_host, 6443)
        finally:
            started.set()
        await state["stop"].wait()
        await cluster.stop()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(30) and "url" in state, "the in-process cluster did not start"
    kubeconfig = tmp_path_factory.mktemp("user-images") / "kubeconfig"
    kubeconfig.write_text(json.dumps(kubeconfig_document(state["url"])))
    api = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        yield client.CoreV1Api(api)
    finally:
        api.close()
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(30)


def test_image_with_a_user_name_cannot_be_verified(user_images_core: client.CoreV1Api) -> None:
    core = user_images_core
    core.create_namespaced_pod("default", _pod("named", pod_sc={"run_as_non_root": True}, image=NAMED_USER_IMAGE))
    _assert_refused(core, "default", "named", NAMED)


def test_image_with_a_numeric_non_root_user_runs_as_that_user(user_images_core: client.CoreV1Api) -> None:
    core = user_images_core
    core.create_namespaced_pod("default", _pod("numeric", pod_sc={"run_as_non_root": True}, image=NUMERIC_USER_IMAGE))
    pod = wait_for(lambda: core.read_namespaced_pod("numeric", "default"), lambda p: p.status.phase == "Running",
                   timeout=20, what="pod numeric Running")
    assert requests.get(f"http://{pod.status.pod_ip}:8080/hostname", timeout=2).text == "numeric"
    assert _exec(core, "default", "numeric", ["id", "-u"]) == "1234\n"
