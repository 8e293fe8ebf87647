"""Image references parsed and normalized as containerd does (``docker/distribution/reference``).

``agnhost`` → ``docker.io/library/agnhost:latest``; ``registry.k8s.io/pause:3.10`` stays as is. A
first path component counts as a registry host when it contains ``.`` or ``:`` or is ``localhost``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_DOMAIN = "docker.io"
DEFAULT_TAG = "latest"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)
_HEX64 = re.compile(r"^[a-f0-9]{64}$")


class InvalidReferenceFormat(ValueError):
    """The reference library's error text (``invalid reference format...``)."""


@dataclass(frozen=True)
class ImageReference:
    domain: str
    path: str  # e.g. "library/agnhost", "e2e-test-images/agnhost"
    tag: str | None
    digest: str | None

    @property
    def repository(self) -> str:
        """Fully qualified repository name, ``docker.io/library/agnhost``."""
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        """Normalized reference as containerd prints it (the default tag applied when there is no digest)."""
        out = self.repository
        if self.tag is not None:
            out += f":{self.tag}"
        elif self.digest is None:
            out += f":{DEFAULT_TAG}"
        if self.digest is not None:
            out += f"@{self.digest}"
        return out


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if not sep or ("." not in first and ":" not in first and first != "localhost" and first.lower() == first):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, rest
    if domain == "index.docker.io":
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = f"library/{remainder}"
    return domain, remainder


def parse_reference(image: str) -> ImageReference:
    """``reference.ParseNormalizedNamed`` for the cases kubelet and containerd meet."""
    if _HEX64.match(image):
        raise InvalidReferenceFormat(
            f"invalid repository name ({image}), cannot specify 64-byte hexadecimal strings")
    if not image:
        raise InvalidReferenceFormat("repository name must have at least one component")
    name_part = image.split("@", 1)[0]
    slash = name_part.rfind("/")
    colon = name_part.rfind(":")
    bare_name = name_part[:colon] if colon > slash else name_part
    domain, remainder = _split_domain(bare_name)
    if remainder.lower() != remainder:
        raise InvalidReferenceFormat(f"invalid reference format: repository name ({remainder}) must be lowercase")
    m = _REFERENCE.match(image)
    if m is None:
        raise InvalidReferenceFormat("invalid reference format")
    if len(m.group("name")) > 255:
        raise InvalidReferenceFormat("repository name must not be more than 255 characters")
    return ImageReference(domain=domain, path=remainder, tag=m.group("tag"), digest=m.group("digest"))
