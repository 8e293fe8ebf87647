"""Everything in ci/ parses; every Kubernetes manifest validates against the v1.36 JSON schemas
(kubernetes-validate, strict), is created with dryRun=All by the embedded cluster, and `kubectl apply -f
ci/cronjob/` works there: the CronJob is served, and a Job made from it runs its pod (which fails to pull the
runner image, visibly)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import requests
import yaml

CI = Path(__file__).resolve().parents[2] / "ci"
YAMLS = sorted([*CI.rglob("*.yaml"), *CI.rglob("*.yml")])
MANIFESTS = sorted((CI / "cronjob").glob("*.yaml"))
K8S_VERSION = "1.36.0"
# Every kind in ci/cronjob/, at its collection path on the embedded cluster (RBAC is stored, not enforced).
RBAC = "/apis/rbac.authorization.k8s.io/v1"
SERVED = {("v1", "Namespace"): "/api/v1/namespaces",
          ("v1", "ServiceAccount"): "/api/v1/namespaces/{ns}/serviceaccounts",
          ("batch/v1", "CronJob"): "/apis/batch/v1/namespaces/{ns}/cronjobs",
          ("rbac.authorization.k8s.io/v1", "ClusterRole"): RBAC + "/clusterroles",
          ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): RBAC + "/clusterrolebindings",
          ("rbac.authorization.k8s.io/v1", "Role"): RBAC + "/namespaces/{ns}/roles",
          ("rbac.authorization.k8s.io/v1", "RoleBinding"): RBAC + "/namespaces/{ns}/rolebindings"}


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def manifest_docs() -> list[Any]:
    return [pytest.param(doc, id=f"{p.name}:{doc['kind']}/{doc['metadata']['name']}")
            for p in MANIFESTS for doc in documents(p)]


def test_ci_holds_the_pipelines_and_manifests():
    names = {p.relative_to(CI).as_posix() for p in CI.rglob("*") if p.is_file()}
    assert {"github/azchaos-nightly.yml", "kind/three-zones.yaml", "jenkins/Jenkinsfile",
            "release-gate/azchaos-gate.yml", "cronjob/rbac.yaml", "cronjob/cronjob.yaml",
            "cronjob/serviceaccount.yaml"} <= names


@pytest.mark.parametrize("path", YAMLS, ids=lambda p: p.relative_to(CI).as_posix())
def test_every_yaml_file_in_ci_parses(path: Path):
    assert documents(path)


@pytest.mark.parametrize("doc", manifest_docs())
def test_manifest_validates_against_the_kubernetes_schema(doc: dict[str, Any]):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_every_kind_in_ci_cronjob_is_served_by_the_embedded_cluster():
    kinds = {(d["apiVersion"], d["kind"]) for p in MANIFESTS for d in documents(p)}
    assert sorted(kinds - set(SERVED)) == []


@pytest.mark.parametrize("doc", manifest_docs())
def test_manifest_is_accepted_by_the_api_server_on_a_dry_run(doc: dict[str, Any], api_url: str):
    path = SERVED[(doc["apiVersion"], doc["kind"])]
    body = json.loads(json.dumps(doc))
    body["metadata"].pop("namespace", None)
    resp = requests.post(api_url + path.format(ns="default") + "?dryRun=All&fieldValidation=Strict", json=body,
                         timeout=10)
    assert resp.status_code == 201, resp.text


def test_the_namespace_manifest_sorts_first_so_one_apply_of_the_directory_works():
    # kubectl apply -f DIR reads the files in name order; the CronJob and the Role need their namespace first.
    assert MANIFESTS[0].name == "00-namespace.yaml" and documents(MANIFESTS[0])[0]["kind"] == "Namespace"


def _kubectl(kubectl_path: str, kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), *args], capture_output=True, text=True,
                          timeout=60)


def test_kubectl_apply_of_ci_cronjob_creates_everything_and_a_job_from_it_runs_visibly(
        kubectl_path: str, tmp_path: Path):
    from tests.clusters import own_cluster

    with own_cluster(tmp_path) as handle:
        applied = _kubectl(kubectl_path, handle.kubeconfig, "apply", "-f", str(CI / "cronjob"))
        assert applied.returncode == 0, applied.stderr
        assert "cronjob.batch/azchaos-nightly created" in applied.stdout, applied.stdout
        cj = json.loads(_kubectl(kubectl_path, handle.kubeconfig, "get", "cronjob", "azchaos-nightly", "-n",
                                 "azchaos", "-o", "json").stdout)
        assert cj["spec"]["schedule"] == "17 3 * * *" and cj["spec"]["concurrencyPolicy"] == "Forbid"
        made = _kubectl(kubectl_path, handle.kubeconfig, "create", "job", "--from=cronjob/azchaos-nightly",
                        "manual-1", "-n", "azchaos")
        assert made.returncode == 0, made.stderr
        deadline, reasons = time.monotonic() + 30, set()
        while time.monotonic() < deadline and "ErrImagePull" not in reasons:
            events = json.loads(_kubectl(kubectl_path, handle.kubeconfig, "get", "events", "-n", "azchaos", "-o",
                                         "json").stdout)["items"]
            reasons = {e["reason"] for e in events} | {e["message"].removeprefix("Error: ") for e in events}
            time.sleep(0.5)
        assert {"SuccessfulCreate", "UnexpectedJob", "ErrImagePull"} <= reasons, sorted(reasons)


def test_a_manifest_with_a_wrong_field_is_rejected_by_the_schema_check():
    doc = documents(CI / "cronjob" / "cronjob.yaml")[0]
    doc["spec"]["schedul"] = doc["spec"].pop("schedule")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kind_config_labels_three_workers_with_distinct_zones():
    nodes = documents(CI / "kind" / "three-zones.yaml")[0]["nodes"]
    zones = [n["labels"]["topology.kubernetes.io/zone"] for n in nodes if n["role"] == "worker"]
    assert len(zones) == 3 and len(set(zones)) == 3


def test_nightly_workflow_runs_on_schedule_and_dispatch_with_an_oidc_role_on_eks():
    wf = documents(CI / "github" / "azchaos-nightly.yml")[0]
    on = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads the key `on` as true
    assert "schedule" in on and "workflow_dispatch" in on
    eks = wf["jobs"]["eks"]
    assert eks["permissions"]["id-token"] == "write"
    creds = next(s for s in eks["steps"] if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials"))
    assert "role-to-assume" in creds["with"]
    for job in wf["jobs"].values():
        run = " ".join(s.get("run", "") for s in job["steps"])
        assert "pytest suites" in run and "--azchaos-kubeconfig" in run and "--azchaos-allow-context" in run
        assert any(str(s.get("uses", "")).startswith("actions/upload-artifact") for s in job["steps"])


def test_service_account_carries_the_irsa_role_annotation():
    sa = documents(CI / "cronjob" / "serviceaccount.yaml")[0]
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
