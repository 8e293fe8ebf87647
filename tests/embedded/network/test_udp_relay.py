"""UDP ClusterIP relay over real sockets: the client's address reaches the endpoint, answers come back from the
ClusterIP, a flow sticks to its endpoint while usable, dropped datagrams go unanswered, idle sockets close."""

from __future__ import annotations

import asyncio
from typing import Any

from pytest_azchaos.embedded.network.relay import Route
from pytest_azchaos.embedded.network.udp_relay import UdpListener

FRONT, CLIENT = "127.77.96.10", "127.78.0.1"
BACKENDS = ("127.78.0.11", "127.78.0.12")


class _Echo(asyncio.DatagramProtocol):
    """Answers ``<own address> <peer address>``."""

    def __init__(self, me: str) -> None:
        self.me = me

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.transport.sendto(f"{self.me} {addr[0]}".encode(), addr)  # type: ignore[attr-defined]


async def _ask(port: int, data: bytes = b"x", timeout: float = 0.5, sock: asyncio.DatagramTransport | None = None
               ) -> tuple[str, tuple[str, int]] | None:
    loop = asyncio.get_running_loop()
    got: asyncio.Future[tuple[bytes, tuple[str, int]]] = loop.create_future()

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, d: bytes, addr: tuple[str, int]) -> None:
            if not got.done():
                got.set_result((d, addr))

    transport, _ = await loop.create_datagram_endpoint(Client, local_addr=(CLIENT, 0), remote_addr=(FRONT, port))
    try:
        transport.sendto(data)
        d, addr = await asyncio.wait_for(got, timeout)
        return d.decode(), addr
    except TimeoutError:
        return None
    finally:
        transport.close()


async def _start(router: Any, still_usable: Any = None, socket_idle: float = 1.0) -> tuple[UdpListener, list[int]]:
    loop = asyncio.get_running_loop()
    ports = []
    listener = UdpListener(FRONT, 0, router, still_usable, socket_idle=socket_idle)
    for host in BACKENDS:
        transport, _ = await loop.create_datagram_endpoint(lambda h=host: _Echo(h), local_addr=(host, 0))
        ports.append(transport.get_extra_info("sockname")[1])
        _ECHOES.setdefault(id(listener), []).append(transport)
    await listener.start()
    return listener, ports


_ECHOES: dict[int, list[asyncio.BaseTransport]] = {}


def _close(listener: UdpListener) -> None:
    listener.close()
    for transport in _ECHOES.pop(id(listener), []):
        transport.close()


def test_client_address_reaches_the_endpoint_and_answers_come_from_the_clusterip() -> None:
    async def run() -> None:
        ports: list[int] = []
        listener, started = await _start(lambda peer: Route(BACKENDS[0], ports[0]))
        ports += started
        port = listener.transport.get_extra_info("sockname")[1]  # type: ignore[union-attr]
        answer = await _ask(port)
        assert answer is not None and answer[0] == f"{BACKENDS[0]} {CLIENT}", answer
        assert answer[1] == (FRONT, port), answer
        _close(listener)

    asyncio.run(run())


def test_dropped_datagrams_go_unanswered() -> None:
    async def run() -> None:
        listener, _ = await _start(lambda peer: None)
        port = listener.transport.get_extra_info("sockname")[1]  # type: ignore[union-attr]
        assert await _ask(port, timeout=0.3) is None
        assert listener.dropped == 1
        _close(listener)

    asyncio.run(run())


def test_a_flow_sticks_to_its_endpoint_until_it_is_no_longer_usable_and_survives_its_socket_closing() -> None:
    async def run() -> None:
        usable = {0, 1}
        turn = iter([0, 1, 1, 1])
        ports: list[int] = []

        def router(peer: tuple[str, int]) -> Route:
            i = next(turn)
            return Route(BACKENDS[i], ports[i])

        listener, started = await _start(router, lambda r, _client: BACKENDS.index(r.host) in usable, socket_idle=0.2)
        ports += started
        front = listener.transport.get_extra_info("sockname")[1]  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        answers: asyncio.Queue[bytes] = asyncio.Queue()

        class Client(asyncio.DatagramProtocol):
            def datagram_received(self, d: bytes, addr: tuple[str, int]) -> None:
                answers.put_nowait(d)

        transport, _ = await loop.create_datagram_endpoint(Client, local_addr=(CLIENT, 0),
                                                           remote_addr=(FRONT, front))
        transport.sendto(b"1")
        assert (await asyncio.wait_for(answers.get(), 1)).decode().startswith(BACKENDS[0])
        await asyncio.sleep(0.5)  # the flow's socket closes; the flow stays
        (flow,) = listener.flows.values()
        assert flow.transport is None
        transport.sendto(b"2")
        assert (await asyncio.wait_for(answers.get(), 1)).decode().startswith(BACKENDS[0])
        usable.discard(0)  # kube-proxy removed the endpoint: the flow is routed afresh
        transport.sendto(b"3")
        assert (await asyncio.wait_for(answers.get(), 1)).decode().startswith(BACKENDS[1])
        transport.close()
        _close(listener)

    asyncio.run(run())
