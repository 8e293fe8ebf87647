"""The run ledger: every fault writes how to undo it here BEFORE it acts, so a run can always be undone.

A run (``run_id`` like ``azchaos-20260101-120000-1a2b3c``) keeps its entries in three places:

- a local JSON file (default ``.azchaos/ledger-<run_id>.json``), written atomically and fsync'd;
- in the cluster, a run object: the ConfigMap ``azchaos-run-<run_id>`` in ``kube-system``
  (``RUN_NAMESPACE``; it exists on every cluster and is where cluster-level machinery lives), labelled
  ``app.kubernetes.io/managed-by=pytest-azchaos``, ``azchaos.io/run-id=<run_id>`` and
  ``azchaos.io/run-state=active|restored``, its entries as JSON under ``data["run.json"]``;
- on each node a fault touched, an annotation naming the run (``azchaos.io/cordoned-by: <run_id>``),
  set in the same write that changes the node, so "only what this run changed" is provable from the
  node itself.

``replay()`` runs pending undos newest first through handlers registered by kind (``UNDO_HANDLERS``;
other packages add theirs with ``register_undo``); it is idempotent. ``restore()`` finds runs that
never finished (killed, crashed) in the cluster and in local files, and replays them.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..kube.cluster import Cluster
from ..run import new_run_id
from ..wellknown import (
    CORDONED_BY,
    HOST_ANNOTATION,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    PID_ANNOTATION,
    RUN_ID_LABEL,
    RUN_STATE_LABEL,
)
from .lock import LOCK_NAME, read_lock, release_lock
from .timeline import utc_now

RUN_NAMESPACE = "kube-system"
RUN_KEY = "run.json"
DEFAULT_DIR = Path(".azchaos")
MERGE_PATCH = "application/merge-patch+json"
#: Modules whose import registers undo handlers (tried in order; a missing optional one is skipped).
HANDLER_MODULES = ("pytest_azchaos.chaos.cordon", "pytest_azchaos.chaos.kill", "pytest_azchaos.aws",
                   "pytest_azchaos.provisioners.karpenter_fence", "pytest_azchaos.provisioners.node_group_fence")


def run_object_name(run_id: str) -> str:
    return f"azchaos-run-{run_id}"


@dataclass(frozen=True)
class UndoOutcome:
    """What undoing one entry did. ``ok`` means the cluster no longer carries this run's change."""

    kind: str
    target: str
    ok: bool
    action: str
    detail: str = ""
    entry_id: str = ""

    def describe(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        return f"{mark} {self.kind} {self.target}: {self.action}" + (f" ({self.detail})" if self.detail else "")


UndoHandler = Callable[[dict[str, Any], Cluster], UndoOutcome]
UNDO_HANDLERS: dict[str, UndoHandler] = {}


def register_undo(kind: str, fn: UndoHandler) -> None:
    """Register how entries of ``kind`` are undone (``fn(undo, cluster) -> UndoOutcome``, idempotent)."""
    UNDO_HANDLERS[kind] = fn


def load_handlers() -> None:
    """Import the modules that register handlers, so a fresh process (``azchaos restore``) knows them all."""
    for name in HANDLER_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue


@dataclass
class Entry:
    """One recorded fault: how to undo it, and whether that has happened."""

    id: str
    kind: str
    target: str
    undo: dict[str, Any]
    state: str = "pending"  # pending | done
    recorded_at: str = ""
    done_at: str = ""
    outcome: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Entry:
        return cls(d["id"], d["kind"], d.get("target", ""), dict(d.get("undo") or {}), d.get("state", "pending"),
                   d.get("recordedAt", ""), d.get("doneAt", ""), d.get("outcome", ""))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "target": self.target, "undo": self.undo, "state": self.state,
                "recordedAt": self.recorded_at, "doneAt": self.done_at, "outcome": self.outcome}


class LedgerWriteError(RuntimeError):
    """The ledger could not be written; the fault must not act."""


