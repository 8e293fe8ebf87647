"""CronJob concurrencyPolicy across two scheduled minutes, on a real Store with the controller's clock moved on.

The controller takes its clock as a constructor argument (the cluster passes the wall clock); here it is
advanced a minute at a time instead of waiting for the wall clock. No Job controller runs, so a started Job
stays active, as a long-running one would.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from pytest_azchaos.embedded.apiserver.resources import REGISTRY
from pytest_azchaos.embedded.apiserver.store import Store
from pytest_azchaos.embedded.controllers.cronjob import CronJobController

NAMESPACES = REGISTRY.lookup("", "v1", "namespaces")
CRONJOBS = REGISTRY.lookup("batch", "v1", "cronjobs")


def _cronjob(policy: str) -> dict[str, Any]:
    return {"metadata": {"name": "tick"}, "spec": {"schedule": "* * * * *", "concurrencyPolicy": policy,
                                                   "jobTemplate": {"spec": {"template": {"spec": {
                                                       "restartPolicy": "Never",
                                                       "containers": [{"name": "c", "image": "busybox"}]}}}}}}


def _run(policy: str) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Two scheduled minutes under ``policy``: (jobs left, active names, CronJob events)."""
    async def main() -> tuple[list[str], list[str], list[tuple[str, str]]]:
        store = Store()
        assert NAMESPACES is not None and CRONJOBS is not None
        store.create(NAMESPACES, "", {"metadata": {"name": "ns"}})
        clock = [time.time() + 60]
        ctl = CronJobController(store, clock=lambda: clock[0])
        store.create(CRONJOBS, "ns", _cronjob(policy))
        await asyncio.sleep(0.05)
        clock[0] += 60
        ctl.enqueue(("ns", "tick"))
        await asyncio.sleep(0.05)
        assert ctl.errors == []
        jobs = sorted(j["metadata"]["name"] for j in store.scan("jobs.batch", "ns")
                      if not j["metadata"].get("deletionTimestamp"))
        active = [a["name"] for a in (store.peek("cronjobs.batch", "ns", "tick") or {})["status"].get("active", [])]
        events = [(e["reason"], e["message"]) for e in store.scan("events", "ns")]
        return jobs, active, events

    return asyncio.run(main())


def test_allow_runs_the_next_job_beside_the_active_one() -> None:
    jobs, active, events = _run("Allow")
    assert len(jobs) == 2 and active == jobs, (jobs, active)
    assert [r for r, _ in events] == ["SuccessfulCreate", "SuccessfulCreate"]


def test_forbid_skips_the_next_run_while_one_is_active() -> None:
    jobs, active, events = _run("Forbid")
    assert len(jobs) == 1 and active == jobs
    assert ("JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is "
                                "Forbid") in events


def test_replace_deletes_the_active_job_and_starts_the_next() -> None:
    jobs, active, events = _run("Replace")
    assert len(jobs) == 1 and active == jobs
    first = next(m.removeprefix("Created job ") for r, m in events if r == "SuccessfulCreate")
    assert first != jobs[0]
    assert ("SuccessfulDelete", f"Deleted job {first}") in events


@pytest.mark.parametrize("policy", ["Allow", "Forbid", "Replace"])
def test_job_names_are_the_scheduled_minute(policy: str) -> None:
    _, _, events = _run(policy)
    created = [m.removeprefix("Created job ") for r, m in events if r == "SuccessfulCreate"]
    minutes = [int(name.removeprefix("tick-")) for name in created]
    assert minutes == sorted(minutes) and (len(minutes) == 1 or minutes[1] - minutes[0] == 1), created
