"""Container probes run for real: HTTP GET, TCP connect and exec, with upstream's result texts.

Messages follow ``pkg/probe/http/http.go`` and ``pkg/kubelet/prober`` (e.g. ``HTTP probe failed with
statuscode: 503``), since they surface in ``Unhealthy`` events that users read.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from ..images.container import Container
from ..network.dns_port import wire_port

Obj = dict[str, Any]


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    message: str = ""


def _port(value: Any, container: Obj) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    for p in container.get("ports") or []:
        if p.get("name") == value:
            return int(p["containerPort"])
    return None


async def http_get(host: str, port: int, path: str, timeout: float, headers: list[Obj] | None = None) -> ProbeResult:
    """GET like the kubelet's prober: 200-399 succeed; the body is not read beyond the status line."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        return ProbeResult(False, f'Get "http://{host}:{port}{path}": context deadline exceeded (Client.Timeout '
                                  "exceeded while awaiting headers)")
    except OSError:
        return ProbeResult(False, f'Get "http://{host}:{port}{path}": dial tcp {host}:{port}: connect: '
                                  "connection refused")
    try:
        extra = "".join(f"{h['name']}: {h['value']}\r\n" for h in headers or [])
        writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe/1.36\r\n"
                      f"Accept: */*\r\n{extra}Connection: close\r\n\r\n").encode())
        line = await asyncio.wait_for(reader.readline(), timeout)
    except TimeoutError:
        return ProbeResult(False, f'Get "http://{host}:{port}{path}": context deadline exceeded (Client.Timeout '
                                  "exceeded while awaiting headers)")
    except OSError:
        return ProbeResult(False, f'Get "http://{host}:{port}{path}": read tcp: connection reset by peer')
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    parts = line.split()
    if len(parts) < 2 or not parts[1].isdigit():
        return ProbeResult(False, f'Get "http://{host}:{port}{path}": EOF')
    code = int(parts[1])
    if 200 <= code < 400:
        return ProbeResult(True)
    return ProbeResult(False, f"HTTP probe failed with statuscode: {code}")


async def tcp_connect(host: str, port: int, timeout: float) -> ProbeResult:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, wire_port(port)), timeout)
    except TimeoutError:
        return ProbeResult(False, f"dial tcp {host}:{port}: i/o timeout")
    except OSError:
        return ProbeResult(False, f"dial tcp {host}:{port}: connect: connection refused")
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return ProbeResult(True)


async def run_probe(probe: Obj, container_spec: Obj, container: Container, pod_ip: str) -> ProbeResult:
    """Run one probe attempt within its ``timeoutSeconds``."""
    timeout = float(probe.get("timeoutSeconds", 1))
    if "httpGet" in probe:
        hg = probe["httpGet"]
        port = _port(hg.get("port"), container_spec)
        if port is None:
            return ProbeResult(False, f"port {hg.get('port')!r} not found")
        host = hg.get("host") or pod_ip
        return await http_get(host, port, hg.get("path") or "/", timeout, hg.get("httpHeaders"))
    if "tcpSocket" in probe:
        ts = probe["tcpSocket"]
        port = _port(ts.get("port"), container_spec)
        if port is None:
            return ProbeResult(False, f"port {ts.get('port')!r} not found")
        return await tcp_connect(ts.get("host") or pod_ip, port, timeout)
    if "exec" in probe:
        argv = (probe["exec"] or {}).get("command") or []
        try:
            result = await asyncio.wait_for(container.exec(argv), timeout)
        except TimeoutError:
            return ProbeResult(False, f"command {argv!r} timed out")
        if result.exit_code == 0:
            return ProbeResult(True)
        out = (result.stdout + result.stderr).decode(errors="replace").strip()
        if result.start_error:
            return ProbeResult(False, result.start_error)
        return ProbeResult(False, out or f"command {argv!r} exited with {result.exit_code}")
    return ProbeResult(True)
