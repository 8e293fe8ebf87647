"""The oracle's predictions agree with what then happened in the EBS and outage suites.

Runs the suites as a user would (their own embedded cluster) and reads the evidence they wrote: every test
recorded a prediction before its fault, and every check compared with it observed what was predicted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITES = ["suites/test_az_ebs_drain.py", "suites/test_az_ebs_return.py", "suites/test_az_outage.py"]


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    report = tmp_path_factory.mktemp("agreement")
    proc = subprocess.run([sys.executable, "-m", "pytest", *SUITES, "-q", "-p", "no:cacheprovider",
                           "--azchaos-report-dir", str(report)], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    files = [json.loads(p.read_text()) for p in sorted(report.glob("*.json")) if p.name.startswith("suites")]
    assert files, f"no evidence written in {report}: {sorted(p.name for p in report.iterdir())}"
    return files


def test_every_suite_test_recorded_a_prediction_before_its_fault(evidence: list[dict]) -> None:
    tests = {e["test"] for e in evidence}
    assert len(tests) == 7, tests  # 3 EBS drain flavours, 3 EBS return flavours, 1 outage
    for e in evidence:
        assert e["predictions"], f"{e['test']}: no prediction recorded"
        assert all(p["summary"].startswith("expected ") for p in e["predictions"]), e["predictions"]


def test_every_check_compared_with_the_oracle_agrees(evidence: list[dict]) -> None:
    compared = [(e["test"], c) for e in evidence for c in e["checks"] if "agrees" in c["figures"]]
    assert len(compared) >= 4, [e["test"] for e in evidence]  # EBS drain x3, outage recovery
    disagreements = [f"{t}: {c['check_id']} observed {c['figures']['observed']}, predicted "
                     f"{c['figures']['predicted']}" for t, c in compared if c["figures"]["agrees"] is not True]
    assert not disagreements, "\n".join(disagreements)


def test_flavours_were_predicted_differently(evidence: list[dict]) -> None:
    outcomes = {p["kind"]: {d["outcome"] for d in p["details"]} for e in evidence if "ebs_drain" in e["test"]
                for p in e["predictions"]}
    assert "pending" in outcomes["drain"], outcomes
    assert "terminating" in outcomes["power-off"] and "terminating" in outcomes["partition"], outcomes
    partition = next(p for e in evidence if "ebs_drain" in e["test"] for p in e["predictions"]
                     if p["kind"] == "partition")
    assert "split brain" in partition["remedy"], partition
