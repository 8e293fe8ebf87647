"""A small, fast HTTP/1.1 server as an asyncio ``Protocol``, answering the way Go's ``net/http`` does.

Why not aiohttp's server: the data path (NLB → node → pod) must carry thousands of requests per
second on two shared cores, and a hand-written protocol costs a fraction of a full framework per
request (see ``bench/netexec.py``). It supports keep-alive, ``Connection: close``, HTTP/1.0,
pipelining, ``Content-Length`` bodies and HEAD; chunked request bodies are refused with 400.

Responses carry Go's headers in Go's order: explicit headers (sorted), ``Date``, ``Content-Length``,
a sniffed ``Content-Type`` when none was set, and ``Connection: close`` when closing.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

_STATUS_TEXT = {s.value: s.phrase for s in HTTPStatus}
_STATUS_TEXT.update({414: "Request URI Too Long", 418: "I'm a teapot", 413: "Request Entity Too Large",
                     416: "Requested Range Not Satisfiable", 422: "Unprocessable Entity"})
_STATUS_LINES: dict[int, bytes] = {}

MAX_HEADER_BYTES = 1 << 20


def status_text(code: int) -> str:
    """``http.StatusText`` (empty for unknown codes)."""
    return _STATUS_TEXT.get(code, "")


def _status_line(code: int) -> bytes:
    line = _STATUS_LINES.get(code)
    if line is None:
        text = _STATUS_TEXT.get(code) or f"status code {code}"
        line = f"HTTP/1.1 {code:03d} {text}\r\n".encode("latin-1")
        _STATUS_LINES[code] = line
    return line


_date_second = -1
_date_header = b""


def _date() -> bytes:
    global _date_second, _date_header
    now = int(time.time())
    if now != _date_second:
        _date_header = b"Date: " + email.utils.formatdate(now, usegmt=True).encode() + b"\r\n"
        _date_second = now
    return _date_header


def sniff_content_type(body: bytes) -> str:
    """A reduced ``http.DetectContentType`` covering what the images write."""
    head = body[:512].lstrip(b"\t\n\x0c\r ").lower()
    for sig in (b"<!doctype html", b"<html", b"<head", b"<script", b"<iframe", b"<h1", b"<div", b"<font",
                b"<table", b"<a", b"<style", b"<title", b"<b", b"<body", b"<br", b"<p", b"<!--"):
        if head.startswith(sig) and len(head) > len(sig) and head[len(sig)] in b" >":
            return "text/html; charset=utf-8"
    if head.startswith(b"<?xml"):
        return "text/xml; charset=utf-8"
    if any(b < 0x20 and b not in (9, 10, 12, 13, 27) for b in body[:512]):
        return "application/octet-stream"
    return "text/plain; charset=utf-8"


class Request:
    """One parsed request; header names are kept as sent, lookups are case-insensitive."""

    __slots__ = ("_form", "body", "headers", "method", "path", "peer", "query", "target", "version")

    def __init__(self, method: str, target: str, version: str, headers: list[tuple[str, str]],
                 body: bytes, peer: tuple[str, int]) -> None:
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.peer = peer
        path, _, query = target.partition("?")
        self.path = path
        self.query = query
        self._form: dict[str, list[str]] | None = None

    @property
    def remote_addr(self) -> str:
        """Go's ``r.RemoteAddr``: ``ip:port`` (IPv6 in brackets); empty for a synthesized request."""
        host, port = self.peer[0], self.peer[1]
        if not host:
            return ""
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def header(self, name: str) -> str:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return ""

    def form(self) -> dict[str, list[str]]:
        """``r.Form``: urlencoded body values (POST/PUT/PATCH) first, then the query's."""
        if self._form is None:
            form: dict[str, list[str]] = {}
            if self.method in ("POST", "PUT", "PATCH") and self.body and \
                    self.header("content-type").startswith("application/x-www-form-urlencoded"):
                for k, v in parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True).items():
                    form.setdefault(k, []).extend(v)
            if self.query:
                for k, v in parse_qs(self.query, keep_blank_values=True).items():
                    form.setdefault(k, []).extend(v)
            self._form = form
        return self._form

    def form_value(self, name: str) -> str:
        """``r.FormValue``: the first value, or empty."""
        values = self.form().get(name)
        return values[0] if values else ""


class Response:
    """What a handler returns. ``abort`` drops the connection without answering (a crashing process)."""

    __slots__ = ("abort", "body", "close", "headers", "status")

    def __init__(self, status: int = 200, body: bytes | str = b"", headers: dict[str, str] | None = None,
                 *, close: bool = False, abort: bool = False) -> None:
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = headers
        self.close = close
        self.abort = abort


def error_response(message: str, status: int) -> Response:
    """``http.Error``: text/plain, nosniff, message plus newline."""
    return Response(status, message + "\n", {"Content-Type": "text/plain; charset=utf-8",
                                             "X-Content-Type-Options": "nosniff"})


Handler = Callable[[Request], "Response | Awaitable[Response]"]

_BAD_REQUEST = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                b"Connection: close\r\n\r\n400 Bad Request")


