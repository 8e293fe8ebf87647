"""The prober's path mode against real local sockets: statuses, Host and extra headers, the serving pod from a
response header, an echo endpoint, HTTPS (CA bundle or no verification), keep-alive, and every error class."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pytest_azchaos.traffic.prober import Prober, ProbeTarget
from pytest_azchaos.traffic.recording import Recording


class Service(ThreadingHTTPServer):
    """A small HTTP/1.1 server on 127.0.0.1 that remembers what it was asked and which connections it saw."""

    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.tls = tls
        self.requests: list[dict[str, str]] = []
        self.connections: set[tuple[str, int]] = set()
        self.close_after_answer = False

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        sock, peer = super().get_request()
        self.connections.add(peer)
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True)
        return sock, peer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Service

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
        status, body = {"/ok": (200, b"ok\n"), "/moved": (301, b""), "/boom": (503, b"down\n"),
                        "/clientip": (200, f"{self.client_address[0]}:{self.client_address[1]}".encode())
                        }.get(self.path.split("?")[0], (404, b"not found\n"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By", "shop-7d9f-abcde")
        if self.server.close_after_answer:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def service() -> Iterator[Service]:
    server = Service()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def run(target: ProbeTarget, seconds: float = 0.5, rate: float = 40, keep_alive: bool = False,
        timeout: float = 2.0) -> Recording:
    prober = Prober(target, rate=rate, keep_alive=keep_alive, timeout=timeout).start()
    time.sleep(seconds)
    return prober.stop()


def path_target(port: int, **kw: object) -> ProbeTarget:
    return ProbeTarget(["127.0.0.1"], port, mode="path", **kw)  # type: ignore[arg-type]


def test_path_mode_counts_an_accepted_status_as_served(service: Service) -> None:
    rec = run(path_target(service.server_port, path="/ok"))
    assert rec.records and all(r.ok and r.status == 200 for r in rec.records), rec.records[:3]
    assert {q["path"] for q in service.requests} == {"/ok"}


def test_a_status_outside_the_accepted_ones_is_bad_status(service: Service) -> None:
    rec = run(path_target(service.server_port, path="/missing", statuses=((200, 299), (301, 301))))
    assert rec.records and all(r.error == "bad-status" and r.status == 404 for r in rec.records)


def test_a_redirect_listed_in_the_statuses_is_served(service: Service) -> None:
    rec = run(path_target(service.server_port, path="/moved", statuses=((200, 299), (301, 301))))
    assert rec.records and all(r.ok and r.status == 301 for r in rec.records)


def test_a_server_error_is_5xx(service: Service) -> None:
    rec = run(path_target(service.server_port, path="/boom"))
    assert rec.records and all(r.error == "5xx" and r.detail == "HTTP 503" for r in rec.records)


def test_host_header_and_extra_headers_are_sent(service: Service) -> None:
    run(path_target(service.server_port, path="/ok", host="shop.example.com",
                    headers=(("X-Api-Key", "s3cret"), ("Accept", "text/html,application/json"))))
    asked = service.requests[0]
    assert (asked["host"], asked["x-api-key"], asked["accept"]) == ("shop.example.com", "s3cret",
                                                                      "text/html,application/json")


def test_the_pod_header_names_the_serving_pod(service: Service) -> None:
    rec = run(path_target(service.server_port, path="/ok", pod_header="X-Served-By"))
    assert {r.pod for r in rec.records} == {"shop-7d9f-abcde"}


def test_without_a_pod_header_the_pod_is_unknown(service: Service) -> None:
    rec = run(path_target(service.server_port, path="/ok"))
    assert {r.pod for r in rec.records} == {None}


def test_the_echo_endpoint_gives_the_client_address_the_service_saw(service: Service) -> None:
    rec = run(path_target(service.server_port, path="/ok", echo="/clientip"))
    assert rec.records and all(r.ok and r.client_ip == "127.0.0.1" for r in rec.records), rec.records[:3]
    assert [q["path"] for q in service.requests[:2]] == ["/ok", "/clientip"]


def test_lb_zone_comes_from_the_address_map_and_is_none_when_unmapped(service: Service) -> None:
    mapped = run(path_target(service.server_port, path="/ok", zones={"127.0.0.1": "us-east-1b"}), seconds=0.2)
    unmapped = run(path_target(service.server_port, path="/ok"), seconds=0.2)
    assert {r.lb_zone for r in mapped.records} == {"us-east-1b"}
    assert {r.lb_zone for r in unmapped.records} == {None}


def test_without_keep_alive_every_request_opens_a_connection(service: Service) -> None:
    rec = run(path_target(service.server_port, path="/ok"), seconds=0.5, rate=20)
    assert len(service.connections) == len(rec.records)


def test_keep_alive_reuses_connections(service: Service) -> None:
    rec = run(path_target(service.server_port, path="/ok"), seconds=1.0, rate=20, keep_alive=True)
    assert rec.records and all(r.ok for r in rec.records)
    assert len(service.connections) <= 3 < len(rec.records), (len(service.connections), len(rec.records))


def test_keep_alive_against_a_server_that_closes_opens_a_new_connection_each_time(service: Service) -> None:
    service.close_after_answer = True
    rec = run(path_target(service.server_port, path="/ok"), seconds=0.5, rate=20, keep_alive=True)
    assert rec.records and all(r.ok for r in rec.records), [r.detail for r in rec.records if not r.ok][:3]
    assert len(service.connections) == len(rec.records)


def test_a_closed_port_is_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rec = run(path_target(port), seconds=0.2)
    assert rec.records and all(r.error == "refused" for r in rec.records)


def _listener(behaviour: str) -> tuple[socket.socket, threading.Event]:
    """A socket that accepts and then resets (RST) or says nothing."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            if behaviour == "reset":
                conn.recv(1024)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()
            else:
                held.append(conn)
        for c in held:
            c.close()

    threading.Thread(target=serve, daemon=True).start()
    return sock, stop


