"""Benchmark of the embedded API server: create throughput, LIST latency, watch event latency.

Run: ``.venv/bin/python bench/apiserver.py [--pods 3000] [--threads 8]``. Starts its own embedded
cluster (a separate process, as tests and users get it) with a temporary kubeconfig, and prints a
table of figures against their targets.

Methods:
- create/s: ``--pods`` Pods POSTed to one namespace from ``--threads`` threads, each with its own
  keep-alive ``requests.Session``; wall time from the first request to the last response. The pods
  name a scheduler that does not exist, so no scheduler or kubelet work is mixed into the figure.
- LIST: 20 sequential ``GET /api/v1/namespaces/bench/pods`` (JSON, all pods) on a keep-alive session;
  time until the whole body is read (not parsed); median and p95.
- watch: 10 concurrent watch streams (aiohttp, one loop) on ConfigMaps of a namespace; one writer
  PUTs ``--writes`` updates, one every 20 ms; latency = watcher's receipt of the event minus the
  moment the writer's PUT returned (an event that arrives before the PUT returns counts as 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_azchaos.embedded.process import start_cluster, stop_cluster
from pytest_azchaos.embedded.topology import Topology

NS = "bench"
WATCH_NS = "bench-watch"
JSON = {"Content-Type": "application/json"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]


def pod_body(i: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"bench-{i:05d}", "labels": {"app": "bench", "shard": str(i % 10)}},
            "spec": {"schedulerName": "bench-no-scheduler",
                     "containers": [{"name": "c", "image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
                                     "args": ["netexec", "--http-port=8080"],
                                     "ports": [{"containerPort": 8080}],
                                     "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}


def cpu_seconds(pid: int) -> float:
    """User+system CPU time of a process (Linux /proc), to tell server cost from client cost."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_create(url: str, pods: int, threads: int) -> float:
    def worker(indices: range) -> None:
        with requests.Session() as s:
            for i in indices:
                r = s.post(f"{url}/api/v1/namespaces/{NS}/pods", data=json.dumps(pod_body(i)), headers=JSON)
                if r.status_code != 201:
                    raise RuntimeError(f"create pod {i}: {r.status_code} {r.text[:200]}")

    per = (pods + threads - 1) // threads
    chunks = [range(t * per, min(pods, (t + 1) * per)) for t in range(threads)]
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as ex:
        for f in [ex.submit(worker, c) for c in chunks]:
            f.result()
    return pods / (time.perf_counter() - start)


def bench_list(url: str, pods: int, rounds: int = 20) -> list[float]:
    times = []
    with requests.Session() as s:
        for _ in range(rounds):
            t0 = time.perf_counter()
            r = s.get(f"{url}/api/v1/namespaces/{NS}/pods", headers={"Accept": "application/json"})
            body = r.content
            times.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                raise RuntimeError(f"list: {r.status_code}")
        count = len(json.loads(body)["items"])
        if count != pods:
            raise RuntimeError(f"list returned {count} pods, expected {pods}")
    return times


