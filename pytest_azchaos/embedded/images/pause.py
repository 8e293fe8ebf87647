"""``registry.k8s.io/pause:<tag>``: the infra container (``build/pause/linux/pause.c``).

It binds nothing and sleeps. SIGINT/SIGTERM run ``sigdown``: ``psignal`` prints
``Shutting down, got signal: Terminated`` to stderr and the process exits 0. As PID 1 of its
container it prints no "should be the first process" warning. ``-v`` prints the version and exits 0.
"""

from __future__ import annotations

from pytest_azchaos.embedded.images.container import Container, ContainerSpec
from pytest_azchaos.embedded.images.reference import ImageReference
from pytest_azchaos.embedded.images.registry import ImageDefinition

PAUSE_REPOSITORY = "registry.k8s.io/pause"
PAUSE_SIZE_BYTES = 320_368  # nominal (pause:3.10 is about 320 kB)


class PauseContainer(Container):
    """``/pause``: waits for a signal."""

    def __init__(self, spec: ContainerSpec, argv: list[str], version: str = "3.10") -> None:
        super().__init__(spec, argv)
        self.version = version

    async def run(self) -> None:
        if any(a.lower() == "-v" for a in self.argv[1:]):
            self.stdout(f"pause.c v{self.version}")
            self.exit(0)

    async def on_sigterm(self) -> None:
        self.stderr("Shutting down, got signal: Terminated")
        self.exit(0)


def pause_definition(ref: ImageReference) -> ImageDefinition:
    version = ref.tag or "3.10"

    def factory(spec: ContainerSpec, argv: list[str]) -> Container:
        return PauseContainer(spec, argv, version)

    # build/pause/Dockerfile: ``USER 65535:65535`` (non-root, numeric: passes runAsNonRoot without a runAsUser).
    return ImageDefinition(entrypoint=("/pause",), executables={"/pause": factory}, size_bytes=PAUSE_SIZE_BYTES,
                           user="65535:65535")
