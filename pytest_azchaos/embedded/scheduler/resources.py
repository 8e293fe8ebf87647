"""Pod resource requests and node allocatable, computed as ``resourcehelper.PodRequests`` does.

Requests are the max of the containers' sum and each init container (restartable "sidecar" init
containers add to both), plus pod overhead. Scoring uses the *non-zero* variant, where a container that
omits a cpu/memory request counts as 100m / 200Mi, so empty pods still spread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .quantity import resource_value

DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

Resources = dict[str, int]


def _add(total: Resources, more: Mapping[str, int]) -> None:
    for name, value in more.items():
        total[name] = total.get(name, 0) + value


def _max_into(total: Resources, other: Mapping[str, int]) -> None:
    for name, value in other.items():
        if value > total.get(name, 0):
            total[name] = value


def _container_requests(container: Mapping[str, Any], non_zero: bool) -> Resources:
    resources = container.get("resources") or {}
    requests = dict(resources.get("requests") or {})
    for name, value in (resources.get("limits") or {}).items():
        requests.setdefault(name, value)  # API defaulting copies limits into missing requests
    out = {name: resource_value(name, value) for name, value in requests.items()}
    if non_zero:
        out.setdefault("cpu", DEFAULT_MILLI_CPU_REQUEST)
        out.setdefault("memory", DEFAULT_MEMORY_REQUEST)
    return out


# The last pod asked about, per variant: a scheduling cycle asks for the same pod once per node.
_last: dict[bool, tuple[Mapping[str, Any], Resources]] = {}


def pod_requests(pod: Mapping[str, Any], non_zero: bool = False) -> Resources:
    """The pod's effective requests: cpu in millicores, memory/storage in bytes, others in units.

    The result is shared with later calls for the same pod object: read it, do not change it.
    """
    last = _last.get(non_zero)
    if last is not None and last[0] is pod:
        return last[1]
    reqs = _pod_requests(pod, non_zero)
    _last[non_zero] = (pod, reqs)
    return reqs


def _pod_requests(pod: Mapping[str, Any], non_zero: bool) -> Resources:
    spec = pod.get("spec") or {}
    reqs: Resources = {}
    for container in spec.get("containers") or []:
        _add(reqs, _container_requests(container, non_zero))
    sidecars: Resources = {}
    init_max: Resources = {}
    for container in spec.get("initContainers") or []:
        own = _container_requests(container, non_zero)
        if container.get("restartPolicy") == "Always":
            _add(reqs, own)
            _add(sidecars, own)
            effective = dict(sidecars)
        else:
            effective = dict(own)
            _add(effective, sidecars)
        _max_into(init_max, effective)
    _max_into(reqs, init_max)
    pod_level = (spec.get("resources") or {}).get("requests") or {}
    for name in ("cpu", "memory"):
        if name in pod_level:
            reqs[name] = resource_value(name, pod_level[name])
    for name, value in (spec.get("overhead") or {}).items():
        reqs[name] = reqs.get(name, 0) + resource_value(name, value)
    return reqs


def node_allocatable(node: Mapping[str, Any]) -> Resources:
    """``status.allocatable`` (falling back to capacity), cpu in millicores."""
    status = node.get("status") or {}
    source = status.get("allocatable") or status.get("capacity") or {}
    return {name: resource_value(name, value) for name, value in source.items()}
