"""A cluster-wide lock so that two chaos runs never inject faults into one cluster at once.

The lock is a ``coordination.k8s.io/v1`` ``Lease`` (``azchaos-lock`` next to the run objects, see
``ledger.RUN_NAMESPACE``) whose ``holderIdentity`` is the run id. The holder renews it from a
background thread; a lease not renewed for ``leaseDurationSeconds`` is expired and may be taken
over (its run died). Writes use the lease's ``resourceVersion``, so two runs racing for it cannot
both win: the loser gets a 409 and is refused.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..kube.cluster import Cluster
from ..wellknown import HOLDER_HOST_ANNOTATION, HOLDER_PID_ANNOTATION, MANAGED_BY, MANAGED_BY_LABEL

LOCK_NAME = "azchaos-lock"
LOCK_NAMESPACE = "kube-system"
DEFAULT_DURATION = 15
MERGE_PATCH = "application/merge-patch+json"


class LockHeld(RuntimeError):
    """Another run holds the lock; the message names it, when it last renewed, and the fix."""

    def __init__(self, message: str, state: LeaseState | None = None) -> None:
        super().__init__(message)
        self.state = state


@dataclass(frozen=True)
class LeaseState:
    """What the lock's Lease says right now."""

    holder: str | None
    renew_time: datetime | None
    acquire_time: datetime | None
    duration: int
    transitions: int
    resource_version: str
    #: The machine and process that last took the lease (from its annotations; '' and 0 when absent).
    host: str = ""
    pid: int = 0

    @classmethod
    def of(cls, lease: Any) -> LeaseState:
        spec = lease.spec
        notes = lease.metadata.annotations or {}
        pid = notes.get(HOLDER_PID_ANNOTATION, "")
        return cls(spec.holder_identity or None, spec.renew_time, spec.acquire_time,
                   int(spec.lease_duration_seconds or DEFAULT_DURATION), int(spec.lease_transitions or 0),
                   lease.metadata.resource_version, notes.get(HOLDER_HOST_ANNOTATION, ""),
                   int(pid) if pid.isdigit() else 0)

    def age(self, now: datetime | None = None) -> float | None:
        """Seconds since the last renewal (None if never renewed)."""
        if self.renew_time is None:
            return None
        return ((now or datetime.now(UTC)) - self.renew_time).total_seconds()

    def expired(self, now: datetime | None = None) -> bool:
        age = self.age(now)
        return self.holder is None or age is None or age > self.duration

    def describe(self) -> str:
        if self.holder is None:
            return "free"
        age = self.age()
        when = self.renew_time.isoformat() if self.renew_time else "never"
        left = self.duration - age if age is not None else 0.0
        state = f"expires in {left:.1f}s" if left > 0 else f"expired {-left:.1f}s ago"
        return f"held by run {self.holder} (renewed {age or 0:.1f}s ago at {when}, {state})"


def _coordination(cluster: Cluster) -> Any:
    from kubernetes import client

    return client.CoordinationV1Api(cluster.api)


def read_lock(cluster: Cluster, namespace: str = LOCK_NAMESPACE, name: str = LOCK_NAME) -> LeaseState | None:
    """The lock's current state, or None when no run ever took it."""
    from kubernetes.client import ApiException

    try:
        return LeaseState.of(_coordination(cluster).read_namespaced_lease(name, namespace))
    except ApiException as e:
        if e.status == 404:
            return None
        raise


