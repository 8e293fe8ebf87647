"""``azchaos local up|down`` as a user runs it: a real subprocess, a real kubeconfig."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

AZCHAOS = [sys.executable, "-m", "pytest_azchaos.cli"]


def _up(kubeconfig: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AZCHAOS, "local", "up", "--detach", "--kubeconfig", str(kubeconfig), *extra],
                          capture_output=True, text=True, timeout=60)


def _down(kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AZCHAOS, "local", "down", "--kubeconfig", str(kubeconfig)],
                          capture_output=True, text=True, timeout=60)


def _server(kubeconfig: Path) -> str:
    return json.loads(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]


@pytest.fixture
def detached(tmp_path: Path):
    kubeconfig = tmp_path / "kubeconfig"
    result = _up(kubeconfig)
    assert result.returncode == 0, result.stderr
    yield kubeconfig
    _down(kubeconfig)


def test_local_up_detach_writes_a_kubeconfig_whose_api_lists_the_nodes(detached: Path) -> None:
    nodes = requests.get(_server(detached) + "/api/v1/nodes", timeout=5).json()["items"]
    zones = sorted({n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes})
    assert len(nodes) == 6
    assert zones == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_nodes_carry_eks_labels_provider_id_and_ready_capacity(detached: Path) -> None:
    node = requests.get(_server(detached) + "/api/v1/nodes", timeout=5).json()["items"][0]
    labels = node["metadata"]["labels"]
    zone = labels["topology.kubernetes.io/zone"]
    for key in ("topology.kubernetes.io/region", "kubernetes.io/hostname", "node.kubernetes.io/instance-type",
                "eks.amazonaws.com/nodegroup", "topology.ebs.csi.aws.com/zone"):
        assert key in labels, key
    assert labels["topology.ebs.csi.aws.com/zone"] == zone
    assert node["spec"]["providerID"].startswith(f"aws:///{zone}/i-")
    ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
    assert ready == "True"
    assert node["status"]["capacity"]["cpu"] == "2"


def test_local_up_honours_zones_and_nodes_per_zone(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    result = _up(kubeconfig, "--zones", "4", "--nodes-per-zone", "1")
    try:
        assert result.returncode == 0, result.stderr
        nodes = requests.get(_server(kubeconfig) + "/api/v1/nodes", timeout=5).json()["items"]
        assert sorted(n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes) == [
            "us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]
    finally:
        _down(kubeconfig)


def test_two_clusters_run_side_by_side_on_distinct_addresses(tmp_path: Path, detached: Path) -> None:
    other = tmp_path / "other" / "kubeconfig"
    result = _up(other)
    try:
        assert result.returncode == 0, result.stderr
        assert _server(other) != _server(detached)
        for kc in (detached, other):
            assert requests.get(_server(kc) + "/version", timeout=5).json()["gitVersion"] == "v1.36.2"
    finally:
        _down(other)


def test_local_down_stops_the_cluster(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    assert _up(kubeconfig).returncode == 0
    server = _server(kubeconfig)
    result = _down(kubeconfig)
    assert result.returncode == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(server + "/version", timeout=2)


def test_local_down_without_a_cluster_says_so(tmp_path: Path) -> None:
    result = _down(tmp_path / "kubeconfig")
    assert result.returncode == 1
    assert "no running embedded cluster" in result.stderr


def test_second_up_on_the_same_kubeconfig_is_refused_with_the_fix(detached: Path) -> None:
    result = _up(detached)
    assert result.returncode == 1
    assert "azchaos local down --kubeconfig" in result.stderr


def test_bad_topology_is_rejected_before_anything_starts(tmp_path: Path) -> None:
    result = _up(tmp_path / "kubeconfig", "--zones", "0")
    assert result.returncode == 2
    assert "--zones" in result.stderr
    assert not (tmp_path / "kubeconfig").exists()


def test_local_up_lb_controller_lbc_declares_the_nlb_resolver(tmp_path: Path) -> None:
    from pytest_azchaos.kube.kubeconfig import declared_resolver

    kubeconfig = tmp_path / "kubeconfig"
    result = _up(kubeconfig, "--lb-controller", "lbc")
    try:
        assert result.returncode == 0, result.stderr
        server = declared_resolver(kubeconfig)
        assert server is not None and server.startswith("127.0.0.1:"), server
        hooks = requests.get(_server(kubeconfig) + "/apis/admissionregistration.k8s.io/v1/"
                             "mutatingwebhookconfigurations", timeout=5).json()["items"]
        assert [h["metadata"]["name"] for h in hooks] == ["aws-load-balancer-webhook"]
    finally:
        _down(kubeconfig)


def test_local_up_legacy_declares_no_resolver(detached: Path) -> None:
    from pytest_azchaos.kube.kubeconfig import declared_resolver

    assert declared_resolver(detached) is None


def test_local_up_refuses_an_unknown_lb_controller(tmp_path: Path) -> None:
    result = _up(tmp_path / "kubeconfig", "--lb-controller", "nginx")
    assert result.returncode == 2 and "invalid choice: 'nginx'" in result.stderr, result.stderr
