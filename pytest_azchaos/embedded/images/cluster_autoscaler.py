"""``registry.k8s.io/autoscaling/cluster-autoscaler:<tag>``: the Cluster Autoscaler's process.

What the cluster can observe of the container: it serves ``/health-check`` on ``:8085`` (the chart's liveness
probe) and, while it runs, autoscales: the scaling itself is the cluster's
:class:`~pytest_azchaos.embedded.autoscaler.controller.ClusterAutoscaler` (it needs the cloud); this container
makes it run, with the flags of its command line (``--node-group-auto-discovery``,
``--balance-similar-node-groups``), and a zone loss that takes the pod away stops it. SIGTERM: exit 0.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pytest_azchaos.embedded.images.container import Container, ContainerSpec
from pytest_azchaos.embedded.images.httpserver import HttpServer, Request, Response
from pytest_azchaos.embedded.images.reference import ImageReference
from pytest_azchaos.embedded.images.registry import ImageDefinition

CA_REPOSITORY = "registry.k8s.io/autoscaling/cluster-autoscaler"
CA_SIZE_BYTES = 31_457_280  # nominal
HEALTH_PORT = 8085


class ClusterAutoscalerContainer(Container):
    """``./cluster-autoscaler --cloud-provider=aws ...``: one replica (leader election is the Deployment's 1)."""

    def __init__(self, spec: ContainerSpec, argv: list[str], version: str, controller: Callable[[], Any]) -> None:
        super().__init__(spec, argv)
        self.version = version
        self.controller = controller
        self._registered = False

    def _klog(self, msg: str) -> None:
        now = time.time()
        self.stderr(time.strftime("I%m%d %H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}       1 "
                    + msg)

    async def run(self) -> None:
        ip = self.spec.pod_ip
        http = HttpServer(self._health)
        await http.listen(ip, HEALTH_PORT)
        self.own(http.abort_all)
        self.add_bound_port("TCP", ip, HEALTH_PORT)
        self._klog(f"main.go:546] Cluster Autoscaler {self.version}")
        ctl = self.controller()
        if ctl is not None:
            ctl.container_started(ip, list(self.argv), self._klog)
            self._registered = True
            self.own(self._unregister)

    def _unregister(self) -> None:
        if self._registered:
            self._registered = False
            ctl = self.controller()
            if ctl is not None:
                ctl.container_stopped(self.spec.pod_ip)

    def _health(self, req: Request) -> Response:
        if req.path == "/health-check":
            return Response(200, "OK")
        return Response(404, "404 page not found\n")

    async def on_sigterm(self) -> None:
        self._unregister()
        self.exit(0)


def ca_definition(controller: Callable[[], Any]) -> Callable[[ImageReference], ImageDefinition]:
    """The image for a registry entry; ``controller()`` is the cluster's ClusterAutoscaler (None: nothing scales)."""

    def definition(ref: ImageReference) -> ImageDefinition:
        version = ref.tag or "latest"

        def factory(spec: ContainerSpec, argv: list[str]) -> Container:
            return ClusterAutoscalerContainer(spec, argv, version, controller)

        # Dockerfile: distroless, CMD ["./cluster-autoscaler"] from /, USER 65532 (nonroot).
        return ImageDefinition(entrypoint=(), cmd=("./cluster-autoscaler",),
                               executables={"/cluster-autoscaler": factory, "./cluster-autoscaler": factory},
                               size_bytes=CA_SIZE_BYTES, user="65532:65532")

    return definition
