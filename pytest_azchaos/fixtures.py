"""The public fixtures. Thin: each composes the pieces in ``kube/``, ``embedded/`` ..."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .kube.cluster import Cluster


@pytest.fixture(scope="session")
def azchaos_cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The cluster under test (session scope).

    With ``--azchaos-kubeconfig`` (or the ``azchaos_kubeconfig`` ini key) it is that cluster;
    without, an embedded 3-zone cluster is started for the session and stopped afterwards.
    Gives a :class:`pytest_azchaos.kube.cluster.Cluster`: ``.api``, ``.core``, ``.apps``,
    ``.nodes_by_zone()``, ``.kubeconfig``, ``.context``.
    """
    config = request.config
    kubeconfig = config.getoption("azchaos_kubeconfig") or config.getini("azchaos_kubeconfig")
    context = config.getoption("azchaos_context") or config.getini("azchaos_context") or None
    if kubeconfig:
        cluster = Cluster(Path(kubeconfig), context)
        yield cluster
        cluster.close()
        return
    from .embedded.process import start_cluster, stop_cluster

    path = tmp_path_factory.mktemp("azchaos-embedded") / "kubeconfig"
    start_cluster(path)
    cluster = Cluster(path)
    try:
        yield cluster
    finally:
        cluster.close()
        stop_cluster(path)
