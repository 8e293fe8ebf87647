"""Run a command in a pod through the API's ``pods/exec`` (the official client's websocket stream).

The stream bypasses the REST layer and its retries (``kube.retry``): an upgrade the API server refuses with 429 or
5xx (throttled, overloaded) is retried here, with the same attempts and backoff. That is safe for any command:
a refused upgrade never reached the kubelet, so the command did not run.
"""

from __future__ import annotations

import re
from typing import Any

import tenacity

from ..checks.ebs import ExecResult
from .retry import SERVER_ERROR_ATTEMPTS, SERVER_ERROR_BACKOFF

_HANDSHAKE_STATUS = re.compile(r"Handshake status (\d{3})")


def refused_upgrade_status(error: BaseException) -> int | None:
    """The HTTP status with which the API server refused an exec's WebSocket upgrade (the official client raises
    ``ApiException(status=0, reason="Handshake status 503 ...")``), or None when ``error`` is something else."""
    from kubernetes.client import ApiException

    if not isinstance(error, ApiException) or error.status:
        return None
    status = getattr(error.__context__, "status_code", None)
    if isinstance(status, int):
        return status
    found = _HANDSHAKE_STATUS.search(str(error.reason or ""))
    return int(found.group(1)) if found else None


def _refused_for_now(error: BaseException) -> bool:
    status = refused_upgrade_status(error)
    return status is not None and (status == 429 or status >= 500)


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
    first, most = SERVER_ERROR_BACKOFF
    connect = tenacity.Retrying(stop=tenacity.stop_after_attempt(SERVER_ERROR_ATTEMPTS),
                                wait=tenacity.wait_exponential(multiplier=first, max=most),  # 0.1, 0.2 .. 2 s
                                retry=tenacity.retry_if_exception(_refused_for_now), reraise=True)
    resp = connect(stream, core.connect_get_namespaced_pod_exec, pod, namespace, **kwargs)
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
