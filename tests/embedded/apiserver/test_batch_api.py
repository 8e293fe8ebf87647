"""batch/v1 Jobs and CronJobs as the API server serves them: tables, the status subresource, watch."""

from __future__ import annotations

import json
from typing import Any

import requests

from .test_tables import TABLE_ACCEPT

JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "held"}, "spec": {"suspend": True, "template": {
    "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1.37"}]}}}}
CRONJOB = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"}, "spec": {
    "schedule": "17 3 * * *", "timeZone": "Europe/Berlin", "jobTemplate": {"spec": {"template": {"spec": {
        "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox:1.37"}]}}}}}}


def _create(api_url: str, namespace: str, plural: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = requests.post(f"{api_url}/apis/batch/v1/namespaces/{namespace}/{plural}", json=body, timeout=10)
    assert resp.status_code == 201, resp.text
    return resp.json()


def _table(api_url: str, path: str) -> dict[str, Any]:
    resp = requests.get(api_url + path, headers={"Accept": TABLE_ACCEPT}, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_job_table_has_printjobs_columns_and_a_suspended_row(api_url: str, namespace: str) -> None:
    job = _create(api_url, namespace, "jobs", JOB)
    table = _table(api_url, f"/apis/batch/v1/namespaces/{namespace}/jobs")
    assert [(c["name"], c["priority"]) for c in table["columnDefinitions"]] == [
        ("Name", 0), ("Status", 0), ("Completions", 0), ("Duration", 0), ("Age", 0), ("Containers", 1),
        ("Images", 1), ("Selector", 1)]
    row = _wait_row(api_url, f"/apis/batch/v1/namespaces/{namespace}/jobs", lambda cells: cells[1] == "Suspended")
    assert row[:4] == ["held", "Suspended", "0/1", ""]
    assert row[5:] == ["c", "busybox:1.37", f"batch.kubernetes.io/controller-uid={job['metadata']['uid']}"]


def _wait_row(api_url: str, path: str, ok: Any) -> list[Any]:
    from tests.embedded.controllers.podsim import wait_for

    return wait_for(lambda: (cells := _table(api_url, path)["rows"][0]["cells"]) and ok(cells) and cells,
                    what=f"a row of {path}")


def test_cronjob_table_shows_schedule_time_zone_and_no_last_schedule(api_url: str, namespace: str) -> None:
    _create(api_url, namespace, "cronjobs", CRONJOB)
    table = _table(api_url, f"/apis/batch/v1/namespaces/{namespace}/cronjobs")
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age", "Containers", "Images",
        "Selector"]
    cells = table["rows"][0]["cells"]
    assert cells[:6] == ["nightly", "17 3 * * *", "Europe/Berlin", "False", 0, "<none>"]
    assert cells[7:] == ["c", "busybox:1.37", "<none>"]


def test_status_subresource_owns_status_and_spec_changes_bump_generation(api_url: str, namespace: str) -> None:
    _create(api_url, namespace, "cronjobs", CRONJOB)
    base = f"{api_url}/apis/batch/v1/namespaces/{namespace}/cronjobs/nightly"
    merge = {"Content-Type": "application/merge-patch+json"}
    stamp = "2026-12-07T02:17:00Z"
    ignored = requests.patch(base, data=json.dumps({"status": {"lastScheduleTime": stamp}}), headers=merge,
                             timeout=10).json()
    assert ignored["status"] == {} and ignored["metadata"]["generation"] == 1
    written = requests.patch(base + "/status", data=json.dumps({"status": {"lastScheduleTime": stamp},
                                                                 "spec": {"suspend": True}}),
                             headers=merge, timeout=10).json()
    assert written["status"] == {"lastScheduleTime": stamp} and written["spec"]["suspend"] is False
    suspended = requests.patch(base, data=json.dumps({"spec": {"suspend": True}}), headers=merge, timeout=10).json()
    assert suspended["metadata"]["generation"] == 2 and suspended["status"] == {"lastScheduleTime": stamp}


def test_watch_on_jobs_streams_the_created_job(api_url: str, namespace: str) -> None:
    path = f"{api_url}/apis/batch/v1/namespaces/{namespace}/jobs"
    rv = requests.get(path, timeout=10).json()["metadata"]["resourceVersion"]
    _create(api_url, namespace, "jobs", JOB)
    with requests.get(path, params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "2"}, stream=True,
                      timeout=10) as resp:
        first = json.loads(next(resp.iter_lines()))
    assert (first["type"], first["object"]["kind"], first["object"]["metadata"]["name"]) == ("ADDED", "Job", "held")


def test_job_selector_is_immutable(api_url: str, namespace: str) -> None:
    _create(api_url, namespace, "jobs", JOB)
    resp = requests.patch(f"{api_url}/apis/batch/v1/namespaces/{namespace}/jobs/held",
                          data=json.dumps({"spec": {"selector": {"matchLabels": {"x": "y"}}}}),
                          headers={"Content-Type": "application/merge-patch+json"}, timeout=10)
    assert resp.status_code == 422, resp.text
    assert "spec.selector: Invalid value" in resp.json()["message"] and "field is immutable" in resp.json()["message"]