class _HttpProtocol(asyncio.Protocol):
    __slots__ = ("_buf", "_busy", "_closing", "_peer", "_server", "_transport")

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._buf = bytearray()
        self._busy = False
        self._closing = False
        self._transport: asyncio.Transport | None = None
        self._peer: tuple[str, int] = ("", 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self._peer = (peer[0], peer[1]) if peer else ("", 0)
        self._server._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server._connections.discard(self)
        self._transport = None

    @property
    def idle(self) -> bool:
        return not self._busy and not self._buf

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if not self._busy:
            self._process()

    def _process(self) -> None:
        buf = self._buf
        while buf and not self._closing and self._transport is not None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEADER_BYTES:
                    self._bad_request()
                return
            head = bytes(buf[:end]).decode("latin-1")
            lines = head.split("\r\n")
            while lines and not lines[0]:
                lines.pop(0)  # Go tolerates leading blank lines
            if not lines:
                del buf[:end + 4]
                continue
            parts = lines[0].split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1]:
                self._bad_request()
                return
            method, target, version = parts
            headers: list[tuple[str, str]] = []
            length = 0
            conn_header = ""
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if not sep or not name or name[-1] in " \t":
                    self._bad_request()
                    return
                value = value.strip(" \t")
                headers.append((name, value))
                lname = name.lower()
                if lname == "content-length":
                    if not value.isdigit():
                        self._bad_request()
                        return
                    length = int(value)
                elif lname == "connection":
                    conn_header = value.lower()
                elif lname == "transfer-encoding":
                    self._bad_request()
                    return
            total = end + 4 + length
            if len(buf) < total:
                return
            body = bytes(buf[end + 4:total])
            del buf[:total]
            keep_alive = "close" not in conn_header if version == "HTTP/1.1" else "keep-alive" in conn_header
            request = Request(method, target, version, headers, body, self._peer)
            try:
                result = self._server.handler(request)
            except Exception as e:
                self._server.on_panic(request, e)
                self.abort()
                return
            if isinstance(result, Response):
                self._respond(request, result, keep_alive)
                continue
            self._busy = True
            task = asyncio.ensure_future(result)
            self._server._tasks.add(task)
            task.add_done_callback(lambda t, r=request, k=keep_alive: self._async_done(t, r, k))
            return

    def _async_done(self, task: asyncio.Future[Any], request: Request, keep_alive: bool) -> None:
        self._server._tasks.discard(task)  # type: ignore[arg-type]
        self._busy = False
        if task.cancelled() or self._transport is None:
            self.abort()
            return
        exc = task.exception()
        if exc is not None:
            self._server.on_panic(request, exc)
            self.abort()
            return
        self._respond(request, task.result(), keep_alive)
        if self._buf and not self._closing:
            self._process()

    def _respond(self, request: Request, resp: Response, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None:
            return
        if resp.abort:
            self.abort()
            return
        close = resp.close or not keep_alive or self._server.closing
        out = [_status_line(resp.status)]
        content_type_set = False
        if resp.headers:
            for key in sorted(resp.headers):
                out.append(f"{key}: {resp.headers[key]}\r\n".encode("latin-1"))
                if key == "Content-Type":
                    content_type_set = True
        out.append(_date())
        body = resp.body
        no_body = resp.status in (204, 304) or 100 <= resp.status < 200
        if not no_body:
            out.append(b"Content-Length: %d\r\n" % len(body))
            if body and not content_type_set:
                out.append(b"Content-Type: " + sniff_content_type(body).encode() + b"\r\n")
        if close:
            out.append(b"Connection: close\r\n")
        out.append(b"\r\n")
        if body and not no_body and request.method != "HEAD":
            out.append(body)
        transport.write(b"".join(out))
        if close:
            self._closing = True
            transport.close()

    def _bad_request(self) -> None:
        if self._transport is not None:
            self._closing = True
            self._transport.write(_BAD_REQUEST)
            self._transport.close()


class HttpServer:
    """Serve ``handler`` on one address; ``abort_all`` is process exit, ``shutdown`` is Go's graceful Shutdown."""

    def __init__(self, handler: Handler, *, on_panic: Callable[[Request, BaseException], None] | None = None) -> None:
        self.handler = handler
        self._on_panic = on_panic
        self._server: asyncio.Server | None = None
        self._connections: set[_HttpProtocol] = set()
        self._tasks: set[asyncio.Future[Any]] = set()
        self.closing = False

    def on_panic(self, request: Request, exc: BaseException) -> None:
        if self._on_panic is not None:
            self._on_panic(request, exc)

    async def listen(self, host: str, port: int) -> int:
        """Bind and start accepting; returns the bound port (useful when ``port`` is 0)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _HttpProtocol(self), host, port, reuse_address=True,
                                                backlog=1024)
        return self._server.sockets[0].getsockname()[1]

    def close_listener(self) -> None:
        if self._server is not None:
            self._server.close()

    def abort_all(self) -> None:
        """Process exit: the listener closes and every connection is dropped at once."""
        self.closing = True
        self.close_listener()
        for conn in list(self._connections):
            conn.abort()
        for task in list(self._tasks):
            task.cancel()

    async def shutdown(self, timeout: float) -> str | None:
        """``http.Server.Shutdown``: stop accepting, close idle connections, wait for active ones.

        Returns None on success or Go's error text (``context deadline exceeded``) on timeout.
        """
        self.closing = True
        self.close_listener()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for conn in list(self._connections):
                if conn.idle:
                    conn.close()
            if not self._connections:
                return None
            if loop.time() >= deadline:
                return "context deadline exceeded"
            await asyncio.sleep(0.01)
