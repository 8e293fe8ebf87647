"""CoreDNS (``registry.k8s.io/coredns/coredns``, EKS's ``<account>.dkr.ecr.<region>.amazonaws.com/eks/coredns``).

Runs the EKS add-on's Corefile, whatever the mounted one says (configMap volumes are empty in the embedded
cluster)::

    .:53 { errors; health { lameduck 5s }; ready; kubernetes cluster.local in-addr.arpa ip6.arpa {
           pods insecure; fallthrough in-addr.arpa ip6.arpa }; prometheus :9153; forward . /etc/resolv.conf;
           cache 30; loop; reload; loadbalance }

- DNS on the pod's address, port 53, UDP and TCP (:mod:`pytest_azchaos.embedded.dns.server`); really on the
  unprivileged port standing for 53 when 53 needs root (:mod:`pytest_azchaos.embedded.network.dns_port`), as
  every in-process client dials it. A port it cannot bind ends the process with exit 1 (``Listen: listen tcp
  :53: bind: permission denied``).
- ``health``: ``:8080/health`` answers ``OK``; on SIGTERM the server goes lame duck for 5 s (still
  answering), then exits 0, as ``[INFO] SIGTERM: Shutting down servers then terminating`` logs it.
- ``ready``: ``:8181/ready`` answers 200 ``OK`` once the ``kubernetes`` plugin has synced, else 503 with
  the plugins still waiting (``kubernetes``): an image used without the cluster's API view never gets ready.
- ``prometheus``: ``:9153/metrics`` with ``coredns_dns_requests_total``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from typing import Any

from pytest_azchaos.embedded.images.container import Container, ContainerSpec
from pytest_azchaos.embedded.images.httpserver import HttpServer, Request, Response
from pytest_azchaos.embedded.images.reference import ImageReference
from pytest_azchaos.embedded.images.registry import ImageDefinition

COREDNS_REPOSITORY = "registry.k8s.io/coredns/coredns"
EKS_COREDNS_ACCOUNT = "602401143452"
COREDNS_SIZE_BYTES = 18_564_932  # nominal
COREFILE = """.:53 {
    errors
    health {
        lameduck 5s
      }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}
"""
LAMEDUCK_SECONDS = 5.0


def eks_coredns_repository(region: str) -> str:
    """The add-on's image repository in ``region`` (the EKS account's ECR)."""
    return f"{EKS_COREDNS_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/eks/coredns"


class CoreDnsContainer(Container):
    """``/coredns -conf /etc/coredns/Corefile``: the cluster's DNS server of one pod."""

    def __init__(self, spec: ContainerSpec, argv: list[str], version: str, index: Callable[[], Any] | None) -> None:
        super().__init__(spec, argv)
        self.version = version
        self.index = index
        self.server: Any = None
        self._lameduck = False

    def _ready_index(self) -> Any:
        return self.index() if self.index is not None else None

    async def run(self) -> None:
        from pytest_azchaos.embedded.dns.server import DnsServer  # dnspython: only when a CoreDNS pod runs
        from pytest_azchaos.embedded.network.dns_port import wire_port

        ip = self.spec.pod_ip
        # Port 53, or the unprivileged port standing for it when 53 needs root (network/dns_port.py).
        self.server = DnsServer(ip, wire_port(53), self._ready_index)
        try:
            await self.server.start()
        except OSError as e:
            reason = os.strerror(e.errno).lower() if e.errno else str(e)
            self.stdout(f"Listen: listen tcp :53: bind: {reason}")
            self.exit(1)
            return
        self.own(self.server.close)
        self.add_bound_port("UDP", ip, 53)
        self.add_bound_port("TCP", ip, 53)
        for port, handler in ((8080, self._health), (8181, self._ready), (9153, self._metrics)):
            http = HttpServer(handler)
            try:
                await http.listen(ip, port)
            except OSError as e:
                reason = os.strerror(e.errno).lower() if e.errno else str(e)
                self.stdout(f"Listen: listen tcp :{port}: bind: {reason}")
                self.exit(1)
                return
            self.own(http.abort_all)
            self.add_bound_port("TCP", ip, port)
        self.stdout(".:53")
        self.stdout(f"[INFO] plugin/reload: Running configuration SHA512 = "
                    f"{hashlib.sha512(COREFILE.encode()).hexdigest()}")
        self.stdout(f"CoreDNS-{self.version}")
        if self._ready_index() is None:
            self.stdout('[INFO] plugin/ready: Still waiting on: "kubernetes"')

    def _health(self, req: Request) -> Response:
        return Response(200, "OK") if req.path == "/health" else Response(404, "404 page not found\n")

    def _ready(self, req: Request) -> Response:
        if req.path != "/ready":
            return Response(404, "404 page not found\n")
        if self._lameduck:
            return Response(503, "health")  # lame duck: health no longer reports ready
        if self._ready_index() is None:
            return Response(503, "kubernetes")
        return Response(200, "OK")

    def _metrics(self, req: Request) -> Response:
        if req.path != "/metrics":
            return Response(404, "404 page not found\n")
        count = self.server.queries if self.server is not None else 0
        body = ("# HELP coredns_dns_requests_total Counter of DNS requests made per zone, protocol and family.\n"
                "# TYPE coredns_dns_requests_total counter\n"
                f'coredns_dns_requests_total{{family="1",proto="udp",server="dns://:53",type="other",view="",'
                f'zone="."}} {count}\n')
        return Response(200, body, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    async def on_sigterm(self) -> None:
        if self._lameduck:
            return
        self._lameduck = True
        self.stdout("[INFO] SIGTERM: Shutting down servers then terminating")
        self.stdout(f"[INFO] plugin/health: Going into lameduck mode for {int(LAMEDUCK_SECONDS)}s")
        self.spawn(self._exit_after_lameduck())

    async def _exit_after_lameduck(self) -> None:
        await asyncio.sleep(LAMEDUCK_SECONDS)
        self.exit(0)


def coredns_definition(index: Callable[[], Any] | None = None) -> Callable[[ImageReference], ImageDefinition]:
    """The image for a registry entry; ``index()`` gives the cluster's ``kubernetes`` plugin view (None: no API)."""

    def definition(ref: ImageReference) -> ImageDefinition:
        tag = ref.tag or "latest"
        version = tag.lstrip("v").split("-")[0]

        def factory(spec: ContainerSpec, argv: list[str]) -> Container:
            return CoreDnsContainer(spec, argv, version, index)

        # Dockerfile: FROM distroless, ENTRYPOINT ["/coredns"], USER nonroot:nonroot (65532) since v1.11.
        return ImageDefinition(entrypoint=("/coredns",), executables={"/coredns": factory},
                               size_bytes=COREDNS_SIZE_BYTES, user="65532:65532")

    return definition
