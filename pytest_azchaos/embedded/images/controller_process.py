"""The process of an add-on controller image (the AWS Load Balancer Controller, Karpenter, the Cluster Autoscaler).

The add-on's work needs the cloud, so it is done by a controller object of the cluster's (``lbc/``,
``provisioners/``, ``autoscaler/``); the container is what makes that controller act and what a zone loss takes
away: it serves its health port, tells the controller when it starts (``register``) and when it stops (SIGTERM,
or the pod going away), and nothing else. Each image says its ports, log format and argv.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pytest_azchaos.embedded.images.container import Container, ContainerSpec
from pytest_azchaos.embedded.images.httpserver import HttpServer, Request, Response
from pytest_azchaos.embedded.images.reference import ImageReference
from pytest_azchaos.embedded.images.registry import ImageDefinition

#: distroless images run as nonroot
NONROOT = "65532:65532"


class ControllerContainer(Container):
    """One replica of an add-on controller; ``controller()`` is the cluster's controller object (None: nothing acts)."""

    health_port: int

    def __init__(self, spec: ContainerSpec, argv: list[str], version: str, controller: Callable[[], Any]) -> None:
        super().__init__(spec, argv)
        self.version = version
        self.controller = controller
        self._registered = False

    async def serve_health(self) -> str:
        """Listen on the health port (on the pod's address, which is returned)."""
        ip = self.spec.pod_ip
        http = HttpServer(self._health)
        await http.listen(ip, self.health_port)
        self.own(http.abort_all)
        self.add_bound_port("TCP", ip, self.health_port)
        return ip

    def register(self, *args: Any) -> bool:
        """Tell the controller this replica runs (``container_started(*args)``); False when there is none."""
        ctl = self.controller()
        if ctl is None:
            return False
        ctl.container_started(*args)
        self._registered = True
        self.own(self._unregister)
        return True

    def _unregister(self) -> None:
        if self._registered:
            self._registered = False
            ctl = self.controller()
            if ctl is not None:
                ctl.container_stopped(self.spec.pod_ip)

    def _health(self, req: Request) -> Response:
        """controller-runtime's probes: ``/healthz`` liveness, ``/readyz`` ready once registered."""
        if req.path == "/healthz":
            return Response(200, "ok")
        if req.path == "/readyz":
            return Response(200, "ok") if self._registered else Response(500, "[-]controller failed\n")
        return Response(404, "404 page not found\n")

    async def on_sigterm(self) -> None:
        self._unregister()
        self.exit(0)


def controller_definition(container: type[ControllerContainer], controller: Callable[[], Any], *,
                          executables: Sequence[str], size_bytes: int, entrypoint: Sequence[str] = (),
                          cmd: Sequence[str] = (), user: str = NONROOT) -> Callable[[ImageReference], ImageDefinition]:
    """The image for a registry entry: ``container`` at each of ``executables``, versioned by the reference's tag."""

    def definition(ref: ImageReference) -> ImageDefinition:
        version = ref.tag or "latest"

        def factory(spec: ContainerSpec, argv: list[str]) -> Container:
            return container(spec, argv, version, controller)

        return ImageDefinition(entrypoint=tuple(entrypoint), cmd=tuple(cmd),
                               executables={path: factory for path in executables}, size_bytes=size_bytes, user=user)

    return definition
