"""``registry.k8s.io/e2e-test-images/agnhost``: netexec, serve-hostname, pause, dns-suffix, dns-server-list.

Behaviour and texts follow ``test/images/agnhost`` upstream (netexec.go, serve_hostname.go,
pause.go, agnhost.go, Dockerfile: ``ENTRYPOINT ["/agnhost"]``, ``CMD ["pause"]``). Programs bind
the pod's IP where the real ones bind every address. Go's ``log`` lines go to stderr with the
``2006/01/02 15:04:05`` prefix; ``fmt.Print`` output goes to stdout.

The Dockerfile has no ``USER``: the image runs as root unless the pod sets ``runAsUser``, so under
``runAsNonRoot: true`` the kubelet refuses it without one. As non-root the real netexec cannot bind
port 80 (use its default 8080); the emulation does not enforce privileged ports.

``dns-suffix`` and ``dns-server-list`` print the pod's resolv.conf lists (as the command or through
``kubectl exec POD -- /agnhost dns-suffix``). netexec's ``/dial`` resolves names with Go's stub resolver
over the pod's ``/etc/resolv.conf`` (the cluster DNS; :mod:`pytest_azchaos.embedded.dns.resolver`).

Known, deliberate gaps: TLS (``--tls-cert-file``) and SCTP make netexec exit 1 with a note; the
other agnhost subcommands exit 1 saying they are not emulated; ``/shell`` runs through the
container's ``exec`` of ``/bin/sh`` (the emulated busybox shell, :mod:`.shell`, with busybox's
``nslookup``).
"""

from __future__ import annotations

import asyncio
import os
import posixpath
import random
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, unquote

from pytest_azchaos.embedded.images.container import Container, ContainerSpec, ExecRequest, ExecResult
from pytest_azchaos.embedded.images.flags import FlagError, parse_flags
from pytest_azchaos.embedded.images.goformat import duration_string, json_marshal, parse_duration, time_string
from pytest_azchaos.embedded.images.httpserver import HttpServer, Request, Response, error_response, status_text
from pytest_azchaos.embedded.images.reference import ImageReference
from pytest_azchaos.embedded.images.registry import ImageDefinition
from pytest_azchaos.embedded.images.shell import userland_entrypoints, with_userland

AGNHOST_REPOSITORY = "registry.k8s.io/e2e-test-images/agnhost"
AGNHOST_SIZE_BYTES = 52_384_215  # nominal
NOT_EMULATED = frozenset({
    "audit-proxy", "connect", "crd-conversion-webhook", "etc-hosts",
    "entrypoint-tester", "fake-gitserver", "grpc-health-checking", "guestbook", "inclusterclient", "liveness",
    "logs-generator", "mounttest", "net", "nettest", "no-snat-test", "no-snat-test-proxy", "porter",
    "port-forward-tester", "resource-consumer-controller", "tcp-reset", "test-webserver",
    "test-service-account-issuer-discovery", "webhook",
})


def _bind_error(proto: str, port: int, e: OSError) -> str:
    """Go's ``listen tcp :8080: bind: address already in use``."""
    reason = os.strerror(e.errno).lower() if e.errno else str(e)
    return f"listen {proto} :{port}: bind: {reason}"


def _canonical_header_key(key: str) -> str:
    """``textproto.CanonicalMIMEHeaderKey``."""
    if not key or any(c in key for c in " \t\r\n:") or not key.isascii():
        return key
    return "-".join(part[:1].upper() + part[1:].lower() for part in key.split("-"))


def _go_atoi(s: str) -> int:
    """``strconv.Atoi``; raises ValueError with Go's text."""
    body = s[1:] if s[:1] in "+-" else s
    if not body or not body.isdigit() or not body.isascii():
        raise ValueError(f'strconv.Atoi: parsing "{s}": invalid syntax')
    return int(s)


class _CobraError(Container):
    """agnhost after cobra rejected its command line: the message on stderr, exit 0 (the error is ignored)."""

    def __init__(self, spec: ContainerSpec, argv: list[str], lines: list[str]) -> None:
        super().__init__(spec, argv)
        self._lines = lines

    async def run(self) -> None:
        for line in self._lines:
            self.stderr(line)
        self.exit(0)


