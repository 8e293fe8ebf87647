"""Drain a zone: cordon all its nodes, then evict every evictable pod on them at once, then wait them gone.

Unlike ``kubectl drain`` (one node per invocation, nodes one after another), every pod of every node
of the zone is evicted in parallel through the Eviction API, so PodDisruptionBudgets still decide
what may go when. A 429 (the budget allows no disruption now) is retried after ``retry_interval``
(5 s, as kubectl) until the deadline, with the budget's cause kept in the pod's timeline; any other
error stops that pod's eviction and is reported with the API's answer. DaemonSet pods, mirror pods
and pods already terminating are skipped (as ``kubectl drain --ignore-daemonsets``); pods with no
controller would not come back and are skipped unless ``force=True``.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..kube.cluster import Cluster
from ..kube.wait import Progress, wait_until
from .cordon import CordonReport, cordon_zone
from .ledger import Ledger
from .target import zone_nodes
from .timeline import Timeline

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
KUBECTL_RETRY = 5.0
_PDB_CAUSE = re.compile(r"The disruption budget (\S+) needs (\d+) healthy pods and has (\d+) currently")

Pod = dict[str, Any]


def default_skip(pod: Pod) -> str | None:
    """Why ``pod`` is not evicted by a drain (None: evict it). DaemonSet, mirror and terminating pods stay."""
    meta = pod.get("metadata") or {}
    owners = meta.get("ownerReferences") or []
    if any(o.get("kind") == "DaemonSet" and o.get("controller") for o in owners):
        return "DaemonSet pod (its controller ignores unschedulable nodes and would recreate it)"
    if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
        return "mirror pod (static pod of the kubelet; the API cannot delete it)"
    if meta.get("deletionTimestamp"):
        return "already terminating"
    return None


def unmanaged(pod: Pod) -> bool:
    return not any(o.get("controller") for o in (pod.get("metadata") or {}).get("ownerReferences") or [])


@dataclass
class PodDrain:
    """One pod's drain timeline (seconds since the drain started)."""

    namespace: str
    name: str
    uid: str
    node: str
    first_attempt: float | None = None
    refusals: list[tuple[float, str]] = field(default_factory=list)
    accepted: float | None = None
    gone: float | None = None
    error: str = ""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def blocked_by(self) -> str:
        """The last 429 cause, while the pod is not evicted yet."""
        return self.refusals[-1][1] if self.refusals and self.accepted is None else ""

    def describe(self) -> str:
        def t(x: float | None) -> str:
            return "-" if x is None else f"{x:.2f}s"

        out = (f"{self.key} on {self.node}: first attempt {t(self.first_attempt)}, {len(self.refusals)} refusal(s), "
               f"accepted {t(self.accepted)}, gone {t(self.gone)}")
        if self.refusals:
            out += f"; last refusal: {self.refusals[-1][1]}"
        if self.error:
            out += f"; error: {self.error}"
        return out


@dataclass
class DrainReport:
    """What the drain did to each pod, the totals, and what it could not do (with the evidence)."""

    zone: str
    run_id: str
    nodes: list[str]
    cordon: CordonReport
    pods: list[PodDrain]
    skipped: dict[str, str]
    timeline: Timeline
    timeout: float
    wall_time: float = 0.0
    timed_out: bool = False
    last_seen: dict[str, str] = field(default_factory=dict)

    @property
    def evicted(self) -> list[PodDrain]:
        return [p for p in self.pods if p.accepted is not None]

    @property
    def not_evicted(self) -> list[PodDrain]:
        """Pods the API never agreed to evict (still refused by a budget at the deadline, or an error)."""
        return [p for p in self.pods if p.accepted is None]

    @property
    def not_gone(self) -> list[PodDrain]:
        return [p for p in self.pods if p.accepted is not None and p.gone is None]

    @property
    def refusals(self) -> int:
        return sum(len(p.refusals) for p in self.pods)

    @property
    def ok(self) -> bool:
        return self.cordon.ok and not self.not_evicted and not self.not_gone

    def pod(self, key: str) -> PodDrain:
        return next(p for p in self.pods if p.key == key or p.name == key)

    def describe(self) -> str:
        lines = [f"drain {self.zone} ({len(self.nodes)} node(s)): {len(self.evicted)}/{len(self.pods)} pods evicted, "
                 f"{len(self.pods) - len(self.not_gone) - len(self.not_evicted)} gone, {self.refusals} PDB "
                 f"refusal(s), {len(self.skipped)} skipped, in {self.wall_time:.2f}s"
                 + (f" — TIMED OUT after {self.timeout:.0f}s" if self.timed_out else "")]
        if not self.cordon.ok:
            lines.append("  " + self.cordon.describe())
        for p in self.not_evicted:
            lines.append(f"  not evicted: {p.describe()}")
        for p in self.not_gone:
            lines.append(f"  evicted but still present: {p.describe()}; last seen {self.last_seen.get(p.uid, '?')}")
        return "\n".join(lines)


