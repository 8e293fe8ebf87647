"""The plugin inside a pod (``--azchaos-cluster=in-cluster``): the pod's service account and the cluster's CA, as
client-go's InClusterConfig reads them, over real TLS to the embedded API server (a TLS relay in front of it plays
the ``kubernetes`` Service); outside a pod it refuses naming the fix."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client import ApiException

from pytest_azchaos import settings as settings_module
from pytest_azchaos.kube import cluster as cluster_module
from pytest_azchaos.kube.cluster import (
    IN_CLUSTER_CONTEXT,
    Cluster,
    in_cluster_problem,
    write_in_cluster_kubeconfig,
)
from pytest_azchaos.wellknown import EMBEDDED_TOKEN


def _build(**kw):
    base = dict(kubeconfig=None, context=None, cluster="in-cluster", zone=None, seed=None, namespace_prefix=None,
                allow_contexts=["^in-cluster$"], dry_run=False, profile=None, error_budget=None, rate=None,
                report_dir=None, keep_on_failure=False)
    return settings_module.build(**{**base, **kw})


@contextlib.contextmanager
def tls_relay(upstream: str, cert: Path, key: Path) -> Iterator[int]:
    """A TLS listener on 127.0.0.1 relaying to ``upstream`` (host:port): the API server's HTTPS, as in a pod."""
    host, port = upstream.rsplit(":", 1)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    loop = asyncio.new_event_loop()
    ready: list[int] = []

    writers: set[asyncio.StreamWriter] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writers.update((writer, up_writer))
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def shutdown() -> None:
        server.close()
        for w in writers:
            w.transport.abort()
        await asyncio.sleep(0.05)

    async def main() -> asyncio.Server:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
        ready.append(server.sockets[0].getsockname()[1])
        return server

    server = loop.run_until_complete(main())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield ready[0]
    finally:
        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@pytest.fixture
def pod_like(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedded_cluster) -> Iterator[Path]:
    """This process set up as a pod: the service-account directory (token, ca.crt) and KUBERNETES_SERVICE_*
    pointing at a TLS relay to the embedded API server."""
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    key, cert = tmp_path / "tls.key", sa / "ca.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=kubernetes", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out",
                    str(cert)], check=True, capture_output=True)
    (sa / "token").write_text(EMBEDDED_TOKEN)
    monkeypatch.setattr(cluster_module, "SERVICE_ACCOUNT_DIR", sa)
    with tls_relay(embedded_cluster.url.split("://", 1)[1].rstrip("/"), cert, key) as port:
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(port))
        yield sa


def test_outside_a_pod_in_cluster_is_refused_naming_the_fix(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    with pytest.raises(settings_module.SettingsError, match=r"KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are "
                       r"not set, so this is not a pod: .* from outside pass --azchaos-kubeconfig PATH"):
        _build()


def test_a_pod_without_a_mounted_token_is_refused_naming_automount(tmp_path: Path):
    problem = in_cluster_problem({"KUBERNETES_SERVICE_HOST": "10.100.0.1", "KUBERNETES_SERVICE_PORT": "443"},
                                 tmp_path)
    assert problem is not None and "automountServiceAccountToken" in problem and str(tmp_path / "token") in problem


def test_in_cluster_with_a_kubeconfig_is_refused():
    with pytest.raises(settings_module.SettingsError, match="drop --azchaos-kubeconfig"):
        _build(kubeconfig=__file__)


def test_the_written_kubeconfig_names_the_service_ca_and_token_file(tmp_path: Path):
    env = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}
    doc = yaml.safe_load(write_in_cluster_kubeconfig(tmp_path / "kc", env, Path("/sa")).read_text())
    assert doc["current-context"] == IN_CLUSTER_CONTEXT
    assert doc["clusters"][0]["cluster"] == {"server": "https://[fd00::1]:443", "certificate-authority": "/sa/ca.crt"}
    assert doc["users"][0]["user"] == {"tokenFile": "/sa/token"}


def test_in_a_pod_the_plugin_reaches_its_cluster_through_the_service_account(pod_like: Path):
    settings = _build()
    assert settings.cluster == "in-cluster" and not settings.uses_embedded
    assert settings.context == IN_CLUSTER_CONTEXT and settings.context_allowed(IN_CLUSTER_CONTEXT)
    assert settings.effective_profile() == "realistic"
    cluster = Cluster(settings.kubeconfig, settings.context, in_cluster=True)
    cluster.check_reachable()
    assert cluster.api.configuration.host.startswith("https://127.0.0.1:")
    assert len(cluster.core.list_node().items) == 6
    assert cluster.context_name == IN_CLUSTER_CONTEXT
    review = client.AuthenticationV1Api(cluster.api).create_self_subject_review(
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert review.status.user_info.username == "kubernetes-admin"  # who the service account's token is here
    # What reads the kubeconfig file (kubectl, azchaos restore) reaches the same cluster with the same token.
    reader = Cluster(settings.kubeconfig)
    assert len(reader.core.list_node().items) == 6
    reader.close()
    cluster.close()


def test_the_service_account_token_is_what_authenticates(pod_like: Path):
    (pod_like / "token").write_text("not-a-token")
    cluster = Cluster(_build().kubeconfig, IN_CLUSTER_CONTEXT, in_cluster=True)
    with pytest.raises(ApiException) as e:  # kubectl auth whoami: the API server judges the token it was sent
        client.AuthenticationV1Api(cluster.api).create_self_subject_review({"apiVersion": "authentication.k8s.io/v1",
                                                                            "kind": "SelfSubjectReview"})
    cluster.close()
    assert e.value.status == 401
