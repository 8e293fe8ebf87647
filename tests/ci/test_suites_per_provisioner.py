"""AZ-CAPACITY judged for real on each provisioner that adds nodes (the default embedded cluster gives its node groups
no room, so there the check is not applicable): node groups with room for the Cluster Autoscaler, Karpenter, and EKS
Auto Mode. A subset inside CI's time budget; each provisioner runs every suite with ``./dev suites
--azchaos-embedded-provisioner ...`` (issue 13)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("args", [("--azchaos-embedded-node-group-room", "2"),
                                  ("--azchaos-embedded-provisioner", "karpenter"),
                                  ("--azchaos-embedded-provisioner", "auto-mode")],
                         ids=["node-groups-with-room", "karpenter", "auto-mode"])
def test_az_capacity_passes_where_the_provisioner_adds_nodes(args: tuple[str, str], tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "suites" / "test_az_capacity.py"), "-q",
                          "-p", "no:cacheprovider", "-rs", *args, "--azchaos-report-dir", str(tmp_path / "report")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    tail = run.stdout[-6000:]
    assert run.returncode == 0, tail + run.stderr[-2000:]
    assert "skipped" not in tail.splitlines()[-1], tail  # judged, not "not applicable"
    assert any(line.startswith("AZ-CAPACITY ") and " PASS " in line for line in tail.splitlines()), tail
