"""The securityContext that lets the sample apps run where Pod Security ``restricted`` is enforced.

``restricted`` (k8s.io/pod-security-admission) asks every container to run as a non-root numeric user,
with ``allowPrivilegeEscalation: false``, every capability dropped and the ``RuntimeDefault`` seccomp
profile. agnhost's image has no USER (it would run as root), so the user is set here.
"""

from __future__ import annotations

from typing import Any


def restricted_pod_security(run_as_user: int) -> dict[str, Any]:
    """The pod-level part: a numeric non-root user and group, RuntimeDefault seccomp."""
    return {"runAsNonRoot": True, "runAsUser": run_as_user, "runAsGroup": run_as_user,
            "seccompProfile": {"type": "RuntimeDefault"}}


def restricted_container_security() -> dict[str, Any]:
    """The container-level part: no privilege escalation, no capabilities."""
    return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
