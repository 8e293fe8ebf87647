"""Emulated container images for the embedded cluster's kubelet (no pytest here).

``default_registry()`` serves ``registry.k8s.io/e2e-test-images/agnhost:<any tag>`` (netexec,
serve-hostname, pause), ``busybox`` (``docker.io/library/busybox`` and
``registry.k8s.io/e2e-test-images/busybox``, any tag: the shell and applets) and
``registry.k8s.io/pause:<any tag>``; everything else fails the way a real containerd pull does
(see :mod:`.registry`). Containers run on the caller's asyncio loop and
bind the pod's loopback IP (see :mod:`.container`).
"""

from __future__ import annotations

from pytest_azchaos.embedded.images.agnhost import AGNHOST_REPOSITORY, agnhost_definition
from pytest_azchaos.embedded.images.busybox import BUSYBOX_REPOSITORY, E2E_BUSYBOX_REPOSITORY, busybox_definition
from pytest_azchaos.embedded.images.container import (
    BoundPort,
    Container,
    ContainerPort,
    ContainerSpec,
    ContainerStartError,
    ContainerState,
    ExecRequest,
    ExecResult,
)
from pytest_azchaos.embedded.images.pause import PAUSE_REPOSITORY, pause_definition
from pytest_azchaos.embedded.images.reference import ImageReference, parse_reference
from pytest_azchaos.embedded.images.registry import (
    Image,
    ImageDefinition,
    ImagePullError,
    ImageRegistry,
    InvalidImageNameError,
    image_user,
)

__all__ = [
    "BoundPort",
    "Container",
    "ContainerPort",
    "ContainerSpec",
    "ContainerStartError",
    "ContainerState",
    "ExecRequest",
    "ExecResult",
    "Image",
    "ImageDefinition",
    "ImagePullError",
    "ImageReference",
    "ImageRegistry",
    "InvalidImageNameError",
    "default_registry",
    "image_user",
    "parse_reference",
]


def default_registry() -> ImageRegistry:
    """A fresh registry with the built-in images (callers may register more)."""
    registry = ImageRegistry()
    registry.register(AGNHOST_REPOSITORY, agnhost_definition)
    registry.register(BUSYBOX_REPOSITORY, busybox_definition)
    registry.register(E2E_BUSYBOX_REPOSITORY, busybox_definition)
    registry.register(PAUSE_REPOSITORY, pause_definition)
    return registry
