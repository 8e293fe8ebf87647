"""Crash safety, proven (issue 17): a plugin run killed at any moment of a drain or a zone outage leaves the
cluster as it found it once `azchaos restore` has run, and the next run takes the lock at once; a run
stopped with SIGTERM or SIGINT undoes its own faults before it exits.

The runs are real: ``python -m pytest`` on a small test file using the plugin's public fixtures, against
this module's own embedded cluster (3 zones x 3 nodes). Before any run, "someone else" has cordoned one
node of the target zone, tainted another, and suspended one Auto Scaling process of the zone's group:
what was there before a run must still be there after it, untouched.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from pytest_azchaos.aws import AwsContext
from pytest_azchaos.chaos.ledger import (
    CORDONED_BY,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    RUN_KEY,
    RUN_NAMESPACE,
    RUN_STATE_LABEL,
)
from pytest_azchaos.chaos.lock import read_lock
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.topology import Topology
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.kube.topology import ZONE_LABEL
from pytest_azchaos.timing import Profile

from . import clusters

ZONE = "us-east-1b"
MERGE = "application/merge-patch+json"
PROFILE = Profile.by_name("fast")  # the embedded cluster's default profile
ITERATIONS = 20
#: Set to replay a failed loop's kill schedule (the seed is printed at the start of the loop).
SEED_ENV = "AZCHAOS_CRASH_SEED"
#: Taints the node lifecycle controllers set and clear from the node's status (not from a run).
CONTROLLER_TAINTS = ("node.kubernetes.io/", "node.cloudprovider.kubernetes.io/")
#: Put by "someone else" before any run; the runs must leave them exactly as they are.
FOREIGN_TAINT = client.V1Taint(key="example.com/maintenance", value="planned", effect="PreferNoSchedule")
FOREIGN_SUSPENDED = "AZRebalance"
#: How long the killable drain retries the budget's refusals before the test ends (and undoes it).
DRAIN_SECONDS = 1.5
#: How long the killable outage stays in place before the test ends (and undoes it).
OUTAGE_SECONDS = 0.5
#: How far past the moment the fault is seen in the cluster a timed kill may still land (covers the undo).
TAIL_SECONDS = 2.0
#: A SIGTERM/SIGINT'ed run must be gone within this (its undo included). Typically a few seconds alone; in a full
#: parallel test run on 2 cores the outage's undo (start the instances, resume the groups) took over 30 s.
EXIT_BUDGET = 90.0

PLUGIN_RUN = f'''
import time

import pytest


@pytest.mark.azchaos_destructive
def test_drain(azchaos_chaos, azchaos_zone):
    azchaos_chaos.drain_zone(azchaos_zone, timeout={DRAIN_SECONDS})


@pytest.mark.azchaos_destructive
def test_outage(azchaos_chaos, azchaos_zone, azchaos_aws):
    azchaos_chaos.zone_outage(azchaos_zone, azchaos_aws)
    time.sleep({OUTAGE_SECONDS})


@pytest.mark.azchaos_destructive
def test_drain_long(azchaos_chaos, azchaos_zone):
    azchaos_chaos.drain_zone(azchaos_zone)  # the profile's drain timeout: blocked by the budget throughout


@pytest.mark.azchaos_destructive
def test_outage_long(azchaos_chaos, azchaos_zone, azchaos_aws):
    azchaos_chaos.zone_outage(azchaos_zone, azchaos_aws)
    time.sleep(600)


@pytest.mark.azchaos_destructive
def test_cordon(azchaos_chaos, azchaos_zone):
    azchaos_chaos.cordon_zone(azchaos_zone)
'''


# ---------------------------------------------------------------------- the cluster and what is on it


@pytest.fixture(scope="module")
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("crash-safety"),
                              topology=Topology.make(zones=3, nodes_per_zone=3)) as h:
        yield h


@pytest.fixture(scope="module")
def cluster(handle: ClusterHandle) -> Iterator[Cluster]:
    with clusters.plugin_cluster(handle) as c:
        yield c


@pytest.fixture(scope="module")
def aws(handle: ClusterHandle) -> AwsContext:
    return AwsContext.for_kubeconfig(handle.kubeconfig)


@dataclass(frozen=True)
class World:
    """What "someone else" did to the zone before any run."""

    precordoned: str
    tainted: str
    zone_nodes: list[str]
    zone_instances: list[str]
    zone_group: str


@pytest.fixture(scope="module")
def world(cluster: Cluster, aws: AwsContext) -> Iterator[World]:
    """A cordoned node, a tainted node and a suspended ASG process in the target zone, and a workload whose
    budget refuses every eviction (so a drain is mid-drain for as long as it runs)."""
    nodes = sorted(n.metadata.name for n in cluster.core.list_node().items
                   if (n.metadata.labels or {}).get(ZONE_LABEL) == ZONE)
    precordoned, tainted = nodes[0], nodes[1]
    cluster.core.patch_node(precordoned, {"spec": {"unschedulable": True}}, _content_type=MERGE)
    cluster.core.patch_node(tainted, {"spec": {"taints": [FOREIGN_TAINT.to_dict()]}}, _content_type=MERGE)
    groups = [g for g in aws.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
              if g["AvailabilityZones"] == [ZONE]]
    assert len(groups) == 1, groups
    group = groups[0]["AutoScalingGroupName"]
    aws.autoscaling.suspend_processes(AutoScalingGroupName=group, ScalingProcesses=[FOREIGN_SUSPENDED])
    instances = sorted(i["InstanceId"] for i in groups[0]["Instances"])
    ns = "crash-safety"
    labels = {"app": "held"}
    cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    cluster.apps.create_namespaced_deployment(ns, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="held"),
        spec=client.V1DeploymentSpec(replicas=6, selector=client.V1LabelSelector(match_labels=labels),
                                     template=client.V1PodTemplateSpec(
                                         metadata=client.V1ObjectMeta(labels=labels),
                                         spec=client.V1PodSpec(containers=[client.V1Container(
                                             name="echo", image="registry.k8s.io/e2e-test-images/agnhost:2.52",
                                             args=["netexec", "--http-port=8080"])])))))
    client.PolicyV1Api(cluster.api).create_namespaced_pod_disruption_budget(ns, client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name="held"),
        spec=client.V1PodDisruptionBudgetSpec(max_unavailable=0, selector=client.V1LabelSelector(
            match_labels=labels))))
    deadline = time.monotonic() + PROFILE.app_ready_timeout
    while (cluster.apps.read_namespaced_deployment("held", ns).status.ready_replicas or 0) < 6:
        assert time.monotonic() < deadline, "the workload never became Ready"
        time.sleep(0.2)
    on_zone = [p.spec.node_name for p in cluster.core.list_namespaced_pod(ns).items if p.spec.node_name in nodes]
    assert on_zone, "no pod of the workload landed in the target zone: a drain would have nothing to evict"
    yield World(precordoned, tainted, nodes, instances, group)
    cluster.core.delete_namespace(ns)
    cluster.core.patch_node(precordoned, {"spec": {"unschedulable": None}}, _content_type=MERGE)
    cluster.core.patch_node(tainted, {"spec": {"taints": None}}, _content_type=MERGE)
    aws.autoscaling.resume_processes(AutoScalingGroupName=group, ScalingProcesses=[FOREIGN_SUSPENDED])


# ---------------------------------------------------------------------- the state a run must leave as it found


@dataclass(frozen=True)
class State:
    """Everything a drain or an outage touches, as plain data (equal states compare equal)."""

    #: node -> (spec.unschedulable, taints not managed by the node controllers, azchaos.io/ annotations)
    nodes: dict[str, tuple[bool, tuple[str, ...], tuple[str, ...]]]
    #: instance id -> EC2 state
    instances: dict[str, str]
    #: Auto Scaling group -> suspended processes
    suspended: dict[str, tuple[str, ...]]
    #: the cluster lock's holder (None: free)
    lock: str | None
    #: run objects still marked active
    active_runs: tuple[str, ...]

    def diff(self, other: State) -> list[str]:
        out = []
        for name in sorted(set(self.nodes) | set(other.nodes)):
            if self.nodes.get(name) != other.nodes.get(name):
                out.append(f"node {name}: {self.nodes.get(name)} -> {other.nodes.get(name)}")
        for iid in sorted(set(self.instances) | set(other.instances)):
            if self.instances.get(iid) != other.instances.get(iid):
                out.append(f"instance {iid}: {self.instances.get(iid)} -> {other.instances.get(iid)}")
        for g in sorted(set(self.suspended) | set(other.suspended)):
            if self.suspended.get(g) != other.suspended.get(g):
                out.append(f"group {g} suspended: {self.suspended.get(g)} -> {other.suspended.get(g)}")
        if self.lock != other.lock:
            out.append(f"lock holder: {self.lock} -> {other.lock}")
        if self.active_runs != other.active_runs:
            out.append(f"active run objects: {self.active_runs} -> {other.active_runs}")
        return out


def _node_row(node: Any) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    taints = tuple(sorted(f"{t.key}={t.value or ''}:{t.effect}" for t in node.spec.taints or []
                          if not t.key.startswith(CONTROLLER_TAINTS)))
    notes = tuple(sorted(f"{k}={v}" for k, v in (node.metadata.annotations or {}).items()
                         if k.startswith("azchaos.io/")))
    return bool(node.spec.unschedulable), taints, notes


def _instances(aws: AwsContext) -> dict[str, str]:
    out = {}
    for page in aws.ec2.get_paginator("describe_instances").paginate():
        for reservation in page["Reservations"]:
            for i in reservation["Instances"]:
                out[i["InstanceId"]] = i["State"]["Name"]
    return out


def _suspended(aws: AwsContext) -> dict[str, tuple[str, ...]]:
    groups = aws.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
    return {g["AutoScalingGroupName"]: tuple(sorted(p["ProcessName"] for p in g.get("SuspendedProcesses") or []))
            for g in groups}


def _run_objects(cluster: Cluster, state: str = "active") -> list[Any]:
    selector = f"{MANAGED_BY_LABEL}={MANAGED_BY},{RUN_STATE_LABEL}={state}"
    return cluster.core.list_namespaced_config_map(RUN_NAMESPACE, label_selector=selector).items


def snapshot(cluster: Cluster, aws: AwsContext) -> State:
    lock = read_lock(cluster)
    return State({n.metadata.name: _node_row(n) for n in cluster.core.list_node().items}, _instances(aws),
                 _suspended(aws), lock.holder if lock else None,
                 tuple(sorted(cm.metadata.name for cm in _run_objects(cluster))))


def wait_all_ready(cluster: Cluster) -> float:
    """Seconds until every node is Ready (after an outage the kubelets take a few seconds to report)."""
    start = time.monotonic()
    deadline = start + PROFILE.zone_return_timeout
    while True:
        nodes = cluster.core.list_node().items
        waiting = [n.metadata.name for n in nodes
                   if not any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])]
        if not waiting:
            return time.monotonic() - start
        assert time.monotonic() < deadline, (f"nodes not Ready {PROFILE.zone_return_timeout:g}s after the restore: "
                                             f"{', '.join(waiting)}")
        time.sleep(0.1)


# ---------------------------------------------------------------------- runs


def plugin_run(handle: ClusterHandle, cwd: Path, test: str) -> tuple[subprocess.Popen[str], Path]:
    """A pytest run of the plugin against ``handle``'s cluster, as a nightly job would start it."""
    cwd.mkdir(parents=True, exist_ok=True)
    (cwd / "test_plugin_run.py").write_text(PLUGIN_RUN)
    log = cwd / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"test_plugin_run.py::{test}",
             "--azchaos-kubeconfig", str(handle.kubeconfig), "--azchaos-allow-context", ".*",
             "--azchaos-zone", ZONE, "--azchaos-report-dir", str(cwd / "report")],
            cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True, preexec_fn=_interactive_sigint)
    return proc, log


