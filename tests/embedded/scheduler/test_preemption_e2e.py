"""Preemption end to end on an embedded cluster of its own: a high-priority pod that fits nowhere
is nominated, its victim marked ``DisruptionTarget``/``PreemptionByScheduler``, deleted with its grace
period and told ``Preempted``, and the preemptor binds once the room exists; PodDisruptionBudgets
steer the choice; ``preemptionPolicy: Never`` preempts nothing. Texts as v1.36 writes them
(golden README, ``scheduling/preemption-priority``)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.scheduler.quantity import milli_value
from pytest_azchaos.embedded.topology import Topology

from ...clusters import own_cluster

PCS = "/apis/scheduling.k8s.io/v1/priorityclasses"
GRACE = 3


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with own_cluster(tmp_path_factory.mktemp("preemption"), topology=Topology.make(zones=3, nodes_per_zone=1),
                     profile="fast") as handle:
        yield handle


@pytest.fixture(scope="module")
def url(cluster: ClusterHandle) -> str:
    return cluster.url


@pytest.fixture(scope="module")
def classes(url: str) -> dict[str, str]:
    names = {"high": 1000, "never": 1000}
    for name, value in names.items():
        body: dict[str, Any] = {"metadata": {"name": name}, "value": value}
        if name == "never":
            body["preemptionPolicy"] = "Never"
        assert requests.post(url + PCS, json=body, timeout=10).status_code == 201
    return {n: n for n in names}


@pytest.fixture
def ns(url: str) -> Iterator[str]:
    name = f"pre-{uuid.uuid4().hex[:8]}"
    assert requests.post(f"{url}/api/v1/namespaces", json={"metadata": {"name": name}}, timeout=10).status_code == 201
    yield name
    requests.delete(f"{url}/api/v1/namespaces/{name}", timeout=10)
    deadline = time.monotonic() + 30  # the next test needs the room back
    while time.monotonic() < deadline and requests.get(f"{url}/api/v1/namespaces/{name}", timeout=5).status_code != 404:
        time.sleep(0.2)


def pod_body(name: str, cpu: str, node: str | None = None, labels: dict[str, str] | None = None,
             **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {"terminationGracePeriodSeconds": GRACE,
                 "containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"],
                                 "resources": {"requests": {"cpu": cpu}}}], **spec}}
    if node:
        body["spec"]["nodeName"] = node
    return body


def create(url: str, ns: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = requests.post(f"{url}/api/v1/namespaces/{ns}/pods", json=body, timeout=10)
    assert resp.status_code == 201, resp.text
    return resp.json()


def fill_nodes(url: str, ns: str, labels: dict[str, dict[str, str]] | None = None) -> dict[str, str]:
    """One filler per node leaving less than 1 cpu free there; returns filler name -> node."""
    nodes = requests.get(f"{url}/api/v1/nodes", timeout=10).json()["items"]
    pods = requests.get(f"{url}/api/v1/pods", timeout=10).json()["items"]
    fillers = {}
    for i, node in enumerate(sorted(nodes, key=lambda n: n["metadata"]["name"])):
        name = node["metadata"]["name"]
        used = sum(milli_value(c["resources"].get("requests", {}).get("cpu", "0"))
                   for p in pods if p["spec"].get("nodeName") == name
                   and p["status"].get("phase") not in ("Succeeded", "Failed")
                   for c in p["spec"]["containers"])
        free = milli_value(node["status"]["allocatable"]["cpu"]) - used
        filler = f"fill-{i}"
        create(url, ns, pod_body(filler, f"{free - 500}m", node=name, labels=(labels or {}).get(filler)))
        fillers[filler] = name
    return fillers


def events(url: str, ns: str) -> list[dict[str, Any]]:
    return requests.get(f"{url}/apis/events.k8s.io/v1/namespaces/{ns}/events", timeout=10).json()["items"]


def wait_for(what: str, check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"{what} not seen within {timeout}s (last: {last!r})")


class PodWatch:
    """Every version of the namespace's pods, as a watch delivers them."""

    def __init__(self, url: str, ns: str):
        self.seen: list[tuple[str, dict[str, Any]]] = []
        rv = requests.get(f"{url}/api/v1/namespaces/{ns}/pods", timeout=10).json()["metadata"]["resourceVersion"]
        self._thread = threading.Thread(target=self._run, args=(url, ns, rv), daemon=True)
        self._thread.start()

    def _run(self, url: str, ns: str, rv: str) -> None:
        try:
            self._stream(url, ns, rv)
        except requests.RequestException:
            pass  # the module's cluster went away while the stream was open

    def _stream(self, url: str, ns: str, rv: str) -> None:
        with requests.get(f"{url}/api/v1/namespaces/{ns}/pods", params={"watch": "true", "resourceVersion": rv,
                                                                         "timeoutSeconds": "60"},
                          stream=True, timeout=70) as stream:
            for line in stream.iter_lines():
                if line:
                    ev = json.loads(line)
                    self.seen.append((ev["type"], ev["object"]))

    def versions(self, name: str) -> list[dict[str, Any]]:
        return [obj for _, obj in list(self.seen) if obj["metadata"]["name"] == name]


