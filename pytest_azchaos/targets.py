"""Your own services under test: ``--azchaos-target`` parsed and validated into a frozen ``Target`` (pytest-free).

Syntax (one target per option or ini line; ``,`` separates settings, and a part without ``=`` continues the
previous value, so ``status=200-299,301`` and ``header=Accept:text/html,application/json`` read as written)::

    KIND/NAMESPACE/NAME[,key=value...]        KIND: deployment | statefulset

How to reach it (at most one; default: the one ``type: LoadBalancer`` Service selecting the workload's pods):

    service=NAME      that Service's load balancer            ingress=NAME   that Ingress's address
    url=URL           http(s)://HOST[:PORT][/PATH] as given   port=N         which Service port (default: first)

What to ask:

    path=/PATH        request path (default /, or the URL's)  status=LIST    accepted statuses, e.g. 200-299,301
                                                                             (default 200-399)
    host=NAME         Host header (and TLS server name)       header=NAME:VALUE  extra header (repeatable)
    scheme=https      TLS (default http; https with url=https://...)
    ca=FILE           CA bundle to verify the server with     verify=false   no certificate verification
    keep-alive=true   keep connections open between requests, as real clients do (default false: a new
                      connection per request, like new clients arriving)
    echo=/PATH        an endpoint answering the client address it saw (like agnhost /clientip): enables AZ-SRCIP
    pod-header=NAME   a response header naming the serving pod: enables AZ-BALANCE and per-pod evidence

Nothing about a target is deployed, changed or deleted by the plugin; faults (drain, pod kills) act on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["DEFAULT_STATUSES", "Target", "TargetError", "parse_target", "parse_targets"]

Kind = Literal["deployment", "statefulset"]
KINDS: tuple[str, ...] = ("deployment", "statefulset")
DEFAULT_STATUSES: tuple[tuple[int, int], ...] = ((200, 399),)
KEYS = ("service", "ingress", "url", "port", "path", "status", "host", "header", "scheme", "ca", "verify",
        "keep-alive", "echo", "pod-header")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name (RFC 9110 token)
_TRUE = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


class TargetError(ValueError):
    """A ``--azchaos-target`` that cannot work; the message quotes it and names the fix."""


@dataclass(frozen=True)
class Target:
    """One of the user's own workloads under test and how traffic reaches it (see the module docstring)."""

    kind: Kind
    namespace: str
    name: str
    service: str | None = None
    ingress: str | None = None
    url: str | None = None
    port: int | None = None
    path: str = "/"
    statuses: tuple[tuple[int, int], ...] = DEFAULT_STATUSES
    host: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    scheme: Literal["http", "https"] = "http"
    ca: str | None = None
    verify: bool = True
    keep_alive: bool = False
    echo: str | None = None
    pod_header: str | None = None
    text: str = ""  # as the user wrote it

    @property
    def id(self) -> str:
        """``deployment/shop/checkout``: what test ids and messages call it."""
        return f"{self.kind}/{self.namespace}/{self.name}"

    @property
    def controller_kind(self) -> str:
        """The API kind: ``Deployment`` or ``StatefulSet``."""
        return "Deployment" if self.kind == "deployment" else "StatefulSet"

    def accepts(self, status: int) -> bool:
        """Whether an answer with HTTP ``status`` counts as served."""
        return any(lo <= status <= hi for lo, hi in self.statuses)

    def describe_statuses(self) -> str:
        return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.statuses)


def parse_targets(items: Iterable[str]) -> tuple[Target, ...]:
    """Every ``--azchaos-target`` (and ``azchaos_targets`` ini line); the same workload twice is an error."""
    out: list[Target] = []
    for item in items:
        if not item.strip():
            continue
        target = parse_target(item)
        if any(t.id == target.id for t in out):
            raise TargetError(f"--azchaos-target {target.id} is given twice: keep one (each target runs every "
                              "suite once; one target has one way to be reached)")
        out.append(target)
    return tuple(out)


