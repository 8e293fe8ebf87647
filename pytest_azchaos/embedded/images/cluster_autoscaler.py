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

from pytest_azchaos.embedded.images.controller_process import ControllerContainer, controller_definition
from pytest_azchaos.embedded.images.httpserver import Request, Response
from pytest_azchaos.embedded.images.reference import ImageReference
from pytest_azchaos.embedded.images.registry import ImageDefinition

CA_REPOSITORY = "registry.k8s.io/autoscaling/cluster-autoscaler"
CA_SIZE_BYTES = 31_457_280  # nominal
HEALTH_PORT = 8085


class ClusterAutoscalerContainer(ControllerContainer):
    """``./cluster-autoscaler --cloud-provider=aws ...``: one replica (leader election is the Deployment's 1)."""

    health_port = HEALTH_PORT

    def _klog(self, msg: str) -> None:
        now = time.time()
        self.stderr(time.strftime("I%m%d %H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}       1 "
                    + msg)

    async def run(self) -> None:
        ip = await self.serve_health()
        self._klog(f"main.go:546] Cluster Autoscaler {self.version}")
        self.register(ip, list(self.argv), self._klog)

    def _health(self, req: Request) -> Response:
        if req.path == "/health-check":
            return Response(200, "OK")
        return Response(404, "404 page not found\n")


def ca_definition(controller: Callable[[], Any]) -> Callable[[ImageReference], ImageDefinition]:
    """The image for a registry entry; ``controller()`` is the cluster's ClusterAutoscaler (None: nothing scales)."""
    # Dockerfile: distroless, CMD ["./cluster-autoscaler"] from /, USER 65532 (nonroot).
    return controller_definition(ClusterAutoscalerContainer, controller, cmd=("./cluster-autoscaler",),
                                 executables=("/cluster-autoscaler", "./cluster-autoscaler"),
                                 size_bytes=CA_SIZE_BYTES)
