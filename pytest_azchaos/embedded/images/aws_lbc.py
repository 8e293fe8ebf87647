"""``public.ecr.aws/eks/aws-load-balancer-controller:<tag>``: the AWS Load Balancer Controller's process.

What the chart's container does that the cluster can observe: it serves the webhooks on ``:9443``
(``/mutate-v1-service``, ``/mutate-v1-pod``), its health on ``:61779`` (``/healthz`` liveness,
``/readyz`` readiness: 200 ``ok`` once the controller runs), and reconciles load balancers while it runs.
The reconciling itself is the cluster's :class:`~pytest_azchaos.embedded.lbc.controller.LbcController`
(it needs the cloud); this container is what makes it run, and what a zone loss takes away: while no
container of the controller runs, nothing is registered or deregistered and the service webhook has no
endpoint (``failurePolicy: Fail``). SIGTERM: the webhook server stops and the process exits 0.
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

LBC_REPOSITORY = "public.ecr.aws/eks/aws-load-balancer-controller"
LBC_SIZE_BYTES = 49_102_336  # nominal
WEBHOOK_PORT = 9443
HEALTH_PORT = 61779


class LbcContainer(Container):
    """``/controller --cluster-name=...``: one replica of the controller."""

    def __init__(self, spec: ContainerSpec, argv: list[str], version: str, controller: Callable[[], Any]) -> None:
        super().__init__(spec, argv)
        self.version = version
        self.controller = controller
        self._registered = False

    def _log(self, msg: str, **fields: Any) -> None:
        self.stdout(json.dumps({"level": "info", "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                "msg": msg, **fields}))

    async def run(self) -> None:
        ip = self.spec.pod_ip
        http = HttpServer(self._health)
        await http.listen(ip, HEALTH_PORT)
        self.own(http.abort_all)
        self.add_bound_port("TCP", ip, HEALTH_PORT)
        self._log("version", GitVersion=self.version, GitCommit="", BuildDate="")
        ctl = self.controller()
        if ctl is not None:
            ctl.container_started(ip)
            self._registered = True
            self.own(self._unregister)
            self.add_bound_port("TCP", ip, WEBHOOK_PORT)
        self._log("Starting webhook server")
        self._log("Starting Controller", controller="service")

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
        self._log("Stopping and waiting for webhooks")
        self._unregister()
        self.exit(0)


def lbc_definition(controller: Callable[[], Any]) -> Callable[[ImageReference], ImageDefinition]:
    """The image for a registry entry; ``controller()`` is the cluster's LbcController (None: nothing reconciles)."""

    def definition(ref: ImageReference) -> ImageDefinition:
        version = ref.tag or "latest"

        def factory(spec: ContainerSpec, argv: list[str]) -> Container:
            return LbcContainer(spec, argv, version, controller)

        # Dockerfile: distroless, ENTRYPOINT ["/controller"], USER 65532.
        return ImageDefinition(entrypoint=("/controller",), executables={"/controller": factory},
                               size_bytes=LBC_SIZE_BYTES, user="65532:65532")

    return definition
