"""Watch streams of the embedded API server, over raw HTTP streaming and the official client."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from aiohttp import web

from pytest_azchaos.embedded.apiserver import subresources
from pytest_azchaos.embedded.apiserver.server import ApiServer
from pytest_azchaos.embedded.apiserver.store import Store


class Stream:
    """A watch read on a thread: lines with their arrival time (seconds after the headers)."""

    def __init__(self, url: str, params: dict[str, str]):
        self.lines: list[tuple[float, dict[str, Any]]] = []
        self.status = 0
        self._resp = requests.get(url, params={"watch": "true", **params}, stream=True, timeout=30)
        self.status = self._resp.status_code
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with self._resp:
            for raw in self._resp.iter_lines():
                if raw:
                    self.lines.append((time.monotonic() - self._t0, json.loads(raw)))

    def wait_for(self, n: int, seconds: float = 5.0) -> None:
        end = time.monotonic() + seconds
        while len(self.lines) < n and time.monotonic() < end:
            time.sleep(0.02)

    def join(self, seconds: float = 20.0) -> list[dict[str, Any]]:
        self._thread.join(seconds)
        assert not self._thread.is_alive(), "the server did not end the stream at timeoutSeconds"
        return [e for _, e in self.lines]

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._t0


def _types(events: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(e["type"], e["object"].get("metadata", {}).get("name")) for e in events]


def _cm_url(api_url: str, ns: str, name: str = "") -> str:
    return f"{api_url}/api/v1/namespaces/{ns}/configmaps" + (f"/{name}" if name else "")


def _create_cm(api_url: str, ns: str, name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    body = {"metadata": {"name": name, "labels": labels or {}}, "data": {"k": "v1"}}
    resp = requests.post(_cm_url(api_url, ns), json=body, timeout=10)
    assert resp.status_code == 201, resp.text
    return resp.json()


def _merge(url: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = requests.patch(url, data=json.dumps(body), headers={"Content-Type": "application/merge-patch+json"},
                          timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _list_rv(api_url: str, ns: str) -> str:
    return requests.get(_cm_url(api_url, ns), timeout=10).json()["metadata"]["resourceVersion"]


# ---------------------------------------------------------------- raw HTTP


def test_watch_from_list_rv_streams_added_modified_deleted(api_url: str, namespace: str) -> None:
    stream = Stream(_cm_url(api_url, namespace), {"resourceVersion": _list_rv(api_url, namespace),
                                                   "timeoutSeconds": "1"})
    created = _create_cm(api_url, namespace, "w1")
    modified = _merge(_cm_url(api_url, namespace, "w1"), {"data": {"k": "v2"}})
    deleted = requests.delete(_cm_url(api_url, namespace, "w1"), timeout=10)
    assert deleted.status_code == 200
    events = stream.join()
    assert stream.status == 200
    assert _types(events) == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]
    assert all(e["object"]["kind"] == "ConfigMap" and e["object"]["apiVersion"] == "v1" for e in events)
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs[0] == int(created["metadata"]["resourceVersion"])
    assert rvs[1] == int(modified["metadata"]["resourceVersion"])
    assert rvs[2] > rvs[1], "a DELETED event carries the deletion's new resourceVersion"


def test_watch_ends_at_timeout_seconds(api_url: str, namespace: str) -> None:
    stream = Stream(_cm_url(api_url, namespace), {"resourceVersion": _list_rv(api_url, namespace),
                                                   "timeoutSeconds": "1"})
    assert stream.join(5) == []
    assert 0.9 <= stream.elapsed < 2.5


@pytest.mark.parametrize("rv", ["0", None], ids=["rv-0", "no-rv"])
def test_watch_without_rv_sends_existing_objects_as_added_then_live_events(api_url: str, namespace: str,
                                                                          rv: str | None) -> None:
    _create_cm(api_url, namespace, "existing")
    params = {"timeoutSeconds": "1"} | ({"resourceVersion": rv} if rv else {})
    stream = Stream(_cm_url(api_url, namespace), params)
    stream.wait_for(2)
    _merge(_cm_url(api_url, namespace, "existing"), {"data": {"k": "v2"}})
    events = stream.join()
    assert sorted(_types(events)[:2]) == [("ADDED", "existing"), ("ADDED", "kube-root-ca.crt")]
    assert _types(events)[2:] == [("MODIFIED", "existing")]


def test_watch_resumes_after_a_resource_version(api_url: str, namespace: str) -> None:
    first = _create_cm(api_url, namespace, "a")
    _create_cm(api_url, namespace, "b")
    _merge(_cm_url(api_url, namespace, "a"), {"data": {"k": "v2"}})
    stream = Stream(_cm_url(api_url, namespace), {"resourceVersion": first["metadata"]["resourceVersion"],
                                                   "timeoutSeconds": "1"})
    assert _types(stream.join()) == [("ADDED", "b"), ("MODIFIED", "a")]


def test_bookmark_comes_two_seconds_before_timeout_after_a_write_elsewhere(api_url: str, namespace: str,
                                                                             core) -> None:
    from kubernetes import client

    stream = Stream(_cm_url(api_url, namespace), {"resourceVersion": _list_rv(api_url, namespace),
                                                   "allowWatchBookmarks": "true", "timeoutSeconds": "4"})
    other = "t-other-" + namespace[2:]
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    try:
        elsewhere = _create_cm(api_url, other, "elsewhere")
        events = stream.join()
    finally:
        core.delete_namespace(other)
    assert events, "expected a BOOKMARK"
    assert {e["type"] for e in events} == {"BOOKMARK"}
    assert events[0]["object"] == {"kind": "ConfigMap", "apiVersion": "v1",
                                   "metadata": {"resourceVersion": elsewhere["metadata"]["resourceVersion"]}}
    arrival = stream.lines[0][0]
    assert 1.5 <= arrival <= 2.8, f"bookmark at {arrival:.2f}s of a 4s watch"


def test_no_bookmark_when_the_resource_did_not_change(api_url: str, namespace: str) -> None:
    stream = Stream(f"{api_url}/apis/apps/v1/namespaces/{namespace}/deployments",
                    {"allowWatchBookmarks": "true", "timeoutSeconds": "2", "resourceVersion": "0"})
    assert stream.join() == []


def test_pod_bookmark_carries_an_empty_pod(api_url: str, namespace: str) -> None:
    pods = f"{api_url}/api/v1/namespaces/{namespace}/pods"
    rv = requests.get(pods, timeout=10).json()["metadata"]["resourceVersion"]
    stream = Stream(pods, {"resourceVersion": rv, "allowWatchBookmarks": "true", "timeoutSeconds": "3",
                           "fieldSelector": "spec.nodeName=nowhere"})
    body = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    assert requests.post(pods, json=body, timeout=10).status_code == 201
    events = stream.join()
    assert events[-1]["type"] == "BOOKMARK"
    assert events[-1]["object"]["spec"] == {"containers": None} and events[-1]["object"]["status"] == {}


def test_label_selector_watch_turns_transitions_into_deleted_and_added(api_url: str, namespace: str) -> None:
    _create_cm(api_url, namespace, "existing", {"sel": "yes"})
    url = _cm_url(api_url, namespace, "existing")
    stream = Stream(_cm_url(api_url, namespace), {"resourceVersion": _list_rv(api_url, namespace),
                                                   "labelSelector": "sel=yes", "timeoutSeconds": "1"})
    away = _merge(url, {"metadata": {"labels": {"sel": "no"}}})
    _merge(url, {"data": {"k": "unseen"}})
    back = _merge(url, {"metadata": {"labels": {"sel": "yes"}}})
    events = stream.join()
    assert _types(events) == [("DELETED", "existing"), ("ADDED", "existing")]
    assert events[0]["object"]["metadata"]["resourceVersion"] == away["metadata"]["resourceVersion"]
    assert events[1]["object"]["metadata"]["resourceVersion"] == back["metadata"]["resourceVersion"]


def test_node_name_field_selector_sees_binding_as_added(api_url: str, namespace: str) -> None:
    node = requests.get(f"{api_url}/api/v1/nodes", timeout=10).json()["items"][0]["metadata"]
    pods = f"{api_url}/api/v1/namespaces/{namespace}/pods"
    rv = requests.get(pods, timeout=10).json()["metadata"]["resourceVersion"]
    stream = Stream(pods, {"resourceVersion": rv, "fieldSelector": f"spec.nodeName={node['name']}",
                           "timeoutSeconds": "1"})
    selector = {"kubernetes.io/hostname": node["labels"]["kubernetes.io/hostname"]}
    body = {"metadata": {"name": "late"}, "spec": {"containers": [{"name": "c", "image": "nginx"}],
                                                    "nodeSelector": selector}}
    assert requests.post(pods, json=body, timeout=10).status_code == 201
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "late"},
               "target": {"kind": "Node", "name": node["name"]}}
    # Whoever binds first (a scheduler, or this Binding), the pod starts matching with a MODIFIED.
    assert requests.post(f"{pods}/late/binding", json=binding, timeout=10).status_code in (201, 409)
    events = stream.join()
    assert _types(events)[0] == ("ADDED", "late")
    assert events[0]["object"]["spec"]["nodeName"] == node["name"]


@pytest.mark.parametrize("style", ["field-selector", "legacy-path"])
def test_single_object_watch_sees_only_that_object(api_url: str, namespace: str, style: str) -> None:
    _create_cm(api_url, namespace, "one")
    _create_cm(api_url, namespace, "two")
    if style == "field-selector":
        stream = Stream(_cm_url(api_url, namespace), {"fieldSelector": "metadata.name=one", "timeoutSeconds": "1"})
    else:
        stream = Stream(_cm_url(api_url, namespace, "one"), {"timeoutSeconds": "1"})
    stream.wait_for(1)
    _merge(_cm_url(api_url, namespace, "two"), {"data": {"k": "x"}})
    _merge(_cm_url(api_url, namespace, "one"), {"data": {"k": "y"}})
    assert _types(stream.join()) == [("ADDED", "one"), ("MODIFIED", "one")]


def test_watch_list_sends_initial_events_then_annotated_bookmark(api_url: str, namespace: str) -> None:
    _create_cm(api_url, namespace, "existing")
    stream = Stream(_cm_url(api_url, namespace), {"sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan",
                                                   "allowWatchBookmarks": "true", "timeoutSeconds": "1"})
    stream.wait_for(3)
    _merge(_cm_url(api_url, namespace, "existing"), {"data": {"k": "v2"}})
    events = stream.join()
    assert sorted(_types(events)[:2]) == [("ADDED", "existing"), ("ADDED", "kube-root-ca.crt")]
    bookmark = events[2]
    assert bookmark["type"] == "BOOKMARK"
    assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert int(bookmark["object"]["metadata"]["resourceVersion"]) >= max(
        int(e["object"]["metadata"]["resourceVersion"]) for e in events[:2])
    assert _types(events)[3] == ("MODIFIED", "existing")


def test_resource_version_match_without_send_initial_events_is_422(api_url: str, namespace: str) -> None:
    resp = requests.get(_cm_url(api_url, namespace), params={"watch": "true", "resourceVersionMatch": "NotOlderThan"},
                        timeout=10)
    assert resp.status_code == 422
    assert resp.json()["message"] == ('ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
                                      "resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
                                      "provided")


def test_future_resource_version_answers_504_error_event(api_url: str, namespace: str) -> None:
    stream = Stream(_cm_url(api_url, namespace), {"resourceVersion": "99999999"})
    events = stream.join(10)
    assert stream.status == 200 and len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["code"], status["reason"]) == (504, "Timeout")
    assert status["message"].startswith("Timeout: Too large resource version: 99999999, current: ")


# ---------------------------------------------------------------- official client


def test_official_client_watch_streams_typed_events(core, api_url: str, namespace: str) -> None:
    from kubernetes import watch

    rv = _list_rv(api_url, namespace)
    _create_cm(api_url, namespace, "c1")
    _merge(_cm_url(api_url, namespace, "c1"), {"data": {"k": "v2"}})
    w = watch.Watch()
    seen = [(e["type"], e["object"].metadata.name, e["object"].data)
            for e in w.stream(core.list_namespaced_config_map, namespace, resource_version=rv, timeout_seconds=1)]
    assert seen == [("ADDED", "c1", {"k": "v1"}), ("MODIFIED", "c1", {"k": "v2"})]


def test_official_client_watch_tracks_bookmark_resource_version(core, api_url: str, namespace: str) -> None:
    from kubernetes import watch

    rv = _list_rv(api_url, namespace)
    created = _create_cm(api_url, namespace, "c1")
    w = watch.Watch()
    types = [e["type"] for e in w.stream(core.list_namespaced_config_map, namespace, resource_version=rv,
                                         allow_watch_bookmarks=True, timeout_seconds=3)]
    assert types == ["ADDED", "BOOKMARK"]
    assert w.resource_version == created["metadata"]["resourceVersion"]


# ---------------------------------------------------------------- a small-history server (too old, slow, gone)


class SmallServer:
    """An API server on its own thread and loop whose store keeps only ``history`` events."""

    def __init__(self, history: int):
        self.store = Store(history=history)
        self.api = ApiServer(self.store)
        subresources.register(self.api)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.runner = web.AppRunner(self.api.app, access_log=None, handle_signals=False)
        self.url = self.call(self._start())

    async def _start(self) -> str:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def watchers(self) -> int:
        async def count() -> int:
            return self.store.watcher_count

        return int(self.call(count()))

    def close(self) -> None:
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def small() -> Iterator[SmallServer]:
    server = SmallServer(history=20)
    requests.post(server.url + "/api/v1/namespaces", json={"metadata": {"name": "s"}}, timeout=10).raise_for_status()
    yield server
    server.close()


def _wrap_history(small: SmallServer) -> int:
    """Write enough that the history window no longer holds RV 2; returns the oldest RV still held."""
    url = small.url + "/api/v1/namespaces/s/configmaps"
    requests.post(url, json={"metadata": {"name": "churn"}}, timeout=10)
    for i in range(25):
        _merge(url + "/churn", {"data": {"i": str(i)}})
    return int(requests.get(url, timeout=10).json()["metadata"]["resourceVersion"]) - 19


def test_too_old_resource_version_answers_200_with_one_410_error_event(small: SmallServer) -> None:
    oldest = _wrap_history(small)
    stream = Stream(small.url + "/api/v1/namespaces/s/configmaps", {"resourceVersion": "2", "timeoutSeconds": "1"})
    events = stream.join(5)
    assert stream.status == 200
    assert events == [{"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f"too old resource version: 2 ({oldest - 1})", "reason": "Expired", "code": 410}}]


def test_official_client_surfaces_too_old_as_api_exception_410(small: SmallServer) -> None:
    from kubernetes import client, watch

    _wrap_history(small)
    cfg = client.Configuration()
    cfg.host = small.url
    with client.ApiClient(cfg) as api:
        core = client.CoreV1Api(api)
        with pytest.raises(client.ApiException) as info:
            for _ in watch.Watch().stream(core.list_namespaced_config_map, "s", resource_version="2",
                                          timeout_seconds=2):
                pass
    assert info.value.status == 410
    assert info.value.reason.startswith("Expired: too old resource version: 2 (")


def test_closed_client_connection_removes_its_watcher(small: SmallServer) -> None:
    before = small.watchers()
    host, port = small.url.split("//")[1].split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(b"GET /api/v1/namespaces/s/configmaps?watch=true&resourceVersion=0 HTTP/1.1\r\nHost: x\r\n\r\n")
    end = time.monotonic() + 3
    while small.watchers() == before and time.monotonic() < end:
        time.sleep(0.02)
    assert small.watchers() == before + 1
    sock.close()
    end = time.monotonic() + 3
    while small.watchers() > before and time.monotonic() < end:
        time.sleep(0.05)
    assert small.watchers() == before


def test_slow_watcher_is_closed_without_blocking_the_server(small: SmallServer) -> None:
    async def lower_limit() -> None:
        small.store.watch_queue_limit = 20

    small.call(lower_limit())
    url = small.url + "/api/v1/namespaces/s/configmaps"
    requests.post(url, json={"metadata": {"name": "big"}}, timeout=10)
    host, port = small.url.split("//")[1].split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    try:
        rv = requests.get(url, timeout=10).json()["metadata"]["resourceVersion"]
        sock.sendall(f"GET /api/v1/namespaces/s/configmaps?watch=true&resourceVersion={rv} HTTP/1.1\r\n"
                     "Host: x\r\n\r\n".encode())
        payload = "x" * 200_000
        started = time.monotonic()
        for i in range(60):
            _merge(url + "/big", {"data": {"v": f"{i}{payload}"}})
        assert time.monotonic() - started < 20, "writes were held up by a watcher that does not read"
        end = time.monotonic() + 5
        while small.watchers() > 0 and time.monotonic() < end:
            time.sleep(0.05)
        assert small.watchers() == 0
    finally:
        sock.close()
