"""The kubelet's ``runAsNonRoot`` check, made before it creates each container (init, sidecar, regular).

Upstream ``pkg/kubelet/kuberuntime/security_context_others.go`` (``verifyRunAsNonRoot``), called from
``generateContainerConfig`` with the image user of ``getImageUser``. A failure makes ``startContainer``
record a Warning event ``Failed`` (``Error: <message>``) and return ``ErrCreateContainerConfig``: the
container waits with reason ``CreateContainerConfigError`` and the message, and the pod worker retries
the sync after its back-off period (10 s, jittered).
"""

from __future__ import annotations

from typing import Any

from ..images.goformat import quote
from ..images.registry import image_user

Obj = dict[str, Any]

REASON_CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError"
MAX_USER_ID = (1 << 31) - 1  # validation.IsValidUserID: 0..math.MaxInt32


def format_pod(pod: Obj) -> str:
    """``format.Pod``: ``name_namespace(uid)`` (the underscore cannot occur in a pod name)."""
    meta = pod.get("metadata") or {}
    return f"{meta.get('name', '')}_{meta.get('namespace', '')}({meta.get('uid', '')})"


def _effective(pod: Obj, container: Obj, name: str) -> Any:
    """``securitycontext.DetermineEffectiveSecurityContext`` for one field: the container's when set."""
    csc = container.get("securityContext") or {}
    if csc.get(name) is not None:
        return csc[name]
    return (pod.get("spec", {}).get("securityContext") or {}).get(name)


def verify_run_as_non_root(pod: Obj, container: Obj, user: str) -> str | None:
    """The error ``verifyRunAsNonRoot`` returns for ``container`` of an image whose config ``User`` is ``user``.

    None when the effective ``runAsNonRoot`` is unset or false, when a non-zero ``runAsUser`` is set,
    or when the image's numeric user is a valid non-root uid.
    """
    if not _effective(pod, container, "runAsNonRoot"):
        return None
    where = f"(pod: {quote(format_pod(pod))}, container: {container.get('name', '')})"
    run_as_user = _effective(pod, container, "runAsUser")
    if run_as_user is not None:
        if int(run_as_user) == 0:
            return f"container's runAsUser breaks non-root policy {where}"
        return None
    uid, username = image_user(user)
    if uid is None:
        return (f"container has runAsNonRoot and image has non-numeric user ({username}), "
                f"cannot verify user is non-root {where}")
    if uid == 0:
        return f"container has runAsNonRoot and image will run as root {where}"
    if not 0 <= uid <= MAX_USER_ID:
        return (f"container has runAsNonRoot and image has an invalid user id ({uid}). (Must be 1-({MAX_USER_ID})): "
                f"must be between 0 and {MAX_USER_ID}, inclusive {where}")
    return None
