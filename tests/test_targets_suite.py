"""Done-when of issue 16 (targets): the drain suite run with ``--azchaos-target`` against a service that is not
agnhost-shaped, deployed the way a team ships it (its own namespace, Deployment, ``type: LoadBalancer`` Service,
PDB): busybox ``httpd`` serving its files and 404 for anything else. Well configured, the suite passes; with one
replica it fails with the failure window in the message. Each run is a pytest subprocess against the session's
embedded cluster, as a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.wellknown import ZONE_LABEL

SUITES = Path(__file__).resolve().parents[1] / "suites"
def run_drain(kubeconfig: Path, work: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run([sys.executable, "-m", "pytest", str(SUITES / "test_az_drain.py"), "-p", "no:cacheprovider",
                           "-q", "-rs", "--azchaos-kubeconfig", str(kubeconfig), "--azchaos-report-dir",
                           str(work / "report"), *extra],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)


def test_the_site_answers_only_its_own_paths(site: Any) -> None:
    _, address = site(3)
    assert requests.get(f"http://{address}:8080/index.html", timeout=2).text == "<h1>shop</h1>\n"
    missing = requests.get(f"http://{address}:8080/hostname", timeout=2)
    assert missing.status_code == 404 and "The requested URL was not found" in missing.text
    assert missing.headers["Connection"] == "close"


def test_drain_suite_passes_on_a_well_configured_target(site: Any, embedded_cluster: ClusterHandle,
                                                         tmp_path: Path) -> None:
    namespace, _ = site(6)
    target = f"deployment/{namespace}/static,path=/index.html,status=200"
    proc = run_drain(embedded_cluster.kubeconfig, tmp_path, "--azchaos-target", target, "-rA")
    out = proc.stdout + proc.stderr
    assert re.search(rf"PASSED \S+\[target=deployment/{namespace}/static-Cluster\]", out), out[-3000:]
    assert proc.returncode == 0, out[-5000:]
    assert "1 passed, 1 skipped" in out, out[-3000:]
    assert re.search(r"AZ-DRAIN +PASS", out), out[-3000:]
    # The Local variant would need the Service's policy changed: skipped, saying so.
    assert "needs externalTrafficPolicy Local" in out and "never changes a target's spec" in out, out[-3000:]


def test_drain_suite_fails_with_the_window_on_a_one_replica_target(site: Any, embedded_cluster: ClusterHandle,
                                                                    api_client: client.ApiClient,
                                                                    tmp_path: Path) -> None:
    # One replica of a service that needs 10 s to become Ready: its replacement cannot be serving when the
    # evicted pod stops (kube-proxy's fallback to a terminating endpoint lasts only its 5 s grace period).
    namespace, _ = site(1, spread=False, pdb=False, warmup=10)
    core = client.CoreV1Api(api_client)
    pod = core.list_namespaced_pod(namespace, label_selector="app=static").items[0]
    zone = core.read_node(pod.spec.node_name).metadata.labels[ZONE_LABEL]
    target = f"deployment/{namespace}/static,path=/index.html,status=200"
    proc = run_drain(embedded_cluster.kubeconfig, tmp_path, "--azchaos-target", target, "--azchaos-zone", zone,
                     "-k", "Cluster")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-5000:]
    assert "AZ-DRAIN FAILED" in out, out[-5000:]
    assert re.search(r"t=\d+\.\d+s\.\.\d+\.\d+s \(\d+\.\d+s\): \d+ failed", out), out[-5000:]


def test_srcip_and_balance_on_a_target_run_what_it_can_answer_and_skip_the_rest(api_client: client.ApiClient,
                                                                                  embedded_cluster: ClusterHandle,
                                                                                  tmp_path: Path) -> None:
    """agnhost deployed as a team's own service (Local policy) and named with echo=: AZ-SRCIP judges it through the
    echo endpoint; the Cluster variant and AZ-BALANCE (no pod-header=) skip naming why."""
    from pytest_azchaos.apps.echo import EchoSpec, echo_manifests

    core, apps, policy = client.CoreV1Api(api_client), client.AppsV1Api(api_client), client.PolicyV1Api(api_client)
    namespace = f"team-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    try:
        for m in echo_manifests(EchoSpec(traffic_policy="Local", replicas=3)):
            {"Deployment": apps.create_namespaced_deployment, "Service": core.create_namespaced_service,
             "PodDisruptionBudget": policy.create_namespaced_pod_disruption_budget}[m["kind"]](namespace, m)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            svc = core.read_namespaced_service("echo", namespace)
            pods = core.list_namespaced_pod(namespace).items
            if (svc.status.load_balancer and svc.status.load_balancer.ingress and len(pods) == 3
                    and all(any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
                            for p in pods)):
                break
            time.sleep(0.5)
        time.sleep(2)  # the NLB's health checks see the Local endpoints
        target = f"deployment/{namespace}/echo,path=/hostname,echo=/clientip,keep-alive=true"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        proc = subprocess.run([sys.executable, "-m", "pytest", str(SUITES / "test_az_srcip.py"),
                               str(SUITES / "test_az_balance.py"), "-p", "no:cacheprovider", "-q", "-rs",
                               "--azchaos-kubeconfig", str(embedded_cluster.kubeconfig), "--azchaos-report-dir",
                               str(tmp_path / "report"), "--azchaos-target", target],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-5000:]
        assert "1 passed, 2 skipped" in out, out[-3000:]
        assert re.search(r"AZ-SRCIP +PASS .* successful requests saw the client's own address", out), out[-3000:]
        assert "needs externalTrafficPolicy Cluster" in out, out[-3000:]
        assert "AZ-BALANCE needs to know which pod served each request: add pod-header=NAME" in out, out[-3000:]
    finally:
        core.delete_namespace(namespace)
