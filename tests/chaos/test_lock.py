"""The cluster-wide lock (a Lease): one run at a time, renewed while held, taken over once expired."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kubernetes import client

from pytest_azchaos.chaos.lock import ClusterLock, LockHeld, read_lock
from pytest_azchaos.kube.cluster import Cluster

from .conftest import wait_for


@pytest.fixture
def lock_name(cluster: Cluster) -> str:
    return "azchaos-lock-" + uuid.uuid4().hex[:6]


def test_first_run_takes_the_lock(cluster: Cluster, lock_name: str) -> None:
    with ClusterLock(cluster, "run-a", name=lock_name, duration=5):
        state = read_lock(cluster, name=lock_name)
        assert state is not None and state.holder == "run-a" and state.duration == 5


def test_second_run_is_refused_naming_the_holder_and_the_fix(cluster: Cluster, lock_name: str) -> None:
    with ClusterLock(cluster, "run-a", name=lock_name), pytest.raises(LockHeld) as e:
        ClusterLock(cluster, "run-b", name=lock_name).acquire()
    text = str(e.value)
    assert "held by run run-a" in text and "renewed" in text and "azchaos restore" in text


def test_lock_is_renewed_while_held(cluster: Cluster, lock_name: str) -> None:
    with ClusterLock(cluster, "run-a", name=lock_name, duration=3, renew_every=0.2):
        first = read_lock(cluster, name=lock_name)
        assert first is not None and first.renew_time is not None
        wait_for(lambda: read_lock(cluster, name=lock_name),
                 lambda s: s.renew_time is not None and s.renew_time > first.renew_time, timeout=3, what="renewal")


def test_release_frees_the_lock_for_the_next_run(cluster: Cluster, lock_name: str) -> None:
    ClusterLock(cluster, "run-a", name=lock_name).acquire().release()
    assert read_lock(cluster, name=lock_name).holder is None
    with ClusterLock(cluster, "run-b", name=lock_name):
        assert read_lock(cluster, name=lock_name).holder == "run-b"


def test_expired_lease_is_taken_over(cluster: Cluster, lock_name: str) -> None:
    stale = datetime.now(UTC) - timedelta(seconds=60)
    client.CoordinationV1Api(cluster.api).create_namespaced_lease("kube-system", client.V1Lease(
        metadata=client.V1ObjectMeta(name=lock_name),
        spec=client.V1LeaseSpec(holder_identity="dead-run", lease_duration_seconds=15, renew_time=stale,
                                acquire_time=stale, lease_transitions=0)))
    lock = ClusterLock(cluster, "run-b", name=lock_name)
    with lock:
        state = read_lock(cluster, name=lock_name)
        assert lock.took_over == "dead-run" and state.holder == "run-b" and state.transitions == 1


def test_a_run_notices_when_its_lock_was_taken(cluster: Cluster, lock_name: str) -> None:
    lock = ClusterLock(cluster, "run-a", name=lock_name, duration=1, renew_every=30).acquire()
    try:
        time.sleep(1.2)  # not renewed: expired
        ClusterLock(cluster, "run-b", name=lock_name).acquire().release()
        lock.renew()
        assert lock.lost is not None and not lock.held
    finally:
        lock.release()
