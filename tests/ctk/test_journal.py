"""Our own tests write a chaostoolkit journal: the shape chaoslib writes, an experiment `chaos validate` accepts,
and the verdicts chaoslib would give (completed, deviated by a failed check, failed by an error)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from chaoslib.experiment import ensure_experiment_is_valid, run_experiment

from pytest_azchaos.ctk.items import judge

TESTS = '''
from types import SimpleNamespace

from pytest_azchaos.checks.result import CheckResult


def test_cordon_holds(azchaos_chaos, azchaos_check, azchaos_zone):
    """Cordon one zone; the check holds."""
    azchaos_chaos.cordon_zone(azchaos_zone)
    azchaos_check(CheckResult("AZ-CORDON", True, "nothing was evicted"))


def test_cordon_breaks(azchaos_chaos, azchaos_check, azchaos_zone):
    azchaos_chaos.cordon_zone(azchaos_zone)
    azchaos_check(CheckResult("AZ-DRAIN", False, "3 of 90 requests failed", ("req 17 from 127.0.0.9: reset",)))


def test_fault_raises(azchaos_chaos, azchaos_namespace):
    azchaos_chaos.kill_pods(SimpleNamespace(namespace=azchaos_namespace, label_selector="app=none"), count=99)
'''


@pytest.fixture(scope="module")
def journals(tmp_path_factory: pytest.TempPathFactory, ctk_cluster: Any) -> dict[str, dict[str, Any]]:
    """Run the three tests above in a pytest subprocess; their journals by the last word of the test name."""
    path = tmp_path_factory.mktemp("journal")
    (path / "test_journaled.py").write_text(TESTS)
    report = path / "report"
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--azchaos-kubeconfig",
                          str(ctk_cluster.kubeconfig), "--azchaos-report-dir", str(report), "test_journaled.py"],
                         cwd=path, capture_output=True, text=True, timeout=300)
    assert "2 failed, 1 passed" in run.stdout, run.stdout[-3000:] + run.stderr[-2000:]
    return {p.stem.rsplit("_", 1)[-1]: json.loads(p.read_text()) for p in (report / "journals").glob("*.json")}


def chaoslib_journal() -> dict[str, Any]:
    """A journal chaoslib itself writes, for its shape."""
    probe = {"type": "probe", "name": "pid", "tolerance": True,
             "provider": {"type": "python", "module": "os.path", "func": "isdir", "arguments": {"s": "/"}}}
    experiment = {"version": "1.0.0", "title": "t", "description": "d",
                  "steady-state-hypothesis": {"title": "h", "probes": [probe]},
                  "method": [{"type": "action", "name": "a", "provider": {
                      "type": "python", "module": "os", "func": "getpid"}}],
                  "rollbacks": [{"type": "action", "name": "r", "provider": {
                      "type": "python", "module": "os", "func": "getpid"}}]}
    return run_experiment(experiment, settings={"runtime": {"rollbacks": {"strategy": "always"}}})


def test_journal_has_the_keys_chaoslib_writes(journals):
    ours, theirs = journals["holds"], chaoslib_journal()
    assert set(ours) == set(theirs)
    assert set(ours["run"][0]) == set(theirs["run"][0])
    assert set(ours["rollbacks"][0]) == set(theirs["rollbacks"][0])
    assert set(ours["steady_states"]["after"]) == set(theirs["steady_states"]["after"])
    assert set(ours["steady_states"]["after"]["probes"][0]) == set(theirs["steady_states"]["after"]["probes"][0])


def test_journal_experiment_is_valid_for_chaostoolkit(journals):
    for journal in journals.values():
        ensure_experiment_is_valid(journal["experiment"])


def test_passing_test_journal_is_completed_with_the_fault_and_its_undo(journals):
    j = journals["holds"]
    assert j["status"] == "completed" and j["deviated"] is False and judge(j) == []
    assert j["experiment"]["description"] == "Cordon one zone; the check holds."
    (run,) = j["run"]
    assert run["activity"]["provider"]["func"] == "cordon_zone" and run["status"] == "succeeded"
    assert run["activity"]["provider"]["arguments"]["zone"].startswith("us-")
    (undo,) = j["rollbacks"]
    assert undo["activity"]["provider"]["func"] == "undo_faults" and "uncordoned" in undo["output"]
    assert j["steady_states"]["after"]["probes"][0]["tolerance_met"] is True


def test_failed_check_deviates_the_journal_with_its_evidence(journals):
    j = journals["breaks"]
    assert j["status"] == "completed" and j["deviated"] is True
    (probe,) = j["steady_states"]["after"]["probes"]
    assert probe["tolerance_met"] is False
    assert probe["output"]["evidence"] == ["req 17 from 127.0.0.9: reset"]
    assert any("out of tolerance: 3 of 90 requests failed" in p for p in judge(j))


def test_fault_that_raised_fails_the_journal_with_its_error(journals):
    j = journals["raises"]
    assert j["status"] == "failed" and j["deviated"] is False
    (run,) = j["run"]
    assert run["status"] == "failed" and run["activity"]["provider"]["arguments"]["count"] == 99
    assert run["exception"] and "99" in run["exception"][-1]
