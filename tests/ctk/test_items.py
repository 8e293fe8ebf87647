"""Experiment files under suites/ are pytest items run with chaoslib (in a pytest subprocess)."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]

OK = {"version": "1.0.0", "title": "cordon and undo", "description": "cordon one zone, roll back",
      "method": [{"type": "action", "name": "cordon", "provider": {
          "type": "python", "module": "pytest_azchaos.ctk.actions", "func": "cordon_zone",
          "arguments": {"zone": "auto"}}}],
      "rollbacks": [{"type": "action", "name": "undo", "provider": {
          "type": "python", "module": "pytest_azchaos.ctk.actions", "func": "uncordon_zone"}}]}

DEVIATES = """
version: 1.0.0
title: a steady state that breaks
description: the probe holds before the method and not after
steady-state-hypothesis:
  title: flip holds
  probes:
    - type: probe
      name: flip
      tolerance: true
      provider: {type: python, module: flip, func: flip}
method:
  - type: action
    name: wait
    provider: {type: python, module: flip, func: noop}
"""

FLIP = """
CALLS = []
def flip():
    CALLS.append(1)
    return len(CALLS) == 1
def noop():
    return None
"""


@pytest.fixture
def outcome(pytester: pytest.Pytester, ctk_cluster):
    pytester.mkdir("suites")
    pytester.makefile(".experiment.json", **{"suites/ok": json.dumps(OK)})
    pytester.makefile(".experiment.yaml", **{"suites/bad": DEVIATES})
    pytester.makefile(".experiment.json", **{"elsewhere/not_collected": json.dumps(OK)})
    pytester.makepyfile(flip=FLIP)
    report = pytester.path / "report"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--azchaos-kubeconfig",
                                           str(ctk_cluster.kubeconfig), "--azchaos-report-dir", str(report),
                                           "suites", "elsewhere", "-rA")
    return result, report


def test_experiment_files_under_suites_are_collected_and_judged_by_their_journal(outcome):
    result, _ = outcome
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["PASSED suites/ok.experiment.json::ok.experiment.json",
                                 "FAILED suites/bad.experiment.yaml::bad.experiment.yaml*"])


def test_a_deviated_journal_fails_with_the_reason_and_the_journal_attached(outcome):
    result, report = outcome
    result.stdout.fnmatch_lines(["*experiment 'a steady state that breaks' failed:*",
                                 "*deviated: the steady-state hypothesis did not hold after the method*",
                                 "*- Captured chaostoolkit journal call -*"])
    journal = json.loads(next((report / "journals").glob("*bad.experiment.yaml.json")).read_text())
    assert journal["deviated"] is True and journal["status"] == "completed"


def test_a_passing_experiment_cordoned_with_our_ledger_and_undid_it(outcome, cluster):
    _, report = outcome
    journal = json.loads(next((report / "journals").glob("*ok.experiment.json.json")).read_text())
    assert journal["status"] == "completed" and not journal["deviated"]
    assert journal["run"][0]["output"]["cordoned"], journal["run"][0]["output"]
    assert all(line.startswith("ok") for line in journal["rollbacks"][0]["output"]["undone"])
    assert not any(n.spec.unschedulable for n in cluster.core.list_node().items)
