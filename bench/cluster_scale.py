"""Benchmark of the embedded cluster at scale: 300 nodes, 3000 pods Running and Ready.

Run: ``.venv/bin/python bench/cluster_scale.py [--zones 3] [--nodes-per-zone 100] [--deployments 10]
[--replicas 300]``. Starts its own embedded cluster (a separate process, as tests and users get it) with a
temporary kubeconfig and prints its figures against the target (issue 3: 3000 pods Running <= 30 s).

Methods:
- startup: wall time of ``start_cluster`` (process start, bootstrap of every Node, API answering), then
  until every Node has its Lease (all heartbeats running).
- pods: ``--deployments`` Deployments of ``--replicas`` replicas each of ``registry.k8s.io/pause:3.10``
  (10m cpu, 16Mi) are POSTed at once; the clock starts before the first POST. The Deployments' status is
  polled (cheap GETs) every 0.25 s: "created" is when the ReplicaSets report every replica, "ready" when
  every Deployment reports ``readyReplicas == replicas``. One final LIST checks that every pod is
  ``Running`` with ``Ready=True`` and bound to a node (and prints the spread per zone).
- memory: RSS of the cluster process (``/proc/<pid>/status`` VmRSS) after startup and at the end.
- ``--profile-out FILE``: run ``py-spy record`` against the cluster process during the pod phase.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_azchaos.embedded.process import start_cluster, stop_cluster
from pytest_azchaos.embedded.topology import Topology

NS = "bench-scale"
IMAGE = "registry.k8s.io/pause:3.10"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"terminationGracePeriodSeconds": 0,
                                           "containers": [{"name": "pause", "image": IMAGE,
                                                           "resources": {"requests": {"cpu": "10m",
                                                                                      "memory": "16Mi"}}}]}}}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zones", type=int, default=3)
    ap.add_argument("--nodes-per-zone", type=int, default=100)
    ap.add_argument("--instance-type", default="m5.xlarge")
    ap.add_argument("--deployments", type=int, default=10)
    ap.add_argument("--replicas", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--profile-out", type=Path,
                    help="py-spy profile of the cluster during the pod phase (SVG flame graph; .txt: collapsed stacks)")
    args = ap.parse_args(argv)
    total = args.deployments * args.replicas
    topology = Topology.make(zones=args.zones, nodes_per_zone=args.nodes_per_zone, instance_type=args.instance_type)
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        t0 = time.monotonic()
        handle = start_cluster(kubeconfig, topology, timeout=120.0)
        t_api = time.monotonic() - t0
        spy: subprocess.Popen[bytes] | None = None
        try:
            s = requests.Session()
            base = handle.url
            n_nodes = topology.node_count
            while len(s.get(f"{base}/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                            timeout=30).json()["items"]) < n_nodes:
                time.sleep(0.1)
            t_leases = time.monotonic() - t0
            rss_start = rss_mib(handle.pid)
            s.post(f"{base}/api/v1/namespaces", json={"metadata": {"name": NS}}, timeout=30).raise_for_status()
            if args.profile_out:
                py_spy = str(Path(sys.executable).parent / "py-spy")
                spy = subprocess.Popen([py_spy, "record", "-p", str(handle.pid), "-o", str(args.profile_out),
                                        "--rate", "50", "--nonblocking",
                                        *(["--format", "raw"] if args.profile_out.suffix == ".txt" else [])],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1.0)
            names = [f"scale-{i:02d}" for i in range(args.deployments)]
            start = time.monotonic()
            for name in names:
                s.post(f"{base}/apis/apps/v1/namespaces/{NS}/deployments", json=deployment(name, args.replicas),
                       timeout=300).raise_for_status()
            t_created = t_ready = None
            progress: list[tuple[float, int, int]] = []
            while time.monotonic() - start < args.timeout:
                items = s.get(f"{base}/apis/apps/v1/namespaces/{NS}/deployments", timeout=300).json()["items"]
                replicas = sum((d.get("status") or {}).get("replicas") or 0 for d in items)
                ready = sum((d.get("status") or {}).get("readyReplicas") or 0 for d in items)
                now = time.monotonic() - start
                if not progress or progress[-1][2] != ready or now - progress[-1][0] >= 5:
                    progress.append((now, replicas, ready))
                if t_created is None and replicas >= total:
                    t_created = now
                if ready >= total:
                    t_ready = now
                    break
                time.sleep(0.25)
            if spy is not None:
                spy.send_signal(2)
                spy.wait(timeout=60)
                spy = None
            pods = s.get(f"{base}/api/v1/namespaces/{NS}/pods", timeout=300).json()["items"]
            nodes = {n["metadata"]["name"]: n["metadata"]["labels"]["topology.kubernetes.io/zone"]
                     for n in s.get(f"{base}/api/v1/nodes", timeout=60).json()["items"]}
            running_ready = sum(
                1 for p in pods if p["status"].get("phase") == "Running"
                and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or ()))
            per_zone = Counter(nodes.get(p["spec"].get("nodeName") or "", "-") for p in pods)
            per_node = Counter(p["spec"].get("nodeName") for p in pods)
            rss_end = rss_mib(handle.pid)
        finally:
            if spy is not None:
                spy.kill()
            stop_cluster(kubeconfig)
    print(f"cluster: {n_nodes} nodes ({args.zones} zones x {args.nodes_per_zone}, {args.instance_type}), "
          f"{total} pods ({args.deployments} Deployments x {args.replicas} of {IMAGE})")
    print(f"startup: API answering {t_api:.1f} s; all {n_nodes} node leases {t_leases:.1f} s")
    for t, replicas, ready in progress:
        print(f"  t={t:6.1f} s  pods created {replicas:5d}  ready {ready:5d}")
    created = f"{t_created:.1f} s" if t_created is not None else "not reached"
    verdict = "not reached" if t_ready is None else f"{t_ready:.1f} s ({'OK' if t_ready <= 30 else 'over'} " \
                                                   f"target 30 s)"
    print(f"pods: all created {created}; all Running+Ready {verdict}")
    print(f"final LIST: {len(pods)} pods, {running_ready} Running+Ready; per zone {dict(sorted(per_zone.items()))}; "
          f"per node min {min(per_node.values(), default=0)} max {max(per_node.values(), default=0)}")
    print(f"memory: cluster RSS {rss_start:.0f} MiB after startup, {rss_end:.0f} MiB with {len(pods)} pods")
    return 0 if t_ready is not None and t_ready <= 30 else 1


if __name__ == "__main__":
    sys.exit(main())
