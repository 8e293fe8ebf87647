"""chaosk8s and our extension side by side on the embedded cluster, through chaoslib's runner."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from chaoslib.experiment import run_experiment
from kubernetes import client

from pytest_azchaos.ctk.context import kubeconfig_env

from .conftest import ZONE, zone_of_pods

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:chaosk8s.*")


def ours(func: str, mod: str = "actions", **arguments: Any) -> dict[str, Any]:
    return {"type": "action" if mod == "actions" else "probe", "name": func,
            "provider": {"type": "python", "module": f"pytest_azchaos.ctk.{mod}", "func": func,
                         "arguments": arguments}}


def chaosk8s(func: str, **arguments: Any) -> dict[str, Any]:
    return {"type": "action", "name": func, "provider": {"type": "python", "module": "chaosk8s.node.actions",
                                                        "func": func, "arguments": arguments}}


def experiment(title: str, method: list[dict[str, Any]], rollbacks: list[dict[str, Any]],
               configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"version": "1.0.0", "title": title, "description": title, "method": method, "rollbacks": rollbacks,
            "configuration": configuration or {}}


def failures(journal: dict[str, Any]) -> list[str]:
    return [f"{r['activity']['name']}: {r.get('exception', [''])[-1]}" for r in journal["run"] + journal["rollbacks"]
            if r["status"] != "succeeded"]


def zone_nodes(cluster: Any, zone: str) -> list[Any]:
    return cluster.core.list_node(label_selector=f"{ZONE}={zone}").items


def test_chaosk8s_drain_nodes_by_zone_label_drains_the_zone(cluster, zone, deploy):
    app = deploy()
    assert zone in zone_of_pods(cluster, app).values()
    selector = f"{ZONE}={zone}"
    with kubeconfig_env(cluster.kubeconfig):
        journal = run_experiment(experiment("chaosk8s drains a zone", [
            chaosk8s("drain_nodes", label_selector=selector, timeout=60)], [
            chaosk8s("uncordon_node", label_selector=selector)]), settings={})
    assert journal["status"] == "completed" and not failures(journal), failures(journal)
    assert sorted(journal["run"][0]["output"]) == sorted(n.metadata.name for n in zone_nodes(cluster, zone))
    assert zone not in zone_of_pods(cluster, app).values()
    assert not any(n.spec.unschedulable for n in zone_nodes(cluster, zone))


def test_our_drain_zone_experiment_drains_under_traffic_and_rolls_back(cluster, zone, deploy, ns):
    app = deploy()
    conf = {"kubeconfig_path": str(cluster.kubeconfig), "azchaos_run_id": f"ctk-test-{ns}"}
    journal = run_experiment(experiment("our drain", [
        ours("start_traffic", namespace=ns, service=app.service, rate=40),
        ours("drain_zone", zone=zone, timeout=60),
        ours("rescheduled", "probes", namespace=ns, label_selector=app.label_selector, lost_zone=zone,
             replicas=3, timeout=60),
        ours("stop_traffic"),
        ours("zero_downtime", "probes", check_id="AZ-DRAIN")], [
        ours("uncordon_zone")], conf), settings={})
    assert journal["status"] == "completed" and not failures(journal), failures(journal)
    out = {r["activity"]["name"]: r["output"] for r in journal["run"]}
    assert out["drain_zone"]["evicted"] >= 1 and out["drain_zone"]["evicted"] == out["drain_zone"]["pods"]
    assert out["rescheduled"]["passed"], out["rescheduled"]["message"]
    assert out["stop_traffic"]["requests"] > 0
    assert out["zero_downtime"]["passed"], out["zero_downtime"]["message"]
    assert zone not in zone_of_pods(cluster, app).values()
    undone = journal["rollbacks"][0]["output"]["undone"]
    assert len(undone) == 2 and all(line.startswith("ok") for line in undone), undone
    assert not any(n.spec.unschedulable for n in zone_nodes(cluster, zone))


def test_chaosk8s_drain_nodes_aborts_on_a_pdb_429(cluster, zone, deploy):
    app = deploy(pdb_max_unavailable=0)
    selector = f"{ZONE}={zone}"
    with kubeconfig_env(cluster.kubeconfig):
        journal = run_experiment(experiment("chaosk8s drain blocked by a PDB", [
            chaosk8s("drain_nodes", label_selector=selector, timeout=60)], [
            chaosk8s("uncordon_node", label_selector=selector)]), settings={})
    run = journal["run"][0]
    assert run["status"] == "failed"
    assert "Failed to evict pod" in run["exception"][-1] and '"code":429' in run["exception"][-1].replace(" ", "")
    assert zone in zone_of_pods(cluster, app).values(), "chaosk8s gave up: the zone still runs the app's pod"


def test_our_drain_zone_survives_a_pdb_429_and_finishes_when_the_budget_allows(cluster, zone, deploy, ns):
    app = deploy(pdb_max_unavailable=0)
    policy = client.PolicyV1Api(cluster.api)
    pdb = policy.list_namespaced_pod_disruption_budget(ns).items[0].metadata.name

    def relax() -> None:
        time.sleep(2.0)
        policy.patch_namespaced_pod_disruption_budget(pdb, ns, {"spec": {"maxUnavailable": 1}})

    relaxer = threading.Thread(target=relax)
    relaxer.start()
    conf = {"kubeconfig_path": str(cluster.kubeconfig), "azchaos_run_id": f"ctk-test-{ns}"}
    try:
        journal = run_experiment(experiment("our drain waits for the budget", [
            ours("drain_zone", zone=zone, timeout=60)], [ours("uncordon_zone")], conf), settings={})
    finally:
        relaxer.join()
    assert journal["status"] == "completed" and not failures(journal), failures(journal)
    drained = journal["run"][0]["output"]
    assert drained["pdb_refusals"] >= 1, drained["summary"]
    assert drained["evicted"] == drained["pods"] >= 1, drained["summary"]
    assert zone not in zone_of_pods(cluster, app).values()
    assert not any(n.spec.unschedulable for n in zone_nodes(cluster, zone))
