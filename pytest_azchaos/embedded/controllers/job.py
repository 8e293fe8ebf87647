"""Job controller (upstream ``pkg/controller/job``, v1.36 behaviour for NonIndexed Jobs).

Creates pods from the template (``<job>-<rand>``, the job's labels, finalizer ``batch.kubernetes.io/job-tracking``,
owner reference) up to ``parallelism`` and the completions still missing, counts finished pods into
``succeeded``/``failed`` and only then removes their finalizer (so none is counted twice or lost), deletes the
active pods of a Job that failed or met its success criteria, and finishes it in two steps as v1.36 does:
``FailureTarget``/``SuccessCriteriaMet`` first, ``Failed``/``Complete`` once no pod is left terminating.
Failures: ``backoffLimit`` (``BackoffLimitExceeded``) and ``activeDeadlineSeconds`` (``DeadlineExceeded``);
failed pods are replaced after the pod-failure backoff (10 s doubling, capped at 6 min). ``suspend`` deletes the
active pods (``Suspended`` condition). Pods left without a controller (a Job deleted with the default
orphaning policy) lose the tracking finalizer. Not modelled: Indexed completion, podFailurePolicy, successPolicy,
backoffLimitPerIndex, managedBy (ttlSecondsAfterFinished: ttl_after_finished.py).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from ..apiserver.errors import ApiError, quiet
from ..apiserver.store import Event
from ..objects import deep_copy, now_rfc3339, parse_time
from .base import Controller
from .events import EventRecorder
from .workload import (
    PODS,
    claim,
    controller_ref,
    is_active,
    is_ready,
    is_terminating,
    later,
    now,
    pod_from_template,
    rtype,
    write_status,
)

Obj = dict[str, Any]
JOBS = rtype("batch", "jobs")
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
BURST_PODS = 500
BACKOFF_BASE = 10.0  # DefaultJobPodFailureBackOff
BACKOFF_MAX = 360.0  # MaxJobPodFailureBackOff

COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")
BACKOFF_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED = ("DeadlineExceeded", "Job was active longer than specified deadline")


def condition_true(job: Obj, ctype: str) -> Obj | None:
    for c in (job.get("status") or {}).get("conditions") or ():
        if c.get("type") == ctype and c.get("status") == "True":
            return c
    return None


def is_finished(job: Obj) -> bool:
    """``IsJobFinished``: a Complete or Failed condition is True."""
    return condition_true(job, "Complete") is not None or condition_true(job, "Failed") is not None


def finished_condition(job: Obj) -> str | None:
    """The finished condition's type (``Complete``/``Failed``), for the CronJob controller's event text."""
    for ctype in ("Complete", "Failed"):
        if condition_true(job, ctype) is not None:
            return ctype
    return None


def _new_condition(ctype: str, reason: str, message: str, stamp: str, status: str = "True") -> Obj:
    return {"type": ctype, "status": status, "lastProbeTime": stamp, "lastTransitionTime": stamp,
            "reason": reason, "message": message}


def _has_finalizer(pod: Obj) -> bool:
    return TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or ())


def _phase(pod: Obj) -> str:
    return (pod.get("status") or {}).get("phase") or ""


def _pod_failed(pod: Obj, job: Obj) -> bool:
    """``isPodFailed``: Failed phase, or (unless podReplacementPolicy is Failed) deleted before it succeeded."""
    if _phase(pod) == "Failed":
        return True
    if ((job.get("spec") or {}).get("podReplacementPolicy") or "TerminatingOrFailed") == "Failed":
        return False
    return is_terminating(pod) and _phase(pod) != "Succeeded"


class JobController(Controller):
    """Runs Jobs' pods to completion; see the module docstring."""

    name = "job-controller"

    def __init__(self, store: Any, backoff_base: float = BACKOFF_BASE, backoff_max: float = BACKOFF_MAX):
        super().__init__(store)
        self.recorder = EventRecorder(store, "job-controller")
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        # Pod-failure backoff per Job uid: (failures since the last success, when the last one was seen).
        self._backoff: dict[str, tuple[int, float]] = {}

    def on_event(self, ev: Event) -> None:
        if ev.key == JOBS.key:
            self.enqueue((ev.namespace, ev.obj["metadata"]["name"]))
        elif ev.key == PODS.key:
            ref = controller_ref(ev.obj)
            if ref is not None:
                if ref.get("kind") == "Job" and ref.get("apiVersion", "").startswith("batch/"):
                    self.enqueue((ev.namespace, ref["name"]))
                return
            if ev.type == "DELETED":
                return
            if _has_finalizer(ev.obj):  # orphaned (its Job deleted with the default policy): let it go
                self.enqueue(("orphan-pod", ev.namespace, ev.obj["metadata"]["name"]))
            if not ev.obj["metadata"].get("labels"):
                return
            labels = ev.obj["metadata"]["labels"]
            for job in self.store.scan(JOBS.key, ev.namespace):
                sel = (job.get("spec") or {}).get("selector")
                if sel and _selects(sel, labels):
                    self.enqueue((ev.namespace, job["metadata"]["name"]))

    # ------------------------------------------------------------ sync

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        if key[0] == "orphan-pod":
            pod = self.store.peek(PODS.key, key[1], key[2])
            if pod is not None and controller_ref(pod) is None and _has_finalizer(pod):
                self._remove_finalizer(pod)
            return
        ns, name = key
        job = self.store.peek(JOBS.key, ns, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            self._release_orphans(ns, name, job)
            return
        spec = job.get("spec") or {}
        pods = claim(self.store, job, PODS.key, list(self.store.scan(PODS.key, ns)), spec.get("selector"), PODS)
        status = deep_copy(job.get("status") or {})
        conditions: list[Obj] = list(status.get("conditions") or [])
        stamp = now_rfc3339()
        finished = is_finished(job)
        suspended = bool(spec.get("suspend"))

        if not finished and not suspended and not status.get("startTime"):
            status["startTime"] = stamp
        if not finished:
            conditions = self._suspension(job, conditions, suspended, status, stamp)

        # Count finished (and, once the Job is failing, every unfinished) pods that still carry the finalizer.
        interim = self._interim(conditions)
        counted_succeeded, counted_failed = [], []
        for pod in pods:
            if not _has_finalizer(pod):
                continue
            if _phase(pod) == "Succeeded":
                counted_succeeded.append(pod)
            elif _pod_failed(pod, job) or finished:  # a finished Job's leftover pods count as failed
                counted_failed.append(pod)
        succeeded = int(status.get("succeeded") or 0) + len(counted_succeeded)
        failed_total = int(status.get("failed") or 0) + len(counted_failed)
        uid = job["metadata"]["uid"]
        if counted_succeeded:
            self._backoff.pop(uid, None)
        if counted_failed:
            n, _ = self._backoff.get(uid, (0, 0.0))
            self._backoff[uid] = (n + len(counted_failed), now())

        active = [p for p in pods if is_active(p)]
        terminating = [p for p in pods if is_terminating(p) and _phase(p) not in ("Succeeded", "Failed")]

        if not finished and interim is None:
            interim_cond = self._criteria(job, succeeded, failed_total, len(active), status)
            if interim_cond is not None:
                conditions.append(_new_condition(interim_cond[0], interim_cond[1], interim_cond[2], stamp))
                interim = interim_cond[0]

        if not finished:
            if interim is not None or suspended:
                for pod in active:
                    self._delete_pod(job, pod)
                active = []
                terminating = [p for p in self._owned(job)
                               if is_terminating(p) and _phase(p) not in ("Succeeded", "Failed")]
            else:
                active = self._manage(job, active, terminating, succeeded, key)

        if not finished and interim is not None and not terminating and not active:
            cond = next(c for c in conditions if c.get("type") == interim)
            reason, message = str(cond.get("reason", "")), str(cond.get("message", ""))
            final = "Complete" if interim == "SuccessCriteriaMet" else "Failed"
            conditions.append(_new_condition(final, reason, message, stamp))
            if final == "Complete":
                status["completionTime"] = stamp
                self.recorder.normal(job, "Completed", "Job completed")
            else:
                self.recorder.warning(job, reason, message)
            self._backoff.pop(uid, None)

        new_status = self._status(status, conditions, active, succeeded, failed_total, terminating)
        write_status(self.store, JOBS, job, new_status)
        for pod in counted_succeeded + counted_failed:
            self._remove_finalizer(pod)
        deadline = spec.get("activeDeadlineSeconds")
        start = parse_time(new_status.get("startTime"))
        if deadline is not None and start is not None and not is_finished({"status": new_status}):
            later(max(0.0, start + int(deadline) - now()) + 0.05, self.enqueue, key)

    # ------------------------------------------------------------ pieces

    @staticmethod
    def _interim(conditions: list[Obj]) -> str | None:
        for c in conditions:
            if c.get("type") in ("FailureTarget", "SuccessCriteriaMet") and c.get("status") == "True":
                return str(c["type"])
        return None

    def _criteria(self, job: Obj, succeeded: int, failed: int, active: int,
                  status: Obj) -> tuple[str, str, str] | None:
        """The interim condition the counts call for: failure first (backoff, deadline), then success."""
        spec = job.get("spec") or {}
        if failed > int(spec.get("backoffLimit", 6)):
            return ("FailureTarget", *BACKOFF_EXCEEDED)
        deadline = spec.get("activeDeadlineSeconds")
        start = parse_time(status.get("startTime"))
        if deadline is not None and start is not None and now() - start >= int(deadline):
            return ("FailureTarget", *DEADLINE_EXCEEDED)
        completions = spec.get("completions")
        if completions is not None:
            if succeeded >= int(completions):
                return ("SuccessCriteriaMet", *COMPLETIONS_REACHED)
        elif succeeded > 0 and active == 0:
            return ("SuccessCriteriaMet", *COMPLETIONS_REACHED)
        return None

    def _suspension(self, job: Obj, conditions: list[Obj], suspended: bool, status: Obj,
                    stamp: str) -> list[Obj]:
        """The Suspended condition (True with JobSuspended, False with JobResumed) and its events."""
        current = next((c for c in conditions if c.get("type") == "Suspended"), None)
        if suspended and (current is None or current.get("status") != "True"):
            conditions = [c for c in conditions if c.get("type") != "Suspended"]
            conditions.append(_new_condition("Suspended", "JobSuspended", "Job suspended", stamp))
            status.pop("startTime", None)
            self.recorder.normal(job, "Suspended", "Job suspended")
        elif not suspended and current is not None and current.get("status") == "True":
            conditions = [c if c.get("type") != "Suspended" else
                          _new_condition("Suspended", "JobResumed", "Job resumed", stamp, "False")
                          for c in conditions]
            self.recorder.normal(job, "Resumed", "Job resumed")
        return conditions

    def _manage(self, job: Obj, active: list[Obj], terminating: list[Obj], succeeded: int,
                key: tuple[str, str]) -> list[Obj]:
        """Create or delete pods towards the wanted number of active ones; returns the active pods."""
        spec = job.get("spec") or {}
        parallelism = int(spec.get("parallelism", 1))
        completions = spec.get("completions")
        if completions is None:
            want = len(active) if succeeded > 0 else parallelism
        else:
            want = max(0, min(parallelism, int(completions) - succeeded))
        busy = len(active) + (len(terminating) if spec.get("podReplacementPolicy") == "Failed" else 0)
        diff = want - busy
        if diff < 0:
            # Fewer wanted (parallelism lowered): unscheduled and not-ready pods go first.
            victims = sorted(active, key=lambda p: (bool((p.get("spec") or {}).get("nodeName")), is_ready(p)))[:-diff]
            for pod in victims:
                self._delete_pod(job, pod)
            return [p for p in active if p not in victims]
        if diff == 0:
            return active
        failures, last = self._backoff.get(job["metadata"]["uid"], (0, 0.0))
        if failures:
            ready_at = last + min(self.backoff_max, self.backoff_base * 2 ** (failures - 1))
            if now() < ready_at:
                later(ready_at - now() + 0.05, self.enqueue, key)
                return active
        ns = job["metadata"]["namespace"]
        template = spec.get("template") or {}
        created = list(active)
        for _ in range(min(diff, BURST_PODS)):
            body = pod_from_template(job, template)
            fins = body["metadata"].setdefault("finalizers", [])
            if TRACKING_FINALIZER not in fins:
                fins.append(TRACKING_FINALIZER)
            try:
                pod = self.store.create(PODS, ns, body)
            except ApiError as e:
                self.recorder.warning(job, "FailedCreate", f"Error creating: {e.message}")
                break
            self.recorder.normal(job, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}")
            created.append(pod)
        return created

    def _owned(self, job: Obj) -> list[Obj]:
        uid = job["metadata"]["uid"]
        return [p for p in self.store.scan(PODS.key, job["metadata"]["namespace"])
                if (r := controller_ref(p)) is not None and r.get("uid") == uid]

    def _delete_pod(self, job: Obj, pod: Obj) -> None:
        pname = pod["metadata"]["name"]
        done = quiet(lambda: self.store.delete(PODS, job["metadata"]["namespace"], pname))
        if done is not None:
            self.recorder.normal(job, "SuccessfulDelete", f"Deleted pod: {pname}")

    def _remove_finalizer(self, pod: Obj) -> None:
        def mutate(o: Obj) -> Obj:
            fins = [f for f in o["metadata"].get("finalizers") or () if f != TRACKING_FINALIZER]
            if fins:
                o["metadata"]["finalizers"] = fins
            else:
                o["metadata"].pop("finalizers", None)
            return o

        quiet(lambda: self.store.guaranteed_update(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"],
                                                   mutate))

    def _release_orphans(self, ns: str, name: str, job: Obj | None) -> None:
        """Pods of a Job that is gone (or being deleted) lose the tracking finalizer, so they can go too."""
        uid = job["metadata"]["uid"] if job is not None else None
        for pod in list(self.store.scan(PODS.key, ns)):
            ref = controller_ref(pod)
            if ref is None or ref.get("kind") != "Job" or ref.get("name") != name or not _has_finalizer(pod):
                continue
            if uid is not None and ref.get("uid") != uid:
                continue
            self._remove_finalizer(pod)

    @staticmethod
    def _status(status: Obj, conditions: list[Obj], active: list[Obj], succeeded: int, failed: int,
                terminating: list[Obj]) -> Obj:
        """JobStatus in the Go struct's field order, zero counters omitted as ``omitempty`` does."""
        out: Obj = {}
        if conditions:
            out["conditions"] = conditions
        for k in ("startTime", "completionTime"):
            if status.get(k):
                out[k] = status[k]
        if active:
            out["active"] = len(active)
        if succeeded:
            out["succeeded"] = succeeded
        if failed:
            out["failed"] = failed
        out["terminating"] = len(terminating)
        out["uncountedTerminatedPods"] = {}
        out["ready"] = sum(1 for p in active if is_ready(p))
        return out


def _selects(sel: Obj, labels: dict[str, str]) -> bool:
    from .workload import selects

    return selects(sel, labels)
