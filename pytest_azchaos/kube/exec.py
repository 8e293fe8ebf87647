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


#: How long an exec the kubelet could not start (its container not running yet, as when a pod is just back) is
#: retried: the command never ran, so running it again is safe.
NOT_RUN_RETRY_SECONDS = 15.0


class ExecNotRun(RuntimeError):
    """The API server upgraded the exec but the kubelet did not run the command (its error channel carried a
    failure that is no exit code, e.g. ``unable to upgrade connection: container not found ("app")``)."""


def exec_in_pod(cluster: Any, namespace: str, pod: str, command: list[str], container: str | None = None,
                timeout: float = 30.0) -> ExecResult:
    """Run ``command`` in ``pod`` and return its exit code and combined output; an exec the kubelet could not start
    is retried for ``NOT_RUN_RETRY_SECONDS``, then raises ``ExecNotRun``."""
    again = tenacity.Retrying(stop=tenacity.stop_after_delay(NOT_RUN_RETRY_SECONDS), wait=tenacity.wait_fixed(0.5),
                              retry=tenacity.retry_if_exception_type(ExecNotRun), reraise=True)
    return again(_exec_once, cluster, namespace, pod, command, container, timeout)


def _exec_once(cluster: Any, namespace: str, pod: str, command: list[str], container: str | None,
               timeout: float) -> ExecResult:
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
        try:
            code = resp.returncode
        except ValueError as e:  # the client reads a Failure status's first cause as the exit code
            raise ExecNotRun(f"the kubelet did not run {command} in pod {namespace}/{pod}: {e}") from None
    finally:
        resp.close()
        sock = getattr(resp, "sock", None)
        if sock is not None:
            try:
                sock.shutdown()
            except Exception:
                pass
    return ExecResult(int(code if code is not None else 1), "".join(out))
