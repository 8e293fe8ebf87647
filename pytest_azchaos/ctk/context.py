"""What an experiment's activities share: the cluster (from ``configuration``), settings, and the run.

chaoslib calls each activity as a plain function, so state between activities lives here, keyed by
the run id (``configuration["azchaos_run_id"]``; one per process when absent): the chaos façade with
its ledger and lock, and the probers ``start_traffic`` started, by name.

Where the cluster comes from, as chaosk8s reads it: the kubeconfig ``configuration["kubeconfig_path"]``,
else ``$KUBECONFIG``, else ``~/.kube/config``; the context ``configuration["kubernetes_context"]``, else
``secrets["KUBERNETES_CONTEXT"]``, else ``$KUBERNETES_CONTEXT``, else the kubeconfig's current-context.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..kube.cluster import Cluster
from ..kube.kubeconfig import context_names, declared_profile
from ..run import new_run_id
from ..settings import Settings
from ..timing import REAL_CLUSTER_PROFILE
from ..wellknown import EMBEDDED_CONTEXT

Configuration = dict[str, Any] | None
Secrets = dict[str, Any] | None

logger = logging.getLogger("chaostoolkit")

_LOCK = threading.Lock()
_RUNS: dict[str, RunState] = {}
_DEFAULT_RUN: list[str] = []


class _LogProgress:
    """``kube.wait.Progress`` that writes to chaostoolkit's logger."""

    def update(self, what: str, elapsed: float, timeout: float, detail: str = "") -> None:
        logger.debug("waiting for %s: %.0fs of %.0fs %s", what, elapsed, timeout, detail)

    def done(self, what: str, elapsed: float, ok: bool) -> None:
        logger.info("%s: %s after %.1fs", what, "done" if ok else "TIMED OUT", elapsed)

    def note(self, line: str) -> None:
        logger.info(line)


@dataclass
class _Run:
    """The bits of the plugin's ``Run`` the chaos façade reads."""

    run_id: str
    rng: random.Random
    progress: _LogProgress = field(default_factory=_LogProgress)


@dataclass
class RunState:
    """One experiment run: its cluster, settings, chaos façade (ledger, lock) and probers by name."""

    run_id: str
    cluster: Cluster
    settings: Settings
    chaos: Any
    probers: dict[str, Any] = field(default_factory=dict)
    recordings: dict[str, Any] = field(default_factory=dict)
    apps: dict[str, Any] = field(default_factory=dict)


def kubeconfig_path(configuration: Configuration | None) -> Path:
    conf = configuration or {}
    path = conf.get("kubeconfig_path") or os.environ.get("KUBECONFIG") or "~/.kube/config"
    return Path(os.path.expanduser(str(path).split(os.pathsep)[0]))


def kubernetes_context(configuration: Configuration | None, secrets: Secrets | None) -> str | None:
    conf, sec = configuration or {}, secrets or {}
    return conf.get("kubernetes_context") or sec.get("KUBERNETES_CONTEXT") or os.environ.get("KUBERNETES_CONTEXT")


def run_id_of(configuration: Configuration | None) -> str:
    rid = (configuration or {}).get("azchaos_run_id")
    if rid:
        return str(rid)
    with _LOCK:
        if not _DEFAULT_RUN:
            _DEFAULT_RUN.append(new_run_id())
        return _DEFAULT_RUN[0]


def settings_from(configuration: Configuration | None, kubeconfig: Path, context: str | None) -> Settings:
    """Plugin settings from ``configuration``: ``azchaos_allow_context`` (regex or list; default: only the
    embedded cluster), ``azchaos_profile`` (default: what the kubeconfig context declares, else realistic),
    ``azchaos_report_dir``, ``azchaos_rate``."""
    conf = configuration or {}
    allow = conf.get("azchaos_allow_context") or [f"^{EMBEDDED_CONTEXT}$"]
    allow = [allow] if isinstance(allow, str) else list(allow)
    profile = conf.get("azchaos_profile") or declared_profile(kubeconfig, context) or REAL_CLUSTER_PROFILE
    return Settings(kubeconfig=kubeconfig, context=context, cluster="kubeconfig", allow_contexts=tuple(allow),
                    profile=profile, report_dir=Path(conf.get("azchaos_report_dir") or "azchaos-report"),
                    rate=float(conf.get("azchaos_rate") or 50.0))