class _NotEmulated(Container):
    async def run(self) -> None:
        self.stderr(f"azchaos: agnhost {self.argv[1]!r} is not emulated by the embedded cluster")
        self.exit(1)


def _flag_error(spec: ContainerSpec, argv: list[str], sub: str, err: FlagError) -> Container:
    if str(err) == "help requested":
        return _CobraError(spec, argv, [f"Usage:\n  app {sub} [flags]"])
    return _CobraError(spec, argv, [f"Error: {err}", f"Usage:\n  app {sub} [flags]\n"])


def agnhost_main(spec: ContainerSpec, argv: list[str]) -> Container:
    """``/agnhost <subcommand> [flags]``: the cobra root command."""
    rest = argv[1:]
    sub = next((a for a in rest if not a.startswith("-")), None)
    if sub is None:
        return _CobraError(spec, argv, ["Usage:\n  app [command]"])
    sub_args = rest[:rest.index(sub)] + rest[rest.index(sub) + 1:]
    try:
        if sub == "netexec":
            return NetexecContainer(spec, argv, parse_flags(sub_args, NetexecContainer.FLAGS))
        if sub == "serve-hostname":
            return ServeHostnameContainer(spec, argv, parse_flags(sub_args, ServeHostnameContainer.FLAGS))
        if sub == "pause":
            return AgnhostPauseContainer(spec, argv, parse_flags(sub_args, AgnhostPauseContainer.FLAGS))
        if sub in DNS_LISTS:
            parse_flags(sub_args, {})
            return DnsListContainer(spec, argv, sub)
    except FlagError as e:
        return _flag_error(spec, argv, sub, e)
    if sub in NOT_EMULATED:
        return _NotEmulated(spec, argv)
    return _CobraError(spec, argv, [f'Error: unknown command "{sub}" for "app"', "Run 'app --help' for usage."])


def _with_agnhost_exec(factory: Callable[[ContainerSpec, list[str]], Container]
                       ) -> Callable[[ContainerSpec, list[str]], Container]:
    """``kubectl exec POD -- /agnhost dns-suffix``: agnhost's one-shot subcommands as exec'd processes."""

    def make(spec: ContainerSpec, argv: list[str]) -> Container:
        container = factory(spec, argv)
        for path in ("/agnhost", "/agnhost-2"):
            container.register_executable(path, _exec_agnhost)
        return container

    return make


async def _exec_agnhost(container: Container, req: ExecRequest) -> ExecResult:
    argv = list(req.argv)
    sub = next((a for a in argv[1:] if not a.startswith("-")), "")
    if sub not in DNS_LISTS:
        return ExecResult(1, stderr=f"azchaos: exec of agnhost {sub!r} is not emulated by the embedded cluster\n"
                          .encode())
    code, out, err = dns_list_output(sub, container.spec.resolv_conf)
    return ExecResult(code, out.encode(), err.encode())


def agnhost_definition(ref: ImageReference) -> ImageDefinition:
    # Alpine userland (busybox sh/ash and applets, bash): exec'able in every container, and usable as command.
    programs = {"/agnhost": agnhost_main, "/agnhost-2": agnhost_main, **userland_entrypoints()}
    return ImageDefinition(entrypoint=("/agnhost",), cmd=("pause",),
                           executables={path: _with_agnhost_exec(with_userland(factory))
                                        for path, factory in programs.items()},
                           size_bytes=AGNHOST_SIZE_BYTES,
                           # test/images/agnhost/Dockerfile has no USER: root (runAsNonRoot needs a runAsUser).
                           user="")


# ============================================================================ dns-suffix, dns-server-list
DNS_LISTS = {"dns-suffix": "search", "dns-server-list": "nameserver"}


def dns_list_output(sub: str, resolv_conf: str) -> tuple[int, str, str]:
    """``agnhost dns-suffix`` / ``dns-server-list`` (``test/images/agnhost/dns``): the fields of the first
    ``search`` / ``nameserver`` line of ``/etc/resolv.conf`` joined by commas; none: Go's panic, exit 2."""
    key = DNS_LISTS[sub]
    for line in resolv_conf.split("\n"):
        if line.startswith(key):
            return 0, ",".join(line.split(" ")[1:]) + "\n", ""
    return 2, "", "panic: Could not find DNS search list!\n\ngoroutine 1 [running]:\n"