@pytest.mark.parametrize("behaviour, error", [("reset", "reset"), ("silent", "timeout")])
def test_a_connection_reset_or_silence_is_classed(behaviour: str, error: str) -> None:
    sock, stop = _listener(behaviour)
    try:
        rec = run(path_target(sock.getsockname()[1]), seconds=0.3, rate=10, timeout=0.5)
    finally:
        stop.set()
        time.sleep(0.15)
        sock.close()
    assert rec.records and {r.error for r in rec.records} == {error}, {r.detail for r in rec.records}


# ------------------------------------------------------------------ HTTPS


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("shop.example.com"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def https_service(tmp_path: Path) -> Iterator[tuple[Service, Path]]:
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = Service(tls=context)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, cert
    server.shutdown()
    server.server_close()


def test_https_with_the_ca_bundle_verifies_and_serves(https_service: tuple[Service, Path]) -> None:
    server, cert = https_service
    rec = run(path_target(server.server_port, path="/ok", tls=True, ca=str(cert), host="shop.example.com"))
    assert rec.records and all(r.ok for r in rec.records), {r.detail for r in rec.records}


def test_https_with_an_unknown_ca_fails_verification(https_service: tuple[Service, Path]) -> None:
    server, _ = https_service
    rec = run(path_target(server.server_port, path="/ok", tls=True, host="shop.example.com"), seconds=0.2)
    assert rec.records and all(not r.ok and "CERTIFICATE_VERIFY_FAILED" in r.detail for r in rec.records)


def test_https_without_verification_serves(https_service: tuple[Service, Path]) -> None:
    server, _ = https_service
    rec = run(path_target(server.server_port, path="/ok", tls=True, verify=False), seconds=0.3)
    assert rec.records and all(r.ok for r in rec.records), {r.detail for r in rec.records}