def run_state(configuration: Configuration | None = None, secrets: Secrets | None = None) -> RunState:
    """The state of this experiment's run, created on first use."""
    from ..chaos.facade import Chaos
    from ..timing import Profile

    rid = run_id_of(configuration)
    with _LOCK:
        state = _RUNS.get(rid)
        if state is not None:
            return state
        path = kubeconfig_path(configuration)
        context = kubernetes_context(configuration, secrets)
        cluster = _cluster(path, context)
        settings = settings_from(configuration, path, context)
        chaos = Chaos(cluster, settings, _Run(rid, random.Random()), Profile.by_name(settings.effective_profile()),
                      f"chaostoolkit:{rid}")
        state = _RUNS[rid] = RunState(rid, cluster, settings, chaos)
        return state


def _cluster(path: Path, context: str | None) -> Cluster:
    """The experiment's cluster; a missing kubeconfig or an unknown context fails the activity, naming the
    experiment's own settings (not pytest's flags)."""
    from chaoslib.exceptions import ActivityFailed

    if not path.is_file():
        raise ActivityFailed(f"kubeconfig {path} does not exist: set the experiment's configuration "
                             "kubeconfig_path (or $KUBECONFIG) to the kubeconfig of the cluster under test")
    if context:
        try:
            names = context_names(path)
        except Exception as e:
            raise ActivityFailed(f"cannot read kubeconfig {path}: {e}") from None
        if context not in names:
            raise ActivityFailed(f"context {context!r} is not in kubeconfig {path}; its contexts are: "
                                 f"{', '.join(names) or '(none)'} (set configuration kubernetes_context)")
    return Cluster(path, context)


def resolve_zone(state: RunState, zone: str) -> str:
    """``auto``: the first zone in name order (as the plugin's default); any other name as given (the fault
    validates it, with the same wording as the plugin: ``chaos.target``)."""
    if zone != "auto":
        return zone
    from chaoslib.exceptions import ActivityFailed

    from ..chaos.target import ChaosInputError, choose_zone
    from ..kube.topology import ZoneMap

    try:
        return choose_zone(ZoneMap.read(state.cluster.core), zone)
    except ChaosInputError as e:
        raise ActivityFailed(str(e)) from None


def finish(run_id: str) -> list[str]:
    """End a run: stop its probers, replay whatever its ledger still holds, release its lock."""
    with _LOCK:
        state = _RUNS.pop(run_id, None)
    if state is None:
        return []
    for prober in state.probers.values():
        try:
            prober.stop()
        except Exception as e:  # a prober that failed must not keep the undo from running
            logger.warning("stopping a prober: %s", e)
    try:
        return state.chaos.undo_all()
    finally:
        state.cluster.close()


@contextlib.contextmanager
def kubeconfig_env(path: Path | str, context: str | None = None) -> Iterator[None]:
    """Point chaosk8s (and anything else using the default kubeconfig) at ``path`` for a while.

    Sets ``KUBECONFIG`` (and ``KUBERNETES_CONTEXT``) and the official client's default location, which it
    reads from ``KUBECONFIG`` only once, at import; both are restored afterwards.
    """
    from kubernetes.config import kube_config

    env = {"KUBECONFIG": str(path)} | ({"KUBERNETES_CONTEXT": context} if context else {})
    saved = {k: os.environ.get(k) for k in env}
    saved_default = kube_config.KUBE_CONFIG_DEFAULT_LOCATION
    os.environ.update(env)
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = str(path)
    try:
        yield
    finally:
        kube_config.KUBE_CONFIG_DEFAULT_LOCATION = saved_default
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
