"""Helpers for tests that need a cluster of their own (they cordon zones, stop nodes, fill nodes).

Pytest-free context managers; each test module wraps them in fixtures of the scope it needs.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kubernetes import client, config

from pytest_azchaos.embedded.process import ClusterHandle, start_cluster, stop_cluster


@contextmanager
def own_cluster(directory: Path, **start: Any) -> Iterator[ClusterHandle]:
    """An embedded cluster started with its kubeconfig in ``directory``, stopped afterwards."""
    kubeconfig = directory / "kubeconfig"
    handle = start_cluster(kubeconfig, **{"exit_with_parent": True, **start})
    try:
        yield handle
    finally:
        stop_cluster(kubeconfig)


@contextmanager
def plugin_cluster(handle: ClusterHandle) -> Iterator[Any]:
    """The plugin's own ``Cluster`` (retrying client, zones) for ``handle``'s kubeconfig, closed afterwards."""
    from pytest_azchaos.kube.cluster import Cluster

    cluster = Cluster(handle.kubeconfig)
    try:
        yield cluster
    finally:
        cluster.close()


@contextmanager
def api_client(handle: ClusterHandle) -> Iterator[client.ApiClient]:
    """The official client's ApiClient for ``handle``'s kubeconfig, closed afterwards."""
    api = config.new_client_from_config(config_file=str(handle.kubeconfig))
    try:
        yield api
    finally:
        api.close()


@contextmanager
def fresh_namespace(core: client.CoreV1Api, prefix: str) -> Iterator[str]:
    """A namespace ``<prefix>-<8 hex>``, deleted afterwards."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        core.delete_namespace(name)


# kubectl's own klog lines (``E1207 07:01:22.929200  27749 websocket.go:296] Unknown stream id 1, discarding
# message``): client-go can read the first, empty stdout frame (upstream sends it to say the stream is up) before
# it has set its streams up. Harmless and timing-dependent; the command's own output comes later, after the
# kubelet dial (exec_stream.KUBELET_DIAL_SECONDS), as upstream's does.
_KLOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [\w.]+:\d+\] .*\n", re.M)


def without_kubectl_log(stderr: str) -> str:
    """``stderr`` of a kubectl command without kubectl's own log lines."""
    return _KLOG.sub("", stderr)


def kill_9(run: subprocess.Popen[str]) -> None:
    """SIGKILL a run mid-fault: none of its own undo runs (what `azchaos restore` is for)."""
    run.send_signal(signal.SIGKILL)
    run.wait()
    if run.stdout:
        run.stdout.close()


def restore_after_kill(kubeconfig: Path, ledger_dir: Path) -> subprocess.CompletedProcess[str]:
    """`azchaos restore` of a killed run's ledger in ``ledger_dir``, once the run's lease (5 s here) expired."""
    time.sleep(5.5)
    return subprocess.run([sys.executable, "-m", "pytest_azchaos.cli", "restore", "--kubeconfig", str(kubeconfig),
                           "--ledger-dir", str(ledger_dir)], capture_output=True, text=True, timeout=180)
