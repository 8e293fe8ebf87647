"""Replay the control-plane golden transcripts (``scheduling/``, ``controllers/``, ``nodes/``) on a running cluster.

Pytest-free on purpose: ``test_golden_control_plane.py`` uses it per case, and
``python -m tests.embedded.golden_cluster --summary`` prints the match rate per category.

The transcripts were recorded on 6 fake nodes (node-a1..node-c2, zone-a/b/c, 2 cpu, 8Gi) with no kubelet.
``start_golden_cluster`` starts an embedded cluster of exactly that shape (``Topology.golden()``) and stops the
pod side of every kubelet (the heartbeats go on), so pods stay Pending unless a step patches their status and
a graceful delete leaves them Terminating, as in the recording.

A case's steps are replayed in order over real HTTP. Writes are sent (namespace rewritten, recorded names and
uids of objects made earlier in the replay substituted) and their status code compared (the whole Status body
for refusals and evictions). Reads are compared on what the transcript asserts, not on whole bodies: event
reasons/messages (verbatim, generated names blanked), pods' placement zone, phase and conditions, node taints,
workload status. A read is polled until it matches (timing differs between clusters) or a deadline passes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.embedded.apiserver.golden import Case, Result, Step, _Rewriter, normalize, normalize_message
from tests.golden_data import GOLDEN_DIR, golden_path

Json = Any
CATEGORIES = ("scheduling", "controllers", "nodes", "endpointslices")
NODES = ("node-a1", "node-a2", "node-b1", "node-b2", "node-c1", "node-c2")
ZONE_OF = {n: "zone-" + n[5] for n in NODES}
READ_TIMEOUT = 12.0

#: Cases that cannot match today, with the reason. Tests mark these ``xfail(strict=True)``.
KNOWN_MISMATCHES: dict[str, str] = {
    "scheduling/wffc-pvc-no-provisioner": (
        "the embedded cluster runs the ebs.csi.aws.com provisioner (the recording had none), so the "
        "WaitForFirstConsumer claim is provisioned and the pod binds instead of waiting 600 s in PreBind"),
    "controllers/deployment-lifecycle": (
        "control-loop timing: upstream's ReplicaSet controller acted between the Deployment controller's "
        "proportional scale-up (3 -> 5) and its rollout scale-down (5 -> 4), creating 2 pods and deleting 1 "
        "(left Terminating: terminatingReplicas 1); the embedded ReplicaSet controller sees only the final 4 and "
        "creates 1 pod (every other status field, condition and ScalingReplicaSet event matches)"),
    "nodes/fake-node-create-and-status": (
        "records how the recording's fake Node objects were POSTed and status-patched; the embedded cluster "
        "registers its nodes itself (the same names already exist, so the POST answers 409)"),
}

#: Cases recorded on the six base nodes plus zone-d's four fake nodes (nodes/zone-d-fake-nodes-create records the
#: first); they replay on a cluster of that shape (``start_golden_cluster(..., zone_d=True)``).
ZONE_D_NODES = ("node-d1", "node-d2", "node-d3", "node-d4")
ZONE_D_CASES = {"nodes/zone-partial-disruption-3-of-4"}
#: The recording's heartbeat script renewed the leases of nodes carrying this label: removing it stopped a node's
#: heartbeat, setting it again restored it. The replay does the same through the emulator's heartbeat control.
HEARTBEAT_LABEL = "realk8s/fake-node"

#: Cases whose pod placement inside the allowed zones is a tie the scheduler breaks at random.
RANDOM_ZONE_CASES = {"scheduling/topology-spread-cordoned-zone-honor", "scheduling/tolerated-taint-all-nodes",
                     "scheduling/all-nodes-cordoned",
                     # A Job's pods get no default zone spreading (it selects by Services, RCs, RSs, STSs only).
                     "controllers/job-completions"}

_UNCORDON = {"spec": {"unschedulable": False}}
#: Writes the recording made between two recorded steps without recording them: (method, path, body) per step label.
UNRECORDED: dict[str, dict[str, list[tuple[str, str, Json]]]] = {
    "scheduling/all-nodes-cordoned": {"pod ~6 s after all nodes were uncordoned": [
        ("PATCH", f"/api/v1/nodes/{n}", _UNCORDON) for n in NODES]},
    "scheduling/ebs-pv-zone-cordoned": {"pod after zone-a uncordoned": [
        ("PATCH", f"/api/v1/nodes/{n}", _UNCORDON) for n in ("node-a1", "node-a2")]},
}
#: Pods the recording bound and made Ready between two recorded steps without recording those writes, as
#: (name, node, pod IP) before the step label; the replay makes them the way it made the recorded ones.
UNRECORDED_PODS: dict[str, dict[str, list[tuple[str, str, str]]]] = {
    "nodes/zone-partial-disruption-3-of-4": {"LIST pods before": [
        ("p-d2", "node-d2", "10.244.70.2"), ("p-d3", "node-d3", "10.244.70.3"), ("p-d4", "node-d4", "10.244.70.4")]},
}


def _make_ready_pod(session: requests.Session, base: str, namespace: str, name: str, node: str, ip: str) -> None:
    pods = f"{base}/api/v1/namespaces/{namespace}/pods"
    session.post(pods, json={"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "nodeName": node, "containers": [{"name": "c", "image": "nginx"}]}}, timeout=30).raise_for_status()
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    status = {"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "conditions": [
        {"type": "Ready", "status": "True", "lastTransitionTime": now},
        {"type": "ContainersReady", "status": "True", "lastTransitionTime": now}]}}
    session.patch(f"{pods}/{name}/status", data=json.dumps(status), timeout=30,
                  headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()


#: Reads whose recorded events include transient ones that depend on the recording's timing (each uncordon
#: re-queued the pod while the controller's unschedulable taint was still on the node): the live events must be
#: a non-empty subset of the recorded ones, including every event with the given reason.
#: Reads of a transient state the embedded controllers leave faster than the recording could look (step labels).
TRANSIENT_READS: dict[tuple[str, str], str] = {
    ("nodes/kubectl-cordon-uncordon", "node-b2 immediately after uncordon"): (
        "the unschedulable taint was still on the node for a moment after uncordon; the embedded node "
        "lifecycle controller removes it within the same loop turn (the next step checks the removal)"),
}
SUBSET_READS: dict[tuple[str, str], str] = {
    ("scheduling/all-nodes-cordoned", "events after uncordon"): "Scheduled",
}


# ---------------------------------------------------------------------------------------------- cluster

def set_kubelet(url: str, node: str, running: bool) -> None:
    """Stop/start the pod side of a node's kubelet (emulator control API); its heartbeat goes on."""
    req = urllib.request.Request(f"{url}/azchaos/v1/nodes/{node}/kubelet", data=json.dumps(
        {"running": running}).encode(), method="PUT", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


def set_heartbeat(url: str, node: str, running: bool) -> None:
    """Stop/start a node's heartbeat (lease renewals and status posts; emulator control API)."""
    req = urllib.request.Request(f"{url}/azchaos/v1/nodes/{node}/heartbeat", data=json.dumps(
        {"running": running}).encode(), method="PUT", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


def golden_topology(zone_d: bool = False) -> Any:
    """``Topology.golden()``, plus zone-d's four fake nodes (same labels and resources) when asked."""
    import dataclasses

    from pytest_azchaos.embedded.topology import GOLDEN_RESOURCES, NodeShape, Topology

    base = Topology.golden()
    if not zone_d:
        return base
    extra = []
    for name in ZONE_D_NODES:
        labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                  "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "topology.kubernetes.io/zone": "zone-d"}
        extra.append(NodeShape(name, "zone-d", labels, dict(GOLDEN_RESOURCES), dict(GOLDEN_RESOURCES)))
    return dataclasses.replace(base, zones=(*base.zones, "zone-d"), shapes=(*base.shapes, *extra))


def start_golden_cluster(kubeconfig: Path, kubelets: bool = False, zone_d: bool = False) -> Any:
    """An embedded cluster shaped as the recording's (``Topology.golden()``, with zone-d's nodes when ``zone_d``),
    kubelets stopped unless asked."""
    from pytest_azchaos.embedded.process import start_cluster

    # The recording cluster was otherwise empty ("no other pods bound", README and every placement case's notes):
    # its CoreDNS did not run on the fake nodes. The embedded CoreDNS add-on's two pods would (they spread by zone),
    # and the placement cases' resource scores would then tie where the recording's did not.
    previous = os.environ.get("AZCHAOS_EMBEDDED_COREDNS")
    os.environ["AZCHAOS_EMBEDDED_COREDNS"] = "0"
    try:
        handle = start_cluster(kubeconfig, golden_topology(zone_d))
    finally:
        if previous is None:
            del os.environ["AZCHAOS_EMBEDDED_COREDNS"]
        else:
            os.environ["AZCHAOS_EMBEDDED_COREDNS"] = previous
    # The recording cluster had no StorageClass at all (defaulting/pvc.json: "no default StorageClass exists").
    with requests.Session() as s:
        classes = s.get(f"{handle.url}/apis/storage.k8s.io/v1/storageclasses", timeout=30).json()["items"]
        for sc in classes:
            s.delete(f"{handle.url}/apis/storage.k8s.io/v1/storageclasses/{sc['metadata']['name']}", timeout=30)
    if not kubelets:
        for node in (*NODES, *(ZONE_D_NODES if zone_d else ())):
            set_kubelet(handle.url, node, False)
    return handle


# ---------------------------------------------------------------------------------------------- projections

_HASHED = re.compile(r"\b([a-z][a-z0-9-]*?)-[bcdfghjklmnpqrstvwxz2456789]{8,10}-[bcdfghjklmnpqrstvwxz2456789]{5}\b")
_RAND = re.compile(r"\b([a-z][a-z0-9]*(?:-[a-z0-9]+)*?)-[bcdfghjklmnpqrstvwxz2456789]{5}\b")
_HASH_ONLY = re.compile(r"\b([a-z][a-z0-9-]*?)-[bcdfghjklmnpqrstvwxz2456789]{8,10}\b(?!-)")
_TO_NODE = re.compile(r" to node-[abc][12]\b")


def norm(text: str | None) -> str | None:
    """Generated names, uids and the tie-broken target node of a message blanked out."""
    if text is None:
        return None
    text = normalize_message(text)
    text = _HASHED.sub(r"\1-<hash>-<rand>", text)
    text = _HASH_ONLY.sub(r"\1-<hash>", text)
    text = _RAND.sub(r"\1-<rand>", text)
    return _TO_NODE.sub(" to <node>", text)


def _conds(conds: list[Json] | None, with_message: bool = True) -> list[tuple[Any, ...]]:
    out = []
    for c in conds or ():
        row = (c.get("type"), c.get("status"), c.get("reason"))
        out.append((*row, norm(c.get("message"))) if with_message else row)
    return sorted(out, key=repr)


def _pod(p: Json, zones: bool) -> tuple[Any, ...]:
    meta, spec, status = p.get("metadata") or {}, p.get("spec") or {}, p.get("status") or {}
    node = spec.get("nodeName")
    where = (ZONE_OF.get(node, node) if zones else "<bound>") if node else None
    return (norm(meta.get("name")), where, status.get("phase"), _conds(status.get("conditions")),
            bool(meta.get("deletionTimestamp")), bool(status.get("nominatedNodeName")))


def _event(e: Json) -> tuple[Any, ...]:
    obj = e.get("involvedObject") or e.get("regarding") or {}
    return (obj.get("kind"), norm(obj.get("name")), e.get("type"), e.get("reason"),
            norm(e.get("message") if "message" in e else e.get("note")))


def _workload(o: Json) -> Json:
    meta, spec = o.get("metadata") or {}, o.get("spec") or {}
    status = dict(o.get("status") or {})
    status.pop("observedGeneration", None)
    if "conditions" in status:
        status["conditions"] = _conds(status["conditions"])
    for k in ("selector", "currentRevision", "updateRevision"):
        if isinstance(status.get(k), str):
            status[k] = norm(status[k])
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if "kubernetes.io/" in k}
    return {"name": norm(meta.get("name")), "replicas": spec.get("replicas"), "annotations": annotations,
            "status": normalize(status)}


def _endpoints(body: Json) -> Json:
    text = json.dumps(normalize(body))
    for node, zone in ZONE_OF.items():
        text = text.replace(f'"{node}"', '"<node>"').replace(f'"{zone}"', '"<zone>"')
    data = json.loads(text)

    def clean(node: Json) -> Json:
        if isinstance(node, dict):
            return {k: (norm(v) if k == "name" and isinstance(v, str) else clean(v)) for k, v in node.items()
                    if k not in ("ownerReferences", "annotations")}
        if isinstance(node, list):
            return sorted((clean(i) for i in node), key=lambda i: json.dumps(i, sort_keys=True))
        return node
    return clean(data)


def project(body: Json, case_id: str) -> Json:
    """What a read asserts: a comparable summary of ``body`` (see the module docstring)."""
    if not isinstance(body, dict):
        return body
    kind = body.get("kind") or ""
    zones = case_id not in RANDOM_ZONE_CASES
    if kind == "EventList":
        seen: Counter[tuple[Any, ...]] = Counter(_event(e) for e in body.get("items") or ())
        # Periodic retries of an unschedulable pod add identical FailedScheduling events; count them once.
        return sorted((k, 1 if k[3] == "FailedScheduling" else n) for k, n in seen.items())
    if kind == "PodList":
        return sorted((_pod(p, zones) for p in body.get("items") or ()), key=repr)
    if kind == "Pod":
        return _pod(body, zones)
    if kind == "Node":
        spec = body.get("spec") or {}
        taints = sorted((t.get("key"), t.get("value"), t.get("effect")) for t in spec.get("taints") or ())
        return {"unschedulable": bool(spec.get("unschedulable")), "taints": taints,
                "allocatable": (body.get("status") or {}).get("allocatable"),
                "conditions": _conds((body.get("status") or {}).get("conditions"), with_message=False)}
    if kind in ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "Scale"):
        return _workload(body)
    if kind in ("DeploymentList", "ReplicaSetList", "DaemonSetList", "StatefulSetList"):
        return sorted((_workload(o) for o in body.get("items") or ()), key=lambda w: json.dumps(w, sort_keys=True))
    if kind in ("EndpointSliceList", "Endpoints", "EndpointSlice"):
        return _endpoints(body)
    if kind in ("PersistentVolumeClaim", "PersistentVolume", "PersistentVolumeClaimList"):
        items = body.get("items") if kind.endswith("List") else [body]
        return sorted(json.dumps({"name": norm((o.get("metadata") or {}).get("name")),
                                  "annotations": sorted((o.get("metadata") or {}).get("annotations") or {}),
                                  "volumeName": (o.get("spec") or {}).get("volumeName"),
                                  "phase": (o.get("status") or {}).get("phase")}) for o in items or ())
    return normalize(body)