def test_high_priority_pod_preempts_a_lower_one_as_upstream(url: str, classes: dict[str, str], ns: str) -> None:
    fillers = fill_nodes(url, ns)
    watch = PodWatch(url, ns)
    vip = create(url, ns, pod_body("vip", "1", priorityClassName=classes["high"]))
    uid = vip["metadata"]["uid"]

    bound = wait_for("vip bound", lambda: requests.get(f"{url}/api/v1/namespaces/{ns}/pods/vip", timeout=5)
                     .json()["spec"].get("nodeName"))
    nominated = [v["status"].get("nominatedNodeName") for v in watch.versions("vip")]
    assert bound in nominated, f"vip bound to {bound} but was nominated {nominated}"
    victims = [name for name, node in fillers.items() if node == bound]
    assert len(victims) == 1
    victim = victims[0]
    marked = [v for v in watch.versions(victim) if v["metadata"].get("deletionTimestamp")]
    assert marked, f"victim {victim} never seen terminating"
    cond = next(c for c in marked[0]["status"]["conditions"] if c["type"] == "DisruptionTarget")
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "True", "PreemptionByScheduler", "default-scheduler: preempting to accommodate a higher priority pod")
    assert marked[0]["metadata"]["deletionGracePeriodSeconds"] == GRACE
    others = [n for n in fillers if n != victim]
    alive = {p["metadata"]["name"] for p in requests.get(f"{url}/api/v1/namespaces/{ns}/pods", timeout=5)
             .json()["items"]}
    assert set(others) <= alive, f"only {victim} should have been preempted; pods left: {sorted(alive)}"

    evs = events(url, ns)
    preempted = [e for e in evs if e["reason"] == "Preempted"]
    assert [(e["regarding"]["name"], e["type"], e["note"], e["action"], e["reportingController"],
             e["related"]["name"]) for e in preempted] == [
        (victim, "Normal", f"Preempted by pod {uid} on node {bound}", "Preempting", "default-scheduler", "vip")]
    failed = [e["note"] for e in evs if e["reason"] == "FailedScheduling" and e["regarding"]["name"] == "vip"]
    assert failed and failed[0] == "0/3 nodes are available: 3 Insufficient cpu.", failed
    final = requests.get(f"{url}/api/v1/namespaces/{ns}/pods/vip", timeout=5).json()
    wait_for("nomination cleared after binding", lambda: not requests.get(
        f"{url}/api/v1/namespaces/{ns}/pods/vip", timeout=5).json()["status"].get("nominatedNodeName"), 10)
    assert final["spec"]["priority"] == 1000


def test_preemption_policy_never_preempts_nothing(url: str, classes: dict[str, str], ns: str) -> None:
    fillers = fill_nodes(url, ns)
    create(url, ns, pod_body("polite", "1", priorityClassName=classes["never"]))
    note = wait_for("FailedScheduling", lambda: next((e["note"] for e in events(url, ns)
                                                      if e["reason"] == "FailedScheduling"), None))
    assert note == ("0/3 nodes are available: 3 Insufficient cpu. no new claims to deallocate, preemption: not "
                    "eligible due to preemptionPolicy=Never.")
    time.sleep(1)
    pods = requests.get(f"{url}/api/v1/namespaces/{ns}/pods", timeout=5).json()["items"]
    assert not any(p["metadata"].get("deletionTimestamp") for p in pods), "a filler was preempted"
    assert {p["metadata"]["name"] for p in pods} == {*fillers, "polite"}
    polite = next(p for p in pods if p["metadata"]["name"] == "polite")
    assert not polite["status"].get("nominatedNodeName")
    assert not any(e["reason"] == "Preempted" for e in events(url, ns))


def test_pod_protected_by_a_budget_is_spared(url: str, classes: dict[str, str], ns: str) -> None:
    protected = {f"fill-{i}": {"app": "guarded"} for i in range(2)}
    fillers = fill_nodes(url, ns, labels=protected)
    pdb = {"metadata": {"name": "guard"}, "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "guarded"}}}}
    assert requests.post(f"{url}/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets", json=pdb,
                         timeout=10).status_code == 201
    create(url, ns, pod_body("vip", "1", priorityClassName=classes["high"]))
    bound = wait_for("vip bound", lambda: requests.get(f"{url}/api/v1/namespaces/{ns}/pods/vip", timeout=5)
                     .json()["spec"].get("nodeName"))
    assert bound == fillers["fill-2"], f"vip should preempt the unguarded fill-2 on {fillers['fill-2']}, got {bound}"
    preempted = [e["regarding"]["name"] for e in events(url, ns) if e["reason"] == "Preempted"]
    assert preempted == ["fill-2"]
