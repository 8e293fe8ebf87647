"""busybox ``httpd`` in the embedded cluster: files from HOME with busybox's headers, 404 (busybox's page) for
anything else, one request per connection, GET/HEAD only, directories, no climbing out, and without ``-f``
the daemonized main process exits at once."""

from __future__ import annotations

import socket

import pytest
from kubernetes import client

from ..waiting import wait_for

FILES = "mkdir -p /www/docs && echo hello > /www/index.html && echo ok > /www/healthz && echo d > /www/docs/index.html"


def _pod(name: str, command: list[str]) -> client.V1Pod:
    www = [client.V1VolumeMount(name="www", mount_path="/www")]
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name), spec=client.V1PodSpec(
        termination_grace_period_seconds=0, restart_policy="Never",
        init_containers=[client.V1Container(name="files", image="busybox:1.36", command=["sh", "-c", FILES],
                                            volume_mounts=www)],
        containers=[client.V1Container(name="httpd", image="busybox:1.36", command=command, volume_mounts=www)],
        volumes=[client.V1Volume(name="www", empty_dir=client.V1EmptyDirVolumeSource())]))


@pytest.fixture
def site(core: client.CoreV1Api, namespace: str) -> str:
    core.create_namespaced_pod(namespace, _pod("site", ["httpd", "-f", "-p", "8080", "-h", "/www"]))
    pod = wait_for(lambda: core.read_namespaced_pod("site", namespace),
                   lambda p: p.status.phase == "Running" and bool(p.status.pod_ip), what="httpd pod Running")
    ip = pod.status.pod_ip
    wait_for(lambda: _ask(ip, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), lambda r: r.startswith("HTTP/1.1 200"),
             what="httpd answering")
    return str(ip)


def _ask(ip: str, request: str) -> str:
    """Send ``request`` and read until the server closes the connection (busybox httpd always does)."""
    try:
        with socket.create_connection((ip, 8080), timeout=3) as s:
            s.sendall(request.encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return data.decode("latin-1")
    except OSError as e:
        return f"error: {e}"


def test_a_file_is_served_with_busybox_headers_and_the_connection_closes(site: str) -> None:
    answer = _ask(site, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition("\r\n\r\n")
    lines = head.split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK" and body == "hello\n"
    assert [line.split(":")[0] for line in lines[1:]] == ["Date", "Connection", "Content-type", "Last-Modified",
                                                          "ETag", "Content-Length"]
    assert "Connection: close" in lines and "Content-type: text/html" in lines and "Content-Length: 6" in lines


def test_anything_else_is_busyboxs_404_page(site: str) -> None:
    answer = _ask(site, "GET /hostname HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith("HTTP/1.1 404 Not Found\r\n")
    assert answer.endswith("\r\n\r\n<HTML><HEAD><TITLE>404 Not Found</TITLE></HEAD>\n<BODY><H1>404 Not Found</H1>\n"
                           "The requested URL was not found\n</BODY></HTML>\n")
    assert "Content-Length" not in answer


def test_head_has_no_body(site: str) -> None:
    answer = _ask(site, "HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith("HTTP/1.1 200 OK\r\n") and answer.endswith("\r\n\r\n")


def test_other_methods_are_not_implemented(site: str) -> None:
    assert _ask(site, "POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").startswith(
        "HTTP/1.1 501 Not Implemented\r\n")


def test_a_directory_redirects_to_its_slash_and_serves_its_index(site: str) -> None:
    moved = _ask(site, "GET /docs HTTP/1.1\r\nHost: x\r\n\r\n")
    assert moved.startswith("HTTP/1.1 302 Found\r\n") and "\r\nLocation: /docs/\r\n" in moved
    assert _ask(site, "GET /docs/ HTTP/1.1\r\nHost: x\r\n\r\n").endswith("\r\n\r\nd\n")


def test_climbing_out_of_home_is_a_bad_request(site: str) -> None:
    assert _ask(site, "GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n").startswith("HTTP/1.1 400 Bad Request\r\n")


def test_without_f_httpd_daemonizes_and_the_container_completes(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("bg", ["httpd", "-p", "8080", "-h", "/www"]))
    pod = wait_for(lambda: core.read_namespaced_pod("bg", namespace), lambda p: p.status.phase == "Succeeded",
                   what="pod bg Succeeded")
    term = pod.status.container_statuses[0].state.terminated
    assert (term.exit_code, term.reason) == (0, "Completed")
