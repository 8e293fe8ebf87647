"""agnhost netexec / serve-hostname / pause served for real on a loopback pod IP."""

from __future__ import annotations

import json
import re
import socket
import time

import pytest

from tests.embedded.images.conftest import http_get

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"


@pytest.fixture
def netexec(start, pod_ip):
    return start(AGNHOST, args=["netexec", "--http-port=8080", "--udp-port=8081"])


def udp(pod_ip: str, payload: bytes, *, source: str = "127.201.0.9", port: int = 8081) -> tuple[bytes, int]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(3)
        s.sendto(payload, (pod_ip, port))
        return s.recvfrom(4096)[0], s.getsockname()[1]


def refused(pod_ip: str, port: int = 8080) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((pod_ip, port)) != 0


def test_root_returns_go_time_string(netexec, pod_ip):
    status, _, body = http_get(pod_ip, 8080, "/")
    assert status == 200
    assert re.fullmatch(rb"NOW: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC m=\+\d+\.\d{9}", body)


def test_clientip_is_the_peer_address_without_newline(netexec, pod_ip):
    with socket.socket() as s:
        s.bind(("127.201.0.5", 0))
        s.connect((pod_ip, 8080))
        port = s.getsockname()[1]
        s.sendall(b"GET /clientip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert data.split(b"\r\n\r\n", 1)[1] == f"127.201.0.5:{port}".encode()


@pytest.mark.parametrize("path", ["/hostname", "/hostName"])
def test_hostname_is_the_pod_name(netexec, pod_ip, path):
    assert http_get(pod_ip, 8080, path)[::2] == (200, b"netexec-pod")


def test_echo_returns_msg_with_requested_code(netexec, pod_ip):
    status, headers, body = http_get(pod_ip, 8080, "/echo?msg=hello&code=418")
    assert (status, body) == (418, b"hello")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"


def test_echo_bad_code_is_200_with_upstream_text(netexec, pod_ip):
    assert http_get(pod_ip, 8080, "/echo?msg=x&code=abc")[::2] == (
        200, b"argument 'code' must be an integer or empty, got \"abc\"\n")


def test_header_by_key_and_all_headers_as_json(netexec, pod_ip):
    assert http_get(pod_ip, 8080, "/header?key=x-test", headers={"X-Test": "v1"})[2] == b"v1"
    body = http_get(pod_ip, 8080, "/header", headers={"x-a": "1"})[2]
    assert json.loads(body)["X-A"] == ["1"] and "Host" not in json.loads(body)


def test_healthz_and_readyz_when_ready(netexec, pod_ip):
    assert http_get(pod_ip, 8080, "/healthz")[::2] == (200, b"")
    assert http_get(pod_ip, 8080, "/readyz")[::2] == (200, b"ok")


def test_readyz_is_412_without_udp_server(start, pod_ip):
    start(AGNHOST, args=["netexec", "--udp-port=-1"])
    assert http_get(pod_ip, 8080, "/readyz")[0] == 412
    assert http_get(pod_ip, 8080, "/healthz")[0] == 412


def test_dial_http_returns_responses_json(netexec, pod_ip):
    body = http_get(pod_ip, 8080, f"/dial?host={pod_ip}&port=8080&request=hostname&tries=2")[2]
    assert body == b'{"responses":["netexec-pod","netexec-pod"]}'


def test_dial_clientip_shows_the_pod_as_source(netexec, pod_ip):
    body = json.loads(http_get(pod_ip, 8080, f"/dial?host={pod_ip}&port=8080&request=clientip")[2])
    assert body["responses"][0].startswith(f"{pod_ip}:")


def test_dial_refused_reports_go_error(netexec, pod_ip):
    body = http_get(pod_ip, 8080, f"/dial?host={pod_ip}&port=9&request=hostname")[2]
    assert json.loads(body) == {"errors": [
        f'Get "http://{pod_ip}:9/hostname": dial tcp {pod_ip}:9: connect: connection refused']}


def test_dial_udp_hostname(netexec, pod_ip):
    body = http_get(pod_ip, 8080, f"/dial?host={pod_ip}&port=8081&request=hostname&protocol=udp")[2]
    assert body == b'{"responses":["netexec-pod"]}'


@pytest.mark.parametrize(("query", "text"), [
    ("host=a&port=1", "request parameter not specified. <nil>\n"),
    ("host=a&port=1&request=x&protocol=tcp", "unsupported protocol. tcp\n"),
    ("host=a&port=1&request=x&tries=z", 'tries parameter is invalid. strconv.Atoi: parsing "z": invalid syntax\n'),
])
def test_dial_bad_parameters_are_400(netexec, pod_ip, query, text):
    assert http_get(pod_ip, 8080, f"/dial?{query}")[::2] == (400, text.encode())


def test_shell_runs_the_image_shell(netexec, pod_ip):
    assert json.loads(http_get(pod_ip, 8080, "/shell?cmd=echo%20hi;%20exit%203")[2]) == {
        "output": "hi\n", "error": "exit status 3"}


def test_redirect_defaults_to_302(netexec, pod_ip):
    status, headers, _ = http_get(pod_ip, 8080, "/redirect?location=/echo%3Fmsg%3Dx")
    assert (status, headers["Location"]) == (302, "/echo?msg=x")


def test_unknown_path_is_served_by_root(netexec, pod_ip):
    assert http_get(pod_ip, 8080, "/nope")[2].startswith(b"NOW: ")


def test_keep_alive_serves_several_requests_on_one_connection(netexec, pod_ip):
    with socket.create_connection((pod_ip, 8080), timeout=3) as s:
        s.sendall(b"GET /hostname HTTP/1.1\r\nHost: x\r\n\r\nGET /hostname HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while data.count(b"netexec-pod") < 2:
            data += s.recv(4096)
    assert data.count(b"HTTP/1.1 200 OK") == 2


def test_connection_close_is_honoured(netexec, pod_ip):
    with socket.create_connection((pod_ip, 8080), timeout=3) as s:
        s.sendall(b"GET /hostname HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert b"Connection: close\r\n" in data and data.endswith(b"netexec-pod")


def test_udp_hostname_echo_clientip(netexec, pod_ip):
    assert udp(pod_ip, b"hostname")[0] == b"netexec-pod"
    assert udp(pod_ip, b"echo Hello There")[0] == b"hello there"  # upstream lower-cases the command
    reply, port = udp(pod_ip, b"clientip\n")
    assert reply == f"127.201.0.9:{port}".encode()


def test_sigterm_without_delay_exits_zero_and_refuses(netexec, pod_ip, loop_thread):
    loop_thread.run(netexec.signal_term())
    assert loop_thread.run(netexec.wait()) == 0
    assert refused(pod_ip)


def test_delay_shutdown_keeps_serving_with_readyz_503_then_exits(start, pod_ip, loop_thread):
    c = start(AGNHOST, args=["netexec", "--delay-shutdown=1"])
    loop_thread.run(c.signal_term())
    t0 = time.monotonic()
    assert http_get(pod_ip, 8080, "/readyz")[::2] == (503, b"shutting down")
    assert http_get(pod_ip, 8080, "/healthz")[0] == 200
    assert http_get(pod_ip, 8080, "/hostname")[2] == b"netexec-pod"
    assert loop_thread.run(c.wait()) == 0
    assert time.monotonic() - t0 >= 0.8
    assert refused(pod_ip)
    assert "Sleeping 1 seconds before terminating..." in c.logs.render()


def test_exit_endpoint_ends_with_the_code(netexec, pod_ip, loop_thread):
    with pytest.raises((ConnectionError, OSError)):
        http_get(pod_ip, 8080, "/exit?code=3")
    assert loop_thread.run(netexec.wait()) == 3


def test_exit_with_timeout_answers_then_exits(netexec, pod_ip, loop_thread):
    assert http_get(pod_ip, 8080, "/exit?code=4&timeout=1s")[0] == 200
    assert loop_thread.run(netexec.wait()) == 4
    assert "Graceful shutdown completed with: <nil>" in netexec.logs.render()


def test_shutdown_endpoint_exits_zero(netexec, pod_ip, loop_thread):
    with pytest.raises((ConnectionError, OSError)):
        http_get(pod_ip, 8080, "/shutdown")
    assert loop_thread.run(netexec.wait()) == 0


def test_sigkill_exits_137(netexec, loop_thread):
    loop_thread.run(netexec.kill())
    assert netexec.exit_code == 137


def test_logs_match_upstream_lines(netexec, pod_ip):
    http_get(pod_ip, 8080, "/clientip")
    lines = [line.split(" ", 2)[2] for line in netexec.logs.render().splitlines()]
    assert lines[:3] == ["Started HTTP server on port 8080", "Started UDP server on port  8081", "GET /clientip"]


def test_bound_ports_report_tcp_and_udp(netexec, pod_ip):
    assert {(p.protocol, p.host, p.port) for p in netexec.bound_ports()} == {
        ("TCP", pod_ip, 8080), ("UDP", pod_ip, 8081)}


def test_serve_hostname_answers_on_9376(start, pod_ip):
    start(AGNHOST, args=["serve-hostname"], pod_name="sh-pod")
    assert http_get(pod_ip, 9376, "/anything")[::2] == (200, b"sh-pod")


def test_default_cmd_is_pause_and_sigterm_exits_2(start, loop_thread):
    c = start(AGNHOST)
    assert c.bound_ports() == [] and c.logs.render() == "Paused\n"
    loop_thread.run(c.signal_term())
    assert c.exit_code == 2


def test_unknown_flag_prints_cobra_error_and_exits_zero(start):
    c = start(AGNHOST, args=["netexec", "--nope=1"])
    assert c.exit_code == 0
    assert c.logs.render().startswith("Error: unknown flag: --nope\n")


def test_bare_agnhost_name_is_not_on_path(start, loop_thread):
    from pytest_azchaos.embedded.images import ContainerStartError

    with pytest.raises(ContainerStartError, match=r'exec: "agnhost": executable file not found in \$PATH'):
        start(AGNHOST, command=["agnhost", "netexec"])
