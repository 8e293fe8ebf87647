"""``kubectl logs`` of a container that never started says what it waits for, in the kubelet's words
(``validateContainerLogStatus``: image pulls get their own phrases, other reasons are printed as they are)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from pytest_azchaos.embedded.kubelet.logs import waiting_message

from ..waiting import wait_for

WORDS = {"ErrImagePull": "image can't be pulled", "ImagePullBackOff": "trying and failing to pull image"}


def _waiting_reason(core: client.CoreV1Api, ns: str, name: str) -> str | None:
    statuses = core.read_namespaced_pod(name, ns).status.container_statuses or []
    waiting = statuses[0].state.waiting if statuses else None
    return waiting.reason if waiting is not None else None


def _log_error(core: client.CoreV1Api, ns: str, name: str) -> ApiException:
    try:
        core.read_namespaced_pod_log(name, ns)
    except ApiException as e:
        return e
    raise AssertionError("the log of a container that never started was served")


def test_messages_follow_upstream_wording() -> None:
    assert waiting_message("p", "app", "ErrImagePull") == \
        'container "app" in pod "p" is waiting to start: image can\'t be pulled'
    assert waiting_message("p", "app", "ImagePullBackOff") == \
        'container "app" in pod "p" is waiting to start: trying and failing to pull image'
    assert waiting_message("p", "app", "CreateContainerConfigError") == \
        'container "app" in pod "p" is waiting to start: CreateContainerConfigError'


def test_log_of_a_container_that_cannot_pull_names_the_pull(core: client.CoreV1Api, namespace: str,
                                                          kubeconfig: Path, kubectl_path: str) -> None:
    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="nopull"),
                       spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="nginx:1.27")]))
    core.create_namespaced_pod(namespace, pod)
    wait_for(lambda: _waiting_reason(core, namespace, "nopull"), lambda r: r in WORDS, what="an image pull failure")
    # The reason alternates (ErrImagePull, then ImagePullBackOff): take a reading that did not move around it.
    for _ in range(20):
        before = _waiting_reason(core, namespace, "nopull")
        err = _log_error(core, namespace, "nopull")
        proc = subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), "-n", namespace, "logs", "nopull"],
                              capture_output=True, text=True, timeout=30)
        after = _waiting_reason(core, namespace, "nopull")
        if before == after and before in WORDS:
            want = f'container "app" in pod "nopull" is waiting to start: {WORDS[before]}'
            assert err.status == 400
            status = json.loads(err.body)
            assert (status["code"], status["reason"], status["message"]) == (400, "BadRequest", want)
            assert proc.returncode == 1
            assert proc.stderr.strip() == f"Error from server (BadRequest): {want}"
            return
    raise AssertionError("the waiting reason never held still for one reading")


def test_an_init_containers_log_is_read_by_its_name(core: client.CoreV1Api, namespace: str) -> None:
    """LogLocation accepts init containers by name, and names them when no container was given."""
    agnhost = "registry.k8s.io/e2e-test-images/agnhost:2.52"
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="two"),
        spec=client.V1PodSpec(termination_grace_period_seconds=0, init_containers=[
            client.V1Container(name="prepare", image=agnhost, command=["sh", "-c", "echo prepared"])],
            containers=[client.V1Container(name="a", image=agnhost, command=["sleep", "3600"]),
                        client.V1Container(name="b", image=agnhost, command=["sleep", "3600"])])))
    wait_for(lambda: core.read_namespaced_pod("two", namespace), lambda p: p.status.phase == "Running",
             what="pod two Running")
    assert core.read_namespaced_pod_log("two", namespace, container="prepare") == "prepared\n"
    with pytest.raises(ApiException) as refused:
        core.read_namespaced_pod_log("two", namespace)
    assert refused.value.status == 400
    assert ("a container name must be specified for pod two, choose one of: [a b] or one of the init containers: "
            "[prepare]") in refused.value.body
