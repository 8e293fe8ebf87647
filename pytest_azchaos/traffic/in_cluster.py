"""Traffic from inside the cluster: one agnhost ``netexec`` pod pinned to each zone, driven through ``/dial``.

Each prober pod (a bare Pod, nodeAffinity on the zone label, Pod Security ``restricted``, the run's agnhost image
so mirrors are honoured) is asked ``GET /dial?host=H&port=P&protocol=http&request=hostname&tries=N`` on a fixed
schedule (open loop, as ``traffic.prober``): the pod sends N requests to a Service's ClusterIP or DNS name and
answers ``{"responses": [pod names], "errors": [Go error texts]}``, as upstream's netexec does. A ``/dial`` to a
name resolves it through the pod's own resolver (its ``/etc/resolv.conf``, the cluster DNS): a failed lookup is
answered ``400 host and/or port param are invalid. lookup ...``, so every ``/dial`` by name is also one DNS query,
recorded as its own ``kind="dns"`` record.

Every record carries its ``source_zone`` and ``kind`` (``service-ip``, ``service-name``, ``dns``) and joins one
``Recording``, so checks and the report read each zone's view. The serving pod comes from the response
(``request=hostname``).

The plugin reaches the prober pods ``direct`` (their pod IP: from a runner inside the cluster, the CronJob in
``ci/cronjob/``, or wherever pod addresses route) or through the API server's pod proxy
(``GET /api/v1/namespaces/NS/pods/POD:8080/proxy/dial?...``, from anywhere the kubeconfig reaches);
``channel="auto"`` tries the pod IP first and falls back to the proxy. The channel's own failure (the proxy
answering 5xx/503, a prober pod unreachable) is our side: recorded as ``other`` with ``our side`` in the detail
and counted inconclusive by the checks, never as the cluster's failure.

Pytest-free; a background thread runs an asyncio loop; errors in it are re-raised by ``stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from .. import eventloop
from ..apps.images import SampleImages
from ..apps.security import restricted_container_security, restricted_pod_security
from ..wellknown import MANAGED_BY, MANAGED_BY_LABEL, ZONE_LABEL
from .recording import ErrorClass, Recording, RequestRecord

if TYPE_CHECKING:
    from ..kube.cluster import Cluster
    from ..kube.wait import Progress

PROBER_LABEL = "app.kubernetes.io/name"
PROBER_NAME = "azchaos-in-cluster-prober"
ZONE_ANNOTATION = "azchaos.io/prober-zone"
PORT = 8080
#: Upstream netexec's dial gives each HTTP request 5 s (and Go's resolver 2 x 5 s per name): a /dial answer takes
#: at most this long before the plugin counts it as timed out.
DIAL_TIMEOUT = 12.0
#: Our side's failures carry this in the record's detail; checks count them inconclusive, never as evidence.
OUR_SIDE = "our side"

Kind = Literal["service-ip", "service-name", "dns"]
Channel = Literal["auto", "direct", "proxy"]


class InClusterError(RuntimeError):
    """The prober pods could not be deployed or reached; the message names the fix."""


@dataclass(frozen=True)
class DialTarget:
    """Where the probers send traffic: ``host`` (a ClusterIP, or a name resolved by each pod) and ``port``.

    ``kind`` ``service-ip`` or ``service-name``; a name also yields one ``dns`` record per ``/dial``."""

    host: str
    port: int
    kind: Kind = "service-ip"
    protocol: Literal["http", "udp"] = "http"
    request: str = "hostname"

    @classmethod
    def service(cls, core: Any, namespace: str, name: str, port: int | None = None) -> list[DialTarget]:
        """A Service's ClusterIP and its DNS name (``NAME.NAMESPACE``, through the pods' search path)."""
        svc = core.read_namespaced_service(name, namespace)
        port = port or svc.spec.ports[0].port
        return [cls(svc.spec.cluster_ip, port, "service-ip"), cls(f"{name}.{namespace}", port, "service-name")]


@dataclass(frozen=True)
class ProberPod:
    """One prober: its pod, zone, node and address."""

    name: str
    zone: str
    node: str | None = None
    ip: str | None = None


def prober_manifest(name: str, zone: str, images: SampleImages, labels: Mapping[str, str] | None = None,
                    run_as_user: int = 1000) -> dict[str, Any]:
    """A bare agnhost netexec Pod required onto ``zone`` (nodeAffinity on the zone label), ``restricted``-clean."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "annotations": {ZONE_ANNOTATION: zone},
                     "labels": {**(labels or {}), PROBER_LABEL: PROBER_NAME, MANAGED_BY_LABEL: MANAGED_BY}},
        "spec": {
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": ZONE_LABEL, "operator": "In", "values": [zone]}]}]}}},
            "securityContext": restricted_pod_security(run_as_user),
            "terminationGracePeriodSeconds": 2,
            "containers": [{
                "name": "netexec", "image": images.agnhost,
                "args": ["netexec", f"--http-port={PORT}", "--udp-port=8081"],
                "ports": [{"containerPort": PORT, "protocol": "TCP"}],
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": PORT}, "periodSeconds": 1},
                "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}},
                "securityContext": restricted_container_security(),
            }],
            **images.pod_spec_fields(),
        },
    }


