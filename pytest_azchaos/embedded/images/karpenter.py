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

from pytest_azchaos.embedded.images.controller_process import ControllerContainer, controller_definition
from pytest_azchaos.embedded.images.reference import ImageReference
from pytest_azchaos.embedded.images.registry import ImageDefinition

KARPENTER_REPOSITORY = "public.ecr.aws/karpenter/controller"
KARPENTER_SIZE_BYTES = 62_914_560  # nominal
HEALTH_PORT = 8081
METRICS_PORT = 8080


class KarpenterContainer(ControllerContainer):
    """``/ko-app/controller``: one replica of Karpenter."""

    health_port = HEALTH_PORT

    def _log(self, msg: str, **fields: Any) -> None:
        self.stdout(json.dumps({"level": "INFO", "time": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                                "logger": "controller", "message": msg, **fields}))

    async def run(self) -> None:
        ip = await self.serve_health()
        self._log("starting server", commit="", version=self.version)
        self.register(ip)
        self._log("Starting Controller", controller="provisioner")


def karpenter_definition(controller: Callable[[], Any]) -> Callable[[ImageReference], ImageDefinition]:
    """The image for a registry entry; ``controller()`` is the cluster's KarpenterController (None: nothing acts)."""
    # ko-built, distroless: ENTRYPOINT ["/ko-app/controller"], USER 65532.
    return controller_definition(KarpenterContainer, controller, entrypoint=("/ko-app/controller",),
                                 executables=("/ko-app/controller",), size_bytes=KARPENTER_SIZE_BYTES)
