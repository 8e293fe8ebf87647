"""Replay golden transcripts (recorded from a real v1.36.2 API server) against an embedded cluster.

Pytest-free on purpose: ``test_golden_replay.py`` uses it per case, and
``python -m tests.embedded.apiserver.golden --summary`` uses it to print the match rate per category.

A transcript's requests are replayed in order over real HTTP with ``requests``. The recorded namespace
(``gold-errors`` ...) is rewritten to a fresh one created first; uids/resourceVersions/generated names of
objects created earlier in the same replay are substituted with the live ones. Responses are compared after
removing what is volatile (uid, resourceVersion, timestamps, generated names, allocated IPs/ports,
managedFields) and the recording environment's artifacts listed in the golden README (OpenShift's 4th
projected source and ``openshift-service-ca.crt`` ConfigMap, the CA bundle's content).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.golden_data import GOLDEN_DIR, GoldenDataMissing

CATEGORIES = ("defaulting", "errors", "discovery", "admission")

Json = Any

# ---------------------------------------------------------------------------------------------- mismatches

_COMPACTION = ("depends on the recording cluster's etcd compaction + apiserver restart history (watch cache "
               "window started at RV 935); not reproducible by replay")
_NODE_NAMES = "uses the recording cluster's fake nodes node-a1..node-c2; the embedded topology names nodes as EKS"

_RV_500 = ("RV 500 was compacted in the recording cluster; a fresh embedded cluster has not reached RV 500 "
           "(504 Too large resource version) or still retains it")
_AGGREGATED = ("aggregated discovery (apidiscovery.k8s.io/v2) lists only the served subset of groups/resources "
               "(no apiregistration, pods/attach|portforward|proxy|resize ...)")
_SUBSET = ("the embedded cluster serves a subset of the v1.36 resources/groups (no componentstatuses, limitranges, "
           "resourcequotas, podtemplates, replicationcontrollers, ipaddresses, servicecidrs, ...)")

#: Every golden case that cannot match today, with the reason. Tests mark these ``xfail(strict=True)``.
KNOWN_MISMATCHES: dict[str, str] = {
    "errors/watch-pods-rv-too-old": _COMPACTION,
    "errors/watch-rv-too-old": _COMPACTION,
    "errors/watch-rv-too-old-500": _COMPACTION,
    "errors/watch-rv-1-before-compaction": (
        "stream replays the recording namespace's full history (incl. the OpenShift configmap and writes of "
        "other golden cases made in the same namespace before the watch)"),
    "errors/list-continue-token-after-compaction": (
        "recorded pages contain OpenShift's openshift-service-ca.crt configmap, which shifts the page boundaries "
        "and remainingItemCount (3 vs 2)"),
    "errors/list-rv-exact-compacted-500": _RV_500,
    "errors/list-limit-rv-exact-compacted": _RV_500,
    "errors/pod-update-immutable-fields": (
        "message embeds a unified diff of the internal core.PodSpec Go struct dump (line-numbered hunks); "
        "not reproduced"),
    "discovery/aggregated-api": _AGGREGATED,
    "discovery/aggregated-apis": _AGGREGATED,
    "discovery/aggregated-apis-noFallback": _AGGREGATED,
    "discovery/api-v1": _SUBSET,
    "discovery/apis": _SUBSET,
    "discovery/openapi-v3-root": _SUBSET + "; the per-group-version hashes follow",
    "discovery/readyz-verbose": "/readyz?verbose answers 'ok' instead of the per-check list",
    "admission/limitrange-defaults-and-max": "LimitRange resource and LimitRanger admission are not served",
    "admission/resourcequota-exceeded": "ResourceQuota resource and quota admission are not served",
    "defaulting/pvc": (
        "the embedded cluster has the EBS CSI add-on's default gp3 StorageClass, so DefaultStorageClass admission "
        "sets storageClassName: gp3; the recording cluster had no default class"),
    "admission/namespace-terminating": (
        _NODE_NAMES + "; pods bound at create get no topology.kubernetes.io/zone label (PodTopologyLabels "
        "admission not implemented); the namespace is gone at once instead of Terminating with conditions"),
}


# ---------------------------------------------------------------------------------------------- transcripts

@dataclass
class Step:
    label: str
    request: dict[str, Json]
    response: dict[str, Json]


@dataclass
class Case:
    category: str
    name: str
    what: str
    steps: list[Step]

    @property
    def id(self) -> str:
        return f"{self.category}/{self.name}"

    @property
    def recorded_namespace(self) -> str:
        for s in self.steps:
            m = re.search(r"/namespaces/(gold-[a-z0-9-]+?)(?:/|$)", s.request["path"])
            if m:
                return m.group(1)
        return "gold-" + self.category


def load(path: Path) -> Case:
    """One transcript file as a ``Case`` (single-request files become one step)."""
    data = json.loads(path.read_text())
    if "steps" in data:
        steps = [Step(s.get("label") or f"step {i + 1}", s["request"], s["response"])
                 for i, s in enumerate(data["steps"])]
    else:
        steps = [Step("request", data["request"], data["response"])]
    return Case(path.parent.name, path.stem, data.get("what", ""), steps)


def cases(categories: tuple[str, ...] = CATEGORIES, root: Path = GOLDEN_DIR) -> list[Case]:
    """Every transcript of ``categories``; a missing category folder raises ``GoldenDataMissing``."""
    out = []
    for cat in categories:
        if not (root / cat).is_dir():
            raise GoldenDataMissing(f"golden data missing: {root / cat} is not a directory")
        for p in sorted((root / cat).glob("*.json")):
            out.append(load(p))
    return out


# ---------------------------------------------------------------------------------------------- setup

@dataclass
class Setup:
    """A request the recording ran before the case (objects the case refers to), with its recorded ids."""

    method: str
    path: str
    body: Json
    recorded_uid: str | None = None
    recorded_rv: str | None = None


def _cm(name: str, data: dict[str, str] | None = None, uid: str | None = None, rv: str | None = None) -> Setup:
    body: dict[str, Json] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    if data is not None:
        body["data"] = data
    return Setup("POST", "/api/v1/namespaces/gold-errors/configmaps", body, uid, rv)


_DUP = _cm("dup", {"a": "1"}, "510c9b2b-82ce-4a2f-b095-6c18f57bae8c", "762")
_DUP4 = _cm("dup", {"a": "4"}, "510c9b2b-82ce-4a2f-b095-6c18f57bae8c", "767")
_DUPPOD = Setup("POST", "/api/v1/namespaces/gold-errors/pods",
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "duppod"},
                 "spec": {"containers": [{"name": "app", "image": "nginx"}]}},
                "9af5b7ba-cd44-4683-a17c-715b2042f8bf", "764")
_DEPLOY_OK = Setup("POST", "/apis/apps/v1/namespaces/gold-errors/deployments",
                   {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ok"},
                    "spec": {"selector": {"matchLabels": {"app": "ok"}},
                             "template": {"metadata": {"labels": {"app": "ok"}},
                                          "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}})
_SVC_S = Setup("POST", "/api/v1/namespaces/gold-errors/services",
               {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                "spec": {"selector": {"app": "s"}, "ports": [{"port": 80}]}})
# State of gold-errors's configmaps when the list cases ran (dup at a=4, two unknown-field configmaps).
_CM_STATE = [_DUP4, _cm("warnfield"), _cm("warnfield2")]

#: Objects each case needs before its own requests (the recording made them in earlier cases).
SETUP: dict[str, list[Setup]] = {
    "errors/create-duplicate-configmap": [_DUP],
    "errors/create-duplicate-pod": [_DUPPOD],
    "errors/delete-precondition-rv-mismatch": [_DUP4],
    "errors/delete-precondition-uid-mismatch": [_DUP],
    "errors/deployment-selector-immutable": [_DEPLOY_OK],
    "errors/eviction-get-not-allowed": [_DUPPOD],
    "errors/patch-content-type-json-not-patch": [_DUP],
    "errors/pod-update-immutable-fields": [_DUPPOD],
    "errors/post-to-item": [_DUP],
    "errors/service-clusterip-immutable": [_SVC_S],
    "errors/unsupported-patch-content-type": [_DUP],
    "errors/update-name-mismatch": [_DUP],
    "errors/update-stale-resourceversion": [_DUP],
    # The recorded PUT carries dup's creation RV after an update made it stale.
    "errors/update-stale-rv-second-put": [_DUP, Setup("PUT", "/api/v1/namespaces/gold-errors/configmaps/dup", {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dup"}, "data": {"a": "2"}})],
    "errors/update-without-resourceversion": [_DUP],
    "errors/list-invalid-limit": _CM_STATE,
    "errors/list-rv-1-notolderthan": _CM_STATE,
    "errors/list-continue-token-after-compaction": _CM_STATE,
    "errors/watch-rv-1-before-compaction": [_DUP],
}


# ---------------------------------------------------------------------------------------------- normalizing

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MESSAGE_VOLATILE = [
    (_UUID, "<uid>"),
    (re.compile(r"in record \(\d+\)"), "in record (<rv>)"),
    (re.compile(r"current: \d+"), "current: <rv>"),
    (re.compile(r"kube-api-access-[a-z0-9]{5}"), "kube-api-access-<rand>"),
]
# Facts of the recording build and host, not behaviour: the fork's commit/build date, the server address.
_ENVIRONMENT_KEYS = {"gitCommit", "buildDate", "serverAddress"}
_TIME_KEYS = {"creationTimestamp", "deletionTimestamp", "lastTransitionTime", "lastPhaseTransitionTime", "time",
              "lastHeartbeatTime", "lastProbeTime", "startTime", "eventTime", "firstTimestamp", "lastTimestamp"}
_OPENSHIFT_CM = "openshift-service-ca.crt"
V = "<volatile>"


def normalize_message(msg: str) -> str:
    for rx, repl in _MESSAGE_VOLATILE:
        msg = rx.sub(repl, msg)
    return msg


def _walk(node: Json, parent_key: str | None = None) -> Json:
    if isinstance(node, dict):
        out: dict[str, Json] = {}
        for k, v in node.items():
            if k == "managedFields":
                continue
            if (k in _TIME_KEYS or k in _ENVIRONMENT_KEYS) and isinstance(v, str):
                out[k] = V
            elif k == "sources" and isinstance(v, list):
                out[k] = [_walk(s) for s in v if (s.get("configMap") or {}).get("name") != _OPENSHIFT_CM]
            elif k == "items" and isinstance(v, list) and parent_key is None:
                out[k] = [_walk(i) for i in v if (i.get("metadata") or {}).get("name") != _OPENSHIFT_CM]
            elif k in ("nodePort", "healthCheckNodePort") or (
                    k in ("clusterIP", "clusterIPs") and v not in ("None", ["None"])):
                out[k] = V
            elif k == "metadata" and isinstance(v, dict):
                out[k] = _meta(v)
            else:
                out[k] = _walk(v, k)
        if out.get("metadata", {}).get("name") == "kube-root-ca.crt" and "data" in out:
            out["data"] = {k: V for k in out["data"]}
        return out
    if isinstance(node, list):
        return [_walk(i, parent_key) for i in node]
    if isinstance(node, str):
        return normalize_message(node)
    return node


def _meta(meta: dict[str, Json]) -> dict[str, Json]:
    out = _walk({k: v for k, v in meta.items() if k != "managedFields"}, "metadata")
    for k in ("uid", "resourceVersion", "continue"):
        if k in out:
            out[k] = V
    if out.get("generateName") and "name" in out:
        out["name"] = V
    return out


def normalize(body: Json) -> Json:
    """A response body with volatile fields and recording-environment artifacts blanked out."""
    return _walk(copy.deepcopy(body))


def diff(expected: Json, actual: Json, path: str = "") -> list[str]:
    """Human-readable differences between two normalized JSON values."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for k in expected.keys() | actual.keys():
            p = f"{path}.{k}" if path else k
            if k not in actual:
                out.append(f"{p}: missing (expected {json.dumps(expected[k])[:300]})")
            elif k not in expected:
                out.append(f"{p}: unexpected {json.dumps(actual[k])[:300]}")
            else:
                out += diff(expected[k], actual[k], p)
        return sorted(out)
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        out = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out += diff(e, a, f"{path}[{i}]")
        return out
    if expected != actual:
        return [f"{path or '<body>'}: expected {json.dumps(expected)[:600]} got {json.dumps(actual)[:600]}"]
    return []