class Ledger:
    """The undo record of one run (see the module docstring for where it lives)."""

    def __init__(self, cluster: Cluster, run_id: str | None = None, *, path: Path | str | None = None,
                 namespace: str = RUN_NAMESPACE, create: bool = True, in_cluster: bool = True) -> None:
        self.cluster = cluster
        self.run_id = run_id or new_run_id()
        self.namespace = namespace
        self.path = Path(path) if path is not None else DEFAULT_DIR / f"ledger-{self.run_id}.json"
        self.in_cluster = in_cluster
        self.entries: list[Entry] = []
        self.started_at = utc_now()
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.state = "active"
        self._lock = threading.RLock()
        self._seq = 0
        if create:
            self._create()

    # ------------------------------------------------------------------ the record

    def record(self, kind: str, undo: dict[str, Any], target: str) -> str:
        """Write one undo to the file and the run object; returns its entry id. Call BEFORE acting."""
        return self.record_many([(kind, undo, target)])[0]

    def record_many(self, items: list[tuple[str, dict[str, Any], str]]) -> list[str]:
        """Record several undos in one write (a fault touching many nodes records them all, then acts)."""
        with self._lock:
            ids = []
            for kind, undo, target in items:
                self._seq += 1
                entry = Entry(f"{self._seq:04d}", kind, target, dict(undo), recorded_at=utc_now())
                self.entries.append(entry)
                ids.append(entry.id)
            if self.state != "active":
                self.state = "active"
            self._persist()
            return ids

    def done(self, entry_id: str, outcome: str = "") -> None:
        """Mark an entry undone (or, for record-only entries, complete)."""
        with self._lock:
            entry = self._entry(entry_id)
            if entry.state != "done":
                entry.state, entry.done_at, entry.outcome = "done", utc_now(), outcome or entry.outcome
                self._persist()

    def pending(self) -> list[Entry]:
        with self._lock:
            return [e for e in self.entries if e.state != "done"]

    def replay(self) -> list[UndoOutcome]:
        """Undo every pending entry, newest first. Idempotent: done entries are skipped, handlers check state."""
        load_handlers()
        outcomes = []
        with self._lock:
            todo = list(reversed(self.pending()))
        for entry in todo:
            handler = UNDO_HANDLERS.get(entry.kind)
            if handler is None:
                outcome = UndoOutcome(entry.kind, entry.target, False, "no undo handler",
                                      f"no handler is registered for kind {entry.kind!r}; import the module that "
                                      "defines it (it calls register_undo) and replay again")
            else:
                try:
                    outcome = handler(entry.undo, self.cluster)
                except Exception as e:  # keep going: one failed undo must not leave the others undone
                    outcome = UndoOutcome(entry.kind, entry.target, False, "undo failed", f"{type(e).__name__}: {e}")
            outcome = replace(outcome, entry_id=entry.id)
            outcomes.append(outcome)
            with self._lock:
                if outcome.ok:
                    entry.state, entry.done_at = "done", utc_now()
                entry.outcome = f"{outcome.action}" + (f": {outcome.detail}" if outcome.detail else "")
                if not self.pending():
                    self.state = "restored"
                self._persist()
        with self._lock:
            if not self.pending() and self.state != "restored":
                self.state = "restored"
                self._persist()
        return outcomes

    def _entry(self, entry_id: str) -> Entry:
        for e in self.entries:
            if e.id == entry_id:
                return e
        raise KeyError(f"no ledger entry {entry_id!r} in run {self.run_id}")

    # ------------------------------------------------------------------ persistence

    def document(self) -> dict[str, Any]:
        return {"runId": self.run_id, "state": self.state, "startedAt": self.started_at, "host": self.host,
                "pid": self.pid, "server": self._server(), "context": self.cluster.context,
                "entries": [e.to_dict() for e in self.entries]}

    def _server(self) -> str:
        try:
            return str(self.cluster.api.configuration.host)
        except Exception:
            return ""

    def _create(self) -> None:
        from kubernetes import client
        from kubernetes.client import ApiException

        self._write_file()
        if not self.in_cluster:
            return
        cm = client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=run_object_name(self.run_id), namespace=self.namespace,
                                         labels=self._labels(),
                                         annotations={HOST_ANNOTATION: self.host, PID_ANNOTATION: str(self.pid)}),
            data={RUN_KEY: json.dumps(self.document(), indent=1)})
        try:
            self.cluster.core.create_namespaced_config_map(self.namespace, cm)
        except ApiException as e:
            if e.status == 409 and self._mine():  # our own earlier attempt went through (retried after a 5xx)
                return
            raise LedgerWriteError(f"cannot create the run object {self.namespace}/{run_object_name(self.run_id)}: "
                                   f"{e.status} {e.reason}: {_message(e)}") from None

    def _mine(self) -> bool:
        """The run object exists and is this run's (its name carries the run id; its data says so too)."""
        from kubernetes.client import ApiException

        try:
            cm = self.cluster.core.read_namespaced_config_map(run_object_name(self.run_id), self.namespace)
        except ApiException:
            return False
        return (cm.metadata.labels or {}).get(RUN_ID_LABEL) == self.run_id

    def _labels(self) -> dict[str, str]:
        return {MANAGED_BY_LABEL: MANAGED_BY, RUN_ID_LABEL: self.run_id, RUN_STATE_LABEL: self.state}

    def _persist(self) -> None:
        self._write_file()
        if not self.in_cluster:
            return
        from kubernetes.client import ApiException

        body = {"metadata": {"labels": self._labels()}, "data": {RUN_KEY: json.dumps(self.document(), indent=1)}}
        try:
            self.cluster.core.patch_namespaced_config_map(run_object_name(self.run_id), self.namespace, body,
                                                          _content_type=MERGE_PATCH)
        except ApiException as e:
            raise LedgerWriteError(f"cannot update the run object {self.namespace}/{run_object_name(self.run_id)}: "
                                   f"{e.status} {e.reason}: {_message(e)}") from None

    def _write_file(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(self.document(), indent=1).encode()
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dfd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    # ------------------------------------------------------------------ loading an existing run

    @classmethod
    def from_document(cls, cluster: Cluster, doc: dict[str, Any], *, path: Path | None = None,
                      namespace: str = RUN_NAMESPACE, in_cluster: bool = True) -> Ledger:
        """A ledger object for a run recorded earlier (by this or another process); nothing is written."""
        ledger = cls(cluster, doc["runId"], path=path, namespace=namespace, create=False, in_cluster=in_cluster)
        ledger.entries = [Entry.from_dict(e) for e in doc.get("entries") or []]
        ledger.started_at = doc.get("startedAt", "")
        ledger.host = doc.get("host", "")
        ledger.pid = int(doc.get("pid") or 0)
        ledger.state = doc.get("state", "active")
        ledger._seq = max((int(e.id) for e in ledger.entries if e.id.isdigit()), default=0)
        return ledger

    def merge(self, other: dict[str, Any]) -> None:
        """Fold in another copy of this run's record (an entry done in either copy is done)."""
        mine = {e.id: e for e in self.entries}
        for d in other.get("entries") or []:
            e = Entry.from_dict(d)
            if e.id not in mine:
                self.entries.append(e)
            elif e.state == "done":
                mine[e.id].state, mine[e.id].done_at = "done", e.done_at
        self.entries.sort(key=lambda e: e.id)
        self._seq = max((int(e.id) for e in self.entries if e.id.isdigit()), default=0)


def _message(e: Any) -> str:
    try:
        return str(json.loads(e.body).get("message", ""))
    except Exception:
        return str(e.body or "")


# ---------------------------------------------------------------------- restore


@dataclass
class RunRestore:
    """What restore found and did for one run."""

    run_id: str
    sources: list[str]
    planned: list[Entry]
    outcomes: list[UndoOutcome] = field(default_factory=list)
    skipped: str = ""
    lock_freed: bool = False

    @property
    def ok(self) -> bool:
        return not self.skipped and all(o.ok for o in self.outcomes)

    def describe(self) -> str:
        head = f"run {self.run_id} (from {', '.join(self.sources)}): {len(self.planned)} pending undo(s)"
        lines = [head]
        if self.skipped:
            lines.append(f"  skipped: {self.skipped}")
        elif self.outcomes:
            lines += [f"  {o.describe()}" for o in self.outcomes]
        else:
            lines += [f"  would undo {e.kind} {e.target} (entry {e.id}, recorded {e.recorded_at})" for e in
                      reversed(self.planned)]
        if self.lock_freed:
            lines.append("  freed the cluster lock it held")
        return "\n".join(lines)


@dataclass
class RestoreReport:
    runs: list[RunRestore]
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs)

    def describe(self) -> str:
        if not self.runs:
            return "no unfinished azchaos runs: nothing to restore"
        return "\n".join(r.describe() for r in self.runs)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _still_running(cluster: Cluster, ledger: Ledger, namespace: str) -> str:
    """Why ``ledger``'s run must be left alone (it is alive and holds the lock), or '' when it is dead."""
    state = read_lock(cluster, namespace, LOCK_NAME)
    if state is None or state.holder != ledger.run_id or state.expired():
        return ""
    if ledger.host == socket.gethostname() and not _pid_alive(ledger.pid):
        return ""  # its process on this machine is gone: the lease is stale
    return (f"the run is still running: it holds the cluster lock ({state.describe()}, host {ledger.host}, "
            f"pid {ledger.pid}); stop it (it undoes its own faults), or rerun restore after the lease expires")


