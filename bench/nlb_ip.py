"""Benchmark: requests per second through an ip-target NLB (AWS Load Balancer Controller) to the pods, open loop.

Starts an embedded cluster with ``lb_controller="lbc"``, deploys agnhost netexec (6 replicas, 2 per zone)
behind an internet-facing ``aws-load-balancer-nlb-target-type: ip`` Service, resolves its NLB DNS name with the
resolver the kubeconfig declares, then runs the project's prober at rising rates, a few seconds each, and
prints what was sustained: the highest rate at which >= 99.9 % of requests succeeded with the prober's start
lag p99 under 50 ms. The path is NLB -> pod (no kube-proxy hop), the pod seeing the NLB's address.

    .venv/bin/python bench/nlb_ip.py [--rates 500,1000,2000,2500,3000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
from dataplane import rate_steps  # bench/ is on sys.path when run as a script
from kubernetes import client, config

from pytest_azchaos.embedded.process import start_cluster, stop_cluster
from pytest_azchaos.kube.kubeconfig import declared_resolver

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"
ANN = "service.beta.kubernetes.io/"


def deploy(api: client.ApiClient) -> str:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    labels = {"app": "bench"}
    container = client.V1Container(
        name="echo", image=AGNHOST, args=["netexec", "--http-port=8080"],
        readiness_probe=client.V1Probe(http_get=client.V1HTTPGetAction(path="/readyz", port=8080), period_seconds=1))
    spread = client.V1TopologySpreadConstraint(max_skew=1, topology_key="topology.kubernetes.io/zone",
                                               when_unsatisfiable="DoNotSchedule",
                                               label_selector=client.V1LabelSelector(match_labels=labels))
    apps.create_namespaced_deployment("default", client.V1Deployment(
        metadata=client.V1ObjectMeta(name="bench"),
        spec=client.V1DeploymentSpec(replicas=6, selector=client.V1LabelSelector(match_labels=labels),
                                     template=client.V1PodTemplateSpec(
                                         metadata=client.V1ObjectMeta(labels=labels),
                                         spec=client.V1PodSpec(containers=[container],
                                                               topology_spread_constraints=[spread])))))
    core.create_namespaced_service("default", client.V1Service(
        metadata=client.V1ObjectMeta(name="bench", annotations={ANN + "aws-load-balancer-nlb-target-type": "ip",
                                                                ANN + "aws-load-balancer-scheme": "internet-facing"}),
        spec=client.V1ServiceSpec(type="LoadBalancer", selector=labels,
                                  ports=[client.V1ServicePort(port=8080, target_port=8080)])))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        d = apps.read_namespaced_deployment("bench", "default")
        ingress = core.read_namespaced_service("bench", "default").status.load_balancer.ingress or []
        if d.status.ready_replicas == 6 and ingress:
            return str(ingress[0].hostname)
        time.sleep(0.2)
    raise SystemExit("bench app did not become ready")


def resolve(kubeconfig: Path, name: str, want: int = 3, timeout: float = 30.0) -> list[str]:
    """The NLB's A records from the declared resolver, once ``want`` zones have healthy targets."""
    server = declared_resolver(kubeconfig)
    assert server, "the lbc cluster declares its resolver"
    host, _, port = server.rpartition(":")
    deadline = time.monotonic() + timeout
    while True:
        response = dns.query.udp(dns.message.make_query(name, dns.rdatatype.A), host, port=int(port), timeout=2.0)
        addresses = sorted(r.address for rrset in response.answer for r in rrset)
        if len(addresses) >= want or time.monotonic() > deadline:
            return addresses
        time.sleep(0.5)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rates", default="500,1000,1500,2000,2500,3000")
    p.add_argument("--seconds", type=float, default=5.0)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        start_cluster(kubeconfig, lb_controller="lbc")
        try:
            api = config.new_client_from_config(config_file=str(kubeconfig))
            hostname = deploy(api)
            addresses = resolve(kubeconfig, hostname)
            print(f"NLB {hostname} -> {' '.join(addresses)}  ip targets  {args.seconds:g}s per step")
            best = rate_steps(addresses, [float(r) for r in args.rates.split(",")], args.seconds)
            print(f"sustained: {best:.0f} req/s through an ip-target NLB -> pod (target >= 2000)")
        finally:
            stop_cluster(kubeconfig)


if __name__ == "__main__":
    main()