# ---------------------------------------------------------------------------------------------- replay

@dataclass
class Replay:
    """State of one case's replay: the session, the rewriter and what it created (for cleanup)."""

    case: Case
    base: str
    kubeconfig: Path | None
    session: requests.Session
    rw: _Rewriter
    result: Result
    cluster_scoped: list[str] = field(default_factory=list)
    recorded_nodes: dict[str, str] = field(default_factory=dict)
    recorded_uids: dict[str, str] = field(default_factory=dict)
    read_timeout: float = READ_TIMEOUT

    def __post_init__(self) -> None:
        """Where every recorded pod was bound (and its uid), from every recorded response of the case."""
        for step in self.case.steps:
            body = step.response.get("body")
            if not isinstance(body, dict):
                continue
            items = body.get("items") if body.get("kind") == "PodList" else [body] if body.get("kind") == "Pod" else []
            for pod in items or ():
                name = pod["metadata"]["name"]
                self.recorded_uids[name] = pod["metadata"].get("uid", "")
                if (pod.get("spec") or {}).get("nodeName"):
                    self.recorded_nodes[name] = pod["spec"]["nodeName"]

    def send(self, req: dict[str, Json]) -> requests.Response:
        headers = {"Accept": "application/json"}
        data = None
        parts = req["path"].split("/")
        for before, part in itertools.pairwise(parts):
            if before == "pods" and norm(part) != part and part not in self.rw.values:
                self.resolve_pod(part)
        if req.get("body") is not None:
            body = self.rw.body(req["body"])
            if req["method"] == "PUT":
                body = self.current_version(self.rw.text(req["path"]), body)
            data = json.dumps(body).encode()
            headers["Content-Type"] = req.get("content_type") or "application/json"
        path = self.rw.text(req["path"])
        path = "/".join(self.rw.values.get(part, part) for part in path.split("/"))
        query = {k: self.rw.body(v) for k, v in (req.get("query") or {}).items()}
        return self.session.request(req["method"], self.base + path, params=query, data=data, headers=headers,
                                    timeout=30)

    def current_version(self, path: str, body: Json) -> Json:
        """A recorded PUT body made current: the live object's resourceVersion/uid/status, no recording labels."""
        live = self.session.get(self.base + path, timeout=30).json()
        meta = body.setdefault("metadata", {})
        for k in ("resourceVersion", "uid"):
            if (live.get("metadata") or {}).get(k):
                meta[k] = live["metadata"][k]
        (meta.get("labels") or {}).pop("realk8s/fake-node", None)
        if "status" in live:
            body["status"] = live["status"]
        return body

    def resolve_pod(self, recorded: str) -> None:
        """Map a recorded generated pod name to a live pod of the same pattern (in the recorded pod's zone)."""
        timeout = self.read_timeout
        zone = ZONE_OF.get(self.recorded_nodes.get(recorded) or "")
        deadline = time.monotonic() + timeout
        while True:
            pods = self.session.get(f"{self.base}/api/v1/namespaces/{self.rw.live_ns}/pods", timeout=30).json()
            taken = set(self.rw.values.values())
            candidates = [p for p in pods.get("items") or () if norm(p["metadata"]["name"]) == norm(recorded)
                          and p["metadata"]["name"] not in taken and not p["metadata"].get("deletionTimestamp")]
            candidates.sort(key=lambda p: ZONE_OF.get(p["spec"].get("nodeName") or "") != zone)
            if candidates and (zone is None or ZONE_OF.get(candidates[0]["spec"].get("nodeName") or "") == zone
                               or time.monotonic() > deadline):
                self.rw.values[recorded] = candidates[0]["metadata"]["name"]
                uid = self.recorded_uids.get(recorded)
                if uid:
                    self.rw.values[uid] = candidates[0]["metadata"]["uid"]
                return
            if time.monotonic() > deadline:
                return
            time.sleep(0.2)

    def fail(self, step: Step, message: str) -> None:
        self.result.mismatches.append(f"[{step.label}] {message}")

    def write(self, step: Step) -> None:
        req = step.request
        if req["method"] == "POST" and req["path"] == "/api/v1/namespaces" and \
                ((req.get("body") or {}).get("metadata") or {}).get("name") == self.case.recorded_namespace:
            return  # the replay made the case's namespace (under a fresh name) before the first step
        labels = ((req.get("body") or {}).get("metadata") or {}).get("labels") or {}
        if req["method"] == "PATCH" and req["path"].startswith("/api/v1/nodes/") and set(labels) == {HEARTBEAT_LABEL}:
            set_heartbeat(self.base, req["path"].rsplit("/", 1)[1], labels[HEARTBEAT_LABEL] is not None)
            return
        resp = self.send(step.request)
        want = step.response
        if resp.status_code != want["status"]:
            self.fail(step, f"status: expected {want['status']} got {resp.status_code}: {resp.text[:300]}")
            return
        body = want.get("body")
        if isinstance(body, dict) and body.get("kind") == "Status":
            keys = ("status", "message", "reason", "details", "code")
            exp = normalize({k: body.get(k) for k in keys})
            act = normalize({k: resp.json().get(k) for k in keys})
            if json.loads(self.rw.text(json.dumps(exp))) != act:
                self.fail(step, f"Status: expected {exp} got {act}")
        elif isinstance(body, dict) and resp.headers.get("Content-Type", "").startswith("application/json"):
            self.rw.learn(body, resp.json())
            if step.request["method"] == "POST" and "/namespaces/" not in step.request["path"]:
                name = (resp.json().get("metadata") or {}).get("name")
                if name:
                    self.cluster_scoped.append(f"{self.base}{step.request['path']}/{name}")

    def read(self, step: Step) -> None:
        timeout = self.read_timeout
        want = step.response
        expected = json.loads(self.rw.text(json.dumps(want.get("body"))))
        exp = project(expected, self.case.id)
        subset_reason = SUBSET_READS.get((self.case.id, step.label))
        deadline = time.monotonic() + timeout
        while True:
            resp = self.send(step.request)
            act = project(resp.json(), self.case.id) if resp.status_code == want["status"] else None
            if act is not None:
                self.learn_pods(expected, resp.json())
            if subset_reason is not None and act is not None:
                required = [e for e in exp if e[0][3] == subset_reason]
                ok = all(e in act for e in required) and all(e in exp for e in act)
            else:
                ok = act == exp
            if ok or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        if resp.status_code != want["status"]:
            self.fail(step, f"status: expected {want['status']} got {resp.status_code}: {resp.text[:300]}")
        elif not ok:
            self.fail(step, f"expected {json.dumps(exp)[:1500]}\n      got {json.dumps(act)[:1500]}")

    def learn_pods(self, expected: Json, actual: Json) -> None:
        """Pair recorded generated pod names with live ones (same name pattern, same zone first)."""
        if not (isinstance(expected, dict) and expected.get("kind") == "PodList"):
            return
        live = [p for p in actual.get("items") or () if p["metadata"]["name"] not in self.rw.values.values()]
        for rec in expected.get("items") or ():
            name = rec["metadata"]["name"]
            if name in self.rw.values:
                continue
            pattern = norm(name)
            zone = ZONE_OF.get((rec.get("spec") or {}).get("nodeName") or "")
            candidates = [p for p in live if norm(p["metadata"]["name"]) == pattern]
            candidates.sort(key=lambda p: ZONE_OF.get(p["spec"].get("nodeName") or "") != zone)
            if candidates and candidates[0]["metadata"]["name"] != name:
                self.rw.values[name] = candidates[0]["metadata"]["name"]
                self.rw.values[rec["metadata"]["uid"]] = candidates[0]["metadata"]["uid"]
                live.remove(candidates[0])

    def kubectl(self, step: Step, raw: Json) -> None:
        words = [w for w in step.label.split() if not w.startswith("-v=")]
        if self.kubeconfig is None or words[0] != "kubectl":
            self.fail(step, "kubectl step without a kubeconfig")
            return
        proc = subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig), *words[1:]], capture_output=True,
                              text=True, timeout=60)
        if proc.returncode != raw.get("rc") or proc.stdout != raw.get("stdout"):
            self.fail(step, f"kubectl: expected rc {raw.get('rc')} {raw.get('stdout')!r} got {proc.returncode} "
                            f"{proc.stdout!r} {proc.stderr[-300:]!r}")


