"""An open-loop HTTP prober: requests leave on a fixed schedule, whatever the answers do.

Request *i* is due at ``start + i / rate``; if earlier requests are slow the next ones still
leave on time (no coordinated omission), and latency is measured from the due time. By default
every request opens a new connection, the way new clients arrive at a load balancer; keep-alive
is an option.

Against agnhost netexec (the sample app, mode ``agnhost``) one connection carries two pipelined
requests, ``/hostname`` then ``/clientip``: the same TCP connection reaches the same pod, so each
record knows both the serving pod and the client address that pod saw.

Against any other service (mode ``path``: the user's own, ``--azchaos-target``) each request asks one
path with the target's Host header and headers, over TLS if asked (a CA bundle, or no verification),
and counts the answer as served when its status is one of the target's; the serving pod comes from a
response header naming it and the client address from an echo endpoint asked right after on the same
connection, when the target has them. Every record says which load-balancer address (and, when the
plugin could map it, which zone's) it went through, and why it failed: refused, reset, timeout, 5xx,
bad-status. With keep-alive a pooled connection the server had closed meanwhile is retried once on a
new one before anything counts, as HTTP clients do for idempotent requests.

A load balancer's hostname is resolved through the cluster's declared resolver (or the system's) and
re-resolved when its record's TTL runs out, as a real client does (``lb.resolve``); each record keeps the
address it connected to (``lb_address``).

Runs its own asyncio loop in a background thread; errors inside it are kept and re-raised by
``stop()`` so they surface in the test (pytest-httpserver's ``check()`` convention).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .. import eventloop
from ..eventloop import LateRun
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
    """Where traffic goes: the load balancer's addresses (IPs or hostnames), port and what to ask.

    ``mode`` ``agnhost`` asks netexec's ``/hostname`` + ``/clientip``; ``path`` asks ``path`` and counts
    ``statuses`` (inclusive ranges) as served. ``host`` is the Host header and TLS server name (default: the
    address); ``tls`` with ``ca`` (a PEM bundle; default the system's) or ``verify=False``. ``echo``: a path
    answering the client address, asked after ``path`` on the same connection; ``pod_header``: a response
    header naming the serving pod. ``zones``: load-balancer address -> its zone, where known (never guessed).
    """

    addresses: Sequence[str]
    port: int = 80
    mode: Mode = "agnhost"
    path: str = "/"
    statuses: tuple[tuple[int, int], ...] = ((200, 399),)
    host: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    tls: bool = False
    ca: str | None = None
    verify: bool = True
    echo: str | None = None
    pod_header: str | None = None
    zones: Mapping[str, str] = field(default_factory=dict)
    #: ``HOST:PORT`` of the DNS server that answers the load balancer's hostnames (the kubeconfig's declared
    #: resolver, ``kube.kubeconfig.declared_resolver``); None: the system resolver.
    resolver: str | None = None

    def __post_init__(self) -> None:
        if not self.addresses:
            raise ValueError("a probe target needs at least one address")

    def accepts(self, status: int) -> bool:
        return any(lo <= status <= hi for lo, hi in self.statuses)

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS client context (None for plain HTTP): the CA bundle or the system's, or no verification."""
        if not self.tls:
            return None
        context = ssl.create_default_context(cafile=self.ca)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


class _Response:
    __slots__ = ("body", "headers", "status", "version")

    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None, version: str = "HTTP/1.1"):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.version = version

    @property
    def keeps_connection(self) -> bool:
        """The server leaves the connection open for the next request (HTTP/1.1 unless it says close)."""
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


class _StaleConnection(ConnectionResetError):
    """A pooled connection was closed by the server before any byte of the answer: retried once, not counted."""


