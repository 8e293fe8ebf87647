"""The credentials a kubelet pulls a pod's images with: its ``imagePullSecrets`` as a keyring (no pytest here).

As upstream: ``getPullSecretsForPod`` reads each named Secret of the pod's namespace and records
``FailedToRetrieveImagePullSecret`` for those it cannot get; ``credentialprovider/secrets.MakeDockerKeyring``
reads ``.dockerconfigjson`` (type ``kubernetes.io/dockerconfigjson``) and ``.dockercfg`` (``kubernetes.io/dockercfg``)
entries, ``auth`` (base64 ``user:password``) winning over ``username``/``password``; ``BasicDockerKeyring.Lookup``
matches an entry's key against the image's repository (``https://`` added, ``/v1/``/``/v2/`` dropped, hosts
compared label by label with ``*`` globs, ports equal, the key's path a string prefix of the image's), most specific
key first. The kubelet then tries each matching credential in turn, or pulls anonymously when none match.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

EVENT_FAILED_TO_RETRIEVE = "FailedToRetrieveImagePullSecret"
DOCKER_CONFIG_JSON = ("kubernetes.io/dockerconfigjson", ".dockerconfigjson")
DOCKER_CFG = ("kubernetes.io/dockercfg", ".dockercfg")

Credential = tuple[str, str]


def failed_to_retrieve_message(names: Iterable[str]) -> str:
    """The Warning event's text when some pull secrets of a pod could not be read."""
    return (f"Unable to retrieve some image pull secrets ({', '.join(names)}); attempting to pull the image may not "
            "succeed.")


def pod_pull_secrets(pod: Mapping[str, Any], read: Callable[[str, str], Mapping[str, Any] | None],
                     ) -> tuple[list[Mapping[str, Any]], list[str]]:
    """The pod's pull secrets that exist (``read(namespace, name)``) and the names of those that do not."""
    found, missing = [], []
    namespace = pod["metadata"].get("namespace", "")
    for ref in pod["spec"].get("imagePullSecrets") or []:
        name = (ref or {}).get("name") or ""
        if not name:
            continue
        secret = read(namespace, name)
        if secret is None:
            missing.append(name)
        else:
            found.append(secret)
    return found, missing


def keyring(secrets: Iterable[Mapping[str, Any]]) -> list[tuple[str, Credential]]:
    """(key, credential) of every registry entry in ``secrets``, most specific key first."""
    entries: list[tuple[str, Credential]] = []
    for secret in secrets:
        data = secret.get("data") or {}
        auths: Mapping[str, Any] = {}
        if secret.get("type") == DOCKER_CONFIG_JSON[0] and data.get(DOCKER_CONFIG_JSON[1]):
            auths = (_decode_json(data[DOCKER_CONFIG_JSON[1]]) or {}).get("auths") or {}
        elif secret.get("type") == DOCKER_CFG[0] and data.get(DOCKER_CFG[1]):
            auths = _decode_json(data[DOCKER_CFG[1]]) or {}
        for location, entry in auths.items() if isinstance(auths, Mapping) else ():
            credential = _credential(entry)
            key = _key(location)
            if credential is not None and key:
                entries.append((key, credential))
    return sorted(entries, key=lambda e: e[0], reverse=True)


def lookup(ring: Iterable[tuple[str, Credential]], repository: str) -> list[Credential]:
    """The credentials whose key matches ``repository`` (``docker.io/library/busybox``), in keyring order."""
    return [credential for key, credential in ring if _matches(key, repository)]


def _decode_json(value: str) -> Any:
    try:
        return json.loads(base64.b64decode(value))
    except (binascii.Error, ValueError):
        return None


def _credential(entry: Any) -> Credential | None:
    if not isinstance(entry, Mapping):
        return None
    user, password = str(entry.get("username") or ""), str(entry.get("password") or "")
    if entry.get("auth"):
        try:
            user, _, password = base64.b64decode(str(entry["auth"])).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
    return (user, password) if user or password else None


def _key(location: str) -> str:
    value = location if location.startswith(("https://", "http://")) else "https://" + location
    parts = urlsplit(value)
    path = parts.path
    if path.startswith(("/v2/", "/v1/")):
        path = path[3:]
    host = parts.netloc
    if host in ("index.docker.io", "registry-1.docker.io"):
        host = "docker.io"
    return host + path if path and path != "/" else host


def _matches(key: str, repository: str) -> bool:
    glob, target = urlsplit("https://" + key), urlsplit("https://" + repository)
    glob_host, _, glob_port = glob.netloc.partition(":")
    target_host, _, target_port = target.netloc.partition(":")
    glob_labels, target_labels = glob_host.split("."), target_host.split(".")
    if glob_port != target_port or len(glob_labels) != len(target_labels):
        return False
    if not all(fnmatch.fnmatchcase(t, g) for g, t in zip(glob_labels, target_labels, strict=True)):
        return False
    return target.path.startswith(glob.path)
