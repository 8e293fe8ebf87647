"""One pod's life on one node: pull, start, probe, restart with back-off, stop gracefully, report.

Mirrors the kubelet's pod worker: status is written through ``pods/status`` the way the
kubelet's status manager writes it, events use the kubelet's reasons and texts, and graceful
termination runs preStop, then SIGTERM, then SIGKILL when the grace period runs out, before the
final delete with grace 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..apiserver.errors import quiet
from ..apiserver.resources import REGISTRY
from ..images.container import Container, ContainerSpec, ContainerStartError
from ..images.fs import attach as attach_sandbox
from ..images.reference import InvalidReferenceFormat, parse_reference
from ..images.registry import (
    REASON_IMAGE_PULL_BACK_OFF,
    Image,
    ImagePullError,
    InvalidImageNameError,
    already_present_event_message,
    pulled_event_message,
    pulling_event_message,
)
from ..objects import format_time, now_rfc3339
from .dns_config import pod_resolv_conf
from .mounts import PodVolumes
from .probes import ProbeResult, http_get, run_probe
from .pull_secrets import (
    EVENT_FAILED_TO_RETRIEVE,
    failed_to_retrieve_message,
    keyring,
    lookup,
    pod_pull_secrets,
)
from .security_context import REASON_CREATE_CONTAINER_CONFIG_ERROR, verify_run_as_non_root

if TYPE_CHECKING:
    from .kubelet import NodeAgent

log = logging.getLogger(__name__)
Obj = dict[str, Any]
PODS = REGISTRY.lookup("", "v1", "pods")
assert PODS is not None


def _rfc3339(ts: float | None) -> str | None:
    return None if ts is None else format_time(ts)


@dataclass
class ContainerRuntime:
    """The kubelet's view of one container of the pod across restarts."""

    spec: Obj
    container: Container | None = None
    image_id: str = ""
    restart_count: int = 0
    waiting: tuple[str, str] | None = ("ContainerCreating", "")
    terminated: Obj | None = None
    last_state: Obj = field(default_factory=dict)
    ready: bool = False
    started: bool = False
    image: Image | None = None
    probe_tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    liveness_failed: bool = False

    @property
    def name(self) -> str:
        return self.spec["name"]

    def status(self) -> Obj:
        state: Obj
        if self.waiting is not None:
            reason, message = self.waiting
            state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
        elif self.terminated is not None:
            state = {"terminated": self.terminated}
        elif self.container is not None:
            state = {"running": {"startedAt": _rfc3339(self.container.started_at)}}
        else:
            state = {"waiting": {"reason": "ContainerCreating"}}
        out: Obj = {
            "name": self.name,
            "state": state,
            "lastState": self.last_state,
            "ready": self.ready,
            "restartCount": self.restart_count,
            "image": self.image.status_image if self.image is not None else self.spec.get("image", ""),
            "imageID": self.image_id,
            "started": self.started,
        }
        if self.container is not None and self.waiting is None:
            out["containerID"] = f"containerd://{id(self.container):064x}"[:77]
        return out


