"""Run a command in a pod through the API's ``pods/exec`` (the official client's websocket stream)."""

from __future__ import annotations

from typing import Any

from ..checks.ebs import ExecResult


def exec_in_pod(cluster: Any, namespace: str, pod: str, command: list[str], container: str | None = None,
                timeout: float = 30.0) -> ExecResult:
    """Run ``command`` in ``pod`` and return its exit code and combined output."""
    from kubernetes import client
    from kubernetes.stream import stream

    core = client.CoreV1Api(cluster.api)
    kwargs: dict[str, Any] = {"command": command, "stderr": True, "stdin": False, "stdout": True, "tty": False,
                              "_preload_content": False}
    if container:
        kwargs["container"] = container
    resp = stream(core.connect_get_namespaced_pod_exec, pod, namespace, **kwargs)
    out: list[str] = []
    try:
        resp.run_forever(timeout=timeout)
        out.append(resp.read_stdout() or "")
        out.append(resp.read_stderr() or "")
        code = resp.returncode
    finally:
        resp.close()
        sock = getattr(resp, "sock", None)
        if sock is not None:
            try:
                sock.shutdown()
            except Exception:
                pass
    return ExecResult(int(code if code is not None else 1), "".join(out))
