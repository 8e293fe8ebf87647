"""TTL-after-finished controller (upstream ``pkg/controller/ttlafterfinished``): deletes finished Jobs.

A Job with ``spec.ttlSecondsAfterFinished`` is deleted that many seconds after its Complete or Failed condition
turned True (the condition's ``lastTransitionTime``), in the foreground and on the precondition of its uid, as
upstream does; its pods go with it through the garbage collector. The controller records no events.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from ..apiserver.errors import quiet
from ..apiserver.store import Event
from ..objects import parse_time
from .base import Controller
from .job import JOBS
from .workload import later, now

Obj = dict[str, Any]


def finish_time(job: Obj) -> float | None:
    """``jobFinishTime``: when the Complete or Failed condition became True."""
    for c in (job.get("status") or {}).get("conditions") or ():
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return parse_time(c.get("lastTransitionTime"))
    return None


class TTLAfterFinishedController(Controller):
    """Deletes each finished Job once its ``ttlSecondsAfterFinished`` has passed."""

    name = "ttl-after-finished-controller"

    def on_event(self, ev: Event) -> None:
        if ev.key == JOBS.key and ev.type != "DELETED":
            spec = ev.obj.get("spec") or {}
            if spec.get("ttlSecondsAfterFinished") is not None and not ev.obj["metadata"].get("deletionTimestamp"):
                self.enqueue((ev.namespace, ev.obj["metadata"]["name"]))

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        ns, name = key
        job = self.store.peek(JOBS.key, ns, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        finished = finish_time(job)
        if ttl is None or finished is None:
            return
        remaining = finished + int(ttl) - now()
        if remaining > 0:
            later(remaining + 0.05, self.enqueue, key)
            return
        uid = job["metadata"]["uid"]
        quiet(lambda: self.store.delete(JOBS, ns, name, preconditions={"uid": uid}, propagation="Foreground"))
