"""The ``deploy_echo_app`` action takes the sample app's image like the plugin does (``azchaos_image*`` keys of
the experiment's configuration) and refuses a bad one naming the experiment's key, before creating anything."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from pytest_azchaos.ctk import actions
from pytest_azchaos.ctk.context import finish


def _configuration(ctk_cluster: Any) -> dict[str, Any]:
    return {"kubeconfig_path": str(ctk_cluster.kubeconfig), "azchaos_run_id": f"ctk-deploy-{uuid.uuid4().hex[:6]}"}


def test_deploy_echo_app_runs_the_configured_image(ctk_cluster: Any, cluster: Any) -> None:
    conf = {**_configuration(ctk_cluster), "azchaos_image": "mirror.example.com/e2e-test-images/agnhost:2.52"}
    namespace = f"ctk-img-{uuid.uuid4().hex[:5]}"
    try:
        with pytest.raises(ActivityFailed) as failed:  # a registry this cluster cannot reach: the pull fails
            actions.deploy_echo_app(namespace, replicas=3, ready_timeout=15, configuration=conf)
        assert "did not become ready" in str(failed.value)
        images = {c.image for p in cluster.core.list_namespaced_pod(namespace).items for c in p.spec.containers}
        assert images == {conf["azchaos_image"]}
    finally:
        actions.delete_app(namespace, configuration=conf)
        finish(conf["azchaos_run_id"])


def test_deploy_echo_app_refuses_a_bad_image_naming_the_configuration_key(ctk_cluster: Any, cluster: Any) -> None:
    conf = {**_configuration(ctk_cluster), "azchaos_image": "Agnhost:2.52"}
    namespace = f"ctk-img-{uuid.uuid4().hex[:5]}"
    try:
        with pytest.raises(ActivityFailed, match=r"^azchaos_image 'Agnhost:2.52' is not an image reference"):
            actions.deploy_echo_app(namespace, configuration=conf)
        assert cluster.apps.list_namespaced_deployment(namespace).items == []
    finally:
        actions.delete_app(namespace, configuration=conf)
        finish(conf["azchaos_run_id"])
