"""Benchmark: drain wall time of one zone, ours (``chaos.drain.drain_zone``) vs ``kubectl drain``.

Run: ``.venv/bin/python bench/drain.py [--nodes-per-zone 2,10] [--pods-per-node 5] [--delay-shutdown 0]
[--repeat 3]``.
Targets (issue 5): ours/kubectl <= 0.5 for a 2-node zone and <= 0.2 for a 10-node zone.

Method, per zone size N: two identical fresh embedded clusters (3 zones x N nodes, ``fast`` profile), each
with one Deployment of ``5 * 3N`` agnhost netexec replicas spread over the nodes (topology spread on zone
and hostname, so ~5 pods per node) and a PDB ``maxUnavailable: 50%``. On the first cluster ``drain_zone``
drains us-east-1a (cordon, parallel evictions, wait until every pod is gone); on the second, a user's
``kubectl drain`` of the same zone's nodes: one invocation per node, one after another,
``kubectl drain NODE --ignore-daemonsets --delete-emptydir-data`` (it cordons, evicts the node's pods,
and waits for them to be deleted). The clock covers the whole drain in both cases (for kubectl: the
whole sequential loop, process starts included, as a user would experience it). Each method runs
``--repeat`` times (alternating, a fresh cluster each time) and the medians are compared.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubernetes import client

from pytest_azchaos.chaos.drain import drain_zone
from pytest_azchaos.chaos.ledger import Ledger
from pytest_azchaos.embedded.process import start_cluster, stop_cluster
from pytest_azchaos.embedded.topology import Topology
from pytest_azchaos.kube.cluster import Cluster

ZONE = "us-east-1a"
NS = "bench-drain"
AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"


def setup(cluster: Cluster, replicas: int, delay_shutdown: int) -> None:
    labels = {"app": "web"}
    args = ["netexec", "--http-port=8080"] + ([f"--delay-shutdown={delay_shutdown}"] if delay_shutdown else [])
    spread = [client.V1TopologySpreadConstraint(max_skew=1, topology_key=key, when_unsatisfiable="ScheduleAnyway",
                                                label_selector=client.V1LabelSelector(match_labels=labels))
              for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")]
    cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NS)))
    cluster.apps.create_namespaced_deployment(NS, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(replicas=replicas, selector=client.V1LabelSelector(match_labels=labels),
                                     template=client.V1PodTemplateSpec(
                                         metadata=client.V1ObjectMeta(labels=labels),
                                         spec=client.V1PodSpec(
                                             containers=[client.V1Container(
                                                 name="echo", image=AGNHOST, args=args,
                                                 readiness_probe=client.V1Probe(
                                                     http_get=client.V1HTTPGetAction(path="/readyz", port=8080),
                                                     period_seconds=1))],
                                             termination_grace_period_seconds=30,
                                             topology_spread_constraints=spread)))))
    client.PolicyV1Api(cluster.api).create_namespaced_pod_disruption_budget(NS, client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1PodDisruptionBudgetSpec(max_unavailable="50%",
                                              selector=client.V1LabelSelector(match_labels=labels))))
    deadline = time.monotonic() + 120
    while True:
        dep = cluster.apps.read_namespaced_deployment("web", NS)
        pdb = client.PolicyV1Api(cluster.api).read_namespaced_pod_disruption_budget("web", NS)
        if (dep.status.ready_replicas or 0) == replicas and pdb.status and pdb.status.current_healthy == replicas:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"setup: only {dep.status.ready_replicas} of {replicas} replicas Ready after 120 s")
        time.sleep(0.25)


def pods_in_zone(cluster: Cluster) -> int:
    nodes = set(cluster.nodes_by_zone()[ZONE])
    return sum(1 for p in cluster.core.list_namespaced_pod(NS).items
               if p.spec.node_name in nodes and p.metadata.deletion_timestamp is None)


def run(nodes_per_zone: int, pods_per_node: int, delay_shutdown: int, method: str, kubectl: str) -> tuple[float, str]:
    with tempfile.TemporaryDirectory(prefix="azchaos-bench-drain-") as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        start_cluster(kubeconfig, Topology.make(zones=3, nodes_per_zone=nodes_per_zone))
        cluster = Cluster(kubeconfig)
        try:
            setup(cluster, pods_per_node * 3 * nodes_per_zone, delay_shutdown)
            before = pods_in_zone(cluster)
            if method == "ours":
                ledger = Ledger(cluster, path=Path(tmp) / "ledger.json")
                started = time.monotonic()
                report = drain_zone(cluster, ZONE, ledger, timeout=300)
                wall = time.monotonic() - started
                if not report.ok:
                    raise SystemExit(report.describe())
                detail = f"{len(report.pods)} pods evicted, {report.refusals} PDB refusals"
            else:
                started = time.monotonic()
                for node in cluster.nodes_by_zone()[ZONE]:
                    subprocess.run([kubectl, "--kubeconfig", str(kubeconfig), "drain", node, "--ignore-daemonsets",
                                    "--delete-emptydir-data"], check=True, capture_output=True, timeout=300)
                wall = time.monotonic() - started
                detail = f"{nodes_per_zone} kubectl invocations"
            after = pods_in_zone(cluster)
            return wall, f"{before} pods in zone before, {after} after; {detail}"
        finally:
            cluster.close()
            stop_cluster(kubeconfig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes-per-zone", default="2,10", help="comma-separated zone sizes (default: 2,10)")
    ap.add_argument("--pods-per-node", type=int, default=5)
    ap.add_argument("--delay-shutdown", type=int, default=0, help="agnhost --delay-shutdown seconds (default 0)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per method; the median is compared (default 3)")
    ap.add_argument("--kubectl", default=shutil.which("kubectl") or "kubectl")
    args = ap.parse_args(argv)
    targets = {2: 0.5, 10: 0.2}
    ok = True
    for n in (int(x) for x in args.nodes_per_zone.split(",")):
        walls: dict[str, list[float]] = {"ours": [], "kubectl": []}
        details: dict[str, str] = {}
        for _ in range(args.repeat):  # alternate, so machine load hits both alike
            for method in ("ours", "kubectl"):
                wall, details[method] = run(n, args.pods_per_node, args.delay_shutdown, method, args.kubectl)
                walls[method].append(wall)
        ours, theirs = statistics.median(walls["ours"]), statistics.median(walls["kubectl"])
        ratio = ours / theirs
        target = targets.get(n)
        verdict = "" if target is None else (f" (target <= {target}: {'met' if ratio <= target else 'MISSED'})")
        ok = ok and (target is None or ratio <= target)

        def runs(xs: list[float]) -> str:
            return ", ".join(f"{x:.2f}" for x in xs)

        print(f"{n}-node zone: ours median {ours:.2f}s of [{runs(walls['ours'])}] ({details['ours']})")
        print(f"{n}-node zone: kubectl drain x{n} sequential median {theirs:.2f}s of [{runs(walls['kubectl'])}] "
              f"({details['kubectl']})")
        print(f"{n}-node zone: ours/kubectl = {ratio:.3f}{verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
