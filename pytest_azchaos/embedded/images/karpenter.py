"""``public.ecr.aws/karpenter/controller:<tag>``: Karpenter's controller process.

What the cluster can observe of the container: health on ``:8081`` (``/healthz`` liveness, ``/readyz`` readiness,
the chart's ``healthProbe.port``), metrics on ``:8080``, and, while it runs, provisioning and disruption. The work
itself is the cluster's :class:`~pytest_azchaos.embedded.provisioners.karpenter.KarpenterController` (it needs the
cloud); this container is what makes it act (one running replica is enough: the others wait on leader election), and
what a zone loss can take away. SIGTERM: it stops acting and exits 0.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from pytest_azchaos.embedded.images.container import Container, ContainerSpec
from pytest_azchaos.embedded.images.httpserver import HttpServer, Request, Response
from pytest_azchaos.embedded.images.reference import ImageReference
from pytest_azchaos.embedded.images.registry import ImageDefinition

KARPENTER_REPOSITORY = "public.ecr.aws/karpenter/controller"
KARPENTER_SIZE_BYTES = 62_914_560  # nominal
HEALTH_PORT = 8081
METRICS_PORT = 8080


class KarpenterContainer(Container):
    """``/ko-app/controller``: one replica of Karpenter."""

    def __init__(self, spec: ContainerSpec, argv: list[str], version: str, controller: Callable[[], Any]) -> None:
        super().__init__(spec, argv)
        self.version = version
        self.controller = controller
        self._registered = False

    def _log(self, msg: str, **fields: Any) -> None:
        self.stdout(json.dumps({"level": "INFO", "time": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                                "logger": "controller", "message": msg, **fields}))

    async def run(self) -> None:
        ip = self.spec.pod_ip
        http = HttpServer(self._health)
        await http.listen(ip, HEALTH_PORT)
        self.own(http.abort_all)
        self.add_bound_port("TCP", ip, HEALTH_PORT)
        self._log("starting server", commit="", version=self.version)
        ctl = self.controller()
        if ctl is not None:
            ctl.container_started(ip)
            self._registered = True
            self.own(self._unregister)
        self._log("Starting Controller", controller="provisioner")

    def _unregister(self) -> None:
        if self._registered:
            self._registered = False
            ctl = self.controller()
            if ctl is not None:
                ctl.container_stopped(self.spec.pod_ip)

    def _health(self, req: Request) -> Response:
        if req.path == "/healthz":
            return Response(200, "ok")
        if req.path == "/readyz":
            return Response(200, "ok") if self._registered else Response(500, "[-]controller failed\n")
        return Response(404, "404 page not found\n")

    async def on_sigterm(self) -> None:
        self._unregister()
        self.exit(0)


def karpenter_definition(controller: Callable[[], Any]) -> Callable[[ImageReference], ImageDefinition]:
    """The image for a registry entry; ``controller()`` is the cluster's KarpenterController (None: nothing acts)."""

    def definition(ref: ImageReference) -> ImageDefinition:
        version = ref.tag or "latest"

        def factory(spec: ContainerSpec, argv: list[str]) -> Container:
            return KarpenterContainer(spec, argv, version, controller)

        # ko-built, distroless: ENTRYPOINT ["/ko-app/controller"], USER 65532.
        return ImageDefinition(entrypoint=("/ko-app/controller",), executables={"/ko-app/controller": factory},
                               size_bytes=KARPENTER_SIZE_BYTES, user="65532:65532")

    return definition
