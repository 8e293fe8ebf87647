"""Job controller against the embedded cluster: busybox pods run to completion or fail, over real HTTP."""

from __future__ import annotations

from typing import Any

import requests

from .podsim import wait_for

BUSYBOX = "busybox:1.37"
FINALIZER = "batch.kubernetes.io/job-tracking"


def _job(api_url: str, namespace: str, name: str, script: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": {
        **spec, "template": {"spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                                      "containers": [{"name": "c", "image": BUSYBOX,
                                                      "command": ["sh", "-c", script]}]}}}}
    resp = requests.post(f"{api_url}/apis/batch/v1/namespaces/{namespace}/jobs", json=body, timeout=10)
    assert resp.status_code == 201, resp.text
    return resp.json()


def _get(api_url: str, path: str) -> dict[str, Any]:
    resp = requests.get(api_url + path, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _status(api_url: str, namespace: str, name: str) -> dict[str, Any]:
    return _get(api_url, f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}")["status"]


def _conditions(status: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(c["type"], c["status"], c["reason"], c["message"]) for c in status.get("conditions") or []]


def _events(api_url: str, namespace: str, kind: str = "Job") -> list[tuple[str, str, str]]:
    items = _get(api_url, f"/api/v1/namespaces/{namespace}/events")["items"]
    return [(e["type"], e["reason"], e["message"]) for e in items if e["involvedObject"]["kind"] == kind]


def _pods(api_url: str, namespace: str, job: str) -> list[dict[str, Any]]:
    return _get(api_url, f"/api/v1/namespaces/{namespace}/pods?labelSelector=batch.kubernetes.io/job-name={job}")[
        "items"]


def test_job_runs_its_completions_and_finishes_complete(api_url: str, namespace: str) -> None:
    job = _job(api_url, namespace, "pi", "echo done", completions=2, parallelism=2)
    status = wait_for(lambda: (s := _status(api_url, namespace, "pi")).get("completionTime") and s, timeout=30,
                      what="the Job to complete")
    reached = ("CompletionsReached", "Reached expected number of succeeded pods")
    assert _conditions(status) == [("SuccessCriteriaMet", "True", *reached), ("Complete", "True", *reached)]
    assert (status["succeeded"], status.get("failed"), status.get("active"), status["terminating"],
            status["uncountedTerminatedPods"], status["ready"]) == (2, None, None, 0, {}, 0), status
    pods = _pods(api_url, namespace, "pi")
    assert sorted(p["status"]["phase"] for p in pods) == ["Succeeded", "Succeeded"]
    uid = job["metadata"]["uid"]
    for p in pods:
        assert p["metadata"]["generateName"] == "pi-"
        assert p["metadata"]["labels"]["batch.kubernetes.io/controller-uid"] == uid
        assert p["metadata"]["ownerReferences"] == [{"apiVersion": "batch/v1", "kind": "Job", "name": "pi",
                                                     "uid": uid, "controller": True, "blockOwnerDeletion": True}]
        assert FINALIZER not in (p["metadata"].get("finalizers") or []), "counted pods lose the tracking finalizer"
    events = _events(api_url, namespace)
    assert sorted(e for e in events if e[1] == "SuccessfulCreate") == sorted(
        ("Normal", "SuccessfulCreate", f"Created pod: {p['metadata']['name']}") for p in pods)
    assert ("Normal", "Completed", "Job completed") in events


def test_running_pods_carry_the_tracking_finalizer_and_count_as_active(api_url: str, namespace: str) -> None:
    _job(api_url, namespace, "long", "sleep 60")
    status = wait_for(lambda: (s := _status(api_url, namespace, "long")).get("ready") == 1 and s, timeout=30,
                      what="a ready pod")
    assert (status["active"], status["terminating"], status.get("succeeded")) == (1, 0, None)
    [pod] = _pods(api_url, namespace, "long")
    assert pod["metadata"]["finalizers"] == [FINALIZER]


def test_backoff_limit_exceeded_fails_the_job(api_url: str, namespace: str) -> None:
    _job(api_url, namespace, "bad", "exit 3", backoffLimit=0)
    status = wait_for(lambda: (s := _status(api_url, namespace, "bad")).get("conditions", [{}])[-1].get(
        "type") == "Failed" and s, timeout=30, what="the Job to fail")
    exceeded = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
    assert _conditions(status) == [("FailureTarget", "True", *exceeded), ("Failed", "True", *exceeded)]
    assert status["failed"] == 1 and "completionTime" not in status
    assert ("Warning", *exceeded) in _events(api_url, namespace)
    assert [p["status"]["phase"] for p in _pods(api_url, namespace, "bad")] == ["Failed"]


def test_active_deadline_deletes_the_pods_and_fails_the_job(api_url: str, namespace: str) -> None:
    _job(api_url, namespace, "slow", "sleep 60", activeDeadlineSeconds=2)
    status = wait_for(lambda: (s := _status(api_url, namespace, "slow")).get("conditions", [{}])[-1].get(
        "type") == "Failed" and s, timeout=30, what="the deadline to fail the Job")
    deadline = ("DeadlineExceeded", "Job was active longer than specified deadline")
    assert _conditions(status) == [("FailureTarget", "True", *deadline), ("Failed", "True", *deadline)]
    events = _events(api_url, namespace)
    assert any(e[1] == "SuccessfulDelete" and e[2].startswith("Deleted pod: slow-") for e in events), events
    assert ("Warning", *deadline) in events


def test_pod_template_with_restart_policy_always_is_refused(api_url: str, namespace: str) -> None:
    body: dict[str, Any] = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "always"}, "spec": {
        "template": {"spec": {"restartPolicy": "Always", "containers": [{"name": "c", "image": BUSYBOX}]}}}}
    resp = requests.post(f"{api_url}/apis/batch/v1/namespaces/{namespace}/jobs", json=body, timeout=10)
    assert resp.status_code == 422, resp.text
    assert resp.json()["message"] == ('Job.batch "always" is invalid: spec.template.spec.restartPolicy: Unsupported '
                                      'value: "Always": supported values: "OnFailure", "Never"')


