"""Under pytest-xdist, tests that share one cluster (--azchaos-kubeconfig) never run side by side on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_azchaos.parallel import ParallelRunRefused, plan_distribution

pytest_plugins = ["pytester"]

TWO_CLUSTER_TESTS = """
import json, os, time

def record(name, out):
    start = time.time()
    time.sleep(1.0)
    with open(out, "a") as f:
        f.write(json.dumps({"test": name, "worker": os.environ.get("PYTEST_XDIST_WORKER"),
                            "start": start, "end": time.time()}) + "\\n")

def test_first(azchaos_cluster):
    record("first", OUT)

def test_second(azchaos_cluster):
    record("second", OUT)

def test_third_without_the_cluster():
    pass
"""


def test_default_xdist_mode_on_a_shared_cluster_becomes_loadgroup() -> None:
    dist, note = plan_distribution("load", shared_cluster=True)
    assert dist == "loadgroup" and note is not None and "shares the cluster" in note


def test_private_clusters_per_worker_keep_the_chosen_mode() -> None:
    assert plan_distribution("load", shared_cluster=False) == ("load", None)


def test_a_mode_that_splits_the_group_is_refused_with_the_fix() -> None:
    with pytest.raises(ParallelRunRefused, match="Use --dist loadgroup"):
        plan_distribution("loadscope", shared_cluster=True)


def test_cluster_tests_run_one_at_a_time_on_a_shared_cluster_under_n2(pytester: pytest.Pytester,
                                                                      kubeconfig: Path) -> None:
    out = pytester.path / "runs.jsonl"
    pytester.makepyfile(test_pair=TWO_CLUSTER_TESTS.replace("OUT)", f"{str(out)!r})"))
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "--azchaos-kubeconfig",
                                           str(kubeconfig), "--azchaos-report-dir", str(pytester.path / "r"))
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*--dist load changed to loadgroup*"])
    first, second = sorted((json.loads(line) for line in out.read_text().splitlines()), key=lambda r: r["start"])
    assert first["worker"] == second["worker"]
    assert second["start"] >= first["end"], f"the two cluster tests overlapped: {first} {second}"


def test_loadscope_on_a_shared_cluster_stops_before_anything_runs(pytester: pytest.Pytester, kubeconfig: Path) -> None:
    pytester.makepyfile("def test_nothing(azchaos_cluster): pass")
    result = pytester.runpytest_subprocess("-n", "2", "--dist", "loadscope", "--azchaos-kubeconfig", str(kubeconfig))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--dist loadscope would run chaos tests side by side*Use --dist loadgroup*"])
