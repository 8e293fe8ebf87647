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

from pytest_azchaos.embedded.images.controller_process import ControllerContainer, controller_definition
from pytest_azchaos.embedded.images.reference import ImageReference
from pytest_azchaos.embedded.images.registry import ImageDefinition

LBC_REPOSITORY = "public.ecr.aws/eks/aws-load-balancer-controller"
LBC_SIZE_BYTES = 49_102_336  # nominal
WEBHOOK_PORT = 9443
HEALTH_PORT = 61779


class LbcContainer(ControllerContainer):
    """``/controller --cluster-name=...``: one replica of the controller."""

    health_port = HEALTH_PORT

    def _log(self, msg: str, **fields: Any) -> None:
        self.stdout(json.dumps({"level": "info", "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                "msg": msg, **fields}))

    async def run(self) -> None:
        ip = await self.serve_health()
        self._log("version", GitVersion=self.version, GitCommit="", BuildDate="")
        if self.register(ip):
            self.add_bound_port("TCP", ip, WEBHOOK_PORT)
        self._log("Starting webhook server")
        self._log("Starting Controller", controller="service")

    async def on_sigterm(self) -> None:
        self._log("Stopping and waiting for webhooks")
        await super().on_sigterm()


def lbc_definition(controller: Callable[[], Any]) -> Callable[[ImageReference], ImageDefinition]:
    """The image for a registry entry; ``controller()`` is the cluster's LbcController (None: nothing reconciles)."""
    # Dockerfile: distroless, ENTRYPOINT ["/controller"], USER 65532.
    return controller_definition(LbcContainer, controller, entrypoint=("/controller",), executables=("/controller",),
                                 size_bytes=LBC_SIZE_BYTES)
