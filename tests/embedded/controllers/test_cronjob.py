"""CronJob controller against the embedded cluster: Jobs on schedule, history, and kubectl's manual Jobs.

Schedules that must fire use a cluster of their own started with the start option
``AZCHAOS_EMBEDDED_CRON_CLOCK_OFFSET=60``: its CronJob controller's clock runs a minute ahead, so the first
minute of a ``* * * * *`` schedule after the CronJob's creation is already due.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.golden_data import golden_path

from .podsim import wait_for

BUSYBOX = "busybox:1.37"


def _cronjob(name: str, schedule: str = "* * * * *", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name}, "spec": {
        "schedule": schedule, **spec, "jobTemplate": {"metadata": {"labels": {"run": name}}, "spec": {
            "template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "c", "image": BUSYBOX, "command": ["sh", "-c", "echo tick"]}]}}}}}}


def _post(url: str, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(url + path, json=body, timeout=10)


def _get(url: str, path: str) -> dict[str, Any]:
    resp = requests.get(url + path, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _events(url: str, namespace: str) -> list[tuple[str, str, str]]:
    return [(e["type"], e["reason"], e["message"]) for e in _get(url, f"/api/v1/namespaces/{namespace}/events")[
        "items"] if e["involvedObject"]["kind"] == "CronJob"]


def _ts(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def ahead(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a cluster whose CronJob controller runs 60 s ahead of the wall clock, with a namespace ``cj``."""
    from tests.clusters import own_cluster

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AZCHAOS_EMBEDDED_CRON_CLOCK_OFFSET", "60")
        cm = own_cluster(tmp_path_factory.mktemp("cron-ahead"))
        handle = cm.__enter__()
    try:
        assert _post(handle.url, "/api/v1/namespaces", {"metadata": {"name": "cj"}}).status_code == 201
        yield handle.url
    finally:
        cm.__exit__(None, None, None)


def test_due_schedule_creates_the_job_of_its_minute_and_sees_it_complete(ahead: str) -> None:
    cj = _post(ahead, "/apis/batch/v1/namespaces/cj/cronjobs", _cronjob("tick")).json()
    status = wait_for(lambda: (s := _get(ahead, "/apis/batch/v1/namespaces/cj/cronjobs/tick")["status"]).get(
        "lastSuccessfulTime") and s, timeout=30, what="a scheduled Job to complete")
    scheduled = status["lastScheduleTime"]
    name = f"tick-{int(_ts(scheduled) // 60)}"
    job = _get(ahead, f"/apis/batch/v1/namespaces/cj/jobs/{name}")
    assert job["metadata"]["annotations"] == {"batch.kubernetes.io/cronjob-scheduled-timestamp": scheduled}
    assert job["metadata"]["labels"] == {"run": "tick"}
    assert job["metadata"]["ownerReferences"] == [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "tick",
                                                   "uid": cj["metadata"]["uid"], "controller": True,
                                                   "blockOwnerDeletion": True}]
    assert "active" not in status, status
    events = _events(ahead, "cj")
    assert ("Normal", "SuccessfulCreate", f"Created job {name}") in events
    assert ("Normal", "SawCompletedJob", f"Saw completed job: {name}, condition: Complete") in events


def test_suspended_cronjob_starts_no_job(ahead: str) -> None:
    _post(ahead, "/apis/batch/v1/namespaces/cj/cronjobs", _cronjob("paused", suspend=True))
    _post(ahead, "/apis/batch/v1/namespaces/cj/cronjobs", _cronjob("marker"))
    wait_for(lambda: _get(ahead, "/apis/batch/v1/namespaces/cj/cronjobs/marker")["status"].get("lastScheduleTime"),
             timeout=30, what="the unsuspended CronJob to run")
    jobs = _get(ahead, "/apis/batch/v1/namespaces/cj/jobs?labelSelector=run=paused")["items"]
    assert jobs == [] and _get(ahead, "/apis/batch/v1/namespaces/cj/cronjobs/paused")["status"] == {}