#: Extra checks on ``observed`` summaries (placements of the recorded runs), per case.
def _placement(replay: Replay) -> None:
    observed = json.loads(golden_path(f"{replay.case.id}.json").read_text()).get("observed") or {}
    runs = observed.get("runs") or []
    pods = replay.session.get(f"{replay.base}/api/v1/namespaces/{replay.rw.live_ns}/pods", timeout=30).json()
    per_node = Counter(p["spec"].get("nodeName") for p in pods["items"] if p["spec"].get("nodeName"))
    per_zone = Counter(ZONE_OF[n] for n in per_node.elements())
    if runs and all(dict(per_node) != r["per_node"] or dict(per_zone) != r["per_zone"] for r in runs):
        replay.result.mismatches.append(f"placement: expected {runs[0]} got per_node {dict(per_node)} "
                                        f"per_zone {dict(per_zone)}")


def _spread_honor(replay: Replay) -> None:
    pods = replay.session.get(f"{replay.base}/api/v1/namespaces/{replay.rw.live_ns}/pods", timeout=30).json()
    live = [p for p in pods["items"] if not p["metadata"].get("deletionTimestamp")]
    zones = Counter(ZONE_OF.get(p["spec"].get("nodeName") or "", "unbound") for p in live)
    if sorted(zones.values()) != [1, 2] or "zone-c" in zones or "unbound" in zones:
        replay.result.mismatches.append(f"replacement: expected 3 bound pods as 2+1 over zone-a/zone-b, got {zones}")


