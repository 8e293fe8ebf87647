"""AZ-CAPACITY judged for real on each provisioner that adds nodes (the default embedded cluster gives its node groups
no room, so there the check is not applicable): node groups with room for the Cluster Autoscaler, Karpenter, and EKS
Auto Mode. A subset inside CI's time budget; each provisioner runs every suite with ``./dev suites
--azchaos-embedded-provisioner ...`` (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .suite_runs import run_suites


@pytest.mark.parametrize("args", [("--azchaos-embedded-node-group-room", "2"),
                                  ("--azchaos-embedded-provisioner", "karpenter"),
                                  ("--azchaos-embedded-provisioner", "auto-mode")],
                         ids=["node-groups-with-room", "karpenter", "auto-mode"])
def test_az_capacity_passes_where_the_provisioner_adds_nodes(args: tuple[str, str], tmp_path: Path) -> None:
    run = run_suites(["test_az_capacity.py"], args, tmp_path, timeout=600)
    tail = run.tail
    assert run.process.returncode == 0, run.explained()
    assert "skipped" not in run.last_line, tail  # judged, not "not applicable"
    assert any(line.startswith("AZ-CAPACITY ") and " PASS " in line for line in tail.splitlines()), tail
