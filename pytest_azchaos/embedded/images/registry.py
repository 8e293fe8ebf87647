"""Which image references exist, and the errors a real pull gives for those that do not.

The registry maps normalized references to emulated images. An unknown reference fails with the
text containerd returns through the CRI, so the kubelet can emit the upstream events verbatim::

    Warning  Failed   Failed to pull image "agnhost": rpc error: code = Unknown desc = failed to pull and
                      unpack image "docker.io/library/agnhost:latest": failed to resolve reference ...
    Normal   BackOff  Back-off pulling image "agnhost"

and set the container's waiting state (``ErrImagePull``, then ``ImagePullBackOff`` with the message
``Back-off pulling image "agnhost": ErrImagePull: rpc error: ...``, as kubelet ≥ 1.30 does).

Mirrors (:mod:`.mirror`, :meth:`ImageRegistry.add_mirror`) serve the same images under another registry's names,
optionally only to a pull that presents their credentials (the kubelet passes those of the pod's pull secrets).

Others add images with :meth:`ImageRegistry.register` (later registrations win)::

    from pytest_azchaos.embedded.images import Container, ImageDefinition, default_registry

    class Nginx(Container):
        async def run(self) -> None:
            ...  # bind self.spec.pod_ip:80, self.own(server.close), self.add_bound_port("TCP", ip, 80)

    registry = default_registry()
    registry.register(
        "docker.io/library/nginx",          # any tag or digest; "repo:1.2*" restricts tags (fnmatch)
        lambda ref: ImageDefinition(
            entrypoint=("/docker-entrypoint.sh",),
            cmd=("nginx", "-g", "daemon off;"),
            executables={"/docker-entrypoint.sh": Nginx, "/usr/sbin/nginx": Nginx},
        ),
    )
    image = registry.resolve("nginx:1.27")      # short names normalize as containerd does
    container = image.create_container(spec)  # argv from command/args over ENTRYPOINT/CMD
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pytest_azchaos.embedded.images.container import (
    DEFAULT_PATH,
    Container,
    ContainerSpec,
    StartFailedContainer,
    executable_not_found,
)
from pytest_azchaos.embedded.images.goformat import duration_string, quote
from pytest_azchaos.embedded.images.mirror import RegistryMirror
from pytest_azchaos.embedded.images.reference import (
    DEFAULT_TAG,
    ImageReference,
    InvalidReferenceFormat,
    parse_reference,
)

# Container waiting reasons and event reasons the kubelet uses (pkg/kubelet/images, pkg/kubelet/events).
REASON_ERR_IMAGE_PULL = "ErrImagePull"
REASON_IMAGE_PULL_BACK_OFF = "ImagePullBackOff"
REASON_INVALID_IMAGE_NAME = "InvalidImageName"
EVENT_PULLING = "Pulling"
EVENT_PULLED = "Pulled"
EVENT_FAILED = "Failed"
EVENT_BACK_OFF = "BackOff"
EVENT_INSPECT_FAILED = "InspectFailed"

# Registries that answer (an unknown repository or tag there is "not found"); any other host fails DNS.
KNOWN_REGISTRIES = frozenset({
    "docker.io", "registry.k8s.io", "k8s.gcr.io", "gcr.io", "quay.io", "ghcr.io", "public.ecr.aws",
    "mcr.microsoft.com", "registry.gitlab.com", "nvcr.io",
})

ContainerFactory = Callable[[ContainerSpec, list[str]], Container]


@dataclass(frozen=True)
class ImageDefinition:
    """An image's config (ENTRYPOINT, CMD, ENV, USER) and the programs in its filesystem, by absolute path."""

    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...] = ()
    executables: Mapping[str, ContainerFactory] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=lambda: {"PATH": DEFAULT_PATH})
    size_bytes: int = 0  # nominal, for "Successfully pulled image ... Image size: N bytes."
    # The config's ``User`` as a Dockerfile ``USER`` writes it: "" (no USER: root), "1000", "1000:1000" or a
    # name. The kubelet reads it through :func:`image_user` (``runAsNonRoot`` checks, the default identity).
    user: str = ""


ImageFactory = Callable[[ImageReference], ImageDefinition]

_GO_INT = re.compile(r"[+-]?[0-9]+")
_INT64 = (-(1 << 63), (1 << 63) - 1)


def image_user(user: str) -> tuple[int | None, str]:
    """The image's user as the kubelet sees it: ``(uid, "")`` when numeric, ``(None, name)`` otherwise.

    containerd's CRI image status (``getUserFromImage``) keeps the part before ``:``, reports it as a
    uid when ``strconv.ParseInt`` takes it and as a user name otherwise; the kubelet's ``getImageUser``
    treats an image that reports neither (no ``USER``) as uid 0. ``root`` is a name, not uid 0.
    """
    name = user.split(":")[0]
    if not name:
        return 0, ""
    if _GO_INT.fullmatch(name) and _INT64[0] <= int(name) <= _INT64[1]:
        return int(name), ""
    return None, name