def test_finished_jobs_beyond_the_history_limit_are_deleted(ahead: str) -> None:
    _post(ahead, "/apis/batch/v1/namespaces/cj/cronjobs", _cronjob("once", successfulJobsHistoryLimit=0))
    status = wait_for(lambda: (s := _get(ahead, "/apis/batch/v1/namespaces/cj/cronjobs/once")["status"]).get(
        "lastSuccessfulTime") and s, timeout=30, what="the Job to complete")
    name = f"once-{int(_ts(status['lastScheduleTime']) // 60)}"
    wait_for(lambda: ("Normal", "SuccessfulDelete", f"Deleted job {name}") in _events(ahead, "cj"), timeout=10,
             what="the history limit to delete the Job")
    assert requests.get(f"{ahead}/apis/batch/v1/namespaces/cj/jobs/{name}", timeout=10).status_code == 404


@pytest.mark.parametrize(("spec", "message"), [
    ({"schedule": "61 * * * *"},
     'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'),
    ({"schedule": "@every"}, 'spec.schedule: Invalid value: "@every": unrecognized descriptor: @every'),
    ({"timeZone": "Mars/Olympus"}, 'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'),
    ({"concurrencyPolicy": "Sometimes"},
     'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"'),
])
def test_invalid_cronjob_is_refused_with_upstreams_message(api_url: str, namespace: str, spec: dict[str, Any],
                                                           message: str) -> None:
    body = _cronjob("bad")
    body["spec"].update(spec)
    resp = _post(api_url, f"/apis/batch/v1/namespaces/{namespace}/cronjobs", body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["message"] == f'CronJob.batch "bad" is invalid: {message}'


def test_kubectl_create_job_from_cronjob_makes_the_job_kubectl_builds(
        api_url: str, kubeconfig: Path, kubectl_path: str, namespace: str) -> None:
    golden = json.loads(golden_path("batch").joinpath("job-from-cronjob-kubectl.json").read_text())
    cronjob_body = golden["steps"][1]["request"]["body"]
    cj = _post(api_url, f"/apis/batch/v1/namespaces/{namespace}/cronjobs", cronjob_body)
    assert cj.status_code == 201, cj.text
    made = subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), "-n", namespace, "create", "job",
                           "manual-1", "--from=cronjob/nightly"], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "job.batch/manual-1 created"
    job = _get(api_url, f"/apis/batch/v1/namespaces/{namespace}/jobs/manual-1")
    expected = json.loads(json.dumps(golden["observed"]["job_metadata"]).replace(
        "52b6630f-8c06-4ef8-8b98-357d6508ed31", cj.json()["metadata"]["uid"]))
    assert {k: job["metadata"].get(k) for k in ("labels", "annotations", "ownerReferences")} == expected
    recorded = golden["steps"][2]["response"]["body"]["spec"]
    assert job["spec"]["backoffLimit"] == recorded["backoffLimit"] == 2
    assert job["spec"]["template"]["spec"]["containers"] == recorded["template"]["spec"]["containers"]
    assert {k: v for k, v in job["spec"].items() if k not in ("selector", "template")} == {
        k: v for k, v in recorded.items() if k not in ("selector", "template")}
    warning = ("Warning", "UnexpectedJob", "Saw a job that the controller did not create or forgot: manual-1")
    wait_for(lambda: warning in _events(api_url, namespace), timeout=10, what="the UnexpectedJob warning")
    # Never adopted into status.active (the recording's status stayed {}: its pod never ran, there being no
    # kubelet; here the pod runs, and once the Job completes upstream records lastSuccessfulTime from it).
    assert "active" not in _get(api_url, f"/apis/batch/v1/namespaces/{namespace}/cronjobs/nightly")["status"]
    wait_for(lambda: _get(api_url, f"/apis/batch/v1/namespaces/{namespace}/jobs/manual-1")["status"].get(
        "succeeded") == 1, timeout=30, what="the manual Job's pod to run")
