"""CustomResourceDefinitions over real HTTP: establishing, discovery, CRUD, watch, patch, the status
subresource, schema validation and printer columns, each compared with what a real v1.36 API server
answered (``tests/golden/crd``), and what deleting a CRD does to its objects."""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.golden_data import golden_path

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def golden(name: str) -> dict[str, Any]:
    return json.loads(golden_path(f"crd/{name}.json").read_text())


def steps(name: str) -> list[dict[str, Any]]:
    case = golden(name)
    return case.get("steps") or [case]


def wait_established(api_url: str, name: str, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    crd: dict[str, Any] = {}
    while time.monotonic() < deadline:
        crd = requests.get(f"{api_url}{CRDS}/{name}", timeout=5).json()
        conds = {c["type"]: c["status"] for c in (crd.get("status") or {}).get("conditions") or []}
        if conds.get("Established") == "True":
            return crd
        time.sleep(0.05)
    raise AssertionError(f"CRD {name} not Established within {timeout}s: {crd.get('status')}")


def wait_gone(api_url: str, name: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    code = 0
    while time.monotonic() < deadline:
        code = requests.get(f"{api_url}{CRDS}/{name}", timeout=5).status_code
        if code == 404:
            return
        time.sleep(0.05)
    raise AssertionError(f"CRD {name} still there after {timeout}s (GET answered {code})")


@pytest.fixture(scope="module")
def widget_crd(api_url: str) -> Iterator[dict[str, Any]]:
    """The recorded Widget CRD (widgets.example.com), created once; yields the 201 body."""
    body = steps("widget-crd-create")[0]["request"]["body"]
    resp = requests.post(api_url + CRDS, json=body, timeout=10)
    assert resp.status_code == 201, resp.text
    wait_established(api_url, "widgets.example.com")
    yield resp.json()
    requests.delete(f"{api_url}{CRDS}/widgets.example.com", timeout=10)
    wait_gone(api_url, "widgets.example.com")


@pytest.fixture
def widgets(api_url: str, widget_crd: dict[str, Any], namespace: str) -> str:
    """The namespaced widgets collection URL in a fresh namespace."""
    return f"{api_url}/apis/example.com/v1/namespaces/{namespace}/widgets"


def widget(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec}


def status_body(resp: requests.Response) -> dict[str, Any]:
    body = resp.json()
    assert body.get("kind") == "Status", body
    return body


# ------------------------------------------------------------------------------------------ CRD itself

def test_created_crd_has_empty_status_and_defaults_like_upstream(widget_crd: dict[str, Any]) -> None:
    want = steps("widget-crd-create")[0]["response"]["body"]
    assert widget_crd["status"] == want["status"]
    assert widget_crd["spec"] == want["spec"]
    assert json.dumps(widget_crd["spec"]) == json.dumps(want["spec"]), "key order of the stored CRD differs"
    assert widget_crd["metadata"]["generation"] == 1


def test_crd_becomes_established_with_accepted_names(api_url: str, widget_crd: dict[str, Any]) -> None:
    want = steps("widget-crd-create")[1]["response"]["body"]["status"]
    got = wait_established(api_url, "widgets.example.com")["status"]
    strip = [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in got["conditions"]]
    assert strip == [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in want["conditions"]]
    assert got["acceptedNames"] == want["acceptedNames"]
    assert got["storedVersions"] == want["storedVersions"]


def test_crd_with_a_plural_already_used_in_its_group_is_not_accepted(api_url: str, widget_crd: dict[str, Any]
                                                                      ) -> None:
    body = copy.deepcopy(steps("widget-crd-create")[0]["request"]["body"])
    body["metadata"]["name"] = "widgets.example.com"
    body["spec"]["names"]["kind"] = "Gizmo"
    dup = requests.post(api_url + CRDS, json=body, timeout=10)
    assert dup.status_code == 409, dup.text
    body["metadata"]["name"] = "gizmos.example.com"
    body["spec"]["names"].update(plural="gizmos", singular="gizmo", kind="Widget", listKind="WidgetList")
    body["spec"]["names"].pop("shortNames")
    resp = requests.post(api_url + CRDS, json=body, timeout=10)
    try:
        assert resp.status_code == 201, resp.text
        time.sleep(0.3)
        conds = {c["type"]: c for c in requests.get(f"{api_url}{CRDS}/gizmos.example.com", timeout=5).json()[
            "status"]["conditions"]}
        assert (conds["NamesAccepted"]["status"], conds["NamesAccepted"]["reason"],
                conds["NamesAccepted"]["message"]) == ("False", "KindConflict", '"Widget" is already in use')
        assert conds["Established"]["status"] == "False"
        assert requests.get(f"{api_url}/apis/example.com/v1/gizmos", timeout=5).status_code == 404
    finally:
        requests.delete(f"{api_url}{CRDS}/gizmos.example.com", timeout=10)
        wait_gone(api_url, "gizmos.example.com")


def test_crd_name_must_be_plural_dot_group(api_url: str) -> None:
    body = copy.deepcopy(steps("widget-crd-create")[0]["request"]["body"])
    body["metadata"]["name"] = "wrong.example.com"
    resp = requests.post(api_url + CRDS, json=body, timeout=10)
    assert resp.status_code == 422
    assert status_body(resp)["message"] == (
        'CustomResourceDefinition.apiextensions.k8s.io "wrong.example.com" is invalid: metadata.name: Invalid '
        'value: "wrong.example.com": must be spec.names.plural+"."+spec.group')


def test_crds_as_table_have_name_and_created_at(api_url: str, widget_crd: dict[str, Any]) -> None:
    want = steps("cr-table")[3]["response"]["body"]
    table = requests.get(api_url + CRDS, headers={"Accept": TABLE_ACCEPT}, timeout=10).json()
    assert table["columnDefinitions"] == want["columnDefinitions"]
    row = next(r for r in table["rows"] if r["cells"][0] == "widgets.example.com")
    assert row["cells"][1] == widget_crd["metadata"]["creationTimestamp"]


# ------------------------------------------------------------------------------------------ discovery

def test_legacy_discovery_of_the_group_and_version(api_url: str, widget_crd: dict[str, Any]) -> None:
    assert requests.get(api_url + "/apis/example.com", timeout=5).json() == \
        golden("discovery-legacy-group")["response"]["body"]
    assert requests.get(api_url + "/apis/example.com/v1", timeout=5).json() == \
        golden("discovery-legacy-group-version")["response"]["body"]


def test_group_is_listed_last_in_apis(api_url: str, widget_crd: dict[str, Any]) -> None:
    groups = requests.get(api_url + "/apis", timeout=5).json()["groups"]
    want = next(g for g in golden("discovery-legacy-apis")["response"]["body"]["groups"] if g["name"] == "example.com")
    assert groups[-1] == want


def test_aggregated_discovery_entry_matches_upstream(api_url: str, widget_crd: dict[str, Any]) -> None:
    items = requests.get(api_url + "/apis", headers={"Accept": AGGREGATED}, timeout=5).json()["items"]
    want = next(i for i in golden("discovery-aggregated-apis")["response"]["body"]["items"]
                if i["metadata"]["name"] == "example.com")
    assert [i["metadata"]["name"] for i in items][-1] == "example.com"
    assert next(i for i in items if i["metadata"]["name"] == "example.com") == want


# ------------------------------------------------------------------------------------------ CRUD, validation

def test_create_applies_schema_defaults(widgets: str) -> None:
    step = steps("cr-create-valid")[0]
    resp = requests.post(widgets, json=step["request"]["body"], timeout=10)
    assert resp.status_code == 201, resp.text
    assert resp.json()["spec"] == step["response"]["body"]["spec"]
    got = requests.get(f"{widgets}/w1", timeout=5).json()
    assert got["spec"] == {"color": "blue", "replicas": 1, "size": 3}
    assert (got["apiVersion"], got["kind"], got["metadata"]["generation"]) == ("example.com/v1", "Widget", 1)


@pytest.mark.parametrize("case", ["cr-invalid-wrong-type", "cr-invalid-missing-spec", "cr-invalid-enum",
                                  "cr-invalid-maximum-and-maxitems", "cr-invalid-minimum",
                                  "cr-invalid-missing-required", "cr-invalid-cel-rule"])
def test_schema_violation_is_422_with_upstreams_message(widgets: str, case: str) -> None:
    step = steps(case)[0]
    resp = requests.post(widgets, json=step["request"]["body"], timeout=10)
    want = step["response"]["body"]
    assert resp.status_code == 422, resp.text
    got = status_body(resp)
    assert got["message"] == want["message"]
    assert got["details"] == want["details"]


def test_unknown_fields_are_pruned_with_one_warning_each(widgets: str) -> None:
    step = steps("cr-unknown-field-pruned-warning")[0]
    resp = requests.post(widgets, json=step["request"]["body"], timeout=10)
    assert resp.status_code == 201, resp.text
    assert resp.raw.headers.getlist("Warning") == step["response"]["headers"]["Warning"]
    assert resp.json()["spec"] == step["response"]["body"]["spec"]
    assert "extra" not in resp.json()


def test_unknown_field_with_strict_validation_is_400(widgets: str) -> None:
    resp = requests.post(widgets, params={"fieldValidation": "Strict"},
                         json=widget("strict", size=2, color="green", bogus=1), timeout=10)
    assert resp.status_code == 400
    assert status_body(resp)["message"] == ('Widget in version "v1" cannot be handled as a Widget: strict decoding '
                                            'error: unknown field "spec.bogus"')


def test_update_without_resource_version_is_refused(widgets: str) -> None:
    assert requests.post(widgets, json=widget("u1", size=1, color="red"), timeout=10).status_code == 201
    resp = requests.put(f"{widgets}/u1", json=widget("u1", size=2, color="red"), timeout=10)
    assert resp.status_code == 422
    assert status_body(resp)["message"] == ('Widget.example.com "u1" is invalid: metadata.resourceVersion: Invalid '
                                            "value: 0x0: must be specified for an update")


def test_namespace_deletion_deletes_its_custom_objects(api_url: str, widget_crd: dict[str, Any]) -> None:
    ns = f"t-{uuid.uuid4().hex[:10]}"
    requests.post(f"{api_url}/api/v1/namespaces", json={"metadata": {"name": ns}}, timeout=10)
    url = f"{api_url}/apis/example.com/v1/namespaces/{ns}/widgets"
    assert requests.post(url, json=widget("doomed", size=1, color="red"), timeout=10).status_code == 201
    requests.delete(f"{api_url}/api/v1/namespaces/{ns}", timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and requests.get(f"{api_url}/api/v1/namespaces/{ns}", timeout=5).status_code \
            != 404:
        time.sleep(0.1)
    assert requests.get(f"{api_url}/api/v1/namespaces/{ns}", timeout=5).status_code == 404
    items = requests.get(f"{api_url}/apis/example.com/v1/widgets", timeout=5).json()["items"]
    assert [i["metadata"]["name"] for i in items if i["metadata"]["namespace"] == ns] == []


def test_get_missing_custom_object_is_404_naming_the_resource(widgets: str) -> None:
    resp = requests.get(f"{widgets}/nope", timeout=5)
    assert resp.status_code == 404
    assert status_body(resp)["message"] == 'widgets.example.com "nope" not found'


# ------------------------------------------------------------------------------------------ patch

def test_patch_types_as_upstream(widgets: str) -> None:
    """Every step of the recorded patch session: strategic merge refused, merge/JSON/apply applied,
    schema violations and a failed JSON-patch test 422."""
    for step in steps("cr-patch-types"):
        req, want = step["request"], step["response"]
        url = widgets if req["method"] == "POST" else f"{widgets}/p1"
        headers = {"Content-Type": req["content_type"]} if req["content_type"] else {}
        resp = requests.request(req["method"], url, params=req["query"], data=json.dumps(req["body"]),
                                headers=headers, timeout=10)
        label = step["label"]
        assert resp.status_code == want["status"], f"{label}: {resp.text}"
        body = resp.json()
        if want["body"].get("kind") == "Status":
            assert body == want["body"], label
        else:
            assert body["spec"] == want["body"]["spec"], label
            assert body["metadata"]["generation"] == want["body"]["metadata"]["generation"], label
            assert body["metadata"].get("labels") == want["body"]["metadata"].get("labels"), label


# ------------------------------------------------------------------------------------------ status subresource

def test_status_subresource_separates_spec_and_status(widgets: str) -> None:
    recorded = steps("cr-status-subresource")
    resp = requests.post(widgets, json=recorded[0]["request"]["body"], timeout=10)
    assert resp.status_code == 201 and "status" not in resp.json(), resp.text
    current = resp.json()
    for step in recorded[1:]:
        req, want = step["request"], step["response"]
        path = req["path"].split("/widgets/", 1)[1]
        body = req["body"]
        if req["method"] == "PUT":
            body = copy.deepcopy(body)
            body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            body["metadata"].pop("managedFields", None)
            body["metadata"].pop("uid", None)
            body["metadata"].pop("namespace", None)
        headers = {"Content-Type": req["content_type"]} if req["content_type"] else {}
        resp = requests.request(req["method"], f"{widgets}/{path}", data=json.dumps(body) if body else None,
                                headers=headers, timeout=10)
        assert resp.status_code == want["status"], f"{step['label']}: {resp.text}"
        got = resp.json()
        if want["body"].get("kind") == "Status":
            assert got["message"] == want["body"]["message"], step["label"]
            assert got["details"] == want["body"]["details"], step["label"]
            continue
        assert (got["spec"], got.get("status"), got["metadata"]["generation"]) == (
            want["body"]["spec"], want["body"].get("status"), want["body"]["metadata"]["generation"]), step["label"]
        current = got


def test_without_status_subresource_status_is_written_with_the_object(api_url: str, namespace: str) -> None:
    group = f"t{uuid.uuid4().hex[:8]}.example.org"
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": f"things.{group}"},
           "spec": {"group": group, "scope": "Namespaced",
                    "names": {"plural": "things", "singular": "thing", "kind": "Thing"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}
    assert requests.post(api_url + CRDS, json=crd, timeout=10).status_code == 201
    try:
        wait_established(api_url, f"things.{group}")
        url = f"{api_url}/apis/{group}/v1/namespaces/{namespace}/things"
        resp = requests.post(url, json={"apiVersion": f"{group}/v1", "kind": "Thing", "metadata": {"name": "a"},
                                        "spec": {"x": 1}, "status": {"phase": "kept"}, "extra": {"y": 2}}, timeout=10)
        assert resp.status_code == 201, resp.text
        assert (resp.json()["status"], resp.json()["extra"]) == ({"phase": "kept"}, {"y": 2})
        assert requests.get(f"{url}/a/status", timeout=5).status_code == 404
        patched = requests.patch(f"{url}/a", data=json.dumps({"status": {"phase": "new"}}),
                                 headers={"Content-Type": "application/merge-patch+json"}, timeout=10).json()
        assert (patched["status"], patched["metadata"]["generation"]) == ({"phase": "new"}, 2)
    finally:
        requests.delete(f"{api_url}{CRDS}/things.{group}", timeout=10)
        wait_gone(api_url, f"things.{group}")


# ------------------------------------------------------------------------------------------ watch

def test_watch_streams_added_modified_deleted(widgets: str) -> None:
    rv = requests.get(widgets, timeout=5).json()["metadata"]["resourceVersion"]
    events: list[tuple[str, str, Any]] = []

    def watch() -> None:
        with requests.get(widgets, params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "5"},
                          stream=True, timeout=10) as stream:
            for line in stream.iter_lines():
                if line:
                    ev = json.loads(line)
                    events.append((ev["type"], ev["object"]["kind"], ev["object"]["spec"].get("size")))
                    if ev["type"] == "DELETED":
                        return

    thread = threading.Thread(target=watch)
    thread.start()
    time.sleep(0.3)
    assert requests.post(widgets, json=widget("wa", size=1, color="red"), timeout=10).status_code == 201
    requests.patch(f"{widgets}/wa", data=json.dumps({"spec": {"size": 2}}),
                   headers={"Content-Type": "application/merge-patch+json"}, timeout=10)
    requests.delete(f"{widgets}/wa", timeout=10)
    thread.join(10)
    assert events == [("ADDED", "Widget", 1), ("MODIFIED", "Widget", 2), ("DELETED", "Widget", 2)]


# ------------------------------------------------------------------------------------------ printing

def test_table_has_name_then_printer_columns_as_upstream(widgets: str) -> None:
    requests.post(widgets, json=widget("t1", size=3, color="blue"), timeout=10)
    requests.patch(f"{widgets}/t1/status", data=json.dumps({"status": {"phase": "Running"}}),
                   headers={"Content-Type": "application/merge-patch+json"}, timeout=10)
    requests.post(widgets, json=widget("t2", size=5, color="green"), timeout=10)
    want = steps("cr-table")[0]["response"]["body"]
    table = requests.get(widgets, params={"limit": "500"}, headers={"Accept": TABLE_ACCEPT}, timeout=10).json()
    assert table["columnDefinitions"] == want["columnDefinitions"]
    assert [r["cells"] for r in table["rows"]] == [["t1", "blue", 3, "Running", "0s"], ["t2", "green", 5, None, "0s"]]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    single = requests.get(f"{widgets}/t1", headers={"Accept": TABLE_ACCEPT}, timeout=10).json()
    assert [r["cells"] for r in single["rows"]] == [["t1", "blue", 3, "Running", "0s"]]
    bare = requests.get(widgets, params={"includeObject": "None"}, headers={"Accept": TABLE_ACCEPT}, timeout=10)
    assert [r["object"] for r in bare.json()["rows"]] == [None, None]


def test_kubectl_apply_then_get_shows_printer_columns(api_url: str, kubectl_path: str, kubeconfig: Any,
                                                      widget_crd: dict[str, Any], namespace: str,
                                                      tmp_path: Any) -> None:
    import subprocess

    import yaml  # type: ignore[import-untyped]

    def kubectl(*args: str, stdin: str | None = None) -> str:
        proc = subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path),
                               "-n", namespace, *args], input=stdin, capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    crd = steps("widget-crd-create")[0]["request"]["body"]
    assert "widgets.example.com" in kubectl("apply", "-f", "-", stdin=yaml.safe_dump(crd))
    assert "widgets.example.com" in kubectl("apply", "-f", "-", stdin=yaml.safe_dump(crd))  # a patch this time
    manifest = yaml.safe_dump(widget("k1", size=3, color="green"))
    assert kubectl("apply", "-f", "-", stdin=manifest).strip() == "widget.example.com/k1 created"
    assert kubectl("apply", "-f", "-", stdin=manifest.replace("size: 3", "size: 4")).strip() == \
        "widget.example.com/k1 configured"
    lines = kubectl("get", "widgets").splitlines()
    assert lines[0].split() == ["NAME", "COLOR", "SIZE", "PHASE", "AGE"]
    assert lines[1].split()[:3] == ["k1", "green", "4"]


# ------------------------------------------------------------------------------------------ cluster scope

def test_cluster_scoped_nodepool_as_upstream(api_url: str) -> None:
    recorded = steps("nodepool-karpenter-cluster-scoped")
    crd = recorded[0]["request"]["body"]
    assert requests.post(api_url + CRDS, json=crd, timeout=10).status_code == 201
    try:
        wait_established(api_url, "nodepools.karpenter.sh")
        for step in recorded[1:]:
            req, want = step["request"], step["response"]
            headers = {"Accept": TABLE_ACCEPT} if "Table" in step["label"] else {}
            if req["method"] == "PATCH":
                headers["Content-Type"] = "application/merge-patch+json"
            resp = requests.request(req["method"], api_url + req["path"], params=req["query"], headers=headers,
                                    data=json.dumps(req["body"]) if req["body"] is not None else None, timeout=10)
            assert resp.status_code == want["status"], f"{step['label']}: {resp.text}"
            if isinstance(want["body"], str):
                assert resp.text == want["body"], step["label"]
            elif want["body"].get("kind") == "Status":
                assert resp.json()["message"] == want["body"]["message"], step["label"]
            elif want["body"].get("kind") == "Table":
                assert resp.json()["columnDefinitions"] == want["body"]["columnDefinitions"], step["label"]
                assert [r["cells"][:4] + r["cells"][5:] for r in resp.json()["rows"]] == \
                       [r["cells"][:4] + r["cells"][5:] for r in want["body"]["rows"]], step["label"]
            elif want["body"].get("kind") == "APIResourceList":
                assert resp.json() == want["body"], step["label"]
            elif "items" in want["body"]:
                got = resp.json()
                assert [i["spec"] for i in got["items"]] == [i["spec"] for i in want["body"]["items"]]
                assert [(i["apiVersion"], i["kind"]) for i in got["items"]] == [
                    (i["apiVersion"], i["kind"]) for i in want["body"]["items"]]
                assert (got["kind"], sorted(got["metadata"]), got["metadata"]["continue"]) == (
                    want["body"]["kind"], sorted(want["body"]["metadata"]), "")
            else:
                assert resp.json()["spec"] == want["body"]["spec"], step["label"]
                assert resp.json().get("status") == want["body"].get("status"), step["label"]
    finally:
        requests.delete(f"{api_url}{CRDS}/nodepools.karpenter.sh", timeout=10)
        wait_gone(api_url, "nodepools.karpenter.sh")


# ------------------------------------------------------------------------------------------ deletion

def test_deleting_a_crd_deletes_its_objects_and_ends_their_watch(api_url: str, namespace: str) -> None:
    body = copy.deepcopy(steps("widget-crd-create")[0]["request"]["body"])
    group = f"d{uuid.uuid4().hex[:8]}.example.org"
    body["metadata"]["name"] = f"widgets.{group}"
    body["spec"]["group"] = group
    assert requests.post(api_url + CRDS, json=body, timeout=10).status_code == 201
    wait_established(api_url, f"widgets.{group}")
    url = f"{api_url}/apis/{group}/v1/namespaces/{namespace}/widgets"
    for i in range(3):
        obj = widget(f"w{i}", size=1, color="red")
        obj["apiVersion"] = f"{group}/v1"
        assert requests.post(url, json=obj, timeout=10).status_code == 201
    rv = requests.get(url, timeout=5).json()["metadata"]["resourceVersion"]
    events: list[str] = []

    def watch() -> None:
        with requests.get(url, params={"watch": "true", "resourceVersion": rv}, stream=True, timeout=15) as stream:
            events.extend(json.loads(line)["type"] for line in stream.iter_lines() if line)
        events.append("closed")

    thread = threading.Thread(target=watch)
    thread.start()
    time.sleep(0.3)
    resp = requests.delete(f"{api_url}{CRDS}/widgets.{group}", timeout=10)
    want = steps("crd-delete-removes-crs")[1]["response"]["body"]
    assert resp.status_code == 200, resp.text
    assert resp.json()["metadata"]["finalizers"] == want["metadata"]["finalizers"]
    terminating = resp.json()["status"]["conditions"][-1]
    want_terminating = want["status"]["conditions"][-1]
    assert (terminating["type"], terminating["reason"], terminating["message"]) == (
        want_terminating["type"], want_terminating["reason"], want_terminating["message"])
    wait_gone(api_url, f"widgets.{group}")
    thread.join(10)
    assert events == ["DELETED", "DELETED", "DELETED", "closed"]
    gone = requests.get(url, timeout=5)
    assert (gone.status_code, gone.text) == (404, "404 page not found\n")
    assert requests.get(f"{api_url}/apis/{group}/v1", timeout=5).status_code == 404
    assert group not in [g["name"] for g in requests.get(api_url + "/apis", timeout=5).json()["groups"]]


def test_objects_are_served_in_every_served_version(api_url: str, namespace: str) -> None:
    group = f"v{uuid.uuid4().hex[:8]}.example.org"
    version = {"served": True, "schema": {"openAPIV3Schema": {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {"n": {"type": "integer"}}}}}}}
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": f"things.{group}"},
           "spec": {"group": group, "scope": "Namespaced", "names": {"plural": "things", "kind": "Thing"},
                    "versions": [{"name": "v1", "storage": True, **version},
                                 {"name": "v1beta1", "storage": False, **version}]}}
    assert requests.post(api_url + CRDS, json=crd, timeout=10).status_code == 201
    try:
        established = wait_established(api_url, f"things.{group}")
        assert established["spec"]["names"] == {"plural": "things", "singular": "thing", "kind": "Thing",
                                                "listKind": "ThingList"}
        base = f"{api_url}/apis/{group}"
        made = requests.post(f"{base}/v1/namespaces/{namespace}/things", timeout=10,
                             json={"apiVersion": f"{group}/v1", "kind": "Thing", "metadata": {"name": "a"},
                                   "spec": {"n": 1}})
        assert made.status_code == 201, made.text
        old = requests.get(f"{base}/v1beta1/namespaces/{namespace}/things/a", timeout=5).json()
        assert (old["apiVersion"], old["spec"]) == (f"{group}/v1beta1", {"n": 1})
        listed = requests.get(f"{base}/v1beta1/things", timeout=5).json()
        assert (listed["apiVersion"], [i["apiVersion"] for i in listed["items"]]) == (
            f"{group}/v1beta1", [f"{group}/v1beta1"])
    finally:
        requests.delete(f"{api_url}{CRDS}/things.{group}", timeout=10)
        wait_gone(api_url, f"things.{group}")


