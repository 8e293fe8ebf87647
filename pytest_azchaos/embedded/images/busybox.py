"""``busybox`` (``docker.io/library/busybox``) and ``registry.k8s.io/e2e-test-images/busybox``.

The image is the busybox binary and its applets: no ENTRYPOINT, ``CMD ["sh"]``, no ``USER`` (root, so
``runAsNonRoot: true`` needs a ``runAsUser``). Without a TTY
or an open standard input that ``sh`` reads end of file at once and exits 0, so a bare
``busybox`` pod completes (``restartPolicy: Always`` then crash-loops, as upstream); a command
(``kubectl run bb --image=busybox -- sleep 3600``, ``sh -c '…'``) runs on the same emulated shell
and applets as agnhost's Alpine userland (:mod:`.shell`, :mod:`.applets`).
``httpd`` (:mod:`.httpd`) serves files as a container's command (``[httpd, -f, -p, "8080", -h, /www]``);
it is not an applet of the emulated shell.

Differences from the real image that are known and kept: the applets sit at Alpine's paths
(``/bin`` and ``/usr/bin``; the real image installs every applet in ``/bin``) and ``/etc/passwd``
is Alpine's; the usage banner's build date is nominal; no netexec or other agnhost program.
Option errors are worded by glibc's ``getopt`` (``ls: invalid option -- 'z'``), the libc of the
image's default variant.
"""

from __future__ import annotations

from pytest_azchaos.embedded.images.httpd import httpd_container
from pytest_azchaos.embedded.images.reference import ImageReference
from pytest_azchaos.embedded.images.registry import ImageDefinition
from pytest_azchaos.embedded.images.shell import userland_entrypoints, with_userland
from pytest_azchaos.embedded.images.shell_process import Userland

BUSYBOX_REPOSITORY = "docker.io/library/busybox"
E2E_BUSYBOX_REPOSITORY = "registry.k8s.io/e2e-test-images/busybox"
BUSYBOX_SIZE_BYTES = 2_166_802  # nominal (about 2.2 MB, the glibc variant)

USERLAND_1_37 = Userland("BusyBox v1.37.0 (2024-09-26 21:31:42 UTC)", "glibc")
USERLAND_1_36 = Userland("BusyBox v1.36.1 (2023-05-18 22:34:17 UTC)", "glibc")


def busybox_userland(ref: ImageReference) -> Userland:
    """The busybox build a tag names: ``1.36*`` (and the e2e ``1.36.1-1``) is 1.36.1, the rest 1.37.0."""
    tag = ref.tag or ""
    return USERLAND_1_36 if tag.startswith("1.36") else USERLAND_1_37


def busybox_definition(ref: ImageReference) -> ImageDefinition:
    userland = busybox_userland(ref)
    return ImageDefinition(entrypoint=(), cmd=("sh",),
                           executables={**{path: with_userland(factory, userland)
                                           for path, factory in userland_entrypoints().items()},
                                        "/bin/httpd": with_userland(httpd_container, userland)},
                           size_bytes=BUSYBOX_SIZE_BYTES, user="")  # no USER: runs as root
