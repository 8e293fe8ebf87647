"""The scheduler's node snapshot follows the store, and what a NodeInfo memoizes (matching-pod counts, pods
with affinity terms) is never stale: a node whose pods change is rebuilt."""

from __future__ import annotations

import pytest

from pytest_azchaos.embedded.apiserver.resources import REGISTRY
from pytest_azchaos.embedded.apiserver.store import Store
from pytest_azchaos.embedded.controllers.scheduler_cache import NodeInfoCache

PODS = REGISTRY.lookup("", "v1", "pods")
NODES = REGISTRY.lookup("", "v1", "nodes")
ANTI_AFFINITY = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
    {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}


@pytest.fixture
def store() -> Store:
    s = Store()
    s.create(REGISTRY.lookup("", "v1", "namespaces"), "", {"metadata": {"name": "ns"}})
    s.create(NODES, "", {"metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}},
                         "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"}}})
    return s


def bound_pod(store: Store, name: str, app: str, **spec: object) -> dict:
    return store.create(PODS, "ns", {"metadata": {"name": name, "labels": {"app": app}},
                                     "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "x"}], **spec}})


def web_count(cache: NodeInfoCache) -> int:
    (info,) = cache.snapshot()
    return info.count_matching("app=web", lambda p: p["metadata"]["labels"].get("app") == "web")


def test_matching_count_follows_a_relabelled_pod(store: Store) -> None:
    cache = NodeInfoCache(store)
    pod = bound_pod(store, "p1", "web")
    assert web_count(cache) == 1
    pod["metadata"]["labels"]["app"] = "db"
    store.update(PODS, "ns", "p1", pod)
    assert web_count(cache) == 0


def test_matching_count_follows_pods_added_and_deleted(store: Store) -> None:
    cache = NodeInfoCache(store)
    bound_pod(store, "p1", "web")
    assert web_count(cache) == 1
    bound_pod(store, "p2", "web")
    assert web_count(cache) == 2
    store.delete(PODS, "ns", "p1", grace_seconds=0)
    assert web_count(cache) == 1


def test_only_pods_with_pod_affinity_terms_are_listed_for_inter_pod_affinity(store: Store) -> None:
    cache = NodeInfoCache(store)
    bound_pod(store, "plain", "web")
    bound_pod(store, "picky", "web", affinity=ANTI_AFFINITY)
    (info,) = cache.snapshot()
    assert [p["metadata"]["name"] for p in info.pods_with_affinity] == ["picky"]
    assert len(info.pods) == 2
