"""Which image each sample-app container uses, for clusters that pull through a mirror or a private registry.

Pytest-free. Three inputs, validated before anything is deployed:

* ``--azchaos-image REF``: the agnhost image to use instead of the default (a tag or ``@sha256:`` digest);
* ``--azchaos-image-repo-list FILE`` (else the ``KUBE_TEST_REPO_LIST`` environment variable): a registry map in
  upstream e2e's YAML format (``k8s:test/utils/image/manifest.go``): ``promoterE2eRegistry: <mirror>/...``
  rewrites where ``registry.k8s.io/e2e-test-images/agnhost:2.52`` comes from, as the e2e framework does;
* ``--azchaos-image-pull-secret [NAMESPACE/]NAME`` (repeatable): ``imagePullSecrets`` of the sample apps' pods.
  With ``NAMESPACE/`` the secret is copied from that namespace into the app's namespace before the app is
  created (the per-test namespaces are new, so a secret cannot already be there); a bare ``NAME`` must already
  exist in the app's namespace (``apps.deploy`` says how to create it when it does not).

``--azchaos-image`` wins over the repo list for agnhost. Keys upstream has dropped (``e2eRegistry``,
``e2eVolumeRegistry`` ...) are accepted and unused, as upstream's non-strict YAML reading ignores them; any other
key is refused as a likely typo, naming the keys there are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_AGNHOST", "REGISTRY_DEFAULTS", "ImageConfigError", "PullSecret", "SampleImages", "resolve"]

# test/utils/image/manifest.go (v1.36): initRegistry, and the agnhost the e2e framework runs.
REGISTRY_DEFAULTS: Mapping[str, str] = {
    "gcAuthenticatedRegistry": "gcr.io/authenticated-image-pulling",
    "promoterE2eRegistry": "registry.k8s.io/e2e-test-images",
    "buildImageRegistry": "registry.k8s.io/build-image",
    "invalidRegistry": "invalid.registry.k8s.io/invalid",
    "gcEtcdRegistry": "registry.k8s.io",
    "gcRegistry": "registry.k8s.io",
    "sigStorageRegistry": "registry.k8s.io/sig-storage",
    "privateRegistry": "gcr.io/k8s-authenticated-test",
    "dockerLibraryRegistry": "docker.io/library",
    "cloudProviderGcpRegistry": "registry.k8s.io/cloud-provider-gcp",
}
# Keys older releases' RegistryList had; repo-list files written for them still carry them.
LEGACY_KEYS = frozenset({
    "e2eRegistry", "e2eVolumeRegistry", "gcrReleaseRegistry", "sampleRegistry", "microsoftRegistry",
    "dockerGluster", "quayIncubator", "quayK8sCSI", "k8sCSI",
})
# Every image the plugin deploys: (registry key, name, version), as manifest.go's initImageConfigs lists them.
AGNHOST = ("promoterE2eRegistry", "agnhost", "2.52")
DEFAULT_AGNHOST = f"{REGISTRY_DEFAULTS[AGNHOST[0]]}/{AGNHOST[1]}:{AGNHOST[2]}"

ENV_REPO_LIST = "KUBE_TEST_REPO_LIST"
EXAMPLE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/k8s/e2e-test-images/agnhost:2.52"


class ImageConfigError(ValueError):
    """An image option that cannot work; the message names the fix."""


@dataclass(frozen=True)
class PullSecret:
    """An image pull secret of the sample apps: its name, and the namespace to copy it from (None: it must
    already be in the app's namespace)."""

    name: str
    source_namespace: str | None = None

    def __str__(self) -> str:
        return f"{self.source_namespace}/{self.name}" if self.source_namespace else self.name


@dataclass(frozen=True)
class SampleImages:
    """The images of the sample apps' containers and the pull secrets their pods name."""

    agnhost: str = DEFAULT_AGNHOST
    pull_secrets: tuple[PullSecret, ...] = ()
    source: str = "default"  # how agnhost was chosen: default, --azchaos-image, the repo list's path

    def pod_spec_fields(self) -> dict[str, Any]:
        """What a pod spec gets besides its containers: ``imagePullSecrets``, when there are any."""
        if not self.pull_secrets:
            return {}
        return {"imagePullSecrets": [{"name": s.name} for s in self.pull_secrets]}


# docker/distribution's reference grammar (what containerd and the kubelet parse).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
_NAME = re.compile(rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def reference_problem(ref: str) -> str | None:
    """Why ``ref`` is not an image reference a kubelet pulls (None when it is one)."""
    if not ref or ref != ref.strip():
        return "it is empty or has spaces around it"
    name, at, digest = ref.partition("@")
    if at and not _SHA256.fullmatch(digest):
        return f"the digest {digest!r} is not sha256: followed by 64 lowercase hex digits"
    slash, colon = name.rfind("/"), name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
        if not _TAG.fullmatch(tag):
            return f"the tag {tag!r} is not a tag (letters, digits, '_', '.', '-', at most 128, not starting with " \
                   "'.' or '-')"
    if not _NAME.fullmatch(name):
        first, _, rest = name.partition("/")
        path = rest if ("." in first or ":" in first or first == "localhost") else name
        if path.lower() != path and _NAME.fullmatch(name.lower()):
            return f"the repository name {path!r} must be lowercase"
        return f"the repository name {name!r} is not REGISTRY/PATH of lowercase components"
    if len(name) > 255:
        return "the repository name is longer than 255 characters"
    return None


def _check_ref(ref: str, source: str) -> str:
    problem = reference_problem(ref)
    if problem:
        raise ImageConfigError(f"{source} {ref!r} is not an image reference: {problem}; write it as "
                               f"REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST], e.g. {EXAMPLE}")
    return ref


def pull_secret(item: str) -> PullSecret:
    """``[NAMESPACE/]NAME`` as a :class:`PullSecret`, or ``ImageConfigError`` naming the fix."""
    namespace, slash, name = item.strip().rpartition("/")
    if (not _DNS_SUBDOMAIN.fullmatch(name) or len(name) > 253
            or (slash and not _DNS_LABEL.fullmatch(namespace))):
        raise ImageConfigError(
            f"--azchaos-image-pull-secret {item!r} is not [NAMESPACE/]NAME of a Secret: write e.g. 'regcred' (a "
            "Secret already in the app's namespace) or 'ci/regcred' (copied from namespace ci into each app's "
            "namespace); names are lowercase letters, digits, '-' and '.'")
    return PullSecret(name, namespace or None)


def load_repo_list(path: str, source: str) -> dict[str, str]:
    """The registry map of a ``KUBE_TEST_REPO_LIST`` file over upstream's defaults; ``ImageConfigError`` naming the
    fix when the file is unreadable, not YAML, not a mapping of strings, or has a key upstream never had."""
    import yaml

    fix = f"fix the file or point {source} at a YAML mapping such as 'promoterE2eRegistry: <mirror>/e2e-test-images'"
    if path.startswith(("http://", "https://")):
        raise ImageConfigError(f"{source} {path}: a URL; download the file and pass its path")
    try:
        text = Path(path).expanduser().read_text()
    except OSError as e:
        raise ImageConfigError(f"{source} {path} cannot be read ({e.strerror or e}): pass the path of a readable "
                               "KUBE_TEST_REPO_LIST file") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where is not None else ""
        raise ImageConfigError(f"{source} {path} is not YAML{at}: {getattr(e, 'problem', None) or e}; {fix}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ImageConfigError(f"{source} {path} is a YAML {type(doc).__name__}, not a mapping of registry keys; "
                               f"{fix}")
    registries = dict(REGISTRY_DEFAULTS)
    known = ", ".join(sorted(REGISTRY_DEFAULTS))
    for key, value in doc.items():
        if key not in REGISTRY_DEFAULTS and key not in LEGACY_KEYS:
            near = [k for k in REGISTRY_DEFAULTS if str(key).lower() == k.lower()]
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise ImageConfigError(f"{source} {path}: unknown key {key!r}{hint}; the keys are {known}")
        if not isinstance(value, str) or not value.strip():
            raise ImageConfigError(f"{source} {path}: {key} must be a registry such as "
                                   f"'{REGISTRY_DEFAULTS.get(key, 'registry.example.com/path')}', not {value!r}")
        if key in REGISTRY_DEFAULTS:
            registries[key] = value.strip().rstrip("/")
    return registries


def resolve(image: str | None = None, repo_list: str | None = None, pull_secrets: Sequence[str] = (),
            environ: Mapping[str, str] | None = None) -> SampleImages:
    """The sample apps' images from the options (``repo_list`` None: ``KUBE_TEST_REPO_LIST`` from ``environ``,
    default ``os.environ``); ``ImageConfigError`` naming the fix for any bad input."""
    environ = os.environ if environ is None else environ
    secrets = tuple(pull_secret(s) for s in pull_secrets)
    names = [s.name for s in secrets]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ImageConfigError(f"--azchaos-image-pull-secret names {duplicate!r} twice: a pod lists each secret "
                               "once; keep one")
    source = "default"
    registries = dict(REGISTRY_DEFAULTS)
    list_source = "--azchaos-image-repo-list"
    if not repo_list and environ.get(ENV_REPO_LIST):
        repo_list, list_source = environ[ENV_REPO_LIST], ENV_REPO_LIST
    if repo_list:
        registries = load_repo_list(repo_list, list_source)
        source = f"{list_source} {repo_list}"
    key, name, version = AGNHOST
    agnhost = _check_ref(f"{registries[key]}/{name}:{version}", f"{list_source} {repo_list}: {key} gives")
    if image:
        agnhost, source = _check_ref(image, "--azchaos-image"), "--azchaos-image"
    return SampleImages(agnhost=agnhost, pull_secrets=secrets, source=source)