class PodWorker:
    """Runs one pod; ``stop(grace)`` begins graceful termination, ``kill()`` ends it at once."""

    def __init__(self, node: NodeAgent, pod: Obj, pod_ip: str):
        self.node = node
        self.pod = pod
        self.namespace = pod["metadata"]["namespace"]
        self.name = pod["metadata"]["name"]
        self.uid = pod["metadata"]["uid"]
        self.pod_ip = pod_ip
        self.containers = [ContainerRuntime(c) for c in pod["spec"].get("containers") or []]
        # Init containers run one after another before the others start; those with
        # ``restartPolicy: Always`` are sidecars: started in order, then kept running beside the rest.
        self.init_containers = [ContainerRuntime(c) for c in pod["spec"].get("initContainers") or []]
        if self.init_containers:
            for rt in self.init_containers + self.containers:
                rt.waiting = ("PodInitializing", "")
        self.initialized = not self.init_containers
        self.start_time = now_rfc3339()
        self.phase = "Pending"
        self.terminating = False
        self._stop_requested = asyncio.Event()
        self._grace: float = 30.0
        self._task: asyncio.Task[None] | None = None
        self._publish_scheduled = False
        self.done = asyncio.Event()
        self.volumes = PodVolumes(node.store, pod)
        self.volumes_mounted = False
        self._resolv_conf: str | None = None

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self, grace: float) -> None:
        if not self._stop_requested.is_set():
            self._grace = grace
            self._stop_requested.set()

    async def kill(self) -> None:
        """Force: the pod object is gone; kill every process now."""
        self.terminating = True
        for rt in self.containers + self.init_containers:
            for t in rt.probe_tasks:
                t.cancel()
            if rt.container is not None:
                await rt.container.kill()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self.volumes.teardown()
        self.done.set()

    def update_spec(self, pod: Obj) -> None:
        self.pod = pod
        # Someone else (the node controller, while this node looked lost) flipped readiness: the
        # kubelet's status manager writes its own view back, as upstream's periodic status sync does.
        ready = next((c.get("status") for c in (pod.get("status") or {}).get("conditions") or []
                      if c.get("type") == "Ready"), None)
        mine = ("True" if self.containers and all(rt.ready for rt in self.containers)
                and not readiness_gate_messages(pod) else "False")
        if ready is not None and ready != mine and not self.terminating and self.phase == "Running":
            self.publish()

    def container(self, name: str | None) -> ContainerRuntime | None:
        if name is None:
            return self.containers[0] if self.containers else None
        return next((c for c in self.containers + self.init_containers if c.name == name), None)

    def _sidecars(self) -> list[ContainerRuntime]:
        return [rt for rt in self.init_containers if rt.spec.get("restartPolicy") == "Always"]

    def resolv_conf(self) -> str:
        """The sandbox's ``/etc/resolv.conf``, formed once per pod as the kubelet does at sandbox creation
        (``DNSConfigForming`` warnings then)."""
        if self._resolv_conf is None:
            dns = self.node.manager.dns
            self._resolv_conf, warnings = pod_resolv_conf(self.pod, dns.cluster_dns, dns.cluster_domain,
                                                          dns.host_resolv_conf)
            for warning in warnings:
                self.node.event(self.pod, "Warning", "DNSConfigForming", warning)
        return self._resolv_conf

    # ------------------------------------------------------------------ main loop

    async def _run(self) -> None:
        try:
            self.publish(now=True)
            # The kubelet attaches and mounts the pod's volumes before it creates the sandbox.
            ready = asyncio.ensure_future(self.node.volumes_ready(self.pod))
            stop = asyncio.ensure_future(self._stop_requested.wait())
            await asyncio.wait({ready, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not ready.done() or not ready.result():
                ready.cancel()
                await self._terminate([])
                return
            stop.cancel()
            self.volumes_mounted = True
            self.publish()
            loops: list[asyncio.Task[None]] = []
            init = asyncio.ensure_future(self._run_init_containers(loops))
            stop = asyncio.ensure_future(self._stop_requested.wait())
            await asyncio.wait({init, stop}, return_when=asyncio.FIRST_COMPLETED)
            if init.done() and init.result() and not self.terminating:
                self.initialized = True
                for rt in self.containers:
                    rt.waiting = ("ContainerCreating", "")
                self.publish()
                loops += [asyncio.get_running_loop().create_task(self._container_loop(rt)) for rt in self.containers]
            await self._stop_requested.wait()
            stop.cancel()
            init.cancel()
            await self._terminate(loops)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("pod worker %s/%s failed", self.namespace, self.name)
        finally:
            self.volumes.teardown()
            self.done.set()

    async def _run_init_containers(self, loops: list[asyncio.Task[None]]) -> bool:
        """Run the init containers in order; True once all completed (sidecars: started)."""
        restart_policy = self.pod["spec"].get("restartPolicy", "Always")
        for rt in self.init_containers:
            if rt.spec.get("restartPolicy") == "Always":
                loops.append(asyncio.get_running_loop().create_task(self._container_loop(rt, sidecar=True)))
                while not rt.started and not self.terminating:
                    await asyncio.sleep(0.02)
                if self.terminating:
                    return False
                continue
            while not self.terminating:
                if not await self._pull(rt) or not await self._container_config(rt):
                    continue
                code = await self._run_once(rt, init=True)
                if self.terminating or code is None:
                    return False
                if code == 0:
                    break
                if restart_policy == "Never":
                    self.phase = "Failed"
                    self.publish()
                    return False
                await self._back_off(rt)
            if self.terminating:
                return False
        return True

    async def _container_loop(self, rt: ContainerRuntime, sidecar: bool = False) -> None:
        restart_policy = "Always" if sidecar else self.pod["spec"].get("restartPolicy", "Always")
        while not self.terminating:
            if not await self._pull(rt) or not await self._container_config(rt):
                continue
            code = await self._run_once(rt, sidecar=sidecar)
            if self.terminating:
                return
            if code is None:
                return
            should_restart = restart_policy == "Always" or (restart_policy == "OnFailure" and code != 0)
            if not should_restart:
                self._update_phase()
                self.publish()
                return
            await self._back_off(rt)

    async def _back_off(self, rt: ContainerRuntime) -> None:
        """CrashLoopBackOff: the kubelet's growing delay before it restarts a failed container, with its event."""
        delay = self.node.backoff.next(f"{self.uid}/{rt.name}")
        rt.waiting = ("CrashLoopBackOff",
                      f"back-off {_go_duration(delay)} restarting failed container={rt.name} "
                      f"pod={self.name}_{self.namespace}({self.uid})")
        self.node.event(self.pod, "Warning", "BackOff",
                        f"Back-off restarting failed container {rt.name} in pod "
                        f"{self.name}_{self.namespace}({self.uid})")
        self.publish()
        await self._sleep_or_stop(delay)

    async def _sleep_or_stop(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_requested.wait(), seconds)

    async def _pull(self, rt: ContainerRuntime) -> bool:
        """Resolve the image as a pull would; on failure report ErrImagePull, back off, ImagePullBackOff."""
        image = rt.spec.get("image", "")
        policy = rt.spec.get("imagePullPolicy", "IfNotPresent")
        if rt.image is not None:
            return True
        credentials = self._pull_credentials(image)
        present = policy != "Always" and self.node.has_image(image) and self.node.may_use(image, credentials)
        if not present:
            self.node.event(self.pod, "Normal", "Pulling", pulling_event_message(image), field=rt.name)
        started = time.monotonic()
        try:
            resolved = self.node.registry.resolve(image, credentials)
        except ImagePullError as e:
            await self._sleep_or_stop(self.node.profile_pull_seconds)
            rt.waiting = (e.reason, e.waiting_message)
            self.node.event(self.pod, "Warning", e.event_reason, e.event_message, field=rt.name)
            self.node.event(self.pod, "Warning", "Failed", f"Error: {e.reason}", field=rt.name)
            self.publish()
            if isinstance(e, InvalidImageNameError):
                await self._sleep_or_stop(3600)
                return False
            delay = self.node.backoff.next(f"{self.uid}/{rt.name}/pull")
            await self._sleep_or_stop(min(delay, 1.0))
            if self.terminating:
                return False
            rt.waiting = (REASON_IMAGE_PULL_BACK_OFF, e.back_off_waiting_message)
            self.node.event(self.pod, "Normal", "BackOff", e.back_off_event_message, field=rt.name)
            self.node.event(self.pod, "Warning", "Failed", f"Error: {REASON_IMAGE_PULL_BACK_OFF}", field=rt.name)
            self.publish()
            await self._sleep_or_stop(delay)
            return False
        if present:
            self.node.event(self.pod, "Normal", "Pulled", already_present_event_message(image), field=rt.name)
        else:
            await self._sleep_or_stop(self.node.profile_pull_seconds)
            took = time.monotonic() - started
            self.node.event(self.pod, "Normal", "Pulled",
                            pulled_event_message(image, took, took, resolved.definition.size_bytes), field=rt.name)
            self.node.remember_image(image, resolved.credential)
        rt.image = resolved
        rt.image_id = resolved.image_id
        return True

    def _pull_credentials(self, image: str) -> list[tuple[str, str]]:
        """The pod's pull-secret credentials that match ``image`` (``getPullSecretsForPod`` + the keyring lookup);
        a named secret that does not exist is said in a ``FailedToRetrieveImagePullSecret`` Warning, as upstream."""
        secrets, missing = pod_pull_secrets(self.pod, lambda ns, name: self.node.store.peek("secrets", ns, name))
        if missing:
            self.node.event(self.pod, "Warning", EVENT_FAILED_TO_RETRIEVE, failed_to_retrieve_message(missing))
        try:
            repository = parse_reference(image).repository
        except InvalidReferenceFormat:
            return []
        return lookup(keyring(secrets), repository)

    async def _container_config(self, rt: ContainerRuntime) -> bool:
        """``generateContainerConfig``'s checks (``runAsNonRoot``); on failure ``CreateContainerConfigError``.

        Upstream records ``Failed`` / ``Error: <message>``, leaves the container waiting with that reason and
        message, and the pod worker retries the whole sync after its back-off (10 s): the image is ensured
        again (``Pulled``: already present) and the check fails again, with the same event each time.
        """
        assert rt.image is not None
        message = verify_run_as_non_root(self.pod, rt.spec, rt.image.definition.user)
        if message is None:
            return True
        rt.waiting = (REASON_CREATE_CONTAINER_CONFIG_ERROR, message)
        self.node.event(self.pod, "Warning", "Failed", f"Error: {message}", field=rt.name)
        # No container was created: the status shows the spec's image and no imageID, as upstream.
        rt.image = None
        rt.image_id = ""
        self.publish()
        await self._sleep_or_stop(self.node.backoff.initial)
        return False

    async def _run_once(self, rt: ContainerRuntime, init: bool = False, sidecar: bool = False) -> int | None:
        spec = ContainerSpec(
            name=rt.name, pod_name=self.name, pod_ip=self.pod_ip, image=rt.spec.get("image", ""),
            command=rt.spec.get("command"), args=rt.spec.get("args"),
            env={e["name"]: str(e.get("value", "")) for e in rt.spec.get("env") or [] if "name" in e},
            stdin=bool(rt.spec.get("stdin")), resolv_conf=self.resolv_conf(),
        )
        assert rt.image is not None
        container = rt.image.create_container(spec)
        # volumes, user (runAsUser, else the image's USER), groups, /etc/resolv.conf
        attach_sandbox(container, self.volumes.sandbox(rt.spec, container, rt.image.definition.user,
                                                       self.resolv_conf()))
        rt.container = container
        self.node.event(self.pod, "Normal", "Created", f"Created container: {rt.name}", field=rt.name)
        try:
            await container.start()
        except ContainerStartError as e:
            rt.waiting = None
            rt.terminated = {"exitCode": e.exit_code, "reason": e.reason, "message": str(e),
                             "startedAt": _rfc3339(container.started_at), "finishedAt": _rfc3339(time.time())}
            self.node.event(self.pod, "Warning", "Failed", f"Error: {e}", field=rt.name)
            self._record_exit(rt, e.exit_code, e.reason, str(e), init=init, sidecar=sidecar)
            return e.exit_code
        self.node.event(self.pod, "Normal", "Started", f"Started container {rt.name}", field=rt.name)
        rt.waiting = None
        rt.terminated = None
        rt.started = "startupProbe" not in rt.spec
        rt.ready = not init and "readinessProbe" not in rt.spec and rt.started
        if container.running and self.initialized and not sidecar:
            self.phase = "Running"
        self.publish()
        self._start_probes(rt, container)
        code = await container.wait()
        for t in rt.probe_tasks:
            t.cancel()
        rt.probe_tasks.clear()
        rt.ready = False
        if self.terminating:
            return None
        reason = "Completed" if code == 0 else "Error"
        self._record_exit(rt, code, reason, "", init=init, sidecar=sidecar)
        return code

    def _record_exit(self, rt: ContainerRuntime, code: int, reason: str, message: str, init: bool = False,
                     sidecar: bool = False) -> None:
        c = rt.container
        terminated: Obj = {"exitCode": code, "reason": reason, "startedAt": _rfc3339(c.started_at if c else None),
                           "finishedAt": _rfc3339(time.time()),
                           "containerID": f"containerd://{id(c):064x}"[:77]}
        if message:
            terminated["message"] = message
        rt.last_state = {"terminated": terminated}
        restart_policy = "Always" if sidecar else self.pod["spec"].get("restartPolicy", "Always")
        if init:  # an init container that completed stays terminated; a failed one is retried
            restart_policy = "Never" if code == 0 or restart_policy == "Never" else "OnFailure"
            rt.ready = code == 0
        if restart_policy == "Always" or (restart_policy == "OnFailure" and code != 0):
            rt.restart_count += 1
            rt.terminated = None
        else:
            rt.terminated = terminated
            rt.last_state = {}
        rt.started = False
        self.publish()

    # ------------------------------------------------------------------ probes

    def _start_probes(self, rt: ContainerRuntime, container: Container) -> None:
        loop = asyncio.get_running_loop()
        if "startupProbe" in rt.spec:
            rt.probe_tasks.append(loop.create_task(self._probe_loop(rt, container, "startupProbe")))
        else:
            self._start_after_startup(rt, container)

    def _start_after_startup(self, rt: ContainerRuntime, container: Container) -> None:
        loop = asyncio.get_running_loop()
        if "readinessProbe" in rt.spec:
            task = loop.create_task(self._probe_loop(rt, container, "readinessProbe"))
            task.probe_kind = "readinessProbe"  # type: ignore[attr-defined]
            rt.probe_tasks.append(task)
        if "livenessProbe" in rt.spec:
            rt.probe_tasks.append(loop.create_task(self._probe_loop(rt, container, "livenessProbe")))

    async def _probe_loop(self, rt: ContainerRuntime, container: Container, kind: str) -> None:
        probe = rt.spec[kind]
        scale = self.node.probe_scale
        period = max(float(probe.get("periodSeconds", 10)) * scale, 0.05)
        await asyncio.sleep(float(probe.get("initialDelaySeconds", 0)) * scale)
        ok_needed = int(probe.get("successThreshold", 1))
        fail_needed = int(probe.get("failureThreshold", 3))
        oks = fails = 0
        label = {"readinessProbe": "Readiness", "livenessProbe": "Liveness", "startupProbe": "Startup"}[kind]
        # Readiness keeps being probed while the pod terminates (endpoints then show serving=false).
        while container.running and (kind == "readinessProbe" or not self.terminating):
            result: ProbeResult = await run_probe(probe, rt.spec, container, self.pod_ip)
            if not container.running or (self.terminating and kind != "readinessProbe"):
                return
            if result.ok:
                oks, fails = oks + 1, 0
                if kind == "readinessProbe" and not rt.ready and oks >= ok_needed:
                    rt.ready = True
                    self.publish()
                if kind == "startupProbe" and oks >= 1:
                    rt.started = True
                    rt.ready = "readinessProbe" not in rt.spec
                    self.publish()
                    self._start_after_startup(rt, container)
                    return
            else:
                oks, fails = 0, fails + 1
                self.node.event(self.pod, "Warning", "Unhealthy", f"{label} probe failed: {result.message}",
                                field=rt.name)
                if kind == "readinessProbe" and rt.ready and fails >= fail_needed:
                    rt.ready = False
                    self.publish()
                if kind in ("livenessProbe", "startupProbe") and fails >= fail_needed:
                    verb = "liveness" if kind == "livenessProbe" else "startup"
                    self.node.event(self.pod, "Normal", "Killing",
                                    f"Container {rt.name} failed {verb} probe, will be restarted", field=rt.name)
                    await self._stop_container(rt, container, float(
                        probe.get("terminationGracePeriodSeconds")
                        or self.pod["spec"].get("terminationGracePeriodSeconds", 30)))
                    return
            await asyncio.sleep(period)

    # ------------------------------------------------------------------ termination

    async def _stop_container(self, rt: ContainerRuntime, container: Container, grace: float) -> None:
        """preStop, SIGTERM, then SIGKILL when ``grace`` seconds have passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        hook = ((rt.spec.get("lifecycle") or {}).get("preStop")) or None
        if hook and container.running:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._run_hook(hook, rt, container), max(deadline - loop.time(), 0))
        if container.running:
            await container.signal_term()
        remaining = deadline - loop.time()
        if container.running:
            try:
                await asyncio.wait_for(container.wait(), max(remaining, 0))
            except TimeoutError:
                await container.kill()

    async def _run_hook(self, hook: Obj, rt: ContainerRuntime, container: Container) -> None:
        if "sleep" in hook:
            await asyncio.sleep(float(hook["sleep"].get("seconds", 0)))
        elif "exec" in hook:
            argv = (hook["exec"] or {}).get("command") or []
            result = await container.exec(argv)
            if result.exit_code != 0:
                self.node.event(self.pod, "Warning", "FailedPreStopHook",
                                "PreStopHook failed", field=rt.name)
        elif "httpGet" in hook:
            hg = hook["httpGet"]
            port = hg.get("port")
            if isinstance(port, str) and not port.isdigit():
                port = next((p["containerPort"] for p in rt.spec.get("ports") or [] if p.get("name") == port), 0)
            await http_get(hg.get("host") or self.pod_ip, int(port), hg.get("path") or "/", 30.0)

    async def _terminate(self, loops: list[asyncio.Task[None]]) -> None:
        self.terminating = True
        grace = self._grace
        running = [rt for rt in self.containers + self.init_containers
                   if rt.container is not None and rt.container.running]
        for rt in running:
            self.node.event(self.pod, "Normal", "Killing", f"Stopping container {rt.name}", field=rt.name)
            # Liveness and startup probes stop; readiness goes on until the container exits.
            for t in list(rt.probe_tasks):
                if getattr(t, "probe_kind", "") != "readinessProbe":
                    t.cancel()
        mains = [rt for rt in running if rt in self.containers]
        await asyncio.gather(*(self._stop_container(rt, rt.container, grace) for rt in mains if rt.container))
        # Sidecars stop after the main containers (and a running init container with them).
        others = [rt for rt in reversed(running) if rt not in self.containers]
        for rt in others:
            if rt.container is not None:
                await self._stop_container(rt, rt.container, grace)
        for task in loops:
            task.cancel()
        for rt in self.containers + self._sidecars():
            for t in rt.probe_tasks:
                t.cancel()
            rt.ready = False
            c = rt.container
            if c is not None and c.exit_code is not None and rt.terminated is None:
                rt.waiting = None
                rt.terminated = {"exitCode": c.exit_code, "reason": "Completed" if c.exit_code == 0 else "Error",
                                 "startedAt": _rfc3339(c.started_at), "finishedAt": _rfc3339(c.finished_at),
                                 "containerID": f"containerd://{id(c):064x}"[:77]}
        self._update_phase(final=True)
        self.publish(now=True)
        self.node.finish_deletion(self)

    def _update_phase(self, final: bool = False) -> None:
        states = [rt.terminated for rt in self.containers]
        if all(s is not None for s in states) and states:
            self.phase = "Succeeded" if all(s["exitCode"] == 0 for s in states if s) else "Failed"
        elif final and self.phase == "Pending":
            self.phase = "Failed"

    # ------------------------------------------------------------------ status

    def publish(self, now: bool = False) -> None:
        """Write the pod's status soon (coalesced), or right away."""
        if now:
            self._write_status()
            return
        if not self._publish_scheduled:
            self._publish_scheduled = True
            asyncio.get_running_loop().call_soon(self._write_status)

    def _write_status(self) -> None:
        self._publish_scheduled = False
        if not self.node.running:
            return
        statuses = [rt.status() for rt in self.containers]
        init_statuses = [rt.status() for rt in self.init_containers]
        counted = self.containers + self._sidecars()
        all_ready = bool(self.containers) and all(rt.ready for rt in counted)
        unready = [rt.name for rt in counted if not rt.ready]
        initialized_ok = self.initialized
        incomplete = [rt.name for rt in self.init_containers
                      if not (rt.started if rt.spec.get("restartPolicy") == "Always" else
                              rt.terminated is not None and rt.terminated.get("exitCode") == 0)]

        def mutate(pod: Obj) -> Obj:
            if pod["metadata"].get("uid") != self.uid:
                return pod
            status = pod.setdefault("status", {})
            conds = {c["type"]: c for c in status.get("conditions") or []}
            now_ts = now_rfc3339()

            def cond(ctype: str, ok: bool, reason: str | None = None, message: str | None = None) -> Obj:
                old = conds.get(ctype)
                value = "True" if ok else "False"
                c: Obj = {"type": ctype, "status": value, "lastProbeTime": None,
                          "lastTransitionTime": old["lastTransitionTime"] if old and old.get("status") == value
                          else now_ts}
                if reason and not ok:
                    c["reason"] = reason
                if message and not ok:
                    c["message"] = message
                return c

            sandbox_ok = self.volumes_mounted and not (self.terminating and self.phase in ("Succeeded", "Failed"))
            ready_cond = cond("Ready", all_ready, "ContainersNotReady",
                              f"containers with unready status: [{' '.join(unready)}]")
            gates = readiness_gate_messages(pod) if all_ready else []
            if gates:  # GeneratePodReadyCondition: containers ready, a readiness gate not True
                ready_cond = cond("Ready", False, "ReadinessGatesNotReady", ", ".join(gates))
            ordered = [
                cond("PodReadyToStartContainers", sandbox_ok),
                cond("Initialized", initialized_ok, "ContainersNotInitialized",
                     f"containers with incomplete status: [{' '.join(incomplete)}]"),
                ready_cond,
                cond("ContainersReady", all_ready, "ContainersNotReady",
                     f"containers with unready status: [{' '.join(unready)}]"),
            ]
            mine = {c["type"] for c in ordered}
            others = [c for t, c in conds.items() if t not in mine]
            status["conditions"] = ordered + others
            status["phase"] = self.phase
            status["hostIP"] = self.node.address
            status["hostIPs"] = [{"ip": self.node.address}]
            status["podIP"] = self.pod_ip
            status["podIPs"] = [{"ip": self.pod_ip}]
            status["startTime"] = status.get("startTime") or self.start_time
            status["containerStatuses"] = statuses
            if init_statuses:
                status["initContainerStatuses"] = init_statuses
            status["qosClass"] = status.get("qosClass", "BestEffort")
            return pod

        quiet(lambda: self.node.store.guaranteed_update(PODS, self.namespace, self.name, mutate, subresource="status"))


def readiness_gate_messages(pod: Obj) -> list[str]:
    """Why the pod's readiness gates keep it from Ready, worded as ``pkg/kubelet/status/generate.go``
    (``GeneratePodReadyCondition``) words it; empty when every gate's condition is True."""
    conditions = {c.get("type"): c for c in (pod.get("status") or {}).get("conditions") or []}
    out = []
    for gate in (pod.get("spec") or {}).get("readinessGates") or []:
        ctype = gate.get("conditionType", "")
        c = conditions.get(ctype)
        if c is None:
            out.append(f'corresponding condition of pod readiness gate "{ctype}" does not exist.')
        elif c.get("status") != "True":
            out.append(f'the status of pod readiness gate "{ctype}" is not "True", but {c.get("status")}')
    return out


def _go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String()`` for the values the kubelet prints (``10s``, ``1m20s``, ``5ms``)."""
    if seconds < 1:
        ms = seconds * 1000
        return f"{ms:.0f}ms" if ms >= 1 else f"{seconds * 1e6:.0f}µs"
    if seconds < 60:
        return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs}s"