def parse_target(text: str) -> Target:
    """``KIND/NAMESPACE/NAME[,key=value...]`` as a ``Target``, or ``TargetError`` naming the fix."""
    raw = text.strip()
    head, *parts = raw.split(",")
    kind, namespace, name = _workload(raw, head.strip())
    settings: dict[str, str] = {}
    headers: list[tuple[str, str]] = []
    last: str | None = None
    for part in parts:
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep:
            if last is None:
                raise TargetError(f"--azchaos-target {raw!r}: {part!r} is not key=value: settings follow the "
                                  "workload as ,key=value (e.g. deployment/shop/checkout,path=/healthz)")
            if last == "header":
                hname, hvalue = headers[-1]
                headers[-1] = (hname, f"{hvalue},{part}")
            else:
                settings[last] += "," + part
            continue
        if key not in KEYS:
            raise TargetError(f"--azchaos-target {raw!r}: unknown setting {key!r}; the settings are "
                              f"{', '.join(KEYS)}")
        value = value.strip()
        if key == "header":
            headers.append(_header(raw, value))
        elif key in settings:
            raise TargetError(f"--azchaos-target {raw!r}: {key} is given twice; keep one")
        else:
            settings[key] = value
        last = key
    return _build(raw, kind, namespace, name, settings, headers)


def _workload(raw: str, head: str) -> tuple[Kind, str, str]:
    pieces = head.split("/")
    if len(pieces) != 3 or not all(pieces):
        raise TargetError(f"--azchaos-target {raw!r} does not name a workload: write KIND/NAMESPACE/NAME, e.g. "
                          "deployment/shop/checkout (KIND: deployment or statefulset)")
    kind, namespace, name = (p.strip() for p in pieces)
    if kind.lower() not in KINDS:
        raise TargetError(f"--azchaos-target {raw!r}: kind must be deployment or statefulset, not {kind!r} "
                          f"(write {'deployment' if kind.lower().startswith('deploy') else 'statefulset'}"
                          f"/{namespace}/{name})")
    if not _DNS_LABEL.fullmatch(namespace):
        raise TargetError(f"--azchaos-target {raw!r}: namespace {namespace!r} is not a namespace name (lower-case "
                          "letters, digits and '-', at most 63)")
    if not _DNS_SUBDOMAIN.fullmatch(name) or len(name) > 253:
        raise TargetError(f"--azchaos-target {raw!r}: {name!r} is not a {kind.lower()} name (lower-case letters, "
                          "digits, '-' and '.')")
    return kind.lower(), namespace, name  # type: ignore[return-value]


def _header(raw: str, value: str) -> tuple[str, str]:
    hname, sep, hvalue = value.partition(":")
    if not sep or not _TOKEN.fullmatch(hname.strip()):
        raise TargetError(f"--azchaos-target {raw!r}: header={value!r} is not NAME:VALUE: write it as "
                          "header=X-Api-Key:secret")
    if any(c in hvalue for c in "\r\n"):
        raise TargetError(f"--azchaos-target {raw!r}: header {hname!r} has a line break in its value")
    if hname.strip().lower() in ("host", "connection", "content-length", "transfer-encoding"):
        raise TargetError(f"--azchaos-target {raw!r}: header {hname.strip()!r} is set by the prober: use host= "
                          "for the Host header and keep-alive= for connections")
    return hname.strip(), hvalue.strip()


def _bool(raw: str, key: str, value: str) -> bool:
    if value.lower() not in _TRUE:
        raise TargetError(f"--azchaos-target {raw!r}: {key}={value!r} must be true or false")
    return _TRUE[value.lower()]


def _path(raw: str, key: str, value: str) -> str:
    if not value.startswith("/") or any(c.isspace() for c in value):
        raise TargetError(f"--azchaos-target {raw!r}: {key}={value!r} must be a path starting with '/' without "
                          f"spaces, e.g. {key}=/healthz")
    return value


def _statuses(raw: str, value: str) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for piece in value.split(","):
        m = re.fullmatch(r"\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?", piece)
        lo, hi = (int(m.group(1)), int(m.group(2) or m.group(1))) if m else (0, 0)
        if not m or not 100 <= lo <= hi <= 599:
            raise TargetError(f"--azchaos-target {raw!r}: status={value!r} is not a list of HTTP statuses and "
                              "ranges: write e.g. status=200-299,301")
        out.append((lo, hi))
    return tuple(out)


