"""``pods/exec`` through the official client's ``stream()`` and ``kubectl exec`` against the embedded cluster."""

from __future__ import annotations

import gc
import json
import subprocess
import time
import warnings
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from pytest_azchaos.embedded.kubelet.exec_stream import KUBELET_DIAL_SECONDS

from ...clusters import without_kubectl_log
from ..waiting import wait_for

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"


def _pod(name: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(termination_grace_period_seconds=1, containers=[
            client.V1Container(name="app", image=AGNHOST, args=["netexec"])]))


@pytest.fixture
def pod(core: client.CoreV1Api, namespace: str) -> str:
    core.create_namespaced_pod(namespace, _pod("box"))
    wait_for(lambda: core.read_namespaced_pod("box", namespace), lambda p: p.status.phase == "Running",
             what="pod box Running")
    return "box"


class _Session:
    """A WSClient that is always closed (its socket would otherwise leak a ResourceWarning)."""

    def __init__(self, resp) -> None:  # resp: kubernetes.stream.ws_client.WSClient
        self.resp = resp

    def __enter__(self):
        return self.resp

    def __exit__(self, *exc: object) -> None:
        self.resp.close()
        self.resp.sock.shutdown()  # close() skips the socket once the server has closed the stream


def _exec(core: client.CoreV1Api, ns: str, name: str, command: list[str], **kw) -> _Session:
    return _Session(stream(core.connect_get_namespaced_pod_exec, name, ns, command=command, stderr=True, stdout=True,
                           tty=False, _preload_content=False, **kw))


def _kubectl(kubectl_path: str, kubeconfig: Path, ns: str, *args: str, stdin: str | None = None):
    return subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), "-n", ns, *args], capture_output=True,
                          text=True, input=stdin, timeout=30)


def test_stream_runs_id_as_root(core: client.CoreV1Api, namespace: str, pod: str) -> None:
    with _exec(core, namespace, pod, ["id", "-u"]) as resp:
        resp.run_forever(timeout=10)
        assert resp.read_all() == "0\n"


def test_stream_reports_the_exit_code(core: client.CoreV1Api, namespace: str, pod: str) -> None:
    with _exec(core, namespace, pod, ["sh", "-c", "echo out; echo err >&2; exit 3"]) as resp:
        resp.run_forever(timeout=10)
        assert resp.returncode == 3
        assert resp.read_stdout() == "out\n" and resp.read_stderr() == "err\n"


def test_stream_error_channel_carries_the_upstream_status(core: client.CoreV1Api, namespace: str, pod: str) -> None:
    with _exec(core, namespace, pod, ["sh", "-c", "exit 2"]) as resp:
        resp.run_forever(timeout=10)
        status = json.loads(resp.read_channel(3))
    assert status == {"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
                      "message": "command terminated with non-zero exit code: command terminated with exit code 2",
                      "details": {"causes": [{"reason": "ExitCode", "message": "2"}]}}


def test_stream_success_returns_zero(core: client.CoreV1Api, namespace: str, pod: str) -> None:
    with _exec(core, namespace, pod, ["sh", "-c", "echo hi > /tmp/x && cat /tmp/x"]) as resp:
        resp.run_forever(timeout=10)
        assert resp.returncode == 0 and resp.read_stdout() == "hi\n"


def test_stream_stdin_reaches_the_command_after_close(core: client.CoreV1Api, namespace: str, pod: str) -> None:
    with _exec(core, namespace, pod, ["sh", "-c", "cat > /tmp/in && wc -c < /tmp/in"], stdin=True) as resp:
        resp.write_stdin("hello")
        resp.close_channel(0)
        resp.run_forever(timeout=10)
        assert resp.returncode == 0 and resp.read_stdout() == "5\n"


def test_stream_output_comes_after_the_kubelet_dial_not_with_the_upgrade(core: client.CoreV1Api, namespace: str,
                                                                         pod: str) -> None:
    """kubectl's WebSocket executor drops frames that beat its stream set-up; upstream's never do (see exec_stream)."""
    with _exec(core, namespace, pod, ["echo", "hi"]) as resp:
        upgraded = time.monotonic()
        while not resp.peek_stdout():
            resp.update(timeout=5)
        first_output = time.monotonic() - upgraded
    assert first_output >= KUBELET_DIAL_SECONDS * 0.8