class DnsListContainer(Container):
    """``agnhost dns-suffix`` / ``dns-server-list`` as a container's command: print, exit."""

    def __init__(self, spec: ContainerSpec, argv: list[str], sub: str) -> None:
        super().__init__(spec, argv)
        self.sub = sub

    async def run(self) -> None:
        code, out, err = dns_list_output(self.sub, self.spec.resolv_conf)
        if out:
            self.stdout(out.rstrip("\n"))
        if err:
            self.stderr(err.rstrip("\n"))
        self.exit(code)


# ============================================================================ pause
class AgnhostPauseContainer(Container):
    """``agnhost pause``: prints ``Paused``; SIGTERM exits 2 (SIGINT 1) after ``--delay-shutdown`` seconds."""

    FLAGS = {"delay-shutdown": (int, 0)}

    def __init__(self, spec: ContainerSpec, argv: list[str], flags: dict[str, Any]) -> None:
        super().__init__(spec, argv)
        self.delay = flags["delay-shutdown"]
        self._signalled = False

    async def run(self) -> None:
        self.stdout("Paused")

    async def on_sigterm(self) -> None:
        if self._signalled:
            return
        self._signalled = True
        if self.delay > 0:
            self.spawn(self._exit_later())
        else:
            self.stdout("exiting 2")
            self.exit(2)

    async def _exit_later(self) -> None:
        await asyncio.sleep(self.delay)
        self.stdout(f"Sleeping {self.delay} seconds before exit ...exiting 2")
        self.exit(2)


# ============================================================================ serve-hostname
class ServeHostnameContainer(Container):
    """``agnhost serve-hostname``: the hostname over HTTP (default), raw TCP or UDP on ``--port`` (9376)."""

    FLAGS = {"tcp": (bool, False), "udp": (bool, False), "http": (bool, True), "close": (bool, False),
             "port": (int, 9376)}

    def __init__(self, spec: ContainerSpec, argv: list[str], flags: dict[str, Any]) -> None:
        super().__init__(spec, argv)
        self.flags = flags
        self._signalled = False

    async def run(self) -> None:
        f, ip, port, hostname = self.flags, self.spec.pod_ip, self.flags["port"], self.spec.pod_name
        if f["http"] and (f["tcp"] or f["udp"]):
            self.log("Can't server TCP/UDP mode and HTTP mode at the same time")
            self.exit(1)
            return
        loop = asyncio.get_running_loop()
        if f["tcp"]:
            def on_tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                peer = writer.get_extra_info("peername")
                self.log(f"TCP request from {peer[0]}:{peer[1]}")
                writer.write(hostname.encode())
                writer.close()

            try:
                server = await asyncio.start_server(on_tcp, ip, port, reuse_address=True)
            except OSError as e:
                self.log(f"Error from net.Listen(): {_bind_error('tcp', port, e)}")
                self.exit(1)
                return
            self.own(server.close)
            self.add_bound_port("TCP", ip, port)
        if f["udp"]:
            outer = self

            class Udp(asyncio.DatagramProtocol):
                def connection_made(self, transport: asyncio.BaseTransport) -> None:
                    self.transport = transport

                def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                    outer.log(f"UDP request from {addr[0]}:{addr[1]}")
                    self.transport.sendto(hostname.encode(), addr)  # type: ignore[attr-defined]

            try:
                transport, _ = await loop.create_datagram_endpoint(Udp, local_addr=(ip, port))
            except OSError as e:
                self.log(f"Error from ListenUDP(): {_bind_error('udp', port, e)}")
                self.exit(1)
                return
            self.own(transport.close)
            self.add_bound_port("UDP", ip, port)
        if f["http"]:
            close = f["close"]

            def handle(req: Request) -> Response:
                self.log(f"HTTP request from {req.remote_addr}")
                return Response(200, hostname, {"Connection": "close"} if close else None, close=close)

            http = HttpServer(handle)
            try:
                await http.listen(ip, port)
            except OSError as e:
                self.log(_bind_error("tcp", port, e))
                self.exit(1)
                return
            self.own(http.abort_all)
            self.add_bound_port("TCP", ip, port)
        self.log(f"Serving on port {port}.")

    async def on_sigterm(self) -> None:
        if self._signalled:
            return
        self._signalled = True
        self.log("Shutting down after receiving signal: terminated.")
        self.log("Awaiting pod deletion.")
        self.spawn(self._exit_later())

    async def _exit_later(self) -> None:
        await asyncio.sleep(60)
        self.exit(0)