def _zone_suffix(zone: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", zone.lower()).strip("-")[-40:] or "zone"


def deploy_probers(cluster: Cluster, namespace: str, images: SampleImages, timeout: float, *,
                   zones: Sequence[str] | None = None, labels: Mapping[str, str] | None = None,
                   progress: Progress | None = None) -> list[ProberPod]:
    """One prober pod per zone (default: every zone with nodes), Ready, with its address; ``InClusterError``
    naming the pods that did not become Ready (and why, from their status)."""
    from kubernetes import client

    from ..apps.deploy import ensure_pull_secrets
    from ..kube.topology import is_ready
    from ..kube.wait import wait_until

    zones = list(zones or sorted(cluster.nodes_by_zone()))
    ensure_pull_secrets(cluster, namespace, images, dict(labels or {}))
    names = {f"prober-{_zone_suffix(z)}": z for z in zones}
    for name, zone in names.items():
        try:
            cluster.core.create_namespaced_pod(namespace, prober_manifest(name, zone, images, labels))
        except client.ApiException as e:
            if e.status != 409:
                raise InClusterError(f"creating prober pod {namespace}/{name} for {zone} failed: HTTP {e.status} "
                                     f"{e.reason}: {e.body}") from None

    def fetch() -> list[Any]:
        return [cluster.core.read_namespaced_pod(n, namespace) for n in names]

    waited = wait_until(fetch, lambda pods: all(is_ready(p) and p.status.pod_ip for p in pods), timeout=timeout,
                        what=f"{len(names)} in-cluster prober pod(s) Ready", progress=progress)
    if not waited.ok:
        stuck = [f"{p.metadata.name} ({names[p.metadata.name]}): {_why_not_ready(p)}" for p in waited.last or []
                 if not is_ready(p)]
        raise InClusterError(f"{waited.describe()}: {'; '.join(stuck) or 'unknown'}; check the image can be pulled "
                             f"({images.agnhost}, --azchaos-image / KUBE_TEST_REPO_LIST) and each zone has room")
    return [ProberPod(p.metadata.name, names[p.metadata.name], p.spec.node_name, p.status.pod_ip)
            for p in waited.last or []]


def _why_not_ready(pod: Any) -> str:
    for c in pod.status.container_statuses or []:
        waiting = c.state.waiting if c.state else None
        if waiting is not None:
            return f"{waiting.reason}: {waiting.message or ''}".strip()
    for c in pod.status.conditions or []:
        if c.type == "PodScheduled" and c.status != "True":
            return f"{c.reason}: {c.message}"
    return str(pod.status.phase)


def error_class(text: str) -> ErrorClass:
    """netexec's Go error text as our class: refused, reset, timeout, or other."""
    low = text.lower()
    if "connection refused" in low:
        return "refused"
    if "connection reset" in low or low.endswith(": eof") or '": eof' in low:
        return "reset"
    if "timeout" in low or "deadline exceeded" in low:
        return "timeout"
    return "other"


@dataclass
class _Stream:
    pod: ProberPod
    target: DialTarget
    seq0: int = 0


class InClusterRun:
    """The probers at work: ``rate`` requests per second per zone and target, ``tries`` per ``/dial``, until
    ``stop()``; ``recording`` holds every request (``source_zone``, ``kind``) and every lookup."""

    def __init__(self, cluster: Cluster, namespace: str, pods: Sequence[ProberPod], targets: Sequence[DialTarget],
                 rate: float = 20.0, tries: int = 1, channel: Channel = "auto", timeout: float = DIAL_TIMEOUT,
                 max_duration: float = 3600.0) -> None:
        if rate <= 0 or tries < 1:
            raise ValueError("rate must be positive and tries at least 1")
        self.cluster = cluster
        self.namespace = namespace
        self.pods = list(pods)
        self.targets = list(targets)
        self.rate = rate
        self.tries = tries
        self.timeout = timeout
        self.max_duration = max_duration
        self.channel: Channel = channel
        self.recording = Recording(rate=rate * len(self.pods) * len(self.targets))
        self.dials = 0
        self._seq = 0
        self._t0 = 0.0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self.error_reported = False
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="azchaos-dial-proxy")

    # ------------------------------------------------------------------ control

    def start(self) -> InClusterRun:
        if self.channel == "auto":
            self.channel = "direct" if all(_reachable(p.ip, PORT) for p in self.pods) else "proxy"
        self._thread = threading.Thread(target=self._thread_main, name="azchaos-in-cluster", daemon=True)
        self._thread.start()
        self._started.wait(5)
        return self

    def stop(self) -> Recording:
        """Stop sending, wait for dials in flight, return the recording (raises if the loop failed)."""
        if self._thread is not None and self._thread.is_alive() and self._loop is not None and self._stop:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(self.timeout + 10)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.check()
        return self.recording

    def check(self) -> None:
        if self._error is not None:
            self.error_reported = True
            raise RuntimeError(f"the in-cluster probers failed: {self._error!r}") from self._error

    def __enter__(self) -> InClusterRun:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def elapsed(self) -> float:
        """Seconds since the first ``/dial`` was due (the recording's time axis, for ``fault_window``)."""
        return time.monotonic() - self._t0 if self._t0 else 0.0

    # ------------------------------------------------------------------ the loop

    def _thread_main(self) -> None:
        try:
            eventloop.run(self._main())
        except BaseException as e:
            self._error = e
            self._started.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        loop = self._loop
        origin = loop.time()
        self._t0 = time.monotonic()
        self.recording.wall_start = time.time()
        self._started.set()
        interval = self.tries / self.rate
        streams = [_Stream(p, t) for p in self.pods for t in self.targets]
        tasks: set[asyncio.Task[None]] = set()
        tick = 0
        while not self._stop.is_set():
            due = origin + tick * interval
            if due - origin > self.max_duration:
                break
            delay = due - loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                if self._stop.is_set():
                    break
            for stream in streams:
                task = loop.create_task(self._dial(stream, due - origin, origin))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            tick += 1
        if tasks:
            await asyncio.wait(tasks, timeout=self.timeout + 5)

    def _next_seq(self, n: int) -> int:
        seq = self._seq
        self._seq += n
        return seq

    async def _dial(self, stream: _Stream, due: float, origin: float) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time() - origin
        t = stream.target
        query = urlencode({"host": t.host, "port": str(t.port), "protocol": t.protocol, "request": t.request,
                           "tries": str(self.tries)})
        status: int | None = None
        body: Any = None
        ours = ""
        try:
            async with asyncio.timeout(self.timeout):
                if self.channel == "direct":
                    status, body = await _http_get_json(stream.pod.ip or "", PORT, f"/dial?{query}")
                else:
                    status, body = await loop.run_in_executor(self._pool, self._proxy_get, stream.pod.name, query)
        except TimeoutError:
            ours = ""  # a /dial that outlives its own timeouts: the pod's lookup or request hung
            status = None
        except (OSError, ValueError) as e:
            ours = f"{OUR_SIDE}: prober pod {stream.pod.name} unreachable over {self.channel}: {type(e).__name__}: {e}"
        latency = loop.time() - origin - due
        self.dials += 1
        target = f"{t.host}:{t.port}"
        zone = stream.pod.zone
        records: list[RequestRecord] = []
        seq = self._next_seq(self.tries + (1 if t.kind == "service-name" else 0))

        def rec(i: int, kind: str, error: ErrorClass | None, detail: str = "", pod: str | None = None,
                code: int | None = None) -> RequestRecord:
            return RequestRecord(seq + i, due, started, latency, target, code, error, detail, pod, None, None, None,
                                 source_zone=zone, kind=kind)

        if ours:
            records = [rec(i, t.kind, "other", ours) for i in range(self.tries)]
        elif status is None:  # our client's timeout: the pod did not answer its /dial in time
            detail = f"/dial from {stream.pod.name} did not answer within {self.timeout:g}s"
            if t.kind == "service-name":
                records.append(rec(self.tries, "dns", "timeout", detail))
            records += [rec(i, t.kind, "timeout", detail) for i in range(self.tries)]
        elif status == 400 and isinstance(body, str) and "lookup " in body:
            if t.kind == "service-name":
                records.append(rec(self.tries, "dns", error_class(body), body.strip()))
            records += [rec(i, t.kind, error_class(body), body.strip()) for i in range(self.tries)]
        elif status != 200 or not isinstance(body, dict):
            why = f"{OUR_SIDE}: /dial via {self.channel} answered HTTP {status}: {str(body)[:200]}"
            records = [rec(i, t.kind, "other", why) for i in range(self.tries)]
        else:
            if t.kind == "service-name":
                records.append(rec(self.tries, "dns", None, "lookup answered", code=200))
            responses = [str(r) for r in body.get("responses") or []]
            errors = [str(e) for e in body.get("errors") or []]
            i = 0
            for answer in responses:
                records.append(rec(i, t.kind, None, "", answer.strip() or None, 200))
                i += 1
            for text in errors:
                records.append(rec(i, t.kind, error_class(text), text))
                i += 1
        for record in records:
            self.recording.add(record)

    def _proxy_get(self, pod: str, query: str) -> tuple[int, Any]:
        """``/dial`` through the API server's pod proxy, with the kubeconfig's credentials."""
        from urllib.parse import parse_qsl

        path = f"/api/v1/namespaces/{self.namespace}/pods/{pod}:{PORT}/proxy/dial"
        return self.cluster.get_json(path, dict(parse_qsl(query)), timeout=self.timeout)


