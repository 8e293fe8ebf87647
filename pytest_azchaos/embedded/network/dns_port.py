"""Port 53 for an ordinary user: where the embedded network really serves cluster DNS's "port 53".

Linux lets only root (CAP_NET_BIND_SERVICE) bind ports below ``net.ipv4.ip_unprivileged_port_start`` (1024
unless changed), and cluster DNS is port 53: CoreDNS's pods bind ``<pod IP>:53`` and kube-proxy serves
``<kube-dns ClusterIP>:53``. When port 53 cannot be bound, the embedded network serves "port 53" of every pod
and ClusterIP address on one unprivileged port instead (:data:`FALLBACK_PORT`, 53 + 10000, or the sysctl's
start when that is higher), and every in-process client that dials a DNS server (the emulated resolvers, the
relays) maps port 53 to it. Nothing observable from inside the cluster changes: resolv.conf still names
``<kube-dns>``, Service and container ports still say 53, resolvers and CoreDNS still print ``:53``.

The decision is made once per cluster, by trying to bind port 53 (never by the uid), in the process that
starts the cluster (:func:`choose`); it is handed to the cluster process in :data:`PORT_ENV` and recorded in
the cluster's state file (``dns_port``). ``AZCHAOS_EMBEDDED_DNS_PORT=10053`` set by hand makes a cluster
behave as an ordinary user's does even as root (a test aid).
"""

from __future__ import annotations

import os
import socket

DNS_PORT = 53
FALLBACK_PORT = DNS_PORT + 10000
PORT_ENV = "AZCHAOS_EMBEDDED_DNS_PORT"
_SYSCTL = "/proc/sys/net/ipv4/ip_unprivileged_port_start"
_chosen: int | None = None


def unprivileged_port_start() -> int:
    """``net.ipv4.ip_unprivileged_port_start`` (1024 where there is no such sysctl)."""
    try:
        with open(_SYSCTL) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return 1024


def port_53_bindable(host: str = "127.0.0.1") -> bool:
    """Whether this process may bind port 53. The kernel checks the privilege before the address, so a port
    already in use (a local resolver on ``host``) still means yes; only EACCES/EPERM means no."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind((host, DNS_PORT))
            except PermissionError:
                return False
            except OSError:
                pass
    return True


def fallback_port() -> int:
    """The unprivileged port that stands for 53: 10053, or the sysctl's start when that is above it."""
    return max(FALLBACK_PORT, unprivileged_port_start())


def parse(value: str) -> int:
    """:data:`PORT_ENV`'s value as a port; ValueError naming the fix."""
    try:
        port = int(value)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise ValueError(f"{PORT_ENV}={value!r} is not a port; set it to a port number (e.g. {FALLBACK_PORT}, "
                         f"what an ordinary user's cluster uses) or unset it")
    return port


def choose(host: str = "127.0.0.1") -> int:
    """The port cluster DNS is served on: :data:`PORT_ENV` when set, else 53 when it can be bound, else the
    fallback. Raises ValueError for a :data:`PORT_ENV` that is not a port."""
    value = os.environ.get(PORT_ENV)
    if value:
        return parse(value)
    return DNS_PORT if port_53_bindable(host) else fallback_port()


def dns_port() -> int:
    """This process's choice (made on first use, then kept: one cluster per process)."""
    global _chosen
    if _chosen is None:
        _chosen = choose()
    return _chosen


def wire_port(port: int) -> int:
    """The port really bound or dialled for a declared ``port``: 53 becomes :func:`dns_port`, others stay."""
    return dns_port() if port == DNS_PORT else port