def test_deleting_a_job_without_a_policy_orphans_its_pods_with_upstreams_warning(api_url: str,
                                                                                  namespace: str) -> None:
    _job(api_url, namespace, "kept", "sleep 60")
    wait_for(lambda: _status(api_url, namespace, "kept").get("ready") == 1, timeout=30, what="a ready pod")
    resp = requests.delete(f"{api_url}/apis/batch/v1/namespaces/{namespace}/jobs/kept", timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Warning"] == (
        '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to '
        'remove them or set propagationPolicy=Orphan to suppress this warning"')
    wait_for(lambda: requests.get(f"{api_url}/apis/batch/v1/namespaces/{namespace}/jobs/kept",
                                  timeout=10).status_code == 404, what="the Job to go")
    [pod] = wait_for(lambda: (ps := _pods(api_url, namespace, "kept")) and not ps[0]["metadata"].get("finalizers")
                     and ps, what="the orphaned pod to lose the tracking finalizer")
    assert "ownerReferences" not in pod["metadata"] and not pod["metadata"].get("deletionTimestamp")


def test_deleting_a_job_in_the_background_deletes_its_pods(api_url: str, namespace: str) -> None:
    _job(api_url, namespace, "gone", "sleep 60")
    wait_for(lambda: _status(api_url, namespace, "gone").get("active") == 1, timeout=30, what="an active pod")
    resp = requests.delete(f"{api_url}/apis/batch/v1/namespaces/{namespace}/jobs/gone",
                           params={"propagationPolicy": "Background"}, timeout=10)
    assert resp.status_code == 200 and "Warning" not in resp.headers, resp.headers
    wait_for(lambda: all(p["metadata"].get("deletionTimestamp") for p in _pods(api_url, namespace, "gone")),
             timeout=15, what="the Job's pods to be deleted")


def test_a_failed_pod_is_replaced_after_the_pod_failure_backoff(api_url: str, namespace: str) -> None:
    from datetime import datetime

    _job(api_url, namespace, "retry", "exit 1", backoffLimit=1)
    status = wait_for(lambda: (s := _status(api_url, namespace, "retry")).get("conditions", [{}])[-1].get(
        "type") == "Failed" and s, timeout=40, what="the Job to fail after one retry")
    assert status["failed"] == 2
    created = sorted(datetime.fromisoformat(p["metadata"]["creationTimestamp"]).timestamp()
                     for p in _pods(api_url, namespace, "retry"))
    assert len(created) == 2 and created[1] - created[0] >= 9, f"replacement after {created[1] - created[0]} s, " \
        "expected the 10 s DefaultJobPodFailureBackOff"


def test_a_finished_job_with_a_ttl_is_deleted_with_its_pods(api_url: str, namespace: str) -> None:
    _job(api_url, namespace, "brief", "echo done", ttlSecondsAfterFinished=1)
    wait_for(lambda: _status(api_url, namespace, "brief").get("completionTime"), timeout=30, what="completion")
    wait_for(lambda: requests.get(f"{api_url}/apis/batch/v1/namespaces/{namespace}/jobs/brief",
                                  timeout=10).status_code == 404, timeout=15, what="the TTL to delete the Job")
    wait_for(lambda: _pods(api_url, namespace, "brief") == [], timeout=15, what="its pods to go too")
