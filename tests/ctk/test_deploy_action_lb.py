"""The ``deploy_echo_app`` action asks for the load balancer the cluster gives (``lb.detect``, as the game day):
on a cluster running the AWS Load Balancer Controller its Service states class, scheme and target type itself,
and a flavour that cannot work there is refused naming the action's argument before anything is created."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from pytest_azchaos.ctk import actions
from pytest_azchaos.ctk.context import finish
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.lb.flavours import LBC_CLASS, SCHEME_ANNOTATION, TARGET_TYPE_ANNOTATION


@pytest.fixture(scope="module")
def lbc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from .. import clusters

    with clusters.own_cluster(tmp_path_factory.mktemp("ctk-lbc"), lb_controller="lbc") as handle:
        yield handle


@pytest.fixture(scope="module")
def cluster(lbc: Any) -> Iterator[Cluster]:
    c = Cluster(Path(lbc.kubeconfig))
    yield c
    c.close()


def _configuration(handle: Any) -> dict[str, Any]:
    return {"kubeconfig_path": str(handle.kubeconfig), "azchaos_run_id": f"ctk-lb-{uuid.uuid4().hex[:6]}"}


def test_deploy_echo_app_on_an_lbc_cluster_states_class_scheme_and_target_type(lbc: Any, cluster: Cluster) -> None:
    conf = _configuration(lbc)
    namespace = f"ctk-lb-{uuid.uuid4().hex[:5]}"
    try:
        out = actions.deploy_echo_app(namespace, replicas=3, configuration=conf)
        assert out["lb"] == "lbc-instance (instance targets, internet-facing)", out
        svc = cluster.core.read_namespaced_service(out["service"], namespace)
        annotations = svc.metadata.annotations or {}
        assert svc.spec.load_balancer_class == LBC_CLASS, svc.spec
        assert annotations.get(SCHEME_ANNOTATION) == "internet-facing", annotations
        assert annotations.get(TARGET_TYPE_ANNOTATION) == "instance", annotations
        assert out["addresses"], out
    finally:
        actions.delete_app(namespace, configuration=conf)
        finish(conf["azchaos_run_id"])


def test_deploy_echo_app_refuses_legacy_under_the_lbc_webhook_naming_the_argument(lbc: Any, cluster: Cluster) -> None:
    conf = _configuration(lbc)
    namespace = f"ctk-lb-{uuid.uuid4().hex[:5]}"
    try:
        with pytest.raises(ActivityFailed, match=r"^lb legacy cannot work here: .*use lb lbc-instance or lbc-ip"):
            actions.deploy_echo_app(namespace, lb="legacy", configuration=conf)
        assert cluster.core.list_namespaced_service(namespace).items == []
    finally:
        actions.delete_app(namespace, configuration=conf)
        finish(conf["azchaos_run_id"])
