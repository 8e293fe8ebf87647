"""Registry mirrors: the same images under another registry's names, optionally behind pull credentials.

A mirror ``HOST[/PREFIX]`` of ``UPSTREAM`` serves ``HOST/PREFIX/<path>`` as ``UPSTREAM/<path>``, the way an ECR
pull-through cache serves ``registry.k8s.io/e2e-test-images/agnhost:2.52`` as
``<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/e2e-test-images/agnhost:2.52`` (and Docker Hub's
``library/busybox`` as ``<prefix>/library/busybox``). Without credentials the nodes pull from it as they are (an
ECR the node role may read through the kubelet's ``ecr-credential-provider``, a public Harbor proxy project); with
``USER:PASSWORD`` only a pull that presents them succeeds (a pod's ``kubernetes.io/dockerconfigjson`` secret).

A refused pull gives containerd's text for a registry answering ``401`` with a ``Basic`` challenge
(``remotes/docker``): no credentials → the authorizer's ``no basic auth credentials`` wrapped in
``pull access denied, repository does not exist or may require authorization: authorization failed``; wrong ones →
the resolver's ``unexpected status from HEAD request to https://HOST/v2/<path>/manifests/<tag>: 401 Unauthorized``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_azchaos.embedded.images.goformat import quote
from pytest_azchaos.embedded.images.reference import (
    DEFAULT_TAG,
    ImageReference,
    InvalidReferenceFormat,
    parse_reference,
)

DEFAULT_UPSTREAM = "registry.k8s.io"
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_HOST = re.compile(r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
                   r"(?::[0-9]+)?")
SPEC_FORMAT = "[USER:PASSWORD@]HOST[:PORT][/PREFIX][=UPSTREAM]"


class MirrorSpecError(ValueError):
    """A ``--registry-mirror`` value that cannot work; the message names the fix."""


@dataclass(frozen=True)
class RegistryMirror:
    """A mirror at ``host``/``prefix`` of ``upstream`` (``HOST[/PATH]``); ``credentials`` it requires, if any."""

    host: str
    prefix: str = ""
    upstream: str = DEFAULT_UPSTREAM
    credentials: tuple[str, str] | None = None

    @classmethod
    def parse(cls, spec: str) -> RegistryMirror:
        """``[USER:PASSWORD@]HOST[:PORT][/PREFIX][=UPSTREAM]``, or :class:`MirrorSpecError` naming the fix."""
        fix = (f"write {SPEC_FORMAT}, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/k8s (a mirror of "
               f"{DEFAULT_UPSTREAM}) or AWS:secret@mirror.example.com/hub=docker.io")
        rest = spec.strip()
        credentials = None
        if "@" in rest:
            userinfo, _, rest = rest.rpartition("@")
            user, colon, password = userinfo.partition(":")
            if not colon or not user or not password:
                raise MirrorSpecError(f"--registry-mirror {spec!r}: credentials must be USER:PASSWORD; {fix}")
            credentials = (user, password)
        location, _, upstream = rest.partition("=")
        upstream = upstream.strip().rstrip("/") or DEFAULT_UPSTREAM
        host, _, prefix = location.strip().partition("/")
        prefix = prefix.strip("/")
        if not _HOST.fullmatch(host) or ("." not in host and ":" not in host and host != "localhost"):
            raise MirrorSpecError(f"--registry-mirror {spec!r}: {host!r} is not a registry host (one with a '.' or a "
                                  f"port, or localhost, or containerd reads it as a Docker Hub path); {fix}")
        if prefix and not all(_COMPONENT.fullmatch(c) for c in prefix.split("/")):
            raise MirrorSpecError(f"--registry-mirror {spec!r}: the prefix {prefix!r} is not lowercase path "
                                  f"components; {fix}")
        try:
            parse_reference(f"{upstream}/x")
        except InvalidReferenceFormat:
            raise MirrorSpecError(f"--registry-mirror {spec!r}: the upstream {upstream!r} is not a registry "
                                  f"HOST[/PATH]; {fix}") from None
        return cls(host=host, prefix=prefix, upstream=upstream, credentials=credentials)

    def to_spec(self) -> str:
        """The spec :meth:`parse` reads back (to pass the mirror to the cluster process)."""
        auth = f"{self.credentials[0]}:{self.credentials[1]}@" if self.credentials else ""
        prefix = f"/{self.prefix}" if self.prefix else ""
        return f"{auth}{self.host}{prefix}={self.upstream}"

    def serves(self, ref: ImageReference) -> bool:
        """Whether ``ref`` names this mirror's registry (under its prefix or not)."""
        return ref.domain == self.host

    def upstream_reference(self, ref: ImageReference) -> ImageReference | None:
        """The upstream image ``ref`` stands for, or None when ``ref`` is outside the mirror's prefix."""
        if not self.serves(ref):
            return None
        path = ref.path
        if self.prefix:
            if not path.startswith(self.prefix + "/"):
                return None
            path = path[len(self.prefix) + 1:]
        try:
            upstream = parse_reference(f"{self.upstream}/{path}")
        except InvalidReferenceFormat:
            return None
        base = self.upstream.partition("/")[2]
        if upstream.path != (f"{base}/{path}" if base else path):
            return None  # no short names through a mirror: Docker Hub's official images keep library/, as ECR asks
        return ImageReference(upstream.domain, upstream.path, ref.tag, ref.digest)

    def refusal(self, ref: ImageReference, attempts: Sequence[tuple[str, str] | None]) -> str | None:
        """The CRI error of each refused attempt joined as the kubelet's aggregate does, or None when one of
        ``attempts`` (credentials, or None for an anonymous pull) is let in."""
        if self.credentials is None:
            return None
        errors = []
        for attempt in attempts or [None]:
            if attempt == self.credentials:
                return None
            errors.append(_unauthorized(ref) if attempt is not None else _no_credentials(ref))
        return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"


def _prefix(ref: ImageReference) -> str:
    name = quote(str(ref))
    return (f"rpc error: code = Unknown desc = failed to pull and unpack image {name}: "
            f"failed to resolve reference {name}")


def _no_credentials(ref: ImageReference) -> str:
    return (f"{_prefix(ref)}: pull access denied, repository does not exist or may require authorization: "
            "authorization failed: no basic auth credentials")


def _unauthorized(ref: ImageReference) -> str:
    manifest = ref.digest or ref.tag or DEFAULT_TAG
    return (f"{_prefix(ref)}: unexpected status from HEAD request to https://{ref.domain}/v2/{ref.path}/manifests/"
            f"{manifest}: 401 Unauthorized")