# ============================================================================ netexec
class NetexecContainer(Container):
    """``agnhost netexec``: HTTP endpoints on ``--http-port`` and UDP commands on ``--udp-port``."""

    FLAGS = {"http-port": (int, 8080), "udp-port": (int, 8081), "sctp-port": (int, -1),
             "tls-cert-file": (str, ""), "tls-private-key-file": (str, ""), "http-override": (str, ""),
             "udp-listen-addresses": (str, ""), "delay-shutdown": (int, 0)}

    def __init__(self, spec: ContainerSpec, argv: list[str], flags: dict[str, Any]) -> None:
        super().__init__(spec, argv)
        self.http_port: int = flags["http-port"]
        self.udp_port: int = flags["udp-port"]
        self.sctp_port: int = flags["sctp-port"]
        self.delay_shutdown: int = flags["delay-shutdown"]
        self.http_override: str = flags["http-override"]
        self.tls = bool(flags["tls-cert-file"])
        self.udp_addresses = [a for a in flags["udp-listen-addresses"].split(",") if a] or [""]
        self.server_ready = False  # set once the UDP (or SCTP) server started, as upstream
        self.sigterm_received = False
        self.uploads: dict[str, bytes] = {}
        self.http: HttpServer | None = None
        self._routes: dict[str, Callable[[Request], Response | Awaitable[Response]]] = {
            "/": self._root, "/clientip": self._clientip, "/serverport": self._serverport,
            "/header": self._header, "/dial": self._dial, "/echo": self._echo, "/exit": self._exit,
            "/healthz": self._healthz, "/readyz": self._readyz, "/hostname": self._hostname,
            "/redirect": self._redirect, "/shell": self._shell, "/upload": self._upload,
            "/hostName": self._hostname_old, "/shutdown": self._shutdown,
        }

    # ------------------------------------------------------------------ process
    async def run(self) -> None:
        ip = self.spec.pod_ip
        if self.tls:
            self.stderr("azchaos: netexec over TLS (--tls-cert-file) is not emulated by the embedded cluster")
            self.exit(1)
            return
        if self.sctp_port != -1:
            self.stderr("azchaos: netexec's SCTP server (--sctp-port) is not emulated by the embedded cluster")
            self.exit(1)
            return
        handler = self._override if self.http_override else self._serve
        self.http = HttpServer(handler, on_panic=self._panic)
        self.log(f"Started HTTP server on port {self.http_port}")
        try:
            await self.http.listen(ip, self.http_port)
        except OSError as e:
            self.log(_bind_error("tcp", self.http_port, e))
            self.exit(1)
            return
        self.own(self.http.abort_all)
        self.add_bound_port("TCP", ip, self.http_port)
        if self.udp_port != -1:
            for address in self.udp_addresses:
                await self._start_udp(address)
                if not self.running:
                    return

    async def _start_udp(self, address: str) -> None:
        ip = self.spec.pod_ip
        shown = f"{address}:{self.udp_port}" if address else f":{self.udp_port}"
        if address not in ("", "0.0.0.0", "::", ip):
            self.log(f"Error occurred: failed to create listener for UDP address {shown}:listen udp {shown}: "
                     "bind: cannot assign requested address")
            self.exit(1)
            return
        try:
            transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                lambda: _NetexecUdp(self), local_addr=(ip, self.udp_port))
        except OSError as e:
            self.log(f"Error occurred: failed to create listener for UDP address {shown}:"
                     f"{_bind_error('udp', self.udp_port, e)}")
            self.exit(1)
            return
        self.own(transport.close)
        self.add_bound_port("UDP", ip, self.udp_port)
        self.log(f"Started UDP server on port {address} {self.udp_port}")
        self.server_ready = True

    async def on_sigterm(self) -> None:
        if self.sigterm_received:
            return
        self.sigterm_received = True
        if self.delay_shutdown > 0:
            self.log(f"Sleeping {self.delay_shutdown} seconds before terminating...")
            self.spawn(self._exit_after(self.delay_shutdown, 0))
        else:
            self.exit(0)

    async def _exit_after(self, seconds: float, code: int) -> None:
        await asyncio.sleep(seconds)
        self.exit(code)

    def _panic(self, req: Request, exc: BaseException) -> None:
        self.log(f"http: panic serving {req.remote_addr}: {exc}")

    # ------------------------------------------------------------------ routing (Go's ServeMux)
    def _serve(self, req: Request) -> Response | Awaitable[Response]:
        path = req.path
        if "%" in path:
            path = unquote(path)
        handler = self._routes.get(path)
        if handler is not None:
            return handler(req)
        if not path.startswith("/"):
            return self._root(req)
        cleaned = _clean_path(path)
        if cleaned != path:
            target = cleaned + ("?" + req.query if req.query else "")
            return _redirect_response(req, target, 301)
        return self._root(req)

    def _override(self, req: Request) -> Response | Awaitable[Response]:
        """``--http-override``: every request is served as ``GET <override>`` with no headers or peer."""
        inner = Request("GET", self.http_override, "HTTP/1.1", [], b"", ("", 0))
        return self._serve(inner)

    # ------------------------------------------------------------------ endpoints
    def _root(self, req: Request) -> Response:
        self.log("GET /")
        now = time_string(time.time_ns(), time.monotonic_ns() - self.started_monotonic_ns)
        return Response(200, f"NOW: {now}")

    def _clientip(self, req: Request) -> Response:
        self.log("GET /clientip")
        return Response(200, req.remote_addr)

    def _serverport(self, req: Request) -> Response:
        self.log("GET /serverport")
        return Response(200, str(self.http_port))

    def _hostname(self, req: Request) -> Response:
        self.log("GET /hostname")
        return Response(200, self.spec.pod_name)

    def _hostname_old(self, req: Request) -> Response:
        self.log("GET /hostName")
        return Response(200, self.spec.pod_name)

    def _header(self, req: Request) -> Response:
        key = req.form_value("key")
        headers: dict[str, list[str]] = {}
        for name, value in req.headers:
            canonical = _canonical_header_key(name)
            if canonical != "Host":
                headers.setdefault(canonical, []).append(value)
        if key:
            self.log(f"GET /header?key={key}")
            values = headers.get(_canonical_header_key(key))
            return Response(200, values[0] if values else "")
        self.log("GET /header")
        return Response(200, json_marshal(headers))

    def _echo(self, req: Request) -> Response:
        msg = req.form_value("msg")
        code_string = req.form_value("code")
        self.log(f"GET /echo?msg={msg}&code={code_string}")
        status = 200
        if code_string:
            try:
                status = _go_atoi(code_string)
            except ValueError:
                return Response(200, f"argument 'code' must be an integer or empty, got \"{code_string}\"\n")
            if status < 100 or status > 999:
                raise ValueError(f"invalid WriteHeader code {status}")
        return Response(status, msg)

    def _healthz(self, req: Request) -> Response:
        self.log("GET /healthz")
        return Response(200 if self.server_ready else 412)

    def _readyz(self, req: Request) -> Response:
        self.log("GET /readyz")
        if self.sigterm_received:
            return Response(503, "shutting down")
        if self.server_ready:
            return Response(200, "ok")
        return Response(412)

    def _shutdown(self, req: Request) -> Response:
        self.log("GET /shutdown")
        self.exit(0)
        return Response(abort=True)

    def _redirect(self, req: Request) -> Response:
        location = req.form_value("location")
        code_string = req.form_value("code")
        self.log(f"{req.method} /redirect?msg={location}&code={code_string}")
        code = 302
        if code_string:
            try:
                code = _go_atoi(code_string)
            except ValueError:
                return Response(200, f"argument 'code' must be an integer or empty, got \"{code_string}\"\n")
            if code < 100 or code > 999:
                raise ValueError(f"invalid WriteHeader code {code}")
        return _redirect_response(req, location, code)

    async def _exit(self, req: Request) -> Response:
        wait_string = req.form_value("wait")
        timeout_string = req.form_value("timeout")
        code_string = req.form_value("code")
        self.log(f"GET /exit?code={code_string}&timeout={timeout_string}&wait={wait_string}")
        timeout = wait = 0.0
        code = 0
        try:
            timeout = parse_duration(timeout_string)
        except ValueError:
            if timeout_string:
                return Response(200, f"argument 'timeout' must be a valid golang duration or empty, "
                                     f"got \"{timeout_string}\"\n")
        try:
            wait = parse_duration(wait_string)
        except ValueError:
            if wait_string:
                return Response(200, f"argument 'wait' must be a valid golang duration or empty, "
                                     f"got \"{wait_string}\"\n")
        try:
            code = _go_atoi(code_string)
        except ValueError:
            if code_string:
                return Response(200, f"argument 'code' must be an integer [0-127] or empty, got \"{code_string}\"\n")
        self.log(f"Will begin shutdown in {duration_string(int(wait * 1e9))}, allowing "
                 f"{duration_string(int(timeout * 1e9))} for connections to close, then will exit with {code}")
        if wait > 0:
            await asyncio.sleep(wait)
        if timeout <= 0:
            self.exit(code)
            return Response(abort=True)
        self.spawn(self._graceful_exit(code, timeout))
        return Response(200)

    async def _graceful_exit(self, code: int, timeout: float) -> None:
        assert self.http is not None
        await asyncio.sleep(0)  # let the /exit response go out first
        err = await self.http.shutdown(timeout)
        self.log(f"Graceful shutdown completed with: {err or '<nil>'}")
        self.exit(code)

    async def _shell(self, req: Request) -> Response:
        cmd = req.form_value("shellCommand") or req.form_value("cmd")
        self.log(f"GET /shell?cmd={cmd}")
        result = await self.exec(["/bin/sh", "-c", cmd])
        output: dict[str, str] = {}
        if result.start_error is not None:
            output["error"] = "fork/exec /bin/sh: no such file or directory"
        else:
            combined = (result.stdout + result.stderr).decode("utf-8", "replace")
            if combined:
                output["output"] = combined
            if result.exit_code != 0:
                output["error"] = f"exit status {result.exit_code}"
        self.log("Output: map[" + " ".join(f"{k}:{v}" for k, v in sorted(output.items())) + "]")
        return Response(200, json_marshal(output))

    def _upload(self, req: Request) -> Response:
        self.log("GET /upload")
        data = _multipart_file(req)
        if data is None:
            self.log("Unable to upload file: http: no such file")
            return Response(200, json_marshal({"error": "Unable to upload file."}))
        name = f"/uploads/upload{random.randrange(10**9, 2**32)}"
        self.uploads[name] = data
        self.log(f"Wrote upload to {name}")
        return Response(201, json_marshal({"output": name}))

    async def _dial(self, req: Request) -> Response:
        q = {k: v[0] for k, v in _parse_query(req.query).items()}
        host, port = q.get("host", ""), q.get("port", "")
        request, protocol, try_param = q.get("request", ""), q.get("protocol", ""), q.get("tries", "")
        self.log(f"GET /dial?host={host}&protocol={protocol}&port={port}&request={request}&tries={try_param}")
        tries = 1
        if try_param:
            try:
                tries = _go_atoi(try_param)
            except ValueError as e:
                return error_response(f"tries parameter is invalid. {e}", 400)
        if not request:
            return error_response("request parameter not specified. <nil>", 400)
        proto = protocol.lower()
        if proto not in ("", "http", "udp", "sctp"):
            return error_response(f"unsupported protocol. {protocol}", 400)
        kind = "udp" if proto == "udp" else "sctp" if proto == "sctp" else "tcp"
        addr, err = await self._resolve(kind, host, port)
        if err is not None:
            return error_response(f"host and/or port param are invalid. {err}", 400)
        assert addr is not None
        errors: list[str] = []
        responses: list[str] = []
        response = ""
        for _ in range(tries):
            if proto == "sctp":
                response, error = "", "sctp dial failed. err:socket: protocol not supported"
            elif proto == "udp":
                response, error = await self._dial_udp(request, addr)
            else:
                response, error = await self._dial_http(request, addr)
            if error is not None:
                errors.append(error)
            else:
                responses.append(response)
        output: dict[str, list[str]] = {}
        if response:
            output["responses"] = responses
        if errors:
            output["errors"] = errors
        return Response(200, json_marshal(output))

    async def _resolve(self, kind: str, host: str, port: str) -> tuple[tuple[str, int] | None, str | None]:
        """``net.ResolveTCPAddr``/``ResolveUDPAddr``: a literal address, else Go's resolver over the pod's
        ``/etc/resolv.conf`` (the cluster DNS for ``ClusterFirst`` pods), the first IPv4 answer."""
        host_port = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if port and not port.isdigit():
            return None, f"lookup {kind}/{port}: unknown port"
        port_num = int(port) if port else 0
        if port_num > 65535:
            return None, f"address {host_port}: invalid port"
        if host == "":
            return (self.spec.pod_ip, port_num), None
        try:
            socket.inet_pton(socket.AF_INET, host)
            return (host, port_num), None
        except OSError:
            pass
        if self.spec.resolve_host is not None or not self.spec.resolv_conf:
            resolved = self.spec.resolve_host(host) if self.spec.resolve_host is not None else None
            if resolved is None:
                return None, f"lookup {host}: no such host"
            return (resolved, port_num), None
        from pytest_azchaos.embedded.dns.resolver import DnsLookupError, ResolvConf, StubResolver

        resolver = StubResolver(ResolvConf.parse(self.spec.resolv_conf), self.spec.pod_ip)
        try:
            addresses = await resolver.lookup_host(host)
        except DnsLookupError as e:
            return None, str(e)
        return (addresses[0], port_num), None

    async def _dial_http(self, request: str, addr: tuple[str, int]) -> tuple[str, str | None]:
        url = f"http://{addr[0]}:{addr[1]}/{request}"
        try:
            body = await asyncio.wait_for(self._http_get(addr, "/" + request), 5.0)
        except TimeoutError:
            return "", f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
        except ConnectionRefusedError:
            return "", f'Get "{url}": dial tcp {addr[0]}:{addr[1]}: connect: connection refused'
        except OSError as e:
            reason = os.strerror(e.errno).lower() if e.errno else str(e)
            return "", f'Get "{url}": dial tcp {addr[0]}:{addr[1]}: connect: {reason}'
        except _EOF:
            return "", f'Get "{url}": EOF'
        return body, None

    async def _http_get(self, addr: tuple[str, int], target: str) -> str:
        from pytest_azchaos.embedded.network.dns_port import wire_port  # 53: maybe its unprivileged stand-in

        reader, writer = await asyncio.open_connection(addr[0], wire_port(addr[1]), local_addr=(self.spec.pod_ip, 0))
        try:
            writer.write(f"GET {target} HTTP/1.1\r\nHost: {addr[0]}:{addr[1]}\r\nUser-Agent: Go-http-client/1.1\r\n"
                         "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = None
            chunked = False
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
                elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
                    chunked = True
            if chunked:
                body = bytearray()
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
                    if size == 0:
                        break
                    body += await reader.readexactly(size + 2)
                    del body[-2:]
                data = bytes(body)
            elif length is not None:
                data = await reader.readexactly(length)
            else:
                data = await reader.read()
            return data.decode("utf-8", "replace")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionResetError) as e:
            raise _EOF() from e
        finally:
            writer.close()

    async def _dial_udp(self, request: str, addr: tuple[str, int]) -> tuple[str, str | None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()

        class Client(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, _addr: tuple[str, int]) -> None:
                if not future.done():
                    future.set_result(data[:2048])

            def error_received(self, exc: Exception) -> None:
                if not future.done():
                    future.set_exception(exc)

        try:
            from pytest_azchaos.embedded.network.dns_port import wire_port  # 53: maybe its unprivileged stand-in

            transport, _ = await loop.create_datagram_endpoint(Client, local_addr=(self.spec.pod_ip, 0),
                                                               remote_addr=(addr[0], wire_port(addr[1])))
        except OSError as e:
            return "", f"udp dial failed. err:dial udp {addr[0]}:{addr[1]}: {e.strerror or e}"
        local = transport.get_extra_info("sockname")
        pair = f"{local[0]}:{local[1]}->{addr[0]}:{addr[1]}"
        try:
            transport.sendto(request.encode())
            data = await asyncio.wait_for(future, 5.0)
        except TimeoutError:
            return "", f"reading from udp connection failed. err:'read udp {pair}: i/o timeout'"
        except ConnectionRefusedError:
            return "", f"reading from udp connection failed. err:'read udp {pair}: recvfrom: connection refused'"
        except OSError as e:
            return "", f"reading from udp connection failed. err:'read udp {pair}: {e.strerror or e}'"
        finally:
            transport.close()
        if not data:
            return "", "reading from udp connection failed. err:'<nil>'"
        return data.decode("utf-8", "replace"), None


class _EOF(Exception):
    pass


class _NetexecUdp(asyncio.DatagramProtocol):
    """netexec's UDP commands: ``hostname``, ``echo <msg>``, ``clientip``, ``serverport``."""

    def __init__(self, owner: NetexecContainer) -> None:
        self.owner = owner
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP errors from earlier replies; Go's ReadFromUDP does not report them either

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        owner, transport = self.owner, self.transport
        if transport is None:
            return
        text = data[:2048].decode("utf-8", "replace").strip().lower()
        client = f"{addr[0]}:{addr[1]}"
        if text == "hostname":
            owner.log("Sending udp hostName response")
            transport.sendto(owner.spec.pod_name.encode(), addr)
        elif text.startswith("echo "):
            resp = text.split(" ", 1)[1]
            owner.log(f"Echoing {resp} to UDP client {client}\n")
            transport.sendto(resp.encode(), addr)
        elif text == "clientip":
            owner.log(f"Sending clientip back to UDP client {client}\n")
            transport.sendto(client.encode(), addr)
        elif text == "serverport":
            owner.log(f"Sending server port to UDP client {owner.udp_port}\n")
            transport.sendto(str(owner.udp_port).encode(), addr)
        elif text:
            owner.log(f"Unknown UDP command received from {client}: {text}\n")


# ============================================================================ helpers
def _parse_query(query: str) -> dict[str, list[str]]:
    return parse_qs(query, keep_blank_values=True)


def _clean_path(path: str) -> str:
    """Go's ``cleanPath``: ``path.Clean`` keeping a trailing slash."""
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


def _html_escape(s: str) -> str:
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
            .replace("'", "&#39;"))


