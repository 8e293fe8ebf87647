"""Requests retry where client-go retries them, against the embedded API server's fault switch (real HTTP)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kubernetes.client import ApiException

from pytest_azchaos.embedded.api_faults_client import api_faults
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.kube.retry import api_failure


def test_throttled_reads_are_retried_after_retry_after(plugin_cluster: Cluster, kubeconfig: Path) -> None:
    with api_faults(kubeconfig, {"kinds": {"throttle429": 0.5}, "seed": 3}):
        started = time.monotonic()
        for _ in range(10):
            assert plugin_cluster.core.list_namespace().items  # never raises: 429 + Retry-After is retried
    assert time.monotonic() - started >= 1.0  # it waited what Retry-After said at least once


def test_throttled_writes_are_retried_too(plugin_cluster: Cluster, kubeconfig: Path) -> None:
    with api_faults(kubeconfig, {"kinds": {"throttle429": 0.5}, "verbs": ["patch"], "seed": 5}):
        for i in range(6):
            body = {"metadata": {"annotations": {"azchaos.io/retry-test": str(i)}}}
            plugin_cluster.core.patch_namespace("default", body)
    ns = plugin_cluster.core.read_namespace("default")
    assert ns.metadata.annotations["azchaos.io/retry-test"] == "5"


def test_a_500_without_retry_after_reaches_the_caller_as_an_api_failure(plugin_cluster: Cluster,
                                                                        kubeconfig: Path) -> None:
    with api_faults(kubeconfig, {"kinds": {"error500": 1.0}}), pytest.raises(ApiException) as raised:
        plugin_cluster.core.list_namespace()
    assert api_failure(raised.value) == "the Kubernetes API answered 500 Internal Server Error"


def test_a_404_is_not_an_api_failure(plugin_cluster: Cluster) -> None:
    with pytest.raises(ApiException) as raised:
        plugin_cluster.core.read_namespace("no-such-namespace-here")
    assert api_failure(raised.value) == ""