def test_changing_printer_columns_applies_at_once(api_url: str, widget_crd: dict[str, Any], widgets: str) -> None:
    requests.post(widgets, json=widget("pc1", size=2, color="red", tags=["a"]), timeout=10)
    crd_url = f"{api_url}{CRDS}/widgets.example.com"
    current = requests.get(crd_url, timeout=5).json()
    columns = current["spec"]["versions"][0]["additionalPrinterColumns"]
    patch = [{"op": "add", "path": "/spec/versions/0/additionalPrinterColumns/-",
              "value": {"name": "Tags", "type": "string", "jsonPath": ".spec.tags", "priority": 1}}]
    resp = requests.patch(crd_url, data=json.dumps(patch), headers={"Content-Type": "application/json-patch+json"},
                          timeout=10)
    try:
        assert resp.status_code == 200, resp.text
        assert resp.json()["metadata"]["generation"] == current["metadata"]["generation"] + 1
        table = requests.get(widgets, headers={"Accept": TABLE_ACCEPT}, timeout=10).json()
        assert [(c["name"], c["priority"]) for c in table["columnDefinitions"]][-1] == ("Tags", 1)
        assert table["rows"][0]["cells"][-1] == "[a]"
    finally:
        restore = [{"op": "replace", "path": "/spec/versions/0/additionalPrinterColumns", "value": columns}]
        requests.patch(crd_url, data=json.dumps(restore), headers={"Content-Type": "application/json-patch+json"},
                       timeout=10)