def find_unfinished(cluster: Cluster, run_id: str | None = None, *, namespace: str = RUN_NAMESPACE,
                    local_dir: Path | str | None = DEFAULT_DIR) -> list[tuple[Ledger, list[str]]]:
    """Runs with pending undos: run objects in the cluster, local ledger files for this cluster, node annotations."""
    selector = f"{MANAGED_BY_LABEL}={MANAGED_BY},{RUN_STATE_LABEL}=active"
    if run_id:
        selector += f",{RUN_ID_LABEL}={run_id}"
    found: dict[str, tuple[Ledger, list[str]]] = {}
    for cm in cluster.core.list_namespaced_config_map(namespace, label_selector=selector).items:
        try:
            doc = json.loads((cm.data or {}).get(RUN_KEY, ""))
        except ValueError:
            continue
        path = Path(local_dir) / f"ledger-{doc['runId']}.json" if local_dir else None
        found[doc["runId"]] = (Ledger.from_document(cluster, doc, path=path, namespace=namespace),
                               [f"run object {namespace}/{cm.metadata.name}"])
    server = ""
    try:
        server = str(cluster.api.configuration.host)
    except Exception:
        server = ""
    if local_dir and Path(local_dir).is_dir():
        for f in sorted(Path(local_dir).glob("ledger-*.json")):
            try:
                doc = json.loads(f.read_text())
            except (OSError, ValueError):
                continue
            rid = doc.get("runId", "")
            if not rid or (run_id and rid != run_id) or doc.get("server") != server:
                continue
            if rid in found:
                found[rid][0].merge(doc)
                found[rid][1].append(f"local file {f}")
            elif doc.get("state") == "active":
                found[rid] = (Ledger.from_document(cluster, doc, path=f, namespace=namespace, in_cluster=False),
                              [f"local file {f}"])
    # Node annotations prove what a run cordoned even if its records are gone.
    for node in cluster.core.list_node().items:
        rid = (node.metadata.annotations or {}).get(CORDONED_BY)
        if not rid or (run_id and rid != run_id):
            continue
        name = node.metadata.name
        if rid not in found:
            doc = {"runId": rid, "state": "active", "entries": []}
            found[rid] = (Ledger.from_document(cluster, doc, path=None, namespace=namespace, in_cluster=False),
                          ["node annotations"])
            found[rid][0].path = Path(tempfile.gettempdir()) / f"azchaos-orphan-{rid}.json"
        ledger, sources = found[rid]
        if not any(e.kind == "node.cordon" and e.undo.get("node") == name and e.state != "done"
                   for e in ledger.entries):
            ledger.entries.append(Entry(f"a{len(ledger.entries) + 1:03d}", "node.cordon", f"node/{name}",
                                        {"node": name, "run_id": rid}, recorded_at="(node annotation)"))
            if "node annotations" not in sources:
                sources.append("node annotations")
    # A run killed after taking the lock but before creating its run object, or after its undo but before
    # freeing the lock, left nothing unfinished except the lock, which would refuse every run until the
    # lease expires. Its holder's process on this machine is gone: a run with nothing to undo, whose lock
    # restore frees.
    lock = read_lock(cluster, namespace, LOCK_NAME)
    if (lock is not None and lock.holder and lock.holder not in found and (not run_id or lock.holder == run_id)
            and lock.host == socket.gethostname() and lock.pid > 0 and not _pid_alive(lock.pid)):
        doc = {"runId": lock.holder, "state": "active", "entries": [], "host": lock.host, "pid": lock.pid}
        ledger = Ledger.from_document(cluster, doc, path=None, namespace=namespace, in_cluster=False)
        ledger.path = Path(tempfile.gettempdir()) / f"azchaos-orphan-{lock.holder}.json"
        found[lock.holder] = (ledger, [f"the cluster lock, held by pid {lock.pid} of this machine, which is gone"])
    return [found[k] for k in sorted(found)]


def restore(cluster: Cluster, run_id: str | None = None, *, namespace: str = RUN_NAMESPACE,
            local_dir: Path | str | None = DEFAULT_DIR, dry_run: bool = False) -> RestoreReport:
    """Replay every unfinished run (or just ``run_id``); a run that is still alive is left alone."""
    report = RestoreReport([], dry_run)
    for ledger, sources in find_unfinished(cluster, run_id, namespace=namespace, local_dir=local_dir):
        run = RunRestore(ledger.run_id, sources, ledger.pending())
        report.runs.append(run)
        run.skipped = _still_running(cluster, ledger, namespace)
        if run.skipped or dry_run:
            continue
        run.outcomes = ledger.replay()
        if run.ok:
            run.lock_freed = release_lock(cluster, ledger.run_id, namespace=namespace)
    return report


def summary(outcomes: list[UndoOutcome]) -> dict[str, Any]:
    """Outcomes as plain data (for reports)."""
    return {"ok": all(o.ok for o in outcomes), "outcomes": [asdict(o) for o in outcomes]}
