"""``pods/exec`` over the WebSocket remote command protocol (what ``kubectl exec`` and ``stream()`` speak).

Channels are one leading byte per message: 0 stdin, 1 stdout, 2 stderr, 3 error (a JSON ``Status``),
4 resize; ``v5.channel.k8s.io`` adds 255, the close signal (``[255, 0]`` half-closes stdin). The
``base64.`` variants send text frames ``'<digit>' + base64(data)``.

Who answers what follows v1.36: the API server checks the pod and container (404, 400 ``container x is
not valid for pod y``); a v5 request is then upgraded by the API server's stream translator, which
reports the kubelet's failures on the error channel (``Internal error occurred: unable to upgrade
connection: container not found ("x")``, exit codes as ``command terminated with non-zero exit code:
command terminated with exit code N``); older protocols are proxied to the kubelet and containerd, so a
container that is not running is a plain-text 500 before the upgrade and a non-zero exit reads
``command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3``.
SPDY (kubectl's fallback) is not served.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from ..apiserver import errors
from ..images.shell_process import StreamInput

if TYPE_CHECKING:
    from ..apiserver.server import ApiServer, Request
    from .kubelet import KubeletManager

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
V5 = "v5.channel.k8s.io"
PROTOCOLS = (V5, "v4.channel.k8s.io", "v4.base64.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io",
             "channel.k8s.io", "base64.channel.k8s.io")
STATUS_PROTOCOLS = (V5, "v4.channel.k8s.io", "v4.base64.channel.k8s.io")
CHUNK = 32 * 1024
# The v5 translator upgrades the client first, then dials the kubelet (SPDY), which has the runtime start the
# process: real output never follows the upgrade at once. kubectl's WebSocket executor (client-go
# remotecommand, up to at least v1.32) starts reading frames before it has registered its streams and drops
# what comes early ("Unknown stream id 1, discarding message"), so an instant answer loses the output under load.
KUBELET_DIAL_SECONDS = 0.05


def _flag(value: str | None) -> bool:
    """Query booleans as the API server converts them: absent, '', 'false', '0' are false."""
    return value is not None and value.lower() not in ("", "false", "0")


def success_status() -> dict[str, Any]:
    return {"metadata": {}, "status": "Success"}


def exit_status(code: int, argv: list[str], translated: bool) -> dict[str, Any]:
    """``NonZeroExitCode`` as the v5 translator (``translated``) or containerd's streaming server words it."""
    inner = f"command terminated with exit code {code}" if translated else \
        f"error executing command [{' '.join(argv)}], exit code {code}"
    return {"metadata": {}, "status": "Failure", "message": f"command terminated with non-zero exit code: {inner}",
            "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def internal_status(message: str) -> dict[str, Any]:
    """``apierrors.NewInternalError``."""
    return {"metadata": {}, "status": "Failure", "message": f"Internal error occurred: {message}",
            "reason": "InternalError", "details": {"causes": [{"message": message}]}, "code": 500}


class _Channels:
    """Writes channel frames in the negotiated framing."""

    def __init__(self, ws: web.WebSocketResponse, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self.base64 = "base64" in protocol

    async def send(self, channel: int, data: bytes) -> None:
        if self.base64:
            await self.ws.send_str(str(channel) + base64.b64encode(data).decode())
        else:
            await self.ws.send_bytes(bytes([channel]) + data)

    async def send_chunked(self, channel: int, data: bytes) -> None:
        for i in range(0, len(data), CHUNK):
            await self.send(channel, data[i:i + CHUNK])

    def decode(self, msg: Any) -> tuple[int, bytes] | None:
        if msg.type == WSMsgType.BINARY:
            data = bytes(msg.data)
        elif msg.type == WSMsgType.TEXT:
            text = msg.data
            if self.base64:
                if not text:
                    return None
                return int(text[0]), base64.b64decode(text[1:] or "")
            data = text.encode()  # the Python client sends chr(channel) + text
        else:
            return None
        if not data:
            return None
        return data[0], data[1:]


def exec_handler(kubelets: KubeletManager):  # -> SubresourceHandler
    async def handle(req: Request, server: ApiServer) -> web.StreamResponse:
        assert req.name is not None
        ns = req.namespace or ""
        pod = server.store.get(req.rtype, ns, req.name)
        q = req.query
        container = q.get("container") or ""
        names = [c["name"] for c in pod["spec"].get("containers") or []]
        if not container:
            if len(names) == 1:
                container = names[0]
            elif not names:
                raise errors.bad_request(f"a container name must be specified for pod {req.name}")
            else:
                message = f"a container name must be specified for pod {req.name}, choose one of: [{' '.join(names)}]"
                inits = [c["name"] for c in pod["spec"].get("initContainers") or []]
                if inits:
                    message += f" or one of the init containers: [{' '.join(inits)}]"
                raise errors.bad_request(message)
        elif container not in names and container not in [c["name"] for c in
                                                            pod["spec"].get("initContainers") or []]:
            raise errors.bad_request(f"container {container} is not valid for pod {req.name}")
        if not pod["spec"].get("nodeName"):
            raise errors.bad_request(f"pod {req.name} does not have a host assigned")
        http = req.http
        if http.headers.get("Upgrade", "").lower() != "websocket":
            raise errors.bad_request("Upgrade request required")
        argv = list(http.query.getall("command", []))
        stdin, stdout, stderr, tty = (_flag(q.get(k)) for k in ("stdin", "stdout", "stderr", "tty"))
        if tty:
            stderr = False
        offered = [p.strip() for p in http.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        protocol = next((p for p in offered if p in PROTOCOLS), "")
        translated = protocol == V5
        if not (stdin or stdout or stderr):
            if translated:
                raise errors.bad_request("you must specify at least 1 of stdin, stdout, stderr")
            return web.Response(status=400, text="you must specify at least 1 of stdin, stdout, stderr")
        worker = kubelets.find_worker(ns, req.name)
        rt = worker.container(container) if worker is not None else None
        target = rt.container if rt is not None else None
        running = target is not None and target.running
        if not running and not translated:  # the kubelet answers before any upgrade
            return web.Response(status=500, text=f'container not found ("{container}")',
                                content_type="text/plain")
        ws = web.WebSocketResponse(protocols=[protocol] if protocol else (), autoping=True, heartbeat=None,
                                   max_msg_size=0)
        await ws.prepare(http)
        channels = _Channels(ws, protocol)
        try:
            first = STDOUT if stdout else STDERR if stderr else ERROR
            await channels.send(first, b"")
            if translated:
                await asyncio.sleep(KUBELET_DIAL_SECONDS)
            if not running or target is None:
                await _status(channels, internal_status(f'unable to upgrade connection: container not found '
                                                        f'("{container}")'))
                return ws
            source = StreamInput()
            if not stdin:
                source.close()
            reader = asyncio.ensure_future(_read_input(ws, channels, source, stdin))
            try:
                result = await target.exec(argv, stdin=source)  # type: ignore[arg-type]
            finally:
                source.close()
            out = result.stdout if stdout else b""
            err = result.stderr if stderr else b""
            if tty:
                out = (out + (result.stderr if stdout else b"")).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                err = b""
            if result.start_error is not None:
                exec_id = secrets.token_hex(32)
                message = (f"error executing command in container: failed to exec in container: failed to start "
                           f'exec "{exec_id}": {result.start_error}')
                status = internal_status(message)
                if translated:
                    status = internal_status(status["message"])
                await _status(channels, status)
            else:
                if out:
                    await channels.send_chunked(STDOUT, out)
                if err:
                    await channels.send_chunked(STDERR, err)
                if result.exit_code == 0:
                    await _status(channels, success_status())
                else:
                    await _status(channels, exit_status(result.exit_code, argv, translated))
            reader.cancel()
        finally:
            await ws.close()
        return ws

    return handle


async def _status(channels: _Channels, status: dict[str, Any]) -> None:
    if channels.protocol in STATUS_PROTOCOLS:
        await channels.send(ERROR, json.dumps(status, separators=(",", ":")).encode())
    elif status.get("status") != "Success":
        await channels.send(ERROR, status.get("message", "").encode())


async def _read_input(ws: web.WebSocketResponse, channels: _Channels, source: StreamInput, wanted: bool) -> None:
    """Feed the stdin channel to the process; EOF on the v5 close signal or when the client goes away."""
    try:
        async for msg in ws:
            decoded = channels.decode(msg)
            if decoded is None:
                continue
            channel, data = decoded
            if channel == STDIN and wanted:
                source.feed(data)
            elif channel == CLOSE and channels.protocol == V5 and data[:1] == bytes([STDIN]):
                source.close()
    finally:
        source.close()
