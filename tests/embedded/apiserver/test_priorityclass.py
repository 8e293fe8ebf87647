"""PriorityClasses (scheduling.k8s.io/v1) over real HTTP: the system classes, registry rules with
upstream's messages, and the Priority admission that resolves a pod's priority at create."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

PCS = "/apis/scheduling.k8s.io/v1/priorityclasses"
TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@pytest.fixture
def priority_class(api_url: str) -> Iterator[Any]:
    """``make(value, **fields)`` creates a uniquely named class and returns its name; all deleted afterwards."""
    made: list[str] = []

    def make(value: int, **fields: Any) -> str:
        name = f"pc-{uuid.uuid4().hex[:8]}"
        resp = requests.post(api_url + PCS, json={"metadata": {"name": name}, "value": value, **fields}, timeout=10)
        assert resp.status_code == 201, resp.text
        made.append(name)
        return name

    yield make
    for name in made:
        requests.delete(f"{api_url}{PCS}/{name}", timeout=10)


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"schedulerName": "no-such-scheduler", "containers": [{"name": "c", "image": "busybox:1.36"}],
                     **spec}}


def create_pod(api_url: str, namespace: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{api_url}/api/v1/namespaces/{namespace}/pods", json=body, timeout=10)


def test_system_classes_exist_as_upstream_creates_them(api_url: str) -> None:
    items = {pc["metadata"]["name"]: pc for pc in requests.get(api_url + PCS, timeout=5).json()["items"]}
    node, cluster = items["system-node-critical"], items["system-cluster-critical"]
    assert (node["value"], node["preemptionPolicy"], node.get("globalDefault")) == (
        2000001000, "PreemptLowerPriority", None)
    assert node["description"] == "Used for system critical pods that must not be moved from their current node."
    assert cluster["value"] == 2000000000
    assert cluster["description"] == ("Used for system critical pods that must run in the cluster, but can be moved "
                                      "to another node if necessary.")


def test_system_class_cannot_be_deleted(api_url: str) -> None:
    resp = requests.delete(f"{api_url}{PCS}/system-node-critical", timeout=10)
    assert resp.status_code == 403
    assert resp.json()["message"] == ('system-node-critical.scheduling.k8s.io "system-node-critical" is forbidden: '
                                      "this is a system priority class and cannot be deleted")
    assert requests.get(f"{api_url}{PCS}/system-node-critical", timeout=5).status_code == 200


def test_create_defaults_preemption_policy(api_url: str, priority_class: Any) -> None:
    name = priority_class(100, description="d")
    got = requests.get(f"{api_url}{PCS}/{name}", timeout=5).json()
    assert (got["kind"], got["value"], got["description"], got["preemptionPolicy"]) == (
        "PriorityClass", 100, "d", "PreemptLowerPriority")


def test_table_columns(api_url: str, priority_class: Any) -> None:
    name = priority_class(7, preemptionPolicy="Never")
    table = requests.get(f"{api_url}{PCS}/{name}", headers={"Accept": TABLE_ACCEPT}, timeout=5).json()
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Value", "Global-Default", "Age",
                                                                "PreemptionPolicy"]
    cells = table["rows"][0]["cells"]
    assert (cells[0], cells[1], cells[2], cells[4]) == (name, 7, False, "Never")


def test_value_is_immutable(api_url: str, priority_class: Any) -> None:
    name = priority_class(10)
    resp = requests.patch(f"{api_url}{PCS}/{name}", json={"value": 11},
                          headers={"Content-Type": "application/merge-patch+json"}, timeout=10)
    assert resp.status_code == 422
    assert resp.json()["message"] == (f'PriorityClass.scheduling.k8s.io "{name}" is invalid: value: Forbidden: may '
                                      "not be changed in an update.")


def test_system_prefix_is_reserved(api_url: str) -> None:
    resp = requests.post(api_url + PCS, json={"metadata": {"name": "system-mine"}, "value": 1}, timeout=10)
    assert resp.status_code == 422
    assert resp.json()["message"] == (
        'PriorityClass.scheduling.k8s.io "system-mine" is invalid: metadata.name: Forbidden: priority class names '
        "with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority "
        "class")


def test_user_value_above_one_billion_is_forbidden(api_url: str) -> None:
    name = f"pc-{uuid.uuid4().hex[:8]}"
    resp = requests.post(api_url + PCS, json={"metadata": {"name": name}, "value": 1000000001}, timeout=10)
    assert resp.status_code == 422
    assert resp.json()["message"] == (f'PriorityClass.scheduling.k8s.io "{name}" is invalid: value: Forbidden: '
                                      "maximum allowed value of a user defined priority is 1000000000")


def test_only_one_global_default(api_url: str, priority_class: Any, namespace: str) -> None:
    first = priority_class(5, globalDefault=True)
    name = f"pc-{uuid.uuid4().hex[:8]}"
    resp = requests.post(api_url + PCS, json={"metadata": {"name": name}, "value": 6, "globalDefault": True},
                         timeout=10)
    assert resp.status_code == 403
    assert resp.json()["message"] == (f'priorityclasses.scheduling.k8s.io "{name}" is forbidden: PriorityClass '
                                      f"{first} is already marked as default. Only one default can exist")
    # ... and pods without a class get it.
    created = create_pod(api_url, namespace, pod("defaulted")).json()
    assert (created["spec"]["priorityClassName"], created["spec"]["priority"]) == (first, 5)


def test_pod_priority_comes_from_its_class(api_url: str, priority_class: Any, namespace: str) -> None:
    name = priority_class(1000, preemptionPolicy="Never")
    created = create_pod(api_url, namespace, pod("p", priorityClassName=name))
    assert created.status_code == 201, created.text
    spec = created.json()["spec"]
    assert (spec["priority"], spec["preemptionPolicy"]) == (1000, "Never")


def test_pod_without_class_or_default_gets_priority_zero(api_url: str, namespace: str) -> None:
    spec = create_pod(api_url, namespace, pod("zero")).json()["spec"]
    assert (spec["priority"], spec["preemptionPolicy"], "priorityClassName" in spec) == (
        0, "PreemptLowerPriority", False)


def test_unknown_class_is_forbidden(api_url: str, namespace: str) -> None:
    resp = create_pod(api_url, namespace, pod("p", priorityClassName="nope"))
    assert resp.status_code == 403
    assert resp.json()["message"] == 'pods "p" is forbidden: no PriorityClass with name nope was found'


def test_priority_given_in_the_spec_must_match_the_class(api_url: str, priority_class: Any, namespace: str) -> None:
    name = priority_class(1000)
    resp = create_pod(api_url, namespace, pod("p", priorityClassName=name, priority=5))
    assert resp.status_code == 403
    assert resp.json()["message"] == (
        'pods "p" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority '
        "admission controller computed 1000 from the given PriorityClass name")
    resp = create_pod(api_url, namespace, pod("q", priorityClassName=name, preemptionPolicy="Never"))
    assert resp.status_code == 403
    assert resp.json()["message"] == (
        'pods "q" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; '
        "priority admission controller computed PreemptLowerPriority from the given PriorityClass name")


def test_system_class_resolves_for_pods(api_url: str, namespace: str) -> None:
    spec = create_pod(api_url, namespace, pod("crit", priorityClassName="system-cluster-critical")).json()["spec"]
    assert spec["priority"] == 2000000000


def test_kubectl_create_priorityclass_sends_protobuf_and_works(api_url: str, kubectl_path: str, kubeconfig: Any,
                                                             tmp_path: Any) -> None:
    import subprocess

    name = f"pc-{uuid.uuid4().hex[:8]}"
    try:
        proc = subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path),
                               "create", "priorityclass", name, "--value=500", "--description=x",
                               "--preemption-policy=Never"], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr
        got = requests.get(f"{api_url}{PCS}/{name}", timeout=5).json()
        assert (got["value"], got["description"], got["preemptionPolicy"], "globalDefault" in got) == (
            500, "x", "Never", False)
    finally:
        requests.delete(f"{api_url}{PCS}/{name}", timeout=10)