def _interactive_sigint() -> None:
    """SIGINT as a terminal gives it (Ctrl-C raises KeyboardInterrupt). A test run started with `&` by a script (as
    CI harnesses do) inherits SIGINT ignored, the plugin run would too and then never see the signal: that, not the
    plugin, made the SIGINT tests fail in full runs."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def azchaos_restore(handle: ClusterHandle, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_azchaos.cli", "restore", "--kubeconfig",
                           str(handle.kubeconfig)], cwd=cwd, capture_output=True, text=True, timeout=180)


def fault_level(kind: str, cluster: Cluster, aws: AwsContext, world: World, before: State) -> int:
    """How much of the run's fault is in the cluster: nodes cordoned by a run; instances stopping or stopped
    plus processes suspended that were not before. 0: none of it (not yet, or undone)."""
    if kind == "drain":
        return sum(1 for n in cluster.core.list_node().items if CORDONED_BY in (n.metadata.annotations or {}))
    states = _instances(aws)
    down = sum(1 for i in world.zone_instances if states.get(i) in ("stopping", "stopped"))
    return down + sum(len(set(p) - set(before.suspended.get(g, ()))) for g, p in _suspended(aws).items())


@dataclass
class Watch:
    """What the test saw of a run while it waited to kill it (seconds since the run started)."""

    lock_at: float | None = None
    holder: str | None = None
    fault_at: float | None = None
    undoing_at: float | None = None
    exited_at: float | None = None
    peak: int = 0


def watch(run: subprocess.Popen[str], mode: str, delay: float, kind: str, cluster: Cluster, aws: AwsContext,
          world: World, before: State, start: float) -> tuple[Watch, float]:
    """Poll the cluster until the kill moment or the run's exit, noting when its lock and fault appear and go.

    ``mode`` ``timed``: the moment is ``delay`` after the start; ``lock``: ``delay`` after the lock is first
    seen taken; ``undoing``: ``delay`` after the fault, once in place, is first seen shrinking (the run's own
    undo has begun). Returns what was seen and the kill moment (seconds since the start)."""
    seen = Watch()
    kill_at = start + delay if mode == "timed" else start + 60.0  # an anchor never seen: kill anyway
    while time.monotonic() < kill_at:
        now = time.monotonic() - start
        if run.poll() is not None:
            seen.exited_at = now
            break
        if seen.lock_at is None:
            lock = read_lock(cluster)
            if lock is not None and lock.holder is not None:
                seen.lock_at, seen.holder = now, lock.holder
                if mode == "lock":
                    kill_at = time.monotonic() + delay
        if mode != "lock":  # the lock is taken a few milliseconds before the ledger exists: poll it tightly
            level = fault_level(kind, cluster, aws, world, before)
            if level and seen.fault_at is None:
                seen.fault_at = now
            if level < seen.peak and seen.undoing_at is None:
                seen.undoing_at = now
                if mode == "undoing":
                    kill_at = time.monotonic() + delay
            seen.peak = max(seen.peak, level)
            time.sleep(max(0.0, min(0.05 if mode == "timed" else 0.01, kill_at - time.monotonic())))
    return seen, kill_at - start


def at_kill(kind: str, cluster: Cluster, aws: AwsContext, world: World, before: State, seen: Watch) -> str:
    """Where the killed run was, read from what it left: lock, ledger, nodes, instances, groups."""
    lock = read_lock(cluster)
    holder = lock.holder if lock else None
    runs = _run_objects(cluster)
    entries: list[dict[str, Any]] = []
    for cm in runs:
        entries += json.loads((cm.data or {}).get(RUN_KEY, "{}")).get("entries") or []
    pending = [e for e in entries if e.get("state") != "done"]
    done = [e for e in entries if e.get("state") == "done"]
    cordoned = sum(1 for n in cluster.core.list_node().items if CORDONED_BY in (n.metadata.annotations or {}))
    states = _instances(aws)
    zone_states = Counter(states[i] for i in world.zone_instances)
    suspended = _suspended(aws)
    new_suspended = sum(len(set(p) - set(before.suspended.get(g, ()))) for g, p in suspended.items())
    facts = (f"lock {'held' if holder else 'free'}, {len(runs)} active run object(s) with {len(pending)} pending/"
             f"{len(done)} done undo(s), {cordoned} node(s) cordoned by a run, zone instances "
             f"{dict(sorted(zone_states.items()))}, {new_suspended} process(es) newly suspended")
    restored = {cm.metadata.labels.get("azchaos.io/run-id") for cm in _run_objects(cluster, "restored")}
    if not holder and not runs:
        phase = "before the lock" if seen.lock_at is None else "after the run undid its fault and freed the lock"
    elif not runs:
        phase = "undone, lock not freed yet" if holder in restored else "lock taken, no ledger yet"
    elif not entries:
        phase = "ledger created, nothing recorded yet"
    elif done or seen.undoing_at is not None:
        phase = "undoing"
    elif kind == "drain":
        phase = ("mid-drain" if cordoned == len(world.zone_nodes) - 1
                 else "undo recorded, cordoning" if cordoned else "undo recorded, nothing cordoned yet")
    elif zone_states.get("stopped", 0) == len(world.zone_instances):
        phase = "outage in place"
    elif zone_states.get("running", 0) == len(world.zone_instances) and not new_suspended:
        phase = "undo recorded, nothing stopped yet"
    else:
        phase = "suspending/stopping"
    return f"{phase} ({facts})"


# ---------------------------------------------------------------------- SIGKILL at random moments, then restore


@dataclass
class Iteration:
    index: int
    kind: str
    mode: str
    delay: float
    kill_at: float = 0.0
    killed: bool = False
    watch: Watch = field(default_factory=Watch)
    where: str = ""
    rc: int | None = None
    restore_out: str = ""
    problems: list[str] = field(default_factory=list)
    log: str = ""

    def line(self) -> str:
        w = self.watch
        seen = [f"{what} {t:.2f}s" for what, t in (("lock", w.lock_at), ("fault", w.fault_at),
                                                   ("undo begun", w.undoing_at)) if t is not None]
        plan = {"timed": f"{self.delay:.2f}s after the start", "lock": f"{self.delay * 1000:.0f}ms after the lock",
                "undoing": f"{self.delay * 1000:.0f}ms into the run's own undo"}[self.mode]
        what = (f"SIGKILL at {self.kill_at:.2f}s ({plan})" if self.killed
                else f"ended by itself at {w.exited_at or 0:.2f}s, rc {self.rc} (kill planned {plan})")
        verdict = "ok  " if not self.problems else "FAIL"
        restore = " | ".join(ln.strip() for ln in self.restore_out.strip().splitlines())
        out = (f"{verdict} #{self.index:02d} {self.kind:6s} {what}; seen: {', '.join(seen) or 'nothing'}\n"
               f"      at the kill: {self.where}\n      restore: {restore}")
        for p in self.problems:
            out += f"\n      problem: {p}"
        if self.problems and self.log:
            out += "\n      run output (tail): " + " | ".join(self.log.strip().splitlines()[-8:])
        return out


def schedule(rng: random.Random) -> list[tuple[str, str, float]]:
    """(kind, mode, stratum in [0, 1)) for every iteration: per kind, most kills timed over the run's life
    (one per slice of it, so they spread), a few anchored on windows a timed kill rarely hits: just after
    the lock is taken (the ledger is created a few milliseconds later) and during the run's own undo."""
    plan = []
    for kind in ("drain", "outage"):
        timed = ITERATIONS // 2 - 4
        plan += [(kind, "timed", (k + rng.random()) / timed) for k in range(timed)]
        plan += [(kind, mode, rng.random()) for mode in ("lock", "lock", "undoing", "undoing")]
    rng.shuffle(plan)
    return plan


