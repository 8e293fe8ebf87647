"""RBAC proof: the ClusterRole/Role shipped in ci/cronjob/rbac.yaml grant every (verb, resource) a suite run
used on the embedded cluster, and nothing it did not use (the API server's audit, /azchaos/v1/audit)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from pytest_azchaos.embedded.process import ClusterHandle, start_cluster, stop_cluster

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
RBAC = ROOT / "ci" / "cronjob" / "rbac.yaml"
SUITE = ROOT / "suites" / "test_az_drain.py"

Grant = tuple[str, str, str]  # (verb, apiGroup, resource)


def granted() -> set[Grant]:
    out: set[Grant] = set()
    for doc in yaml.safe_load_all(RBAC.read_text()):
        if doc and doc["kind"] in ("ClusterRole", "Role"):
            for rule in doc["rules"]:
                out |= {(v, g, r) for v in rule["verbs"] for g in rule["apiGroups"] for r in rule["resources"]}
    return out


def show(grants: set[Grant]) -> str:
    return ", ".join(f"{v} {g or 'core'}/{r}" for v, g, r in sorted(grants)) or "none"


@pytest.fixture(scope="module")
def rbac_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    kubeconfig = tmp_path_factory.mktemp("rbac") / "kubeconfig"
    handle = start_cluster(kubeconfig)
    yield handle
    stop_cluster(kubeconfig)


def test_audit_records_verb_and_resource_with_subresource(api_url: str):
    requests.delete(api_url + "/azchaos/v1/audit", timeout=10).raise_for_status()
    requests.get(api_url + "/api/v1/nodes", timeout=10)
    requests.get(api_url + "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1", timeout=10)
    requests.post(api_url + "/api/v1/namespaces/default/pods/nope/eviction", json={
        "apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "nope"}}, timeout=10)
    items = requests.get(api_url + "/azchaos/v1/audit", timeout=10).json()["items"]
    used = {(i["verb"], i["apiGroup"], i["resource"]) for i in items}
    assert {("list", "", "nodes"), ("watch", "", "pods"), ("create", "", "pods/eviction")} <= used


def test_shipped_rbac_grants_exactly_what_a_drain_suite_run_uses(pytester: pytest.Pytester,
                                                                 rbac_cluster: ClusterHandle):
    audit = rbac_cluster.url + "/azchaos/v1/audit"
    requests.delete(audit, timeout=10).raise_for_status()
    result = pytester.runpytest_subprocess(str(SUITE), "-k", "Cluster", "-p", "no:cacheprovider",
                                           "--azchaos-kubeconfig", str(rbac_cluster.kubeconfig),
                                           "--azchaos-report-dir", str(pytester.path / "report"))
    result.assert_outcomes(passed=1)
    used = {(i["verb"], i["apiGroup"], i["resource"]) for i in requests.get(audit, timeout=10).json()["items"]}
    grants = granted()
    missing, unused = used - grants, grants - used
    assert not missing and not unused, (f"{RBAC.relative_to(ROOT)} does not match the run: missing "
                                        f"{show(missing)}; granted but unused {show(unused)}")
