"""An open-loop HTTP prober: requests leave on a fixed schedule, whatever the answers do.

Request *i* is due at ``start + i / rate``; if earlier requests are slow the next ones still
leave on time (no coordinated omission), and latency is measured from the due time. By default
every request opens a new connection, the way new clients arrive at a load balancer; keep-alive
is an option.

Against agnhost netexec (the sample app) one connection carries two pipelined requests,
``/hostname`` then ``/clientip``: the same TCP connection reaches the same pod, so each record
knows both the serving pod and the client address that pod saw.

Runs its own asyncio loop in a background thread; errors inside it are kept and re-raised by
``stop()`` so they surface in the test (pytest-httpserver's ``check()`` convention).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from .. import eventloop
from .recording import ErrorClass, Recording, RequestRecord, Stall

#: Stalls of the prober's own loop shorter than this are timing noise; longer ones are kept on the recording.
STALL_THRESHOLD = 0.1
STALL_TICK = 0.05
#: ``(wall_from, wall_to) -> [(wall_start, wall_end, lag)]``: stalls the system under test reports of its own
#: side (the embedded cluster's event loop); None where nothing reports them.
StallSource = Callable[[float, float], "list[tuple[float, float, float]] | None"]

Mode = Literal["agnhost", "path"]


@dataclass(frozen=True)
class ProbeTarget:
    """Where traffic goes: the load balancer's addresses (IPs or hostnames), port and what to ask."""

    addresses: Sequence[str]
    port: int = 80
    mode: Mode = "agnhost"
    path: str = "/"

    def __post_init__(self) -> None:
        if not self.addresses:
            raise ValueError("a probe target needs at least one address")


class _Response:
    __slots__ = ("body", "status")

    def __init__(self, status: int, body: bytes):
        self.status = status
        self.body = body


async def _read_response(reader: asyncio.StreamReader) -> _Response:
    line = await reader.readline()
    if not line:
        raise ConnectionResetError("connection closed before a response")
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ConnectionResetError(f"malformed status line {line!r}")
    status = int(parts[1])
    length = None
    chunked = False
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.partition(b":")
        lname = name.strip().lower()
        if lname == b"content-length":
            length = int(value.strip())
        elif lname == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readline()).strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        body = await reader.read()
    return _Response(status, body)


def classify(exc: BaseException) -> ErrorClass:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError | asyncio.IncompleteReadError | ConnectionAbortedError):
        return "reset"
    return "other"