EXTRA_CHECKS: dict[str, Callable[[Replay], None]] = {
    "scheduling/topology-spread-cordoned-zone-honor": _spread_honor,
}


def load(path: Path) -> Case:
    """One transcript as a ``Case``; a kubectl step keeps its recording as ``request == {"kubectl": ...}``."""
    data = json.loads(path.read_text())
    steps = []
    for i, s in enumerate(data.get("steps") or [data]):
        request = s["request"] if "request" in s else {"kubectl": s["kubectl"], "path": "", "method": "KUBECTL"}
        steps.append(Step(s.get("label") or f"step {i + 1}", request, s.get("response") or {}))
    return Case(path.parent.name, path.stem, data.get("what", ""), steps)


def replay(case: Case, base_url: str, kubeconfig: Path | None = None, read_timeout: float = READ_TIMEOUT) -> Result:
    """Replay ``case`` on a golden-shaped cluster at ``base_url``; the result lists every mismatch.

    A read is polled for up to ``read_timeout`` seconds until it matches (known mismatches can pass less).
    """
    base = base_url.rstrip("/")
    live_ns = f"{case.recorded_namespace}-{uuid.uuid4().hex[:5]}"
    rp = Replay(case, base, kubeconfig, requests.Session(), _Rewriter(case.recorded_namespace, live_ns), Result(case),
                read_timeout=read_timeout)
    with rp.session:
        rp.session.post(f"{base}/api/v1/namespaces", json={"metadata": {"name": live_ns}},
                        timeout=30).raise_for_status()
        try:
            for step in case.steps:
                for name, node, ip in UNRECORDED_PODS.get(case.id, {}).get(step.label, []):
                    _make_ready_pod(rp.session, base, live_ns, name, node, ip)
                for method, path, body in UNRECORDED.get(case.id, {}).get(step.label, []):
                    rp.session.request(method, base + path, data=json.dumps(body), timeout=30,
                                       headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()
                if "kubectl" in step.request:
                    rp.kubectl(step, step.request["kubectl"])
                elif step.request["method"] == "GET":
                    if (case.id, step.label) not in TRANSIENT_READS:
                        rp.read(step)
                else:
                    rp.write(step)
            if case.name.startswith("placement-"):
                _placement(rp)
            extra = EXTRA_CHECKS.get(case.id)
            if extra is not None:
                extra(rp)
        finally:
            cleanup(rp.session, base, live_ns, rp.cluster_scoped)
    return rp.result


def cleanup(session: requests.Session, base: str, namespace: str, cluster_scoped: list[str]) -> None:
    """Leave the cluster as the next case expects: namespace gone (pods force-deleted), nodes as registered."""
    session.delete(f"{base}/api/v1/namespaces/{namespace}", timeout=30)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pods = session.get(f"{base}/api/v1/namespaces/{namespace}/pods", timeout=30).json().get("items") or []
        for p in pods:
            session.delete(f"{base}/api/v1/namespaces/{namespace}/pods/{p['metadata']['name']}",
                           params={"gracePeriodSeconds": "0"}, timeout=30)
        if session.get(f"{base}/api/v1/namespaces/{namespace}", timeout=30).status_code == 404:
            break
        time.sleep(0.2)
    for url in cluster_scoped:
        session.delete(url, timeout=30)
    for node in NODES:
        session.patch(f"{base}/api/v1/nodes/{node}", data=json.dumps({"spec": {"unschedulable": None,
                                                                               "taints": None}}),
                      headers={"Content-Type": "application/merge-patch+json"}, timeout=30)
    # The node lifecycle controller drops its unschedulable taint right after; wait for clean nodes.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        nodes = session.get(f"{base}/api/v1/nodes", timeout=30).json()["items"]
        if not any((n.get("spec") or {}).get("taints") for n in nodes):
            break
        time.sleep(0.1)


def all_cases() -> list[Case]:
    return [load(p) for cat in CATEGORIES for p in sorted(golden_path(cat).glob("*.json"))]


# ---------------------------------------------------------------------------------------------- summary

def summarize(results: list[Result]) -> list[str]:
    by_cat: dict[str, list[Result]] = {}
    for r in results:
        by_cat.setdefault(r.case.category, []).append(r)
    lines = [f"{cat} {sum(r.matched for r in rs)}/{len(rs)}" for cat, rs in by_cat.items()]
    for r in results:
        if not r.matched:
            lines.append(f"  MISMATCH {r.case.id}: {KNOWN_MISMATCHES.get(r.case.id, 'UNEXPLAINED')}")
        elif r.case.id in KNOWN_MISMATCHES:
            lines.append(f"  UNEXPECTED MATCH {r.case.id}: drop it from KNOWN_MISMATCHES")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="also print every mismatch")
    parser.add_argument("cases", nargs="*", help="only these case ids (category/name)")
    args = parser.parse_args(argv)
    if not GOLDEN_DIR.is_dir():
        print(f"no golden transcripts at {GOLDEN_DIR}", file=sys.stderr)
        return 2
    from pytest_azchaos.embedded.process import stop_cluster

    selected = [c for c in all_cases() if not args.cases or c.id in args.cases]
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        handle = start_golden_cluster(kubeconfig)
        try:
            results = []
            for c in selected:
                t0 = time.monotonic()
                results.append(replay(c, handle.url, kubeconfig))
                print(f"{c.id}: {'ok' if results[-1].matched else 'MISMATCH'} ({time.monotonic() - t0:.1f} s)")
                if args.verbose:
                    for m in results[-1].mismatches:
                        print(f"    {m}")
        finally:
            stop_cluster(kubeconfig)
    for line in summarize(results):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