def _reachable(ip: str | None, port: int, timeout: float = 1.0) -> bool:
    if not ip:
        return False
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return True
    except OSError:
        return False


async def _http_get_json(host: str, port: int, target: str) -> tuple[int, Any]:
    """One HTTP/1.1 GET on a new connection: (status, JSON body, or its text when not JSON)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next((int(v) for k, _, v in (ln.partition(":") for ln in lines[1:])
                       if k.strip().lower() == "content-length"), None)
        data = await (reader.readexactly(length) if length is not None else reader.read())
    finally:
        writer.close()
    text = data.decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


@dataclass
class InClusterTraffic:
    """What the ``azchaos_in_cluster_traffic`` fixture hands out: ``deploy()`` the per-zone probers once, then
    ``start(targets, rate=...)`` runs (each already running); ``stop_all()`` stops what still runs."""

    cluster: Cluster
    namespace: str
    images: SampleImages
    timeout: float
    rate: float = 20.0
    labels: dict[str, str] = field(default_factory=dict)
    progress: Progress | None = None
    pods: list[ProberPod] = field(default_factory=list)
    runs: list[InClusterRun] = field(default_factory=list)
    recordings: list[Recording] | None = None  # where each run's recording goes (the test's evidence)

    def deploy(self, zones: Sequence[str] | None = None) -> list[ProberPod]:
        if not self.pods:
            self.pods = deploy_probers(self.cluster, self.namespace, self.images, self.timeout, zones=zones,
                                       labels=self.labels, progress=self.progress)
        return self.pods

    def start(self, targets: Sequence[DialTarget], rate: float | None = None, tries: int = 1,
              channel: Channel = "auto") -> InClusterRun:
        run = InClusterRun(self.cluster, self.namespace, self.deploy(), targets, rate=rate or self.rate, tries=tries,
                           channel=channel).start()
        self.runs.append(run)
        if self.recordings is not None:
            self.recordings.append(run.recording)
        return run

    def stop_all(self) -> None:
        crashed = []
        for run in self.runs:
            if run.error_reported:
                continue
            try:
                run.stop()
            except RuntimeError as e:
                crashed.append(str(e))
        if crashed:
            raise RuntimeError("; ".join(crashed) + " (our side failed: the in-cluster traffic is no evidence)")