def _build(raw: str, kind: Kind, namespace: str, name: str, s: dict[str, str],
           headers: list[tuple[str, str]]) -> Target:
    ways = [k for k in ("service", "ingress", "url") if k in s]
    if len(ways) > 1:
        raise TargetError(f"--azchaos-target {raw!r}: give one way to reach it, not {' and '.join(ways)}: "
                          "service=NAME, ingress=NAME or url=URL")
    for key in ("service", "ingress"):
        if key in s and not _DNS_SUBDOMAIN.fullmatch(s[key]):
            raise TargetError(f"--azchaos-target {raw!r}: {key}={s[key]!r} is not a {key} name")
    scheme = s.get("scheme", "").lower() or None
    if scheme not in (None, "http", "https"):
        raise TargetError(f"--azchaos-target {raw!r}: scheme must be http or https, not {s['scheme']!r}")
    path = _path(raw, "path", s["path"]) if "path" in s else None
    port = None
    if "port" in s:
        if not s["port"].isdigit() or not 1 <= int(s["port"]) <= 65535:
            raise TargetError(f"--azchaos-target {raw!r}: port={s['port']!r} must be a port number 1-65535")
        port = int(s["port"])
    url = s.get("url")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetError(f"--azchaos-target {raw!r}: url={url!r} must be http://HOST[:PORT][/PATH] or "
                              "https://...")
        try:
            url_port = parts.port
        except ValueError:
            raise TargetError(f"--azchaos-target {raw!r}: url={url!r} has a bad port") from None
        if scheme is not None and scheme != parts.scheme:
            raise TargetError(f"--azchaos-target {raw!r}: scheme={scheme} contradicts url={url}; drop scheme=")
        if port is not None:
            raise TargetError(f"--azchaos-target {raw!r}: port= is for a Service's port; put the port in the url "
                              "(url=http://HOST:PORT/...)")
        url_path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path is not None and url_path not in ("", "/"):
            raise TargetError(f"--azchaos-target {raw!r}: the path is given twice (url and path=); keep one")
        path = path or url_path or "/"
        scheme = parts.scheme
        port = url_port
    if "ingress" in s and port is not None:
        raise TargetError(f"--azchaos-target {raw!r}: port= is for a Service's port; an Ingress listens on 80 "
                          "(443 with scheme=https)")
    verify = _bool(raw, "verify", s["verify"]) if "verify" in s else True
    ca = s.get("ca") or None
    if ca is not None and not verify:
        raise TargetError(f"--azchaos-target {raw!r}: ca= verifies the server and verify=false does not; keep one")
    if (ca is not None or "verify" in s) and scheme != "https":
        raise TargetError(f"--azchaos-target {raw!r}: ca= and verify= are for TLS: add scheme=https (or use an "
                          "https:// url)")
    if ca is not None and not Path(ca).expanduser().is_file():
        raise TargetError(f"--azchaos-target {raw!r}: CA file {ca} does not exist: pass the path of a PEM bundle "
                          "with ca=FILE, or verify=false to skip verification")
    host = s.get("host") or None
    if host is not None and not re.fullmatch(r"[A-Za-z0-9.-]+(:\d+)?", host):
        raise TargetError(f"--azchaos-target {raw!r}: host={host!r} is not a host name")
    pod_header = s.get("pod-header") or None
    if pod_header is not None and not _TOKEN.fullmatch(pod_header):
        raise TargetError(f"--azchaos-target {raw!r}: pod-header={pod_header!r} is not a header name")
    return Target(
        kind=kind, namespace=namespace, name=name, service=s.get("service"), ingress=s.get("ingress"), url=url,
        port=port, path=path or "/", statuses=_statuses(raw, s["status"]) if "status" in s else DEFAULT_STATUSES,
        host=host, headers=tuple(headers), scheme=scheme or "http",  # type: ignore[arg-type]
        ca=str(Path(ca).expanduser()) if ca else None, verify=verify,
        keep_alive=_bool(raw, "keep-alive", s["keep-alive"]) if "keep-alive" in s else False,
        echo=_path(raw, "echo", s["echo"]) if "echo" in s else None, pod_header=pod_header, text=raw)
