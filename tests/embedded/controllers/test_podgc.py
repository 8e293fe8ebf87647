"""Pod GC of orphans (``gcOrphaned``): a pod bound to a node that does not exist is marked Failed with
DisruptionTarget/DeletionByPodGC and deleted with grace 0 once the node's quarantine is over."""

from __future__ import annotations

import asyncio
from typing import Any

from pytest_azchaos.embedded.apiserver.resources import REGISTRY
from pytest_azchaos.embedded.apiserver.store import Event, Store
from pytest_azchaos.embedded.controllers.podgc import QUARANTINE_SECONDS, PodGCController

PODS, NODES, NAMESPACES = (REGISTRY.lookup("", "v1", p) for p in ("pods", "nodes", "namespaces"))
QUARANTINE = 0.2


def _pod(name: str, node: str) -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"nodeName": node, "containers": [{"name": "app", "image": "pause"}]}}


def _cluster() -> tuple[Store, list[Event]]:
    store = Store()
    seen: list[Event] = []
    store.add_listener(seen.append)
    assert NAMESPACES is not None and NODES is not None
    store.create(NAMESPACES, "", {"metadata": {"name": "ns"}})
    store.create(NODES, "", {"metadata": {"name": "here"}})
    return store, seen


def test_upstream_quarantine_is_the_default() -> None:
    assert QUARANTINE_SECONDS == 40.0
    assert PodGCController(Store()).quarantine == 40.0


def test_orphan_is_marked_and_deleted_after_the_quarantine() -> None:
    async def run() -> None:
        store, seen = _cluster()
        gc = PodGCController(store, quarantine=QUARANTINE)
        assert PODS is not None
        store.create(PODS, "ns", _pod("orphan", "gone"))
        store.create(PODS, "ns", _pod("kept", "here"))
        await asyncio.sleep(QUARANTINE / 2)
        assert store.peek("pods", "ns", "orphan") is not None  # still in quarantine
        await asyncio.sleep(QUARANTINE)
        assert store.peek("pods", "ns", "orphan") is None
        assert store.peek("pods", "ns", "kept") is not None
        assert gc.errors == []
        marked = [e.obj for e in seen if e.key == "pods" and e.type == "MODIFIED"
                  and e.obj["metadata"]["name"] == "orphan" and not e.obj["metadata"].get("deletionTimestamp")]
        status = marked[-1]["status"]
        assert status["phase"] == "Failed"
        cond = next(c for c in status["conditions"] if c["type"] == "DisruptionTarget")
        assert (cond["status"], cond["reason"], cond["message"]) == ("True", "DeletionByPodGC",
                                                                     "PodGC: node no longer exists")
        deleted = [e for e in seen if e.type == "DELETED" and e.obj["metadata"]["name"] == "orphan"]
        assert deleted and deleted[0].obj["metadata"]["deletionGracePeriodSeconds"] == 0

    asyncio.run(run())


def test_a_node_that_shows_up_during_the_quarantine_keeps_its_pods() -> None:
    async def run() -> None:
        store, _ = _cluster()
        gc = PodGCController(store, quarantine=QUARANTINE)
        assert PODS is not None and NODES is not None
        store.create(PODS, "ns", _pod("early", "late-node"))
        store.create(NODES, "", {"metadata": {"name": "late-node"}})
        await asyncio.sleep(QUARANTINE * 2)
        assert store.peek("pods", "ns", "early") is not None
        assert gc.errors == []

    asyncio.run(run())


def test_deleting_a_node_orphans_its_pods() -> None:
    async def run() -> None:
        store, _ = _cluster()
        gc = PodGCController(store, quarantine=QUARANTINE)
        assert PODS is not None and NODES is not None
        store.create(PODS, "ns", _pod("onnode", "here"))
        store.delete(NODES, "", "here")
        await asyncio.sleep(QUARANTINE * 2)
        assert store.peek("pods", "ns", "onnode") is None
        assert gc.errors == []

    asyncio.run(run())