class ImagePullError(Exception):
    """A pull failed; ``str(err)`` is the CRI error text the kubelet puts after ``Failed to pull image``."""

    reason = REASON_ERR_IMAGE_PULL
    event_reason = EVENT_FAILED

    def __init__(self, image: str, message: str) -> None:
        super().__init__(message)
        self.image = image  # as the pod spec names it; the kubelet's events quote this
        self.message = message

    @property
    def event_message(self) -> str:
        """Warning event ``Failed``: ``Failed to pull image "x": <CRI error>``."""
        return f"Failed to pull image {_go_quote(self.image)}: {self.message}"

    @property
    def waiting_message(self) -> str:
        """``state.waiting.message`` while the reason is ``ErrImagePull``."""
        return self.message

    @property
    def back_off_event_message(self) -> str:
        """Normal event ``BackOff`` on the next sync: ``Back-off pulling image "x"``."""
        return f"Back-off pulling image {_go_quote(self.image)}"

    @property
    def back_off_waiting_message(self) -> str:
        """``state.waiting.message`` while the reason is ``ImagePullBackOff``."""
        return f"{self.back_off_event_message}: {REASON_ERR_IMAGE_PULL}: {self.message}"


class InvalidImageNameError(ImagePullError):
    """The reference does not parse: reason ``InvalidImageName``, event ``InspectFailed``, no pull, no back-off."""

    reason = REASON_INVALID_IMAGE_NAME
    event_reason = EVENT_INSPECT_FAILED

    def __init__(self, image: str, detail: str) -> None:
        message = f"Failed to apply default image tag {_go_quote(image)}: couldn't parse image name " \
                  f"{_go_quote(image)}: {detail}"
        super().__init__(image, message)

    @property
    def event_message(self) -> str:
        return self.message


def pulling_event_message(image: str) -> str:
    """Normal event ``Pulling``."""
    return f"Pulling image {_go_quote(image)}"


def pulled_event_message(image: str, pull_seconds: float, total_seconds: float, size_bytes: int) -> str:
    """Normal event ``Pulled`` after a pull (durations truncated to milliseconds as the kubelet does)."""
    pull = duration_string(int(pull_seconds * 1000) * 1_000_000)
    total = duration_string(int(total_seconds * 1000) * 1_000_000)
    return (f"Successfully pulled image {_go_quote(image)} in {pull} ({total} including waiting). "
            f"Image size: {size_bytes} bytes.")


def already_present_event_message(image: str) -> str:
    """Normal event ``Pulled`` when ``IfNotPresent`` finds the image on the node."""
    return f"Container image {_go_quote(image)} already present on machine"


@dataclass(frozen=True)
class Image:
    """A resolved image: what the pod asked for, its normalized reference, and its definition."""

    requested: str
    reference: ImageReference
    definition: ImageDefinition
    # The pull secret's (user, password) the pull succeeded with; None: an anonymous pull.
    credential: tuple[str, str] | None = None

    @property
    def digest(self) -> str:
        """A stable, well-formed ``sha256:`` digest (the reference's own digest when it has one)."""
        if self.reference.digest:
            return self.reference.digest
        return "sha256:" + hashlib.sha256(str(self.reference).encode()).hexdigest()

    @property
    def image_id(self) -> str:
        """``status.containerStatuses[].imageID``: ``repository@sha256:...``."""
        return f"{self.reference.repository}@{self.digest}"

    @property
    def status_image(self) -> str:
        """``status.containerStatuses[].image`` as containerd reports it (normalized, tagged)."""
        return str(self.reference)

    def argv(self, command: Sequence[str] | None, args: Sequence[str] | None,
             env: Mapping[str, str] | None = None) -> list[str]:
        """The process argv from the pod's command/args over ENTRYPOINT/CMD, with ``$(VAR)`` expanded."""
        env = env or {}
        if command:
            return [expand_vars(a, env) for a in list(command) + list(args or ())]
        if args:
            return list(self.definition.entrypoint) + [expand_vars(a, env) for a in args]
        return list(self.definition.entrypoint) + list(self.definition.cmd)

    def create_container(self, spec: ContainerSpec) -> Container:
        """A container for ``spec``; its ``start`` fails as runc does when the executable is missing."""
        argv = self.argv(spec.command, spec.args, spec.env)
        path = spec.env.get("PATH") or self.definition.env.get("PATH", DEFAULT_PATH)
        program = argv[0] if argv else ""
        found = _lookup(program, path, self.definition.executables)
        if found is None:
            detail = executable_not_found(program) if program else 'exec: "": executable file not found in $PATH'
            return StartFailedContainer(spec, argv, detail)
        container = self.definition.executables[found](spec, argv)
        container.path = path
        return container