async def bench_create_aiohttp(url: str, first: int, pods: int, concurrency: int) -> float:
    """The same creates from one asyncio loop (``concurrency`` keep-alive connections): less client CPU."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as s:
        queue = iter(range(first, first + pods))

        async def worker() -> None:
            for i in queue:
                async with s.post(f"{url}/api/v1/namespaces/{NS}/pods", data=json.dumps(pod_body(i)),
                                  headers=JSON) as r:
                    await r.read()
                    if r.status != 201:
                        raise RuntimeError(f"create pod {i}: {r.status}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return pods / (time.perf_counter() - start)


async def bench_watch(url: str, watchers: int, writes: int) -> list[float]:
    returned: dict[str, float] = {}
    latencies: list[float] = []
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{url}/api/v1/namespaces/{WATCH_NS}/configmaps",
                          json={"metadata": {"name": "target"}, "data": {"n": "0"}}) as r:
            cm = await r.json()
        rv = cm["metadata"]["resourceVersion"]
        ready = asyncio.Event()
        opened = 0

        async def watch() -> None:
            nonlocal opened
            async with s.get(f"{url}/api/v1/namespaces/{WATCH_NS}/configmaps",
                             params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "120"},
                             timeout=aiohttp.ClientTimeout(total=None)) as resp:
                opened += 1
                if opened == watchers:
                    ready.set()
                seen = 0
                while seen < writes:
                    line = await resp.content.readline()
                    if not line:
                        break
                    got = time.perf_counter()
                    ev = json.loads(line)
                    rv_seen = ev["object"]["metadata"]["resourceVersion"]
                    seen += 1
                    put_returned = returned.get(rv_seen)
                    # An event read before the writer saw its PUT return counts as 0.
                    latencies.append(0.0 if put_returned is None else max(0.0, got - put_returned) * 1000)

        tasks = [asyncio.create_task(watch()) for _ in range(watchers)]
        await asyncio.wait_for(ready.wait(), 10)
        await asyncio.sleep(0.2)
        current = cm
        for i in range(writes):
            current["data"] = {"n": str(i + 1)}
            async with s.put(f"{url}/api/v1/namespaces/{WATCH_NS}/configmaps/target", json=current) as r:
                current = await r.json()
                returned[current["metadata"]["resourceVersion"]] = time.perf_counter()
            await asyncio.sleep(0.02)
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
    return latencies


def row(name: str, value: str, target: str, ok: bool | None) -> str:
    verdict = "" if ok is None else "PASS" if ok else "MISS"
    return f"| {name:<34} | {value:>22} | {target:>12} | {verdict:<4} |"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--watchers", type=int, default=10)
    ap.add_argument("--writes", type=int, default=200)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="azchaos-bench-") as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        handle = start_cluster(kubeconfig, Topology())
        try:
            url = handle.url
            for ns in (NS, WATCH_NS):
                requests.post(f"{url}/api/v1/namespaces", json={"metadata": {"name": ns}}, timeout=10) \
                    .raise_for_status()
            cpu0, client0 = cpu_seconds(handle.pid), time.process_time()
            rate = bench_create(url, args.pods, args.threads)
            cpu1, client1 = cpu_seconds(handle.pid), time.process_time()
            lists = bench_list(url, args.pods)
            # A second batch from aiohttp, to separate the client's cost from the server's.
            cpu2, client2 = cpu_seconds(handle.pid), time.process_time()
            rate_aio = asyncio.run(bench_create_aiohttp(url, args.pods, args.pods, args.threads))
            cpu3, client3 = cpu_seconds(handle.pid), time.process_time()
            lat = asyncio.run(bench_watch(url, args.watchers, args.writes))
        finally:
            stop_cluster(kubeconfig)

    med, p95 = statistics.median(lists), percentile(lists, 0.95)
    w50, w99 = percentile(lat, 0.50), percentile(lat, 0.99)
    print(f"embedded API server benchmark: {args.pods} pods, {args.threads} create threads, "
          f"{args.watchers} watchers x {args.writes} writes ({len(lat)} events)")
    print("| metric                             |                  value |       target | ok   |")
    print("|------------------------------------|------------------------|--------------|------|")
    server_ms = (cpu1 - cpu0) * 1000 / args.pods
    server_aio_ms = (cpu3 - cpu2) * 1000 / args.pods
    print(row(f"create pods (requests, {args.threads} threads)", f"{rate:,.0f} obj/s", ">= 1000/s", rate >= 1000))
    print(row(f"create pods (aiohttp, {args.threads} conns)", f"{rate_aio:,.0f} obj/s", ">= 1000/s",
              rate_aio >= 1000))
    print(row("  server CPU per create", f"{server_ms:.2f} / {server_aio_ms:.2f} ms", "", None))
    print(row("  client CPU per create", f"{(client1 - client0) * 1000 / args.pods:.2f} / "
              f"{(client3 - client2) * 1000 / args.pods:.2f} ms", "", None))
    print(row(f"LIST {args.pods} pods (JSON) median", f"{med:.1f} ms", "<= 150 ms", med <= 150))
    print(row(f"LIST {args.pods} pods (JSON) p95", f"{p95:.1f} ms", "<= 150 ms", p95 <= 150))
    print(row(f"watch latency p50 ({args.watchers} watchers)", f"{w50:.2f} ms", "", None))
    print(row(f"watch latency p99 ({args.watchers} watchers)", f"{w99:.2f} ms", "<= 10 ms", w99 <= 10))
    print("(server/client CPU: requests batch / aiohttp batch; the requests client costs more CPU per create than "
          "the server on this 2-core machine, so that row measures the client)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
