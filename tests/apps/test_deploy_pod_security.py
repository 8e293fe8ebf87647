"""The sample apps where Pod Security ``restricted`` is enforced: the well-configured app runs there; the old
root-running spec is refused, and the deploy's failure says so with the admission's own message."""

from __future__ import annotations

import dataclasses

import pytest
from kubernetes import client

from pytest_azchaos.apps import EchoSpec
from pytest_azchaos.apps.app import AppError
from pytest_azchaos.apps.deploy import deploy_echo
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.timing import FAST

RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted"}


@pytest.fixture
def restricted_ns(core: client.CoreV1Api, namespace: str) -> str:
    core.patch_namespace(namespace, {"metadata": {"labels": RESTRICTED}})
    return namespace


def test_the_sample_app_runs_where_restricted_is_enforced(plugin_cluster: Cluster, restricted_ns: str) -> None:
    app = deploy_echo(plugin_cluster, restricted_ns, EchoSpec(replicas=3), FAST)
    assert len(app.ready_pods()) == 3 and app.addresses


def test_the_root_running_spec_is_refused_naming_pod_security(plugin_cluster: Cluster, restricted_ns: str) -> None:
    quick = dataclasses.replace(FAST, app_ready_timeout=4.0)
    with pytest.raises(AppError) as refused:
        deploy_echo(plugin_cluster, restricted_ns, EchoSpec(replicas=1, run_as_user=None), quick)
    message = str(refused.value)
    assert "pods: none" in message
    assert "FailedCreate" in message and 'violates PodSecurity "restricted:latest"' in message, message
    assert "runAsNonRoot != true" in message, message
