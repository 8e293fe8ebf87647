"""CronJob controller (upstream ``pkg/controller/cronjob``, the v2 controller of v1.36).

At each scheduled time (``spec.schedule`` in ``spec.timeZone``, robfig/cron semantics from ``rules.cron``) it
creates the Job ``<cronjob>-<scheduled time in minutes since the epoch>`` from ``jobTemplate`` (its labels and
annotations plus ``batch.kubernetes.io/cronjob-scheduled-timestamp``, controller owner reference), records it in
``status.active`` and ``status.lastScheduleTime``, honours ``concurrencyPolicy`` (Allow, Forbid, Replace),
``suspend`` and ``startingDeadlineSeconds``, moves finished Jobs out of ``active`` (``SawCompletedJob``),
sets ``lastSuccessfulTime``, deletes the oldest finished Jobs beyond the history limits, and warns about Jobs
it owns but did not create (``UnexpectedJob``, as for ``kubectl create job --from=cronjob/...``).

The clock is injectable (``clock``): the cluster passes the wall clock, or one offset by the profile, so a test
can reach a schedule's next minute without waiting for it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any

from ..apiserver.errors import ApiError, quiet
from ..apiserver.store import Event
from ..objects import deep_copy, format_time, parse_time
from ..rules import cron
from .base import Controller
from .events import EventRecorder
from .job import JOBS, finished_condition, is_finished
from .workload import controller_ref, later, now, owner_ref, rtype, write_status

Obj = dict[str, Any]
CRONJOBS = rtype("batch", "cronjobs")
SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
TOO_MANY_MISSED = 100
# Requeue a little after the next scheduled time (nextScheduleTimeDuration adds 100 ms).
_REQUEUE_SLACK = 0.1


def job_name(cronjob_name: str, scheduled: float) -> str:
    """``getJobName``: the scheduled time in minutes since the epoch, so one time makes one Job."""
    return f"{cronjob_name}-{int(scheduled // 60)}"


class CronJobController(Controller):
    """Creates Jobs on schedule; see the module docstring."""

    name = "cronjob-controller"

    def __init__(self, store: Any, clock: Callable[[], float] = now):
        super().__init__(store)
        self.clock = clock
        self.recorder = EventRecorder(store, "cronjob-controller")

    def on_event(self, ev: Event) -> None:
        if ev.key == CRONJOBS.key:
            self.enqueue((ev.namespace, ev.obj["metadata"]["name"]))
        elif ev.key == JOBS.key:
            ref = controller_ref(ev.obj)
            if ref is not None and ref.get("kind") == "CronJob":
                self.enqueue((ev.namespace, ref["name"]))

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        ns, name = key
        cj = self.store.peek(CRONJOBS.key, ns, name)
        if cj is None:
            return
        status = deep_copy(cj.get("status") or {})
        jobs = [j for j in self.store.scan(JOBS.key, ns)
                if (r := controller_ref(j)) is not None and r.get("uid") == cj["metadata"]["uid"]]
        self._reconcile_active(cj, status, jobs)
        self._cleanup(cj, jobs)
        wait: float | None = None
        if not cj["metadata"].get("deletionTimestamp"):
            wait = self._start_due_job(cj, status)
        write_status(self.store, CRONJOBS, cj, self._ordered(status))
        if wait is not None:
            later(wait, self.enqueue, key)

    # ------------------------------------------------------------ active list and history

    def _reconcile_active(self, cj: Obj, status: Obj, jobs: list[Obj]) -> None:
        active: list[Obj] = list(status.get("active") or [])
        uids = {j["metadata"]["uid"] for j in jobs}
        for job in jobs:
            juid = job["metadata"]["uid"]
            found = any(a.get("uid") == juid for a in active)
            done = is_finished(job)
            if not found and not done:
                jname = job["metadata"]["name"]
                self.recorder.warning(cj, "UnexpectedJob",
                                      f"Saw a job that the controller did not create or forgot: {jname}")
            elif found and done:
                active = [a for a in active if a.get("uid") != juid]
                self.recorder.normal(cj, "SawCompletedJob", f"Saw completed job: {job['metadata']['name']}, "
                                                            f"condition: {finished_condition(job)}")
            if done and finished_condition(job) == "Complete":
                completed = (job.get("status") or {}).get("completionTime")
                last = status.get("lastSuccessfulTime")
                if completed and (not last or (parse_time(completed) or 0) > (parse_time(last) or 0)):
                    status["lastSuccessfulTime"] = completed
        for ref in list(active):
            if ref.get("uid") in uids:
                continue
            if self.store.peek(JOBS.key, ref.get("namespace") or cj["metadata"]["namespace"], ref.get("name", "")):
                continue
            self.recorder.normal(cj, "MissingJob", f"Active job went missing: {ref.get('name', '')}")
            active = [a for a in active if a.get("uid") != ref.get("uid")]
        if active:
            status["active"] = active
        else:
            status.pop("active", None)

    def _cleanup(self, cj: Obj, jobs: list[Obj]) -> None:
        """``cleanupFinishedJobs``: keep the newest successfulJobsHistoryLimit / failedJobsHistoryLimit."""
        spec = cj.get("spec") or {}
        for ctype, limit in (("Complete", spec.get("successfulJobsHistoryLimit")),
                             ("Failed", spec.get("failedJobsHistoryLimit"))):
            if limit is None:
                continue
            done = [j for j in jobs if finished_condition(j) == ctype and not j["metadata"].get("deletionTimestamp")]
            if len(done) <= int(limit):
                continue
            done.sort(key=lambda j: (parse_time((j.get("status") or {}).get("startTime")) or float("inf"),
                                     j["metadata"]["name"]))
            for job in done[:len(done) - int(limit)]:
                self._delete_job(cj, job)

    def _delete_job(self, cj: Obj, job: Obj) -> bool:
        jname = job["metadata"]["name"]
        gone = quiet(lambda: self.store.delete(JOBS, job["metadata"]["namespace"], jname, propagation="Background"))
        if gone is None:
            self.recorder.warning(cj, "FailedDelete", f"Deleted job {jname}")
            return False
        self.recorder.normal(cj, "SuccessfulDelete", f"Deleted job {jname}")
        return True

    # ------------------------------------------------------------ schedule

    def _start_due_job(self, cj: Obj, status: Obj) -> float | None:
        """Start the Job of the most recent unmet scheduled time; seconds until the next one (None: never)."""
        spec = cj.get("spec") or {}
        try:
            tz = cron.zone(spec.get("timeZone"))
        except Exception as e:
            self.recorder.warning(cj, "UnknownTimeZone", f"invalid timeZone: {spec.get('timeZone')!r}: {e}")
            return None
        if spec.get("suspend"):
            return None
        try:
            sched = cron.parse(spec.get("schedule") or "")
        except cron.CronError as e:
            self.recorder.warning(cj, "UnparseableSchedule", f'unparseable schedule: "{spec.get("schedule")}" : {e}')
            return None
        clock = self.clock()
        scheduled = self._most_recent(cj, status, sched, tz, clock)
        if scheduled is None:
            return self._next_wait(sched, tz, clock)
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and scheduled + int(deadline) < clock:
            stamp = datetime.fromtimestamp(scheduled, UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
            self.recorder.warning(cj, "MissSchedule", f"Missed scheduled time to start a job: {stamp}")
            return self._next_wait(sched, tz, clock)
        name = job_name(cj["metadata"]["name"], scheduled)
        last = parse_time(status.get("lastScheduleTime"))
        if any(a.get("name") == name for a in status.get("active") or []) or last == scheduled:
            return self._next_wait(sched, tz, clock)
        if spec.get("concurrencyPolicy") == "Forbid" and status.get("active"):
            self.recorder.normal(cj, "JobAlreadyActive", "Not starting job because prior execution is running and "
                                                         "concurrency policy is Forbid")
            return self._next_wait(sched, tz, clock)
        if spec.get("concurrencyPolicy") == "Replace":
            for ref in list(status.get("active") or []):
                job = self.store.peek(JOBS.key, cj["metadata"]["namespace"], ref.get("name", ""))
                if job is not None and not self._delete_job(cj, job):
                    return None
                status["active"] = [a for a in status.get("active") or [] if a.get("uid") != ref.get("uid")]
            if not status.get("active"):
                status.pop("active", None)
        body = self._job_from_template(cj, scheduled, name, tz)
        try:
            job = self.store.create(JOBS, cj["metadata"]["namespace"], body)
        except ApiError as e:
            if e.code != 409:
                self.recorder.warning(cj, "FailedCreate", f"Error creating job: {e.message}")
                return None
            existing = self.store.peek(JOBS.key, cj["metadata"]["namespace"], name)
            ref = controller_ref(existing) if existing is not None else None
            if existing is None or ref is None or ref.get("uid") != cj["metadata"]["uid"]:
                return None
            if any(a.get("uid") == existing["metadata"]["uid"] for a in status.get("active") or []):
                return None
            job = existing
        else:
            self.recorder.normal(cj, "SuccessfulCreate", f"Created job {name}")
        meta = job["metadata"]
        status["active"] = [*list(status.get("active") or []), {
            "kind": "Job", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"],
            "apiVersion": "batch/v1", "resourceVersion": meta["resourceVersion"]}]
        status["lastScheduleTime"] = format_time(scheduled)
        return self._next_wait(sched, tz, clock)

    def _most_recent(self, cj: Obj, status: Obj, sched: cron.Schedule, tz: Any, clock: float) -> float | None:
        """``mostRecentScheduleTime``: the latest scheduled time in (earliest, now], counting misses."""
        earliest = parse_time(status.get("lastScheduleTime")) or parse_time(cj["metadata"].get("creationTimestamp"))
        if earliest is None:
            earliest = clock
        deadline = (cj.get("spec") or {}).get("startingDeadlineSeconds")
        if deadline is not None:
            earliest = max(earliest, clock - int(deadline))
        current = datetime.fromtimestamp(earliest, UTC)
        latest: float | None = None
        missed = 0
        while True:
            nxt = sched.next(current, tz)
            if nxt is None or nxt.timestamp() > clock:
                break
            latest = nxt.timestamp()
            missed += 1
            current = nxt
            if missed > TOO_MANY_MISSED + 1:
                break
        if missed > TOO_MANY_MISSED:
            self.recorder.warning(cj, "TooManyMissedTimes", f"too many missed start times: {missed}. Set or decrease "
                                                            ".spec.startingDeadlineSeconds or check clock skew")
        return latest

    @staticmethod
    def _next_wait(sched: cron.Schedule, tz: Any, clock: float) -> float | None:
        nxt = sched.next(datetime.fromtimestamp(clock, UTC), tz)
        return None if nxt is None else nxt.timestamp() - clock + _REQUEUE_SLACK

    @staticmethod
    def _job_from_template(cj: Obj, scheduled: float, name: str, tz: Any) -> Obj:
        """``getJobFromTemplate2``: template labels and annotations, the scheduled-timestamp annotation in the
        CronJob's zone (RFC 3339), the controller reference and the template's JobSpec."""
        jt = (cj.get("spec") or {}).get("jobTemplate") or {}
        tmeta = jt.get("metadata") or {}
        annotations = dict(tmeta.get("annotations") or {})
        annotations[SCHEDULED_TIMESTAMP] = datetime.fromtimestamp(scheduled, tz).isoformat().replace("+00:00", "Z")
        meta: Obj = {"name": name, "annotations": annotations, "ownerReferences": [owner_ref(cj)]}
        if tmeta.get("labels"):
            meta["labels"] = dict(tmeta["labels"])
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": deep_copy(jt.get("spec") or {})}

    @staticmethod
    def _ordered(status: Obj) -> Obj:
        return {k: status[k] for k in ("active", "lastScheduleTime", "lastSuccessfulTime") if status.get(k)}
