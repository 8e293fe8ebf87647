"""Requests per second the in-cluster probers sustain per zone on this machine (target: at least 500).

Starts an embedded 3-zone cluster, a 6-replica agnhost Service spread over the zones, and one prober pod per zone
(``traffic.in_cluster``), then drives every prober's ``/dial`` to the Service's ClusterIP open loop at ``--rate``
requests per second per zone, ``--tries`` requests per ``/dial`` (netexec sends them one after another, each on a
new connection through the node's kube-proxy). Prints, per zone, the requests served per second over the
measured window (answered before its end), failures, and the ``/dial`` latency (due to answer) percentiles; a zone
whose p99 ``/dial`` latency passes 1 s is marked as falling behind (its backlog grows: not sustained).

    .venv/bin/python bench/in_cluster.py [--rate 500] [--tries 25] [--seconds 5] [--channel direct]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from pytest_azchaos.apps.images import SampleImages
from pytest_azchaos.embedded.process import start_cluster, stop_cluster
from pytest_azchaos.embedded.topology import Topology
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.traffic.in_cluster import DialTarget, InClusterRun, deploy_probers
from pytest_azchaos.wellknown import ZONE_LABEL


def _backend(cluster: Cluster, namespace: str) -> None:
    labels = {"app": "bench-echo"}
    cluster.apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": "bench-echo"}, "spec": {"replicas": 6, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels}, "spec": {
                "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": ZONE_LABEL,
                                               "whenUnsatisfiable": "DoNotSchedule",
                                               "labelSelector": {"matchLabels": labels}}],
                "containers": [{"name": "c", "image": SampleImages().agnhost, "args": ["netexec"],
                                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}}}]}}}})
    cluster.core.create_namespaced_service(namespace, {"metadata": {"name": "bench-echo"}, "spec": {
        "selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}})
    deadline = time.monotonic() + 60
    while (cluster.apps.read_namespaced_deployment("bench-echo", namespace).status.ready_replicas or 0) < 6:
        if time.monotonic() > deadline:
            raise SystemExit("the bench backend did not become Ready in 60 s")
        time.sleep(0.2)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * (len(values) - 1) + 0.5))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0, help="requests per second per zone")
    parser.add_argument("--tries", type=int, default=25, help="requests per /dial")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured window")
    parser.add_argument("--channel", default="direct", choices=("direct", "proxy", "auto"))
    args = parser.parse_args()
    kubeconfig = Path(tempfile.mkdtemp(prefix="azchaos-bench-")) / "kubeconfig"
    start_cluster(kubeconfig, Topology())
    try:
        cluster = Cluster(kubeconfig)
        namespace = "bench-" + uuid.uuid4().hex[:5]
        cluster.core.create_namespace({"metadata": {"name": namespace}})
        _backend(cluster, namespace)
        pods = deploy_probers(cluster, namespace, SampleImages(), timeout=60)
        target = [t for t in DialTarget.service(cluster.core, namespace, "bench-echo") if t.kind == "service-ip"]
        # Warm-up: endpoints propagated to every node's kube-proxy before the measured run.
        with InClusterRun(cluster, namespace, pods, target, rate=20, channel=args.channel):
            time.sleep(1.5)
        run = InClusterRun(cluster, namespace, pods, target, rate=args.rate, tries=args.tries,
                           channel=args.channel).start()
        time.sleep(args.seconds)
        recording = run.stop()
        window = recording.between(0.0, args.seconds)
        print(f"in-cluster probers: {len(pods)} zones, offered {args.rate:g} req/s per zone, {args.tries} per /dial, "
              f"{args.seconds:g}s, channel {run.channel}")
        total_ok = 0
        for zone in window.source_zones():
            records = window.from_zone(zone).snapshot()
            # Served in the window: answered by its end (a backlog finishing afterwards is not sustained).
            ok = sum(r.ok and r.due + r.latency <= args.seconds for r in records)
            total_ok += ok
            dials = sorted({(r.due, r.latency) for r in records})
            lat = [latency for _, latency in dials]
            errors = window.from_zone(zone).error_counts()
            keeps_up = "keeps up" if _pct(lat, 99) < 1.0 else "FALLS BEHIND (p99 /dial latency over 1 s)"
            print(f"  {zone}: {ok / args.seconds:7.0f} req/s served, {keeps_up} ({ok}/{len(records)} answered in time"
                  f"{', errors ' + str(errors) if errors else ''}); /dial latency p50 {_pct(lat, 50) * 1000:.0f} ms, "
                  f"p99 {_pct(lat, 99) * 1000:.0f} ms, max {max(lat, default=0) * 1000:.0f} ms")
        print(f"  all zones: {total_ok / args.seconds:.0f} req/s served")
    finally:
        stop_cluster(kubeconfig)


if __name__ == "__main__":
    main()