async def _read_response(reader: asyncio.StreamReader) -> _Response:
    line = await reader.readline()
    if not line:
        raise ConnectionResetError("connection closed before a response")
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ConnectionResetError(f"malformed status line {line!r}")
    status = int(parts[1])
    version = parts[0].decode(errors="replace")
    length = None
    chunked = False
    headers: dict[str, str] = {}
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.partition(b":")
        lname = name.strip().lower()
        headers[lname.decode(errors="replace")] = value.strip().decode(errors="replace")
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
    else:  # delimited by the end of the connection
        body = await reader.read()
        headers["connection"] = "close"
    return _Response(status, body, headers, version)


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
        self._ssl = target.ssl_context()
        from ..lb.resolve import LbResolver

        self._resolver = LbResolver(target.resolver)

    # ------------------------------------------------------------------ control

    def start(self) -> Prober:
        self._thread = threading.Thread(target=self._thread_main, name="azchaos-prober", daemon=True)
        self._thread.start()
        self._started.wait(5)
        return self

    def elapsed(self) -> float:
        """Seconds since the first request was due (the recording's time axis)."""
        return self.elapsed_at(time.monotonic())

    def elapsed_at(self, monotonic: float) -> float:
        """A ``time.monotonic()`` reading on the recording's time axis (when a fault really began, say)."""
        return monotonic - self._t0 if self._t0 else 0.0

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
        """Keep every run of late ticks that made this loop ``STALL_THRESHOLD`` or more late in all (GIL, CPU
        starvation: late by a little on every tick adds up as much as one long hold): requests that fail
        then failed on our side."""
        loop = asyncio.get_running_loop()
        run = LateRun(floor=STALL_TICK)  # consecutive late ticks are one stall with their total lag
        kept: Stall | None = None  # the current run's stall, once kept
        while True:
            before = loop.time()
            await asyncio.sleep(STALL_TICK)
            now = loop.time()
            span = run.add(now - origin, now - before - STALL_TICK)
            if span is None:
                kept = None
            elif span[2] >= STALL_THRESHOLD:
                stall = Stall(*span, "the prober's event loop")
                if kept is None:
                    self.recording.add_stall(stall)
                else:
                    self.recording.replace_stall(kept, stall)
                kept = stall

    async def _addresses(self, host: str) -> list[str]:
        """``host``'s addresses now: kept for the record's TTL, then asked again (``lb.resolve``), so a zone the
        load balancer's DNS dropped stops getting new connections when a real client's would."""
        return list((await self._resolver.aresolve(host)).addresses)

    async def _open(self, name: str, host: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        local = (self.source, 0) if self.source else None
        if self._ssl is None:
            return await asyncio.open_connection(host, self.target.port, local_addr=local)
        server_name = _without_port(self.target.host or name)  # an IP is matched against the certificate's IPs
        return await asyncio.open_connection(host, self.target.port, local_addr=local, ssl=self._ssl,
                                             server_hostname=server_name)

    async def _one(self, seq: int, due: float, origin: float) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time() - origin
        addresses = self.target.addresses
        name = addresses[seq % len(addresses)]
        target = f"{name}:{self.target.port}"
        status = None
        pod = client_ip = local_ip = lb_zone = None
        error: ErrorClass | None = None
        detail = ""
        conn: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        keep = False
        host = ""
        try:
            async with asyncio.timeout(self.timeout):
                ips = await self._addresses(name)
                host = ips[seq % len(ips)]
                lb_zone = self.target.zones.get(host) or self.target.zones.get(name)
                pooled = self._pools.get(host) if self.keep_alive else None
                if pooled:
                    conn.append(pooled.pop())
                    try:
                        status, pod, client_ip, keep = await self._ask(name, *conn[-1])
                    except _StaleConnection:
                        conn.pop()[1].close()
                if not conn:
                    conn.append(await self._open(name, host))
                    status, pod, client_ip, keep = await self._ask(name, *conn[-1])
                local_ip = conn[-1][1].get_extra_info("sockname")[0]
            if status is not None and not self._served(status):
                error, detail = ("5xx" if status >= 500 else "bad-status"), f"HTTP {status}"
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as e:
            cause = e.__cause__ if isinstance(e, _StaleConnection) and e.__cause__ is not None else e
            error, detail = classify(cause), f"{type(cause).__name__}: {cause}"
        finally:
            if conn:
                reader, writer = conn[-1]
                if local_ip is None:
                    with contextlib.suppress(Exception):
                        local_ip = writer.get_extra_info("sockname")[0]
                if self.keep_alive and keep and error is None:
                    self._pools.setdefault(host, []).append((reader, writer))
                else:
                    writer.close()
        end = loop.time() - origin
        self.recording.add(RequestRecord(seq, due, started, end - due, target, status, error, detail, pod,
                                         client_ip, local_ip, lb_zone, lb_address=host or None))

    def _served(self, status: int) -> bool:
        if self.target.mode == "agnhost":
            return status < 400
        return self.target.accepts(status)

    async def _ask(self, name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                   ) -> tuple[int, str | None, str | None, bool]:
        """One exchange on an open connection: (status, pod, client address, connection reusable). A pooled
        connection closed by the server before any byte of the answer raises ``_StaleConnection``."""
        close = "" if self.keep_alive else "Connection: close\r\n"
        host = self.target.host or name
        pod = client_ip = None
        if self.target.mode == "agnhost":
            writer.write(f"GET /hostname HTTP/1.1\r\nHost: {host}\r\n\r\n"
                         f"GET /clientip HTTP/1.1\r\nHost: {host}\r\n{close}\r\n".encode())
            first = await self._read(reader)
            second = await _read_response(reader)
            status = first.status if first.status >= 400 else second.status
            if first.status < 400:
                pod = first.body.decode(errors="replace").strip()
            if second.status < 400:
                client_ip = _address(second.body)
            return status, pod, client_ip, second.keeps_connection
        extra = "".join(f"{k}: {v}\r\n" for k, v in self.target.headers)
        request = f"GET {self.target.path} HTTP/1.1\r\nHost: {host}\r\n{extra}"
        if self.target.echo:
            writer.write((request + "\r\n" + f"GET {self.target.echo} HTTP/1.1\r\nHost: {host}\r\n{extra}"
                          f"{close}\r\n").encode())
        else:
            writer.write((request + close + "\r\n").encode())
        answer = await self._read(reader)
        keeps = answer.keeps_connection
        if self.target.pod_header:
            pod = answer.headers.get(self.target.pod_header.lower()) or None
        if self.target.echo:
            if not keeps:  # the server closed after the first answer: no address this time, not a failure
                return answer.status, pod, None, False
            echo = await _read_response(reader)
            if echo.status < 400:
                client_ip = _address(echo.body)
            pod = pod or (echo.headers.get(self.target.pod_header.lower()) if self.target.pod_header else None)
            keeps = echo.keeps_connection
        return answer.status, pod, client_ip, keeps

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> _Response:
        """The first answer on a connection; ``_StaleConnection`` when not one byte of it came back."""
        try:
            return await _read_response(reader)
        except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError) as e:
            if _nothing_received(e):
                raise _StaleConnection(f"{type(e).__name__}: {e}") from e
            raise


def _nothing_received(error: BaseException) -> bool:
    if isinstance(error, asyncio.IncompleteReadError):
        return not error.partial
    return not str(error).startswith("malformed status line")


def _address(body: bytes) -> str:
    """An echo endpoint's answer (``IP``, ``IP:port``, ``[v6]:port``) as the bare address."""
    text = body.decode(errors="replace").strip()
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def _without_port(host: str) -> str:
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