def test_sigkill_at_random_moments_then_restore_leaves_the_cluster_as_found(
        handle: ClusterHandle, cluster: Cluster, aws: AwsContext, world: World, tmp_path: Path) -> None:
    seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(2**31))
    rng = random.Random(seed)
    print(f"crash-safety loop: seed {seed} (replay with {SEED_ENV}={seed})")
    # When each kind's lock and fault show in the cluster (seconds after the run starts): a first guess, then
    # the median of what was seen. Timed kills land between 60% of the way to the lock (a kill during the
    # interpreter's start proves little) and TAIL_SECONDS after the fault (past the run's own undo).
    lock_times: dict[str, list[float]] = {"drain": [1.0], "outage": [1.0]}
    fault_times: dict[str, list[float]] = {"drain": [1.2], "outage": [1.2]}
    baseline = snapshot(cluster, aws)
    assert baseline.lock is None and not baseline.active_runs, baseline
    done: list[Iteration] = []
    loop_start = time.monotonic()
    for index, (kind, mode, u) in enumerate(schedule(rng)):
        first = 0.6 * statistics.median(lock_times[kind])
        last = statistics.median(fault_times[kind]) + TAIL_SECONDS
        it = Iteration(index, kind, mode, {"timed": first + u * (last - first), "lock": u * 0.03,
                                           "undoing": u * 0.1}[mode])
        done.append(it)
        cwd = tmp_path / f"it{index:02d}"
        before = snapshot(cluster, aws)
        if before.lock is not None:
            it.problems.append(f"the lock is held before the run starts: {before.lock}")
        run, log = plugin_run(handle, cwd, f"test_{kind}")
        start = time.monotonic()
        try:
            it.watch, it.kill_at = watch(run, mode, it.delay, kind, cluster, aws, world, before, start)
        finally:
            if run.poll() is None:
                run.send_signal(signal.SIGKILL)
                it.killed = True
            it.rc = run.wait(timeout=30)
        it.log = log.read_text()
        if it.watch.lock_at is not None:
            lock_times[kind].append(it.watch.lock_at)
        if it.watch.fault_at is not None:
            fault_times[kind].append(it.watch.fault_at)
        it.where = at_kill(kind, cluster, aws, world, before, it.watch) if it.killed else "-"
        if not it.killed and it.rc != 0:
            it.problems.append(f"the run failed by itself (rc {it.rc})")
        if "LockHeld" in it.log or "holds the cluster lock" in it.log:
            it.problems.append("the run was refused the lock")
        if it.watch.holder is not None and not it.watch.holder.startswith("azchaos-"):
            it.problems.append(f"the lock was held by {it.watch.holder}, not by an azchaos run")
        restored = azchaos_restore(handle, cwd)
        it.restore_out = restored.stdout + restored.stderr
        if restored.returncode != 0:
            it.problems.append(f"azchaos restore failed (rc {restored.returncode})")
        it.problems += [f"not as found: {d}" for d in before.diff(snapshot(cluster, aws))]
        if kind == "outage":
            wait_all_ready(cluster)  # the next run's guard wants every zone healthy; the lock is NOT waited for
    # The run after the last restore, left to finish: it takes the lock at once and passes.
    final, final_log = plugin_run(handle, tmp_path / "final", "test_cordon")
    final_rc = final.wait(timeout=120)
    wall = time.monotonic() - loop_start
    end = snapshot(cluster, aws)
    summary = "\n".join(it.line() for it in done)
    passed = sum(1 for it in done if not it.problems)
    phases = Counter(it.where.split(" (")[0] if it.killed else "ended by itself" for it in done)
    print(f"{passed}/{len(done)} iterations left the cluster as found, in {wall:.1f}s (seed {seed}); "
          f"where the kills landed: {dict(phases.most_common())}\n{summary}")
    assert passed == len(done), f"{passed}/{len(done)} passed (seed {seed}):\n{summary}"
    assert final_rc == 0, final_log.read_text()
    assert not baseline.diff(end), baseline.diff(end)


