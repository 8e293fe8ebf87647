"""The relay every hop is built on: data both ways, half-close carried through, and no socket kept
once a connection has ended (a leak here exhausts file descriptors under sustained traffic)."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from pytest_azchaos.embedded.network.relay import Listener, Route

BACKEND, RELAY = "127.214.0.1", "127.214.0.2"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def _echo_until_eof(host: str) -> asyncio.base_events.Server:
    """Reads the request to its end (the client's FIN), answers, then half-closes like an HTTP/1.0 server."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()
        writer.write(b"got " + data)
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, host, 0, reuse_address=True)


async def _exchange(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(RELAY, port)
    writer.write(payload)
    writer.write_eof()  # half-close: the answer still comes back
    try:
        return await asyncio.wait_for(reader.read(), 2)
    finally:
        writer.close()


@pytest.fixture
def relay_pair():
    async def start() -> tuple[asyncio.base_events.Server, Listener]:
        backend = await _echo_until_eof(BACKEND)
        port = backend.sockets[0].getsockname()[1]
        listener = await Listener(RELAY, 0, lambda peer: Route(BACKEND, port)).start()
        return backend, listener

    return start


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_connections_ended_by_a_fin_each_way_release_their_sockets(relay_pair) -> None:
    async def run() -> tuple[list[bytes], int, int]:
        backend, listener = await relay_pair()
        before = open_fds()
        answers = [await _exchange(listener.port, b"ping %d" % i) for i in range(200)]
        await asyncio.sleep(0.2)
        after = open_fds()
        listener.close()
        backend.close()
        return answers, before, after

    answers, before, after = asyncio.run(run())
    assert answers == [b"got ping %d" % i for i in range(200)]
    assert after - before <= 5, f"{after - before} descriptors still open after 200 finished connections"


def test_a_refused_backend_ends_the_client_connection_unanswered(relay_pair) -> None:
    async def run() -> BaseException | bytes:
        probe = socket.socket()
        probe.bind((BACKEND, 0))
        closed_port = probe.getsockname()[1]
        probe.close()  # nothing listens there
        listener = await Listener(RELAY, 0, lambda peer: Route(BACKEND, closed_port)).start()
        try:
            return await _exchange(listener.port, b"hello")
        except (ConnectionResetError, asyncio.IncompleteReadError) as e:
            return e
        finally:
            listener.close()

    outcome = asyncio.run(run())
    assert outcome == b"" or isinstance(outcome, ConnectionResetError), f"expected no answer, got {outcome!r}"