class Prober:
    """Send requests to ``target`` at ``rate`` per second until ``stop()``; returns a ``Recording``."""

    def __init__(self, target: ProbeTarget, rate: float = 50.0, timeout: float = 2.0, keep_alive: bool = False,
                 source: str | None = None, max_duration: float = 3600.0, stall_source: StallSource | None = None):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.target = target
        self.rate = rate
        self.timeout = timeout
        self.keep_alive = keep_alive
        self.source = source
        self.max_duration = max_duration
        self.recording = Recording(rate=rate)
        self.stall_source = stall_source
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self.error_reported = False
        self._t0 = 0.0
        self._pools: dict[str, list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
        self._resolved: dict[str, tuple[float, list[str]]] = {}

    # ------------------------------------------------------------------ control

    def start(self) -> Prober:
        self._thread = threading.Thread(target=self._thread_main, name="azchaos-prober", daemon=True)
        self._thread.start()
        self._started.wait(5)
        return self

    def elapsed(self) -> float:
        """Seconds since the first request was due (the recording's time axis)."""
        return time.monotonic() - self._t0 if self._t0 else 0.0

    def stop(self) -> Recording:
        """Stop sending, wait for requests in flight, and return the recording (again, if already stopped)."""
        running = self._thread is not None and self._thread.is_alive()
        if running and self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(self.timeout + 10)
        if running:
            self._add_reported_stalls()
        self.check()
        return self.recording

    def _add_reported_stalls(self) -> None:
        """Stalls the cluster reports of its own side over this recording, on the recording's clock."""
        if self.stall_source is None or not self.recording.wall_start:
            return
        start = self.recording.wall_start
        try:
            reported = self.stall_source(start, time.time())
        except Exception as e:  # not knowing is recorded, never taken as "no stall"
            self.recording.add_stall(Stall(0.0, time.time() - start, 0.0, f"unknown (cluster stalls unreadable: {e})"))
            return
        for s_start, s_end, lag in reported or []:
            self.recording.add_stall(Stall(s_start - start, s_end - start, lag, "the cluster's emulator event loop"))

    def check(self) -> None:
        """Re-raise an error from the prober's thread (``error_reported`` notes that someone was told)."""
        if self._error is not None:
            self.error_reported = True
            raise RuntimeError(f"the traffic prober failed: {self._error!r}") from self._error

    def __enter__(self) -> Prober:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ the loop

    def _thread_main(self) -> None:
        try:
            eventloop.run(self._main())
        except BaseException as e:  # kept for check()
            self._error = e
            self._started.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        loop = self._loop
        self._t0 = time.monotonic()
        start = loop.time()
        self.recording.wall_start = time.time()
        self._started.set()
        tasks: set[asyncio.Task[None]] = set()
        watcher = loop.create_task(self._watch_lag(start))
        seq = 0
        interval = 1.0 / self.rate
        while not self._stop.is_set():
            due = start + seq * interval
            if due - start > self.max_duration:
                break
            delay = due - loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                if self._stop.is_set():
                    break
            task = loop.create_task(self._one(seq, due - start, start))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            seq += 1
        if tasks:
            await asyncio.wait(tasks, timeout=self.timeout + 5)
        watcher.cancel()
        for pool in self._pools.values():
            for _, w in pool:
                w.close()

    async def _watch_lag(self, origin: float) -> None:
        """Keep every moment this loop ran ``STALL_THRESHOLD`` or more late (GIL, CPU starvation): requests
        that fail then failed on our side."""
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(STALL_TICK)
            now = loop.time()
            late = now - before - STALL_TICK
            if late >= STALL_THRESHOLD:
                self.recording.add_stall(Stall(now - late - origin, now - origin, late, "the prober's event loop"))

    async def _addresses(self, host: str) -> list[str]:
        try:
            socket.inet_aton(host)
            return [host]
        except OSError:
            pass
        now = time.monotonic()
        cached = self._resolved.get(host)
        if cached and now - cached[0] < 5:
            return cached[1]
        infos = await asyncio.get_running_loop().getaddrinfo(host, self.target.port, type=socket.SOCK_STREAM)
        ips = sorted({str(i[4][0]) for i in infos})
        self._resolved[host] = (now, ips)
        return ips

    async def _connect(self, host: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.keep_alive and self._pools.get(host):
            return self._pools[host].pop()
        local = (self.source, 0) if self.source else None
        return await asyncio.open_connection(host, self.target.port, local_addr=local)

    async def _one(self, seq: int, due: float, origin: float) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time() - origin
        addresses = self.target.addresses
        name = addresses[seq % len(addresses)]
        target = f"{name}:{self.target.port}"
        status = None
        pod = client_ip = local_ip = None
        error: ErrorClass | None = None
        detail = ""
        writer = None
        reader = None
        host = ""
        try:
            async with asyncio.timeout(self.timeout):
                ips = await self._addresses(name)
                host = ips[seq % len(ips)]
                reader, writer = await self._connect(host)
                local_ip = writer.get_extra_info("sockname")[0]
                close = "" if self.keep_alive else "Connection: close\r\n"
                if self.target.mode == "agnhost":
                    writer.write(f"GET /hostname HTTP/1.1\r\nHost: {name}\r\n\r\n"
                                 f"GET /clientip HTTP/1.1\r\nHost: {name}\r\n{close}\r\n".encode())
                    first = await _read_response(reader)
                    second = await _read_response(reader)
                    status = first.status if first.status >= 400 else second.status
                    if first.status < 400:
                        pod = first.body.decode(errors="replace").strip()
                    if second.status < 400:
                        client_ip = second.body.decode(errors="replace").strip().rsplit(":", 1)[0].strip("[]")
                else:
                    writer.write(f"GET {self.target.path} HTTP/1.1\r\nHost: {name}\r\n{close}\r\n".encode())
                    status = (await _read_response(reader)).status
            if status is not None and status >= 500:
                error, detail = "5xx", f"HTTP {status}"
            elif status is not None and status >= 400:
                error, detail = "bad-status", f"HTTP {status}"
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as e:
            error, detail = classify(e), f"{type(e).__name__}: {e}"
        finally:
            if writer is not None:
                if self.keep_alive and error is None and reader is not None:
                    self._pools.setdefault(host, []).append((reader, writer))
                else:
                    writer.close()
        end = loop.time() - origin
        self.recording.add(RequestRecord(seq, due, started, end - due, target, status, error, detail, pod,
                                         client_ip, local_ip))
