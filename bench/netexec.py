"""Requests per second that an emulated ``agnhost netexec`` serves for ``/hostname``.

The server runs on one asyncio loop in this process (as in the cluster process); the load comes
from a separate process with several client threads, using raw sockets so the client is cheap.
Two modes: a new TCP connection per request, and keep-alive.

    .venv/bin/python bench/netexec.py [--seconds 3] [--threads 4]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import threading
import time

from pytest_azchaos.embedded.images import ContainerSpec, default_registry

POD_IP = "127.222.0.10"
REQUEST = b"GET /hostname HTTP/1.1\r\nHost: pod\r\n\r\n"
REQUEST_CLOSE = b"GET /hostname HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n"


def _read_response(sock: socket.socket) -> None:
    data = b""
    while not data.endswith(b"bench-pod"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk


def _client(mode: str, seconds: float, counts: list[int], index: int) -> None:
    deadline = time.monotonic() + seconds
    n = 0
    if mode == "keepalive":
        with socket.create_connection((POD_IP, 8080)) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while time.monotonic() < deadline:
                s.sendall(REQUEST)
                _read_response(s)
                n += 1
    else:
        while time.monotonic() < deadline:
            with socket.create_connection((POD_IP, 8080)) as s:
                s.sendall(REQUEST_CLOSE)
                _read_response(s)
            n += 1
    counts[index] = n


def _load(mode: str, seconds: float, threads: int, out: multiprocessing.Queue) -> None:
    counts = [0] * threads
    workers = [threading.Thread(target=_client, args=(mode, seconds, counts, i)) for i in range(threads)]
    start = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put(sum(counts) / (time.monotonic() - start))


async def _main(seconds: float, threads: int) -> None:
    spec = ContainerSpec(name="c", pod_name="bench-pod", pod_ip=POD_IP, args=["netexec"])
    container = default_registry().resolve("registry.k8s.io/e2e-test-images/agnhost:2.52").create_container(spec)
    await container.start()
    loop = asyncio.get_running_loop()
    try:
        for mode in ("new-connection", "keepalive"):
            queue: multiprocessing.Queue = multiprocessing.Queue()
            proc = multiprocessing.Process(target=_load, args=(mode, seconds, threads, queue))
            proc.start()
            rate = await loop.run_in_executor(None, queue.get)
            await loop.run_in_executor(None, proc.join)
            print(f"{mode:>15}: {rate:8.0f} req/s  ({threads} client threads, {seconds:g}s)")
    finally:
        await container.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(_main(args.seconds, args.threads))


if __name__ == "__main__":
    main()
