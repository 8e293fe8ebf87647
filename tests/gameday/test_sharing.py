"""``--azchaos-share-faults``: the shared suite runs and the suites it covers are deselected; without the option
the shared suite is deselected. And the shared drain, run as a suite on the session's cluster, passes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_azchaos.gameday.sharing import split_shared

ROOT = Path(__file__).resolve().parents[2]


class _Item:
    def __init__(self, path: str, covers: tuple[str, ...] | None = None, fault: str = "drain") -> None:
        self.path = Path(path)
        self.name = "test_x"
        self.marker = pytest.mark.azchaos_shares(fault=fault, covers=covers).mark if covers else None

    def get_closest_marker(self, name: str) -> Any:
        return self.marker if name == "azchaos_shares" else None


def test_sharing_runs_the_shared_test_and_drops_the_modules_it_covers() -> None:
    shared, drain, ebs = _Item("s/test_az_shared.py", ("test_az_drain.py",)), _Item("s/test_az_drain.py"), \
        _Item("s/test_az_ebs_bind.py")
    assert split_shared([drain, ebs, shared], share=True) == ([shared, ebs], [drain])  # shared faults start first


def test_without_sharing_the_shared_test_is_dropped_and_every_suite_runs() -> None:
    shared, drain = _Item("s/test_az_shared.py", ("test_az_drain.py",)), _Item("s/test_az_drain.py")
    assert split_shared([shared, drain], share=False) == ([drain], [shared])


def test_a_covered_parametrisation_drops_only_the_tests_with_that_id() -> None:
    shared = _Item("s/test_az_shared.py", ("test_az_ebs_drain.py[partition]",), fault="partition")
    partition, drain = _Item("s/test_az_ebs_drain.py"), _Item("s/test_az_ebs_drain.py")
    partition.name, drain.name = "test_pod_waits[partition]", "test_pod_waits[drain]"
    assert split_shared([shared, partition, drain], share=True) == ([shared, drain], [partition])


def test_the_faults_that_wait_out_evictions_start_first_and_apart() -> None:
    faults = [_Item("s/test_az_shared.py", ("x.py",), fault=f) for f in ("drain", "partition", "outage")]
    other = _Item("s/test_az_cordon.py")
    keep, _ = split_shared([other, *faults], share=True)
    assert [i.marker.kwargs["fault"] if i.marker else "other" for i in keep] == ["outage", "drain", "partition",
                                                                                   "other"]


def test_a_covered_module_run_alone_is_kept_with_sharing_on() -> None:
    drain = _Item("s/test_az_drain.py")
    assert split_shared([drain], share=True) == ([drain], [])


def _collect(*args: str) -> list[str]:
    run = subprocess.run([sys.executable, "-m", "pytest", "suites", "--collect-only", "-q", "-p", "no:cacheprovider",
                          *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return [line.split("::")[0].rsplit("/", 1)[-1] for line in run.stdout.splitlines() if "::" in line]


def test_the_catalogue_with_shared_faults_collects_no_covered_suite() -> None:
    modules = set(_collect("--azchaos-share-faults"))
    assert "test_az_shared.py" in modules
    assert not modules & {"test_az_drain.py", "test_az_srcip.py", "test_az_balance.py", "test_az_topo.py",
                          "test_az_hcnp.py", "test_az_outage.py"}
    assert not modules & {"test_az_partition.py", "test_az_ebs_drain.py", "test_az_ebs_return.py"}  # every flavour
    assert {"test_az_cordon.py", "test_az_podkill.py", "test_az_ebs_bind.py"} <= modules


def test_the_catalogue_without_sharing_collects_no_shared_test() -> None:
    modules = set(_collect())
    assert "test_az_shared.py" not in modules
    assert "test_az_drain.py" in modules


def test_the_shared_drain_suite_passes_on_the_embedded_cluster(embedded_cluster: Any, tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "pytest", "suites/test_az_shared.py", "-k", "drain", "-q", "-p",
                          "no:cacheprovider", "--azchaos-share-faults", "--azchaos-kubeconfig",
                          str(embedded_cluster.kubeconfig), "--azchaos-report-dir", str(tmp_path / "report")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    summary = {line.split()[0]: line.split()[1] for line in run.stdout.splitlines() if line.startswith("AZ-")}
    assert summary == dict.fromkeys(("AZ-TOPO", "AZ-HCNP", "AZ-BALANCE", "AZ-SRCIP", "AZ-DRAIN", "AZ-RESCHED",
                                     "AZ-EBS-DRAIN", "AZ-EBS-RETURN"), "PASS")
