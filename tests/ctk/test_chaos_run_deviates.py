"""Every shipped experiment judges its checks under plain ``chaos run``, not only as a pytest item.

chaoslib marks a run ``deviated`` only when a steady-state probe is out of its tolerance, so each shipped
``suites/*.experiment.*`` is run with the ``chaos`` command (a subprocess, as a chaostoolkit user runs it)
against this module's embedded cluster twice: as shipped (``completed``, not deviated, exit code 0) and
misconfigured so that a check fails (``completed`` and ``deviated``, exit code 1, the failed check in the
journal).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chaoslib.experiment import ensure_experiment_is_valid
from chaoslib.loader import load_experiment

from pytest_azchaos.ctk.items import is_experiment
from pytest_azchaos.kube.cluster import Cluster

from .conftest import ZONE

SUITES = Path(__file__).resolve().parents[2] / "suites"
CHAOS = Path(sys.executable).parent / "chaos"
SHIPPED = sorted(p for p in SUITES.iterdir() if is_experiment(p))
CHECK_PROBES = "pytest_azchaos.ctk.probes"
TAINT = "azchaos.test/no-echo"


@contextmanager
def only_first_zone_takes_new_pods(cluster: Cluster, zone: str) -> Iterator[None]:
    """Taint every node outside ``zone`` NoSchedule (they stay Ready and schedulable, so the drain guard still
    counts their zones as healthy): a new pod can only run in ``zone``. Taints removed afterwards."""
    others = [n for n in cluster.core.list_node().items if (n.metadata.labels or {}).get(ZONE) != zone]

    def set_taints(node: Any, taints: list[dict[str, str]]) -> None:
        current = cluster.core.read_node(node.metadata.name).spec.taints or []
        kept = [cluster.core.api_client.sanitize_for_serialization(t) for t in current if t.key != TAINT]
        cluster.core.patch_node(node.metadata.name, {"spec": {"taints": kept + taints}})

    for node in others:
        set_taints(node, [{"key": TAINT, "value": "true", "effect": "NoSchedule"}])
    try:
        yield
    finally:
        for node in others:
            set_taints(node, [])


@dataclass(frozen=True)
class Misconfiguration:
    """How a shipped experiment is run so that one of its checks must fail."""

    why: str
    configuration: dict[str, Any]
    failing_probe: str
    setup: Callable[[Cluster, str], Any] | None = None


#: One per shipped experiment file (``test_every_shipped_experiment_has_a_misconfigured_run`` keeps it so).
MISCONFIGURED: dict[str, Misconfiguration] = {
    "az_drain.experiment.yaml": Misconfiguration(
        why="one replica and no PDB, the replica in the drained zone: its replacement has nowhere to run",
        configuration={"replicas": 1, "pdb_max_unavailable": None, "recover_timeout": 8},
        failing_probe="rescheduled",
        setup=only_first_zone_takes_new_pods),
}


def chaos_run(experiment: Path, kubeconfig: Path, workdir: Path,
              configuration: dict[str, Any]) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``chaos run`` of ``experiment`` in ``workdir`` with ``configuration`` as a var file; the journal."""
    workdir.mkdir(parents=True, exist_ok=True)
    var_file = workdir / "vars.json"
    var_file.write_text(json.dumps({"configuration": configuration}))
    journal = workdir / "journal.json"
    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_CONTEXT"} | {"KUBECONFIG": str(kubeconfig)}
    proc = subprocess.run(
        [str(CHAOS), "--no-version-check", "--log-file", str(workdir / "chaostoolkit.log"),
         "--settings", str(workdir / "settings.yaml"), "run", "--journal-path", str(journal),
         "--var-file", str(var_file), str(experiment)],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert journal.is_file(), f"chaos run wrote no journal (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc, json.loads(journal.read_text())


def after_probes(journal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    after = (journal.get("steady_states") or {}).get("after") or {}
    return {p["activity"]["name"]: p for p in after.get("probes") or []}


def describe(proc: subprocess.CompletedProcess[str], journal: dict[str, Any]) -> str:
    runs = [f"{r['activity']['name']}: {r['status']} {(r.get('exception') or [''])[-1].strip()}"
            for r in (journal.get("run") or []) + (journal.get("rollbacks") or [])]
    probes = [f"{name}: tolerance_met={p.get('tolerance_met')} {(p.get('output') or {}).get('summary', '')}"
              for name, p in after_probes(journal).items()]
    return (f"rc {proc.returncode}, status {journal.get('status')}, deviated {journal.get('deviated')}\n"
            + "\n".join(runs + probes) + f"\n--- stderr tail:\n{proc.stderr[-3000:]}")


def run_name(experiment: Path) -> str:
    return f"ctk-{experiment.name.split('.')[0].replace('_', '-')}-{uuid.uuid4().hex[:6]}"


def test_every_shipped_experiment_has_a_misconfigured_run():
    assert SHIPPED, f"no experiment files in {SUITES}"
    assert sorted(p.name for p in SHIPPED) == sorted(MISCONFIGURED)


@pytest.mark.parametrize("experiment", SHIPPED, ids=lambda p: p.name)
def test_every_check_is_a_steady_state_probe_with_a_tolerance(experiment: Path):
    """chaoslib judges tolerances in the steady-state hypothesis only: a check in the method cannot deviate."""
    doc = load_experiment(str(experiment))
    ensure_experiment_is_valid(doc)
    in_method = [a["name"] for a in doc["method"] + doc.get("rollbacks", [])
                 if (a.get("provider") or {}).get("module") == CHECK_PROBES]
    assert in_method == [], f"checks in the method/rollbacks are never judged by chaoslib: {in_method}"
    probes = (doc.get("steady-state-hypothesis") or {}).get("probes") or []
    checks = [p for p in probes if p["provider"].get("module") == CHECK_PROBES]
    assert checks, "the experiment has no check in its steady-state hypothesis"
    for probe in checks:
        assert (probe.get("tolerance") or {}).get("provider", {}).get("func") == "passed", probe["name"]


@pytest.mark.parametrize("experiment", SHIPPED, ids=lambda p: p.name)
def test_chaos_run_as_shipped_completes_without_deviation(experiment: Path, ctk_cluster, tmp_path):
    proc, journal = chaos_run(experiment, Path(ctk_cluster.kubeconfig), tmp_path,
                              {"namespace": run_name(experiment)})
    assert journal["status"] == "completed" and journal["deviated"] is False, describe(proc, journal)
    assert proc.returncode == 0, describe(proc, journal)
    probes = after_probes(journal)
    assert probes and all(p["tolerance_met"] and p["output"]["passed"] for p in probes.values()), \
        describe(proc, journal)


@pytest.mark.parametrize("experiment", SHIPPED, ids=lambda p: p.name)
def test_chaos_run_misconfigured_deviates_on_the_failed_check(experiment: Path, ctk_cluster, cluster, zone,
                                                              tmp_path):
    bad = MISCONFIGURED[experiment.name]
    configuration = {"namespace": run_name(experiment), **bad.configuration}
    if bad.setup:
        with bad.setup(cluster, zone):
            proc, journal = chaos_run(experiment, Path(ctk_cluster.kubeconfig), tmp_path, configuration)
    else:
        proc, journal = chaos_run(experiment, Path(ctk_cluster.kubeconfig), tmp_path, configuration)
    text = describe(proc, journal)
    # chaostoolkit's convention: the run completed, and the steady state did not hold after the method
    assert journal["status"] == "completed" and journal["deviated"] is True, f"{bad.why}:\n{text}"
    assert proc.returncode == 1, text
    failed = {name: p for name, p in after_probes(journal).items() if not p["tolerance_met"]}
    assert list(failed) == [bad.failing_probe], text
    probe = failed[bad.failing_probe]
    assert probe["status"] == "succeeded" and probe["output"]["passed"] is False, text  # the check ran and failed
    assert all(r["status"] == "succeeded" for r in journal["run"] + journal["rollbacks"]), text
    assert not any(n.spec.unschedulable for n in cluster.core.list_node().items), "the rollbacks left nodes cordoned"