class ClusterLock:
    """Hold the cluster lock for one run: ``acquire()`` (fails fast), renew in the background, ``release()``."""

    def __init__(self, cluster: Cluster, holder: str, *, namespace: str = LOCK_NAMESPACE, name: str = LOCK_NAME,
                 duration: int = DEFAULT_DURATION, renew_every: float | None = None) -> None:
        self.cluster = cluster
        self.holder = holder
        self.namespace = namespace
        self.name = name
        self.duration = int(duration)
        self.renew_every = renew_every if renew_every is not None else max(self.duration / 3.0, 0.2)
        #: Set when a renewal found the lease taken by someone else (the run should stop injecting faults).
        self.lost: str | None = None
        #: The lease's previous holder when this run took over an expired lease.
        self.took_over: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rv = ""

    # ------------------------------------------------------------------ acquire / release

    def acquire(self) -> ClusterLock:
        """Take the lock or raise ``LockHeld`` at once (no waiting: a second run is refused)."""
        from kubernetes import client
        from kubernetes.client import ApiException

        api = _coordination(self.cluster)
        now = datetime.now(UTC)
        try:
            current = api.read_namespaced_lease(self.name, self.namespace)
        except ApiException as e:
            if e.status != 404:
                raise
            lease = client.V1Lease(
                metadata=client.V1ObjectMeta(name=self.name, namespace=self.namespace, labels={
                    MANAGED_BY_LABEL: MANAGED_BY}, annotations={
                    HOLDER_HOST_ANNOTATION: socket.gethostname(), HOLDER_PID_ANNOTATION: str(os.getpid())}),
                spec=client.V1LeaseSpec(holder_identity=self.holder, lease_duration_seconds=self.duration,
                                        acquire_time=now, renew_time=now, lease_transitions=0))
            try:
                created = api.create_namespaced_lease(self.namespace, lease)
                self._rv = created.metadata.resource_version
            except ApiException as e2:
                if e2.status != 409:
                    raise
                # Another run created it between our read and create, or our own earlier attempt did (a
                # create answered 5xx and retried): only the lease's holder tells which.
                state = read_lock(self.cluster, self.namespace, self.name)
                if state is None or state.holder != self.holder:
                    raise self._held(state) from None
                self._rv = state.resource_version
            self._start_renewing()
            return self
        state = LeaseState.of(current)
        if state.holder not in (None, self.holder) and not state.expired(now):
            raise self._held(state)
        if state.holder not in (None, self.holder):
            self.took_over = state.holder
        transitions = state.transitions + (0 if state.holder == self.holder else 1)
        body = {"metadata": {"resourceVersion": state.resource_version, "annotations": {
                    HOLDER_HOST_ANNOTATION: socket.gethostname(), HOLDER_PID_ANNOTATION: str(os.getpid())}},
                "spec": {"holderIdentity": self.holder, "leaseDurationSeconds": self.duration,
                         "acquireTime": _micro(now), "renewTime": _micro(now), "leaseTransitions": transitions}}
        try:
            updated = api.patch_namespaced_lease(self.name, self.namespace, body, _content_type=MERGE_PATCH)
            self._rv = updated.metadata.resource_version
        except ApiException as e:
            if e.status != 409:
                raise
            again = read_lock(self.cluster, self.namespace, self.name)  # ours, if an earlier attempt went through
            if again is None or again.holder != self.holder:
                raise self._held(again) from None
            self._rv = again.resource_version
        self._start_renewing()
        return self

    def release(self) -> None:
        """Stop renewing and free the lease (only if this run still holds it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.lost is None:
            release_lock(self.cluster, self.holder, namespace=self.namespace, name=self.name)

    def __enter__(self) -> ClusterLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    @property
    def held(self) -> bool:
        return self._thread is not None and self.lost is None

    # ------------------------------------------------------------------ renewal

    def _start_renewing(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew_loop, name=f"azchaos-lock-{self.holder}", daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.renew_every):
            try:
                self.renew()
            except Exception:  # a transient API error: the next tick tries again before the lease expires
                continue
            if self.lost is not None:
                return

    def renew(self) -> None:
        """Move ``renewTime`` forward; notices (and records in ``lost``) when another run took the lease."""
        from kubernetes.client import ApiException

        api = _coordination(self.cluster)
        body = {"metadata": {"resourceVersion": self._rv}, "spec": {"renewTime": _micro(datetime.now(UTC))}}
        try:
            updated = api.patch_namespaced_lease(self.name, self.namespace, body, _content_type=MERGE_PATCH)
        except ApiException as e:
            if e.status not in (404, 409):
                raise
            state = read_lock(self.cluster, self.namespace, self.name)
            if state is None or state.holder != self.holder:
                self.lost = f"the lock was taken over: {state.describe() if state else 'the lease was deleted'}"
                return
            self._rv = state.resource_version
            return
        self._rv = updated.metadata.resource_version

    def _held(self, state: LeaseState | None) -> LockHeld:
        where = f"Lease {self.namespace}/{self.name}"
        if state is None:
            return LockHeld(f"another azchaos run took the cluster lock ({where}) at the same moment; retry")
        return LockHeld(
            f"another azchaos run holds the cluster lock: {where} is {state.describe()}. "
            f"Wait for that run to finish; if it died, run `azchaos restore` (with this cluster's --kubeconfig/"
            f"--context) to undo what it left, or retry once the lease expires ({state.duration}s after its last "
            "renewal): an expired lease is taken over", state)


def release_lock(cluster: Cluster, holder: str, *, namespace: str = LOCK_NAMESPACE, name: str = LOCK_NAME) -> bool:
    """Free the lease if ``holder`` holds it (used by ``release`` and by ``restore`` for a dead run)."""
    from kubernetes.client import ApiException

    api = _coordination(cluster)
    for _ in range(5):
        state = read_lock(cluster, namespace, name)
        if state is None or state.holder != holder:
            return False
        body = {"metadata": {"resourceVersion": state.resource_version},
                "spec": {"holderIdentity": None, "renewTime": None, "acquireTime": None}}
        try:
            api.patch_namespaced_lease(name, namespace, body, _content_type=MERGE_PATCH)
            return True
        except ApiException as e:
            if e.status != 409:
                raise
    return False


def _micro(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
