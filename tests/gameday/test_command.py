"""``azchaos gameday`` on the session's embedded cluster: one drain, every applicable check, the report, and
the cluster as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_azchaos.cli import build_parser
from pytest_azchaos.gameday import command

CHECKS = ("AZ-TOPO", "AZ-HCNP", "AZ-DRAIN", "AZ-SRCIP", "AZ-BALANCE", "AZ-RESCHED")


@pytest.fixture(scope="module")
def drained(embedded_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One game day (drain) run in-process, with what it wrote and returned."""
    report = tmp_path_factory.mktemp("gameday-report")
    lines: list[str] = []
    args = build_parser().parse_args(["gameday", "--kubeconfig", str(embedded_cluster.kubeconfig), "--fault",
                                      "drain", "--report-dir", str(report), "--view-interval", "2"])
    rc = command.run(args, write=lines.append)
    return {"rc": rc, "lines": lines, "report": report}


def test_gameday_drain_passes_every_applicable_check_on_the_sample_app(drained: dict[str, Any]) -> None:
    table = [line.split() for line in drained["lines"] if line.startswith("AZ-")]
    assert drained["rc"] == 0, "\n".join(drained["lines"][-30:])
    for target in ("sample/Cluster", "sample/Local"):
        judged = {row[0] for row in table if row[1] == target and row[2] == "passed"}
        expected = set(CHECKS) - ({"AZ-HCNP"} if target == "sample/Cluster" else set())
        assert judged == expected, target
    assert table[-1][:4] == ["AZ-HCNP", "sample/Cluster", "not", "applicable"]
    volumes = {row[0]: row[2] for row in table if row[1] == "sample/stateful"}
    assert volumes == {"AZ-EBS-DRAIN": "passed", "AZ-EBS-RETURN": "passed"}


def test_gameday_shows_the_phase_and_per_zone_traffic_while_it_runs(drained: dict[str, Any]) -> None:
    view = [line for line in drained["lines"] if line.startswith("[gameday]")]
    assert any("phase: drain us-east-1a" in line for line in view)
    assert any("sample/Local: ready pods  us-east-1a 0" in line for line in view)
    assert any("sample/Cluster: last 2s  us-east-1a" in line and "%" in line for line in view)


def test_gameday_writes_the_html_and_json_report(drained: dict[str, Any]) -> None:
    report: Path = drained["report"]
    html = (report / "index.html").read_text()
    assert "game day: drain us-east-1a" in html
    evidences = [json.loads(p.read_text()) for p in sorted(report.glob("gameday*.json"))]
    assert [e["test"] for e in evidences] == ["gameday::sample/Cluster", "gameday::sample/Local",
                                              "gameday::sample/stateful"]
    stateful = evidences.pop()
    assert [c["check_id"] for c in stateful["checks"]] == ["AZ-EBS-DRAIN", "AZ-EBS-RETURN"]
    assert stateful["predictions"] and stateful["predictions"][0]["fault"]
    for e in evidences:
        assert {c["check_id"] for c in e["checks"]} >= {"AZ-DRAIN", "AZ-RESCHED"}
        assert [p["name"] for p in e["phases"]][:1] == ["drain us-east-1a"]
        assert e["requests_total"] > 100


def test_gameday_leaves_the_cluster_as_it_found_it(drained: dict[str, Any], plugin_cluster: Any) -> None:
    nodes = plugin_cluster.core.list_node().items
    assert [n.metadata.name for n in nodes if n.spec.unschedulable] == []
    namespaces = [n.metadata.name for n in plugin_cluster.core.list_namespace().items
                  if "gameday" in n.metadata.name and n.status.phase != "Terminating"]
    assert namespaces == []


def test_gameday_observes_a_target_and_leaves_it_as_it_was(site: Any, embedded_cluster: Any, plugin_cluster: Any,
                                                           tmp_path: Path) -> None:
    namespace, _ = site(6)
    before = plugin_cluster.apps.read_namespaced_deployment("static", namespace)
    target = f"deployment/{namespace}/static,path=/index.html,status=200"
    lines: list[str] = []
    args = build_parser().parse_args(["gameday", "--kubeconfig", str(embedded_cluster.kubeconfig), "--fault",
                                      "drain", "--target", target, "--report-dir", str(tmp_path), "--view-interval",
                                      "5"])
    rc = command.run(args, write=lines.append)
    table = {(row[0], row[2]): " ".join(row[3:]) for row in (line.split() for line in lines if line.startswith("AZ-"))}
    assert rc == 0, "\n".join(lines[-30:])
    label = f"deployment/{namespace}/static"
    assert all(line.split()[1] == label for line in lines if line.startswith("AZ-"))
    assert table[("AZ-DRAIN", "passed")].startswith("0 of ")
    assert "echo=/PATH" in table[("AZ-SRCIP", "not")]
    assert "pod-header=NAME" in table[("AZ-BALANCE", "not")]
    after = plugin_cluster.apps.read_namespaced_deployment("static", namespace)
    assert after.metadata.generation == before.metadata.generation
    assert after.spec.template == before.spec.template