# ---------------------------------------------------------------------------------------------- replay

@dataclass
class Result:
    case: Case
    mismatches: list[str] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return not self.mismatches


class _Rewriter:
    """Recorded → live: the namespace, and ids of objects created earlier in this replay."""

    def __init__(self, recorded_ns: str, live_ns: str):
        self.recorded_ns = recorded_ns
        self.live_ns = live_ns
        self.values: dict[str, str] = {}

    def learn(self, recorded: Json, live: Json) -> None:
        if not (isinstance(recorded, dict) and isinstance(live, dict)):
            return
        rm, lm = recorded.get("metadata") or {}, live.get("metadata") or {}
        for k in ("uid", "resourceVersion", "name", "continue"):
            if rm.get(k) and lm.get(k) and rm[k] != lm[k]:
                self.values[rm[k]] = lm[k]

    def text(self, s: str) -> str:
        return s.replace(self.recorded_ns, self.live_ns)

    def body(self, node: Json) -> Json:
        if isinstance(node, dict):
            return {k: self.body(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.body(i) for i in node]
        if isinstance(node, str):
            return self.values.get(node, self.text(node))
        return node


def _send(session: requests.Session, base: str, rw: _Rewriter, req: dict[str, Json]) -> requests.Response:
    headers = {"Accept": req.get("accept") or "application/json"}
    data: bytes | None = None
    body = req.get("body")
    if body is not None:
        data = (rw.text(body) if isinstance(body, str) else json.dumps(rw.body(body))).encode()
        headers["Content-Type"] = req.get("content_type") or "application/json"
    query = {k: rw.body(v) for k, v in (req.get("query") or {}).items()}
    return session.request(req["method"], base + rw.text(req["path"]), params=query, data=data, headers=headers,
                           timeout=30)


def _is_status(body: Json) -> bool:
    return isinstance(body, dict) and body.get("kind") == "Status"


def _compare(step: Step, resp: requests.Response, rw: _Rewriter) -> list[str]:
    want = step.response
    out: list[str] = []
    if resp.status_code != want["status"]:
        out.append(f"status: expected {want['status']} got {resp.status_code}: {resp.text[:400]}")
        return out
    if "warning_header" in want and resp.headers.get("Warning") != want["warning_header"]:
        out.append(f"Warning header: expected {want['warning_header']!r} got {resp.headers.get('Warning')!r}")
    expected = want.get("body")
    ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
    if isinstance(expected, str):
        want_ctype = (want.get("content_type") or "").split(";")[0].strip()
        if want_ctype and ctype != want_ctype:
            out.append(f"content-type: expected {want_ctype} got {ctype}")
        if resp.text != expected:
            out.append(f"text body: expected {expected[:300]!r} got {resp.text[:300]!r}")
        return out
    if expected is None:
        return out
    expected = json.loads(rw.text(json.dumps(expected)))
    if isinstance(expected, list):  # a watch stream: one parsed JSON per line
        actual: Json = [json.loads(line) for line in resp.text.splitlines() if line.strip()]
    else:
        try:
            actual = resp.json()
        except ValueError:
            return [*out, f"body is not JSON: {resp.text[:300]!r}"]
    if _is_status(expected):
        keys = ("kind", "apiVersion", "status", "message", "reason", "details", "code")
        exp = {k: expected.get(k) for k in keys}
        act = {k: actual.get(k) for k in keys} if isinstance(actual, dict) else actual
        return out + diff(normalize(exp), normalize(act))
    out += diff(normalize(expected), normalize(actual))
    rw.learn(expected, actual)
    return out


def replay(case: Case, base_url: str) -> Result:
    """Replay ``case`` against the API server at ``base_url``; the result lists every mismatch."""
    base = base_url.rstrip("/")
    recorded_ns = case.recorded_namespace
    live_ns = f"{recorded_ns}-{uuid.uuid4().hex[:5]}"
    rw = _Rewriter(recorded_ns, live_ns)
    result = Result(case)
    cluster_scoped: list[str] = []
    with requests.Session() as session:
        r = session.post(f"{base}/api/v1/namespaces", json={"metadata": {"name": live_ns}}, timeout=30)
        r.raise_for_status()
        try:
            for st in SETUP.get(case.id, []):
                r = session.request(st.method, base + rw.text(st.path), json=rw.body(st.body), timeout=30)
                if r.status_code >= 300:
                    result.mismatches.append(f"setup {st.method} {st.path}: {r.status_code} {r.text[:300]}")
                    return result
                meta = r.json().get("metadata") or {}
                if st.recorded_uid:
                    rw.values[st.recorded_uid] = meta["uid"]
                if st.recorded_rv:
                    rw.values[st.recorded_rv] = meta["resourceVersion"]
            for step in case.steps:
                resp = _send(session, base, rw, step.request)
                if resp.status_code == 201 and "/namespaces/" not in step.request["path"]:
                    name = (resp.json().get("metadata") or {}).get("name")
                    if name:
                        cluster_scoped.append(f"{base}{rw.text(step.request['path'])}/{name}")
                for m in _compare(step, resp, rw):
                    result.mismatches.append(f"[{step.label}] {m}")
        finally:
            for url in cluster_scoped:
                session.delete(url, params={"gracePeriodSeconds": "0"}, timeout=30)
            session.delete(f"{base}/api/v1/namespaces/{live_ns}", timeout=30)
    return result


# ---------------------------------------------------------------------------------------------- summary

def summarize(results: list[Result]) -> Iterator[str]:
    """Lines: ``<category> matched/total`` per category, then each mismatching case with its reason."""
    by_cat: dict[str, list[Result]] = {}
    for r in results:
        by_cat.setdefault(r.case.category, []).append(r)
    for cat, rs in by_cat.items():
        yield f"{cat} {sum(r.matched for r in rs)}/{len(rs)}"
    for r in results:
        if not r.matched:
            reason = KNOWN_MISMATCHES.get(r.case.id, "UNEXPLAINED")
            yield f"  MISMATCH {r.case.id}: {reason}"
        elif r.case.id in KNOWN_MISMATCHES:
            yield f"  UNEXPECTED MATCH {r.case.id}: drop it from KNOWN_MISMATCHES"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", action="store_true", help="print the match rate per category")
    parser.add_argument("--verbose", "-v", action="store_true", help="also print every mismatch")
    parser.add_argument("--url", help="replay against this API server instead of starting an embedded cluster")
    parser.add_argument("cases", nargs="*", help="only these case ids (category/name)")
    args = parser.parse_args(argv)
    if not GOLDEN_DIR.is_dir():
        print(f"no golden transcripts at {GOLDEN_DIR}", file=sys.stderr)
        return 2
    selected = [c for c in cases() if not args.cases or c.id in args.cases]
    if args.url:
        results = [replay(c, args.url) for c in selected]
    else:
        from pytest_azchaos.embedded.process import start_cluster, stop_cluster
        from pytest_azchaos.embedded.topology import Topology

        with tempfile.TemporaryDirectory() as tmp:
            kubeconfig = Path(tmp) / "kubeconfig"
            handle = start_cluster(kubeconfig, Topology())
            try:
                results = [replay(c, handle.url) for c in selected]
            finally:
                stop_cluster(kubeconfig)
    for line in summarize(results):
        print(line)
    if args.verbose:
        for r in results:
            for m in r.mismatches:
                print(f"{r.case.id}: {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