def test_stream_missing_pod_fails_the_handshake_with_404(core: client.CoreV1Api, namespace: str) -> None:
    with pytest.raises(ApiException) as e:
        stream(core.connect_get_namespaced_pod_exec, "ghost", namespace, command=["id"], stderr=True, stdout=True,
               stdin=False, tty=False)
    assert "Handshake status 404" in str(e.value)  # the client's own wording of a refused upgrade
    with warnings.catch_warnings():  # websocket-client leaves the refused socket for the GC
        warnings.simplefilter("ignore", ResourceWarning)
        del e
        gc.collect()


def test_kubectl_exec_writes_and_reads_a_file(kubectl_path: str, kubeconfig: Path, namespace: str, pod: str) -> None:
    r = _kubectl(kubectl_path, kubeconfig, namespace, "exec", pod, "--", "sh", "-c", "echo hi > /tmp/x && cat /tmp/x")
    assert (r.returncode, r.stdout, without_kubectl_log(r.stderr)) == (0, "hi\n", "")


def test_kubectl_exec_exits_with_the_command_code(kubectl_path: str, kubeconfig: Path, namespace: str,
                                                  pod: str) -> None:
    r = _kubectl(kubectl_path, kubeconfig, namespace, "exec", pod, "--", "sh", "-c", "cat /nope")
    assert r.returncode == 1
    assert without_kubectl_log(r.stderr) == ("cat: can't open '/nope': No such file or directory\n"
                                             "command terminated with exit code 1\n")


def test_kubectl_exec_passes_stdin(kubectl_path: str, kubeconfig: Path, namespace: str, pod: str) -> None:
    r = _kubectl(kubectl_path, kubeconfig, namespace, "exec", "-i", pod, "--", "sh", "-c", "tr_ok=1; cat",
                 stdin="piped\n")
    assert (r.returncode, r.stdout) == (0, "piped\n")


def test_kubectl_exec_unknown_executable_is_a_runtime_error(kubectl_path: str, kubeconfig: Path, namespace: str,
                                                            pod: str) -> None:
    r = _kubectl(kubectl_path, kubeconfig, namespace, "exec", pod, "--", "nosuch")
    assert r.returncode == 1
    assert without_kubectl_log(r.stderr).startswith(
        "error: Internal error occurred: Internal error occurred: error executing command in container: failed to "
        "exec in container: failed to start exec ")
    assert r.stderr.rstrip().endswith('exec: "nosuch": executable file not found in $PATH: unknown')


def test_kubectl_exec_unknown_container_is_400(kubectl_path: str, kubeconfig: Path, namespace: str, pod: str) -> None:
    r = _kubectl(kubectl_path, kubeconfig, namespace, "exec", pod, "-c", "bad", "--", "id")
    assert r.returncode == 1
    assert r.stderr.strip() == f"Error from server (BadRequest): container bad is not valid for pod {pod}"


def test_kubectl_exec_into_a_container_not_running(kubectl_path: str, kubeconfig: Path, core: client.CoreV1Api,
                                                   namespace: str) -> None:
    bad = _pod("waiting")
    bad.spec.containers[0].image = "registry.k8s.io/e2e-test-images/no-such-image:1.0"
    core.create_namespaced_pod(namespace, bad)
    wait_for(lambda: core.read_namespaced_pod("waiting", namespace), lambda p: bool(p.spec.node_name),
             what="pod scheduled")
    r = _kubectl(kubectl_path, kubeconfig, namespace, "exec", "waiting", "--", "id")
    assert r.returncode == 1
    assert r.stderr.strip() == 'error: Internal error occurred: unable to upgrade connection: container not found ' \
                               '("app")'


def test_netexec_shell_endpoint_runs_the_shell(core: client.CoreV1Api, namespace: str, pod: str) -> None:
    import requests

    ip = core.read_namespaced_pod(pod, namespace).status.pod_ip
    body = requests.get(f"http://{ip}:8080/shell", params={"shellCommand": "echo hi; id -u"}, timeout=5).json()
    assert body == {"output": "hi\n0\n"}