# ---------------------------------------------------------------------- the lock's windows, one by one

KILLED_IN_A_LOCK_WINDOW = """
import os, signal, sys
from pathlib import Path
from pytest_azchaos.chaos.ledger import Ledger, new_run_id
from pytest_azchaos.chaos.lock import ClusterLock
from pytest_azchaos.kube.cluster import Cluster

cluster = Cluster(Path(sys.argv[1]))
run_id = new_run_id()
ClusterLock(cluster, run_id).acquire()  # Chaos._start takes the lock, then creates the ledger
if sys.argv[2] == "after-undo":
    Ledger(cluster, run_id).replay()  # Chaos.undo_all replays the ledger, then frees the lock
print(run_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("window", ["before-ledger", "after-undo"])
def test_a_run_killed_holding_the_lock_with_nothing_unfinished_is_freed_by_restore(
        handle: ClusterHandle, cluster: Cluster, aws: AwsContext, world: World, tmp_path: Path, window: str) -> None:
    """Killed between taking the lock and creating its ledger, or between its undo and freeing the lock:
    there is nothing to undo, but the lock must not refuse the next run until the lease expires."""
    before = snapshot(cluster, aws)
    died = subprocess.run([sys.executable, "-c", KILLED_IN_A_LOCK_WINDOW, str(handle.kubeconfig), window],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert died.returncode == -signal.SIGKILL, died.stderr
    run_id = died.stdout.strip()
    assert read_lock(cluster).holder == run_id
    result = azchaos_restore(handle, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert run_id in result.stdout and "cluster restored" in result.stdout, result.stdout
    assert read_lock(cluster).holder is None, result.stdout
    assert not before.diff(snapshot(cluster, aws))
    run, log = plugin_run(handle, tmp_path / "next", "test_cordon")
    assert run.wait(timeout=120) == 0, log.read_text()


# ---------------------------------------------------------------------- SIGTERM / SIGINT: the run undoes itself


def fault_in_place(kind: str, cluster: Cluster, aws: AwsContext, world: World) -> bool:
    if kind == "drain":
        mine = [n for n in cluster.core.list_node().items if CORDONED_BY in (n.metadata.annotations or {})]
        return len(mine) == len(world.zone_nodes) - 1  # all but the node cordoned before the run
    states = _instances(aws)
    return all(states.get(i) == "stopped" for i in world.zone_instances)


KINDS = ["outage", "drain"]


@pytest.mark.parametrize("kind", KINDS)
def test_sigterm_mid_fault_undoes_itself_without_restore(handle: ClusterHandle, cluster: Cluster, aws: AwsContext,
                                                         world: World, tmp_path: Path, kind: str) -> None:
    """The fixture turns SIGTERM into KeyboardInterrupt: pytest unwinds and the teardown replays the ledger."""
    signal_mid_fault(signal.SIGTERM, kind, handle, cluster, aws, world, tmp_path)


@pytest.mark.parametrize("kind", KINDS)
def test_sigint_mid_fault_undoes_itself_without_restore(handle: ClusterHandle, cluster: Cluster, aws: AwsContext,
                                                        world: World, tmp_path: Path, kind: str) -> None:
    signal_mid_fault(signal.SIGINT, kind, handle, cluster, aws, world, tmp_path)


def signal_mid_fault(signum: signal.Signals, kind: str, handle: ClusterHandle, cluster: Cluster, aws: AwsContext,
                     world: World, tmp_path: Path) -> None:
    """``signum`` mid-fault: the run undoes its fault, frees the lock and exits by itself, with the state as
    found; nothing is left for `azchaos restore`."""
    before = snapshot(cluster, aws)
    assert before.lock is None, before
    run, log = plugin_run(handle, tmp_path, f"test_{kind}_long")
    undone_after: float | None = None
    try:
        deadline = time.monotonic() + 60
        while not fault_in_place(kind, cluster, aws, world):
            assert run.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"the {kind} never took effect: {log.read_text()}"
            time.sleep(0.05)
        time.sleep(0.5)  # mid-drain (every eviction refused by the budget) / the outage in place
        assert run.poll() is None, log.read_text()
        run.send_signal(signum)
        sent = time.monotonic()
        while run.poll() is None and time.monotonic() < sent + EXIT_BUDGET:
            if undone_after is None and not before.diff(snapshot(cluster, aws)):
                undone_after = time.monotonic() - sent
            time.sleep(0.1)
        exited_after = time.monotonic() - sent if run.poll() is not None else None
    finally:
        if run.poll() is None:
            run.kill()
        rc = run.wait()
    out = log.read_text()
    after = snapshot(cluster, aws)
    assert not before.diff(after), (before.diff(after), out)
    assert after.lock is None
    result = azchaos_restore(handle, tmp_path)
    assert result.returncode == 0 and "nothing to restore" in result.stdout, result.stdout + result.stderr
    if kind == "outage":
        wait_all_ready(cluster)
    if exited_after is None:
        pytest.fail(f"the run undid its {kind} {undone_after or 0:.2f}s after {signum.name} but had not exited "
                    f"{EXIT_BUDGET:g}s after it: {out}")
    assert rc != 0 and "KeyboardInterrupt" in out, out  # interrupted, not finished
    print(f"{signum.name} mid-{kind}: undone and exited {exited_after:.2f}s later (rc {rc})")
