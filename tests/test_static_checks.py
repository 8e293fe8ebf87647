"""The project's own static checks, run as tests so `./dev test` (and so CI) runs them: ruff, with the
banned-api rule that fences the plugin from the embedded cluster, and mypy on pytest_azchaos/."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed: it is a test dependency (pip install -e '.[test]')"
    return found


def test_ruff_finds_nothing() -> None:
    run = subprocess.run([_tool("ruff"), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy_finds_nothing_in_the_package() -> None:
    run = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def _ruff_on(relative: str, source: str) -> subprocess.CompletedProcess[str]:
    """ruff on a throwaway module at ``relative`` (inside the package, so its directory's settings apply)."""
    probe = ROOT / relative
    probe.write_text(source)
    try:
        return subprocess.run([_tool("ruff"), "check", "--no-cache", str(probe)], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
    finally:
        probe.unlink()


def test_the_plugin_may_not_import_the_embedded_cluster() -> None:
    """The fence holds: a plugin module importing the emulator is refused by ruff, naming the rule."""
    run = _ruff_on("pytest_azchaos/checks/_fence_probe.py",
                   "from ..embedded.topology import Topology\n\n__all__ = ['Topology']\n")
    assert run.returncode == 1 and "TID251" in run.stdout and "pytest_azchaos.embedded" in run.stdout, run.stdout


def test_the_embedded_cluster_may_import_only_the_contract() -> None:
    run = _ruff_on("pytest_azchaos/embedded/_fence_probe.py",
                   "from ..kube.cluster import Cluster\n\n__all__ = ['Cluster']\n")
    assert run.returncode == 1 and "TID251" in run.stdout and "pytest_azchaos.kube" in run.stdout, run.stdout
