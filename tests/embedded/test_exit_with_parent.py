"""A cluster started for a pytest session stops by itself when the session is killed -9 (no orphans)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

OWNER = """
import sys, time
from pathlib import Path
from pytest_azchaos.embedded.process import start_cluster
handle = start_cluster(Path(sys.argv[1]), exit_with_parent=sys.argv[2] == "1")
print(handle.pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie (not yet reaped by init) is gone for our purpose
        return f.read().split(") ", 1)[1][0] != "Z"


def _owner_killed(tmp_path: Path, exit_with_parent: bool) -> int:
    """Start a cluster from an owner process, kill -9 the owner, return the cluster's pid."""
    owner = subprocess.Popen([sys.executable, "-c", OWNER, str(tmp_path / "kubeconfig"), "1" if exit_with_parent
                              else "0"], stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    pid = int(owner.stdout.readline())
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    owner.stdout.close()
    return pid


def test_a_cluster_whose_owner_is_killed_stops_by_itself(tmp_path: Path) -> None:
    pid = _owner_killed(tmp_path, exit_with_parent=True)
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(pid), f"cluster pid {pid} outlived its owner by 30 s"
    assert "its owner (pid" in (tmp_path / "kubeconfig.log").read_text()


def test_a_detached_cluster_outlives_its_starter(tmp_path: Path) -> None:
    pid = _owner_killed(tmp_path, exit_with_parent=False)
    try:
        time.sleep(3)
        assert _alive(pid)
    finally:
        os.kill(pid, signal.SIGTERM)
