"""Fixtures for the image tests: one asyncio loop in a background thread (the cluster's loop stands in),
fresh loopback pod addresses, and a plain HTTP client that can pick its source address."""

from __future__ import annotations

import asyncio
import http.client
import itertools
import os
import threading
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest

from pytest_azchaos.embedded.images import Container, ContainerSpec, default_registry

_addresses = itertools.count(1)


class LoopThread:
    """Runs coroutines on a loop owned by a background thread, as the cluster process would."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.stop()


@pytest.fixture
def pod_ip() -> str:
    """A loopback address no other test uses (127.200.<pid>.<n>)."""
    n = next(_addresses)
    return f"127.200.{os.getpid() % 250 + 1}.{n % 250 + 1}"


@pytest.fixture
def start(loop_thread: LoopThread, pod_ip: str) -> Iterator[Any]:
    """``start(image, args=..., command=...)`` → a started container on ``pod_ip``; killed afterwards."""
    started: list[Container] = []
    registry = default_registry()

    def _start(image: str, *, args: list[str] | None = None, command: list[str] | None = None,
               pod_name: str = "netexec-pod") -> Container:
        spec = ContainerSpec(name="c", pod_name=pod_name, pod_ip=pod_ip, image=image, args=args, command=command)
        container = registry.resolve(image).create_container(spec)
        started.append(container)
        loop_thread.run(container.start())
        return container

    yield _start
    for container in started:
        loop_thread.run(container.kill())


def http_get(host: str, port: int, path: str, *, source: str | None = None, method: str = "GET",
             headers: dict[str, str] | None = None, body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=5, source_address=(source, 0) if source else None)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()