def _lookup(program: str, path: str, executables: Mapping[str, ContainerFactory]) -> str | None:
    if not program:
        return None
    if "/" in program:
        return program if program in executables else None
    for directory in path.split(":"):
        candidate = f"{directory.rstrip('/')}/{program}"
        if candidate in executables:
            return candidate
    return None


_VAR = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand_vars(text: str, env: Mapping[str, str]) -> str:
    """The kubelet's ``$(VAR)`` expansion: defined names expand, ``$$`` escapes, the rest stays as written."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return env[name] if name in env else m.group(0)

    return _VAR.sub(sub, text)


@dataclass(frozen=True)
class _Entry:
    repository: str
    tag_glob: str | None
    factory: ImageFactory


class ImageRegistry:
    """Resolves image references to emulated images; unknown ones raise :class:`ImagePullError`."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._mirrors: list[RegistryMirror] = []

    def add_mirror(self, mirror: RegistryMirror) -> None:
        """Serve every image of ``mirror.upstream`` under ``mirror.host/mirror.prefix`` too (later mirrors win)."""
        self._mirrors.append(mirror)

    @property
    def mirrors(self) -> tuple[RegistryMirror, ...]:
        return tuple(self._mirrors)

    def register(self, pattern: str, factory: ImageFactory) -> None:
        """Serve ``pattern`` (``repository`` or ``repository:tag-glob``, normalized) with ``factory``."""
        slash = pattern.rfind("/")
        colon = pattern.rfind(":")
        if colon > slash:
            repo, tag_glob = pattern[:colon], pattern[colon + 1:]
        else:
            repo, tag_glob = pattern, None
        normalized = parse_reference(repo).repository
        self._entries.append(_Entry(normalized, tag_glob, factory))

    def resolve(self, image: str, credentials: Sequence[tuple[str, str]] = ()) -> Image:
        """The image for ``image`` as a pod spec names it, or the error a real pull would give.

        ``credentials``: the (user, password) pairs of the pod's pull secrets that match the image, tried in turn
        as the kubelet does (none: one anonymous pull); only a mirror that requires credentials reads them.
        """
        try:
            ref = parse_reference(image)
        except InvalidReferenceFormat as e:
            raise InvalidImageNameError(image, str(e)) from None
        lookup = ref
        mirror = self._mirror_for(ref)
        if mirror is not None:
            refused = mirror.refusal(ref, list(credentials))
            if refused is not None:
                raise ImagePullError(image, refused)
            upstream = mirror.upstream_reference(ref)
            if upstream is None:
                raise ImagePullError(image, not_found_message(ref))
            lookup = upstream
        # The kubelet pulls with the first matching credential that works (a public registry takes any).
        used = next((c for c in credentials if mirror is None or mirror.credentials in (None, c)), None)
        for entry in reversed(self._entries):
            if entry.repository != lookup.repository:
                continue
            if entry.tag_glob is not None:
                if lookup.tag is None and lookup.digest is not None:
                    continue
                if not fnmatch.fnmatchcase(lookup.tag or DEFAULT_TAG, entry.tag_glob):
                    continue
            return Image(requested=image, reference=ref, definition=entry.factory(lookup), credential=used)
        raise ImagePullError(image, not_found_message(ref) if mirror is not None else pull_failure_message(ref))

    def _mirror_for(self, ref: ImageReference) -> RegistryMirror | None:
        """The mirror ``ref``'s registry host is (the one whose prefix holds ``ref`` when several share it)."""
        on_host = [m for m in self._mirrors if m.serves(ref)]
        inside = [m for m in on_host if m.upstream_reference(ref) is not None]
        return (inside or on_host or [None])[-1]

    def __contains__(self, image: str) -> bool:
        try:
            self.resolve(image)
        except ImagePullError:
            return False
        return True


def pull_failure_message(ref: ImageReference) -> str:
    """containerd's CRI error for a reference no registry serves."""
    name = str(ref)
    prefix = f"failed to pull and unpack image {_go_quote(name)}: failed to resolve reference {_go_quote(name)}"
    if ref.domain == "docker.io":
        return (f"rpc error: code = Unknown desc = {prefix}: pull access denied, repository does not exist or "
                "may require authorization: server message: insufficient_scope: authorization failed")
    if ref.domain in KNOWN_REGISTRIES:
        return not_found_message(ref)
    host = ref.domain.rsplit(":", 1)[0] if not ref.domain.startswith("[") else ref.domain
    manifest = ref.digest or ref.tag or DEFAULT_TAG
    return (f"rpc error: code = Unknown desc = {prefix}: failed to do request: Head "
            f"\"https://{ref.domain}/v2/{ref.path}/manifests/{manifest}\": dial tcp: lookup {host}: no such host")


def not_found_message(ref: ImageReference) -> str:
    """containerd's CRI error when the registry answers but has no such repository or tag (404)."""
    name = str(ref)
    return (f"rpc error: code = NotFound desc = failed to pull and unpack image {_go_quote(name)}: failed to resolve "
            f"reference {_go_quote(name)}: {name}: not found")


_go_quote = quote
