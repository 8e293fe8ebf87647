"""pytest-xdist and chaos: tests that share one cluster must never overlap on it.

Without ``--azchaos-kubeconfig`` every xdist worker starts a cluster of its own, so workers cannot
disturb each other and only the destructive tests are grouped (for ``--dist loadgroup``). With a
kubeconfig all workers share that cluster: one worker's drain would break another worker's topology
check or take a second zone away. Then every test that uses the cluster goes into one xdist group,
and ``-n`` without a ``--dist`` mode (xdist's default ``load``, or ``worksteal``) becomes
``loadgroup``; modes that would split the group are refused with the fix named.
"""

from __future__ import annotations

from typing import Any

WORKERS_GROUP = "azchaos_loadgroup"  # workerinput key: the worker must suffix group names (--dist loadgroup)
DESTRUCTIVE_GROUP = "azchaos-destructive"
SHARED_CLUSTER_GROUP = "azchaos-cluster"
SPLITS_GROUPS = ("loadscope", "loadfile", "each")


class ParallelRunRefused(ValueError):
    """The xdist mode would run chaos tests side by side on one shared cluster."""


def xdist_controller(config: Any) -> bool:
    """This process distributes tests to xdist workers (and is not itself a worker)."""
    return (config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput")
            and bool(getattr(config.option, "numprocesses", 0)))


def plan_distribution(dist: str, shared_cluster: bool) -> tuple[str, str | None]:
    """The xdist ``--dist`` mode to use, and a note for the user when it changed."""
    if not shared_cluster or dist in ("no", "loadgroup"):
        return dist, None
    if dist in SPLITS_GROUPS:
        raise ParallelRunRefused(
            f"--dist {dist} would run chaos tests side by side on the one cluster --azchaos-kubeconfig names "
            "(every xdist worker uses it). Use --dist loadgroup, which runs them one at a time on one worker, "
            "or run without -n.")
    return "loadgroup", (f"pytest-azchaos: --dist {dist} changed to loadgroup: every xdist worker shares the "
                         "cluster, so the tests that use it run one at a time on one worker")


def configure_distribution(config: Any, shared_cluster: bool) -> list[str]:
    """Set the xdist mode this run needs (controller) or honour it (worker); notes for the session header."""
    if xdist_controller(config):
        dist, note = plan_distribution(config.option.dist, shared_cluster)
        config.option.dist = dist
        return [note] if note else []
    if getattr(config, "workerinput", {}).get(WORKERS_GROUP):
        config.option.loadgroup = True  # xdist's worker reads --dist from the command line, not from us
    return []


def tell_worker(node: Any) -> None:
    """Pass the controller's loadgroup choice to a starting xdist worker (it only sees the command line)."""
    if node.config.getoption("dist", None) == "loadgroup":
        node.workerinput[WORKERS_GROUP] = True


def group_for(item: Any, shared_cluster: bool) -> str | None:
    """The xdist group of ``item``: all cluster tests on a shared cluster, else the destructive ones."""
    if shared_cluster and "azchaos_cluster" in getattr(item, "fixturenames", ()):
        return SHARED_CLUSTER_GROUP
    if item.get_closest_marker("azchaos_destructive"):
        return DESTRUCTIVE_GROUP
    return None