def _redirect_response(req: Request, location: str, code: int) -> Response:
    """``http.Redirect``: relative locations resolve against the request path; GET gets a small HTML body."""
    if "://" not in location.split("?", 1)[0]:
        if not location.startswith("/"):
            old_dir = req.path.rsplit("/", 1)[0] + "/"
            location = old_dir + location
        path, sep, query = location.partition("?")
        trailing = path.endswith("/")
        path = _clean_path(path)
        if trailing and not path.endswith("/"):
            path += "/"
        location = path + sep + query
    headers = {"Location": location}
    body = b""
    if req.method in ("GET", "HEAD"):
        headers["Content-Type"] = "text/html; charset=utf-8"
    if req.method == "GET":
        body = f'<a href="{_html_escape(location)}">{status_text(code)}</a>.\n\n'.encode()
    return Response(code, body, headers)


def _multipart_file(req: Request) -> bytes | None:
    """The ``file`` part of a multipart/form-data body, or None."""
    ctype = req.header("content-type")
    if not ctype.startswith("multipart/form-data") or "boundary=" not in ctype:
        return None
    boundary = ctype.split("boundary=", 1)[1].split(";")[0].strip().strip('"').encode()
    for part in req.body.split(b"--" + boundary):
        head, sep, content = part.partition(b"\r\n\r\n")
        if sep and b'name="file"' in head:
            return content[:-2] if content.endswith(b"\r\n") else content
    return None

