"""Benchmark: requests per second through NLB -> node -> pod on the embedded cluster, open loop.

Deploys agnhost netexec (6 replicas, 2 per zone) behind a ``type: LoadBalancer`` Service, then
runs the project's own prober at rising rates, each for a few seconds, new connection per
request (two pipelined HTTP requests each), and prints what was sustained: the highest rate at
which >= 99.9 % of requests succeeded with the prober's start lag p99 under 50 ms.

    .venv/bin/python bench/dataplane.py [--rates 250,500,1000,1500,2000,2500] [--seconds 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from kubernetes import client, config

from pytest_azchaos.embedded.process import start_cluster, stop_cluster
from pytest_azchaos.traffic import Prober, ProbeTarget

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"


def deploy(api: client.ApiClient, policy: str) -> list[str]:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    labels = {"app": "bench"}
    container = client.V1Container(
        name="echo", image=AGNHOST, args=["netexec", "--http-port=8080"],
        readiness_probe=client.V1Probe(http_get=client.V1HTTPGetAction(path="/readyz", port=8080), period_seconds=1))
    apps.create_namespaced_deployment("default", client.V1Deployment(
        metadata=client.V1ObjectMeta(name="bench"),
        spec=client.V1DeploymentSpec(replicas=6, selector=client.V1LabelSelector(match_labels=labels),
                                     template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels=labels),
                                                                       spec=client.V1PodSpec(containers=[container])))))
    core.create_namespaced_service("default", client.V1Service(
        metadata=client.V1ObjectMeta(name="bench"),
        spec=client.V1ServiceSpec(type="LoadBalancer", selector=labels, external_traffic_policy=policy,
                                  ports=[client.V1ServicePort(port=8080, target_port=8080)])))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        d = apps.read_namespaced_deployment("bench", "default")
        svc = core.read_namespaced_service("bench", "default")
        ingress = svc.status.load_balancer.ingress or []
        if d.status.ready_replicas == 6 and ingress:
            time.sleep(2)  # let NLB targets pass their healthy threshold
            return [i.ip or i.hostname for i in ingress]
        time.sleep(0.2)
    raise SystemExit("bench app did not become ready")


def rate_steps(addresses: list[str], rates: list[float], seconds: float) -> float:
    """Probe ``addresses`` on port 8080 at each rate for ``seconds``, print a row per rate; the highest rate served
    with >= 99.9 % success and prober lag p99 < 50 ms (bench/nlb_ip.py uses it too)."""
    print(f"{'rate':>6} {'sent':>7} {'ok %':>8} {'p50 ms':>8} {'p99 ms':>8} {'lag p99 ms':>11}  errors")
    best = 0.0
    for rate in rates:
        prober = Prober(ProbeTarget(addresses, 8080), rate=rate, timeout=2.0).start()
        time.sleep(seconds)
        rec = prober.stop()
        lat = rec.latency_percentiles()
        lag = rec.lag_percentiles()[99]
        ok = rec.success_ratio()
        print(f"{rate:6.0f} {rec.total:7d} {ok * 100:8.3f} {lat[50] * 1000:8.1f} {lat[99] * 1000:8.1f} "
              f"{lag * 1000:11.1f}  {rec.error_counts() or ''}")
        fails = rec.failures()
        if fails:
            print(f"       first failure: {fails[0].detail}")
        if ok >= 0.999 and lag < 0.05:
            best = rate
        time.sleep(1)
    return best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rates", default="250,500,1000,1500,2000,2500,3000")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--policy", default="Cluster", choices=("Cluster", "Local"))
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        start_cluster(kubeconfig)
        try:
            api = config.new_client_from_config(config_file=str(kubeconfig))
            addresses = deploy(api, args.policy)
            print(f"NLB addresses: {' '.join(addresses)}  policy: {args.policy}  {args.seconds:g}s per step")
            best = rate_steps(addresses, [float(r) for r in args.rates.split(",")], args.seconds)
            print(f"sustained: {best:.0f} req/s through NLB -> node -> pod (target >= 2000)")
        finally:
            stop_cluster(kubeconfig)
            log = kubeconfig.with_name(kubeconfig.name + ".log")
            warnings = [line for line in log.read_text(errors="replace").splitlines() if "WARNING" in line]
            if warnings:
                print("cluster warnings:\n  " + "\n  ".join(warnings[-10:]))


if __name__ == "__main__":
    main()