def pdb_summary(causes: list[str]) -> str:
    """``2 blocked by PDB web (needs 5 healthy, has 5)`` from 429 causes."""
    counts = Counter(causes)
    parts = []
    for cause, n in counts.items():
        m = _PDB_CAUSE.search(cause)
        what = f"PDB {m.group(1)} (needs {m.group(2)} healthy, has {m.group(3)})" if m else cause
        parts.append(f"{n} blocked by {what}")
    return ", ".join(parts)


def _status(e: Any) -> tuple[str, str]:
    """The Status message and the first cause's message of an ApiException."""
    try:
        body = json.loads(e.body)
    except Exception:
        return str(e.reason or ""), ""
    causes = (body.get("details") or {}).get("causes") or []
    return str(body.get("message", "")), "; ".join(c.get("message", "") for c in causes if c.get("message"))


def _client_for(cluster: Cluster, pool: int) -> Any:
    """A client whose connection pool fits ``pool`` concurrent requests (the default keeps only ~10)."""
    from kubernetes import client

    from ..kube.retry import install_retries

    cfg = copy.deepcopy(cluster.api.configuration)
    cfg.connection_pool_maxsize = max(pool, 4)
    return install_retries(client.ApiClient(cfg))


class Evictor:
    """Evicts one pod at a time through the Eviction API, as ``kubectl drain`` does: a 429 (its budget allows
    no disruption now) is retried every ``retry_interval`` until the deadline; a pod already gone counts."""

    def __init__(self, core: Any, timeline: Timeline, deadline: float, retry_interval: float,
                 grace_seconds: int | None, stop: threading.Event) -> None:
        self.core, self.timeline, self.deadline = core, timeline, deadline
        self.retry_interval, self.grace_seconds, self.stop = retry_interval, grace_seconds, stop

    def evict(self, p: PodDrain) -> None:
        """Until ``p`` is evicted, gone, failed for good, or the deadline passed; the outcome is on ``p``."""
        from kubernetes import client
        from kubernetes.client import ApiException

        body = client.V1Eviction(
            metadata=client.V1ObjectMeta(name=p.name, namespace=p.namespace),
            delete_options=client.V1DeleteOptions(grace_period_seconds=self.grace_seconds,
                                                  preconditions=client.V1Preconditions(uid=p.uid)))
        timeline = self.timeline
        while not self.stop.is_set():
            if p.first_attempt is None:
                p.first_attempt = timeline.elapsed()
                timeline.add(p.key, "eviction requested", f"node {p.node}")
            try:
                self.core.create_namespaced_pod_eviction(p.name, p.namespace, body, _preload_content=False)
            except ApiException as e:
                message, cause = _status(e)
                if e.status == 429:
                    p.refusals.append((timeline.elapsed(), cause or message))
                    timeline.add(p.key, "eviction refused (429)", cause or message)
                    left = self.deadline - time.monotonic()
                    if left <= 0:
                        return
                    self.stop.wait(min(self.retry_interval, left))
                    continue
                if e.status == 404 or (e.status == 409 and "UID" in message):
                    p.accepted = p.gone = timeline.elapsed()
                    timeline.add(p.key, "already gone", f"{e.status}: {message}")
                    return
                p.error = f"{e.status} {e.reason}: {message}" + (f" ({cause})" if cause else "")
                timeline.add(p.key, "eviction failed", p.error)
                return
            except Exception as e:  # connection trouble: retry inside the deadline
                timeline.add(p.key, "eviction request failed", f"{type(e).__name__}: {e}")
                if time.monotonic() >= self.deadline:
                    p.error = f"{type(e).__name__}: {e}"
                    return
                self.stop.wait(min(1.0, self.retry_interval))
                continue
            p.accepted = timeline.elapsed()
            timeline.add(p.key, "eviction accepted")
            return


