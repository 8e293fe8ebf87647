"""busybox ``httpd`` as a container's main process: ``httpd -f -p [IP:]PORT -h HOME`` serves HOME's files.

What a team's plain static service looks like (``command: [httpd, -f, -p, "8080", -h, /www]``, files put
in an emptyDir by an init container): it answers only the files it has, 404 for anything else, so it is
not agnhost-shaped. Behaviour follows busybox 1.36 ``networking/httpd.c``:

- one request per connection: every answer says ``Connection: close`` and the connection ends;
- ``GET`` and ``HEAD`` only (``501 Not Implemented`` otherwise); a path not starting with ``/`` or climbing
  out of HOME is ``400 Bad Request``; a directory without its trailing ``/`` is ``302 Found`` with
  ``Location: /dir/``; a directory serves its ``index.html``; a file it cannot open is ``404 Not Found``;
- error answers carry busybox's HTML page (``<HTML><HEAD><TITLE>404 Not Found</TITLE></HEAD>`` ...) and no
  Content-Length; a file carries ``Content-type`` by extension, ``Last-Modified``, ``ETag`` and
  ``Content-Length``;
- without ``-f`` it daemonizes: the container's main process exits 0 at once (a Completed pod, the classic
  mistake); ``-p`` defaults to 80 and ``-h`` to the working directory; as PID 1 without a SIGTERM handler it
  ignores SIGTERM, so a deleted pod serves until the grace period ends.

Known differences: no CGI, no ``httpd.conf`` (``-c``), no basic auth, no ranges, no ``-u``/``-r``/``-i``.
"""

from __future__ import annotations

import asyncio
import email.utils
import errno
import posixpath
from collections.abc import Sequence
from urllib.parse import unquote

from pytest_azchaos.embedded.images.container import Container, ContainerSpec
from pytest_azchaos.embedded.images.fs import FileSystem, FsError
from pytest_azchaos.embedded.images.shell import ensure_sandbox, identity_for

USAGE = "[-ifvv] [-c CONFFILE] [-p [IP:]PORT] [-u USER[:GRP]] [-r REALM] [-h HOME]\nor httpd -d/-e/-m STRING"
# status -> (reason, the info line busybox's error page carries)
STATUS = {
    200: ("OK", None), 302: ("Found", None), 400: ("Bad Request", "Unsupported method"),
    403: ("Forbidden", ""), 404: ("Not Found", "The requested URL was not found"),
    501: ("Not Implemented", "The requested method is not recognized"),
}
MIME = {".html": "text/html", ".htm": "text/html", ".txt": "text/plain", ".css": "text/css",
        ".js": "application/javascript", ".json": "application/json", ".png": "image/png", ".jpg": "image/jpeg",
        ".gif": "image/gif", ".svg": "image/svg+xml", ".xml": "text/xml"}
HEADER_READ_TIMEOUT = 60.0


class HttpdContainer(Container):
    """``httpd`` of the busybox image as the container's main process (see the module docstring)."""

    async def run(self) -> None:
        options = self._options()
        if options is None:
            return
        foreground, port, home = options
        if not foreground:  # daemonized: the child serves in the background, PID 1 (the parent) exits 0
            self.exit(0)
            return
        sandbox = ensure_sandbox(self)
        self.fs = sandbox.view(identity_for(sandbox, None, None))
        self.home = FileSystem.normalize(home, sandbox.workdir)
        try:
            server = await asyncio.start_server(self._serve, self.spec.pod_ip, port)
        except OSError as e:
            self.stderr(f"httpd: bind: {e.strerror or errno.errorcode.get(e.errno or 0, str(e))}\n")
            self.exit(1)
            return
        self.own(server.close)
        self.add_bound_port("TCP", self.spec.pod_ip, port)

    async def on_sigterm(self) -> None:
        """PID 1 without a handler: SIGTERM is ignored; the kubelet's SIGKILL ends it after the grace period."""

    def _options(self) -> tuple[bool, int, str] | None:
        foreground, port, home = False, 80, "."
        args = list(self.argv[1:])
        while args:
            a = args.pop(0)
            if a in ("-f", "-v", "-vv", "-fv", "-vf"):
                foreground = foreground or "f" in a
            elif a in ("-p", "-h") and args:
                value = args.pop(0)
                if a == "-h":
                    home = value
                else:
                    number = value.rsplit(":", 1)[-1]
                    if not number.isdigit() or not 0 < int(number) < 65536:
                        self.stderr(f"httpd: invalid number '{value}'\n")
                        self.exit(1)
                        return None
                    port = int(number)
            else:
                self.stderr(f"httpd: unsupported option {a} in this emulation\nUsage: httpd {USAGE}\n")
                self.exit(1)
                return None
        return foreground, port, home

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(HEADER_READ_TIMEOUT):
                line = (await reader.readline()).decode("latin-1").strip()
                while (await reader.readline()).strip():  # the headers: nothing here depends on them
                    pass
            writer.write(self._answer(line))
            await writer.drain()
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()  # one request per connection, as busybox httpd

    def _answer(self, line: str) -> bytes:
        parts = line.split()
        if len(parts) < 2:
            return _error(400)
        method, url = parts[0], parts[1]
        head = method == "HEAD"
        if method not in ("GET", "HEAD"):
            return _error(501)
        path = unquote(url.split("?", 1)[0])
        if not path.startswith("/") or "\0" in path:
            return _error(400)
        segments: list[str] = []
        for segment in path.split("/"):
            if segment == "..":
                if not segments:  # climbing out of HOME
                    return _error(400)
                segments.pop()
            elif segment not in ("", "."):
                segments.append(segment)
        local = posixpath.join(self.home, *segments)
        try:
            st = self.fs.stat(local)
        except FsError:
            return _error(404)
        if st.is_dir:
            if not path.endswith("/"):
                return _head(302, [("Location", path + "/")]) + _page(302)
            local = posixpath.join(local, "index.html")
        try:
            body = self.fs.read(local)
            st = self.fs.stat(local)
        except FsError:
            return _error(404)
        mime = MIME.get(posixpath.splitext(local)[1].lower(), "application/octet-stream")
        modified = email.utils.formatdate(st.mtime, usegmt=True)
        headers = [("Content-type", mime), ("Last-Modified", modified),
                   ("ETag", f'"{int(st.mtime):x}-{st.size:x}"'), ("Content-Length", str(len(body)))]
        return _head(200, headers) + (b"" if head else body)


def _head(status: int, headers: Sequence[tuple[str, str]] = ()) -> bytes:
    reason = STATUS[status][0]
    lines = [f"HTTP/1.1 {status} {reason}", f"Date: {email.utils.formatdate(usegmt=True)}", "Connection: close",
             *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _page(status: int) -> bytes:
    reason, info = STATUS[status]
    if info is None:
        return b""
    return (f"<HTML><HEAD><TITLE>{status} {reason}</TITLE></HEAD>\n<BODY><H1>{status} {reason}</H1>\n{info}\n"
            "</BODY></HTML>\n").encode()


def _error(status: int) -> bytes:
    return _head(status, [("Content-type", "text/html")]) + _page(status)


def httpd_container(spec: ContainerSpec, argv: list[str]) -> Container:
    """The container factory for ``/bin/httpd`` (registered in the busybox image)."""
    return HttpdContainer(spec, argv)