def test_selectable_fields_filter_lists(api_url: str, namespace: str) -> None:
    group = f"s{uuid.uuid4().hex[:8]}.example.org"
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": f"things.{group}"},
           "spec": {"group": group, "scope": "Namespaced", "names": {"plural": "things", "kind": "Thing"},
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "selectableFields": [{"jsonPath": ".spec.color"}],
                                  "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
                                      "type": "object", "properties": {"color": {"type": "string"}}}}}}}]}}
    assert requests.post(api_url + CRDS, json=crd, timeout=10).status_code == 201
    try:
        wait_established(api_url, f"things.{group}")
        url = f"{api_url}/apis/{group}/v1/namespaces/{namespace}/things"
        for name, color in (("a", "red"), ("b", "blue")):
            requests.post(url, json={"apiVersion": f"{group}/v1", "kind": "Thing", "metadata": {"name": name},
                                     "spec": {"color": color}}, timeout=10)
        got = requests.get(url, params={"fieldSelector": "spec.color=blue"}, timeout=5).json()
        assert [i["metadata"]["name"] for i in got["items"]] == ["b"]
        assert requests.get(url, params={"fieldSelector": "spec.size=1"}, timeout=5).status_code == 400
    finally:
        requests.delete(f"{api_url}{CRDS}/things.{group}", timeout=10)
        wait_gone(api_url, f"things.{group}")