class GoneWatcher:
    """Notices when evicted pods have left the zone's nodes (their graceful shutdown done), for the wait."""

    def __init__(self, core: Any, nodes: list[str], report: DrainReport) -> None:
        self.core, self.nodes, self.report = core, set(nodes), report
        self.by_uid = {p.uid: p for p in report.pods}

    def fetch(self) -> dict[str, str]:
        """The pods still on the nodes (uid -> state); marks evicted ones that are no longer there as gone."""
        todo, timeline = self.report.pods, self.report.timeline
        if not any(p.accepted is not None and p.gone is None for p in todo):
            return self.report.last_seen  # nothing evicted is waiting to go: spare the API server a list
        present = {}
        for pod in _pods_on(self.core, self.nodes):
            meta = pod["metadata"]
            st = pod.get("status") or {}
            present[meta["uid"]] = (f"phase {st.get('phase')}, node {pod['spec'].get('nodeName')}"
                                    + (f", terminating since {meta['deletionTimestamp']}"
                                       if meta.get("deletionTimestamp") else ""))
        now = timeline.elapsed()
        for uid, p in self.by_uid.items():
            if p.accepted is not None and p.gone is None and uid not in present:
                p.gone = now
                timeline.add(p.key, "gone")
        self.report.last_seen = present
        return present

    def finished(self, _: dict[str, str]) -> bool:
        """Every pod gone or failed for a reason other than a budget (a pod still refused by its budget keeps
        the drain waiting until the deadline)."""
        return all(p.gone is not None or p.error for p in self.report.pods)

    def detail(self, _: dict[str, str]) -> str:
        """Progress: evicted, terminating, blocked by which budgets, failed."""
        todo = self.report.pods
        evicted = sum(1 for p in todo if p.accepted is not None)
        text = f"{evicted}/{len(todo)} pods evicted"
        gone = sum(1 for p in todo if p.gone is not None)
        if gone < evicted:
            text += f", {evicted - gone} terminating"
        blocked = [p.blocked_by for p in todo if p.blocked_by and not p.error]
        if blocked:
            text += ", " + pdb_summary(blocked)
        failed = sum(1 for p in todo if p.error)
        if failed:
            text += f", {failed} failed"
        return text


def _plan(pods: list[Pod], skip: Callable[[Pod], str | None], force: bool,
          timeline: Timeline) -> tuple[list[PodDrain], dict[str, str]]:
    """The pods to evict, and those left alone with the reason (DaemonSet, mirror, unmanaged ...)."""
    skipped: dict[str, str] = {}
    todo: list[PodDrain] = []
    for pod in pods:
        meta = pod["metadata"]
        key = f"{meta['namespace']}/{meta['name']}"
        why = skip(pod)
        if why is None and not force and unmanaged(pod):
            why = "no controller: it would not come back (drain with force=True to evict it anyway)"
        if why:
            skipped[key] = why
            timeline.add(key, "skipped", why)
            continue
        todo.append(PodDrain(meta["namespace"], meta["name"], meta["uid"], pod["spec"].get("nodeName", "")))
    return todo, skipped


def drain_zone(cluster: Cluster, zone: str, ledger: Ledger, timeout: float, progress: Progress | None = None,
               skip: Callable[[Pod], str | None] = default_skip, *, force: bool = False,
               retry_interval: float = KUBECTL_RETRY, grace_seconds: int | None = None,
               max_workers: int = 64, poll_interval: float = 0.25) -> DrainReport:
    """Cordon ``zone`` and evict its pods in parallel within ``timeout`` seconds; never raises on timeout."""
    from kubernetes import client

    start = time.monotonic()
    deadline = start + timeout
    _, node_views = zone_nodes(cluster.core, zone)  # bad zone: fails before anything is touched
    timeline = Timeline()
    cordon = cordon_zone(cluster, zone, ledger, timeline=timeline)
    nodes = sorted(n.name for n in node_views)
    api = _client_for(cluster, min(max_workers, 64) + 2)
    core = client.CoreV1Api(api)
    stop = threading.Event()
    pool: ThreadPoolExecutor | None = None
    try:
        todo, skipped = _plan(_pods_on(core, set(nodes)), skip, force, timeline)
        report = DrainReport(zone, ledger.run_id, nodes, cordon, todo, skipped, timeline, timeout)
        evictor = Evictor(core, timeline, deadline, retry_interval, grace_seconds, stop)
        pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(todo))), thread_name_prefix="azchaos-drain")
        for p in todo:
            pool.submit(evictor.evict, p)
        watcher = GoneWatcher(core, nodes, report)
        result = wait_until(watcher.fetch, watcher.finished, timeout=max(deadline - time.monotonic(), 0.01),
                            what=f"drain {zone}", interval=poll_interval, progress=progress, describe=watcher.detail)
        report.timed_out = not result.ok
        stop.set()
        pool.shutdown(wait=True)
        for p in todo:
            if p.accepted is None and not p.error and p.refusals:
                p.error = f"still refused at the deadline ({timeout:.0f}s): {p.refusals[-1][1]}"
        report.wall_time = time.monotonic() - start
        return report
    finally:
        # Also when interrupted (Ctrl-C, SIGTERM): the evictors stop at once, instead of evicting pods from
        # nodes the run's undo has already uncordoned until the drain's deadline.
        stop.set()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        api.close()


def _pods_on(core: Any, nodes: set[str]) -> list[Pod]:
    """Pods bound to ``nodes`` (raw JSON: cheap to read often; one list per node, or one list for many nodes)."""
    out: list[Pod] = []
    if len(nodes) > 4:
        resp = core.list_pod_for_all_namespaces(_preload_content=False)
        return [p for p in json.loads(resp.data).get("items") or [] if (p.get("spec") or {}).get("nodeName") in nodes]
    for node in sorted(nodes):
        resp = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}", _preload_content=False)
        out.extend(json.loads(resp.data).get("items") or [])
    return out
