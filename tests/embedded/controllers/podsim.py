"""Play scheduler and kubelet for controller tests: bind pods and mark them Running and Ready.

The embedded cluster now runs a kubelet for every bound pod, which writes pod status itself, so
tests that want to decide *when* a pod becomes Ready keep their pods unbound (a template with
``schedulerName: MANUAL_SCHEDULER``, which the default scheduler leaves alone) and set status
through the status subresource, as the golden recordings did. ``bind`` is there for tests that
want the kubelet to take over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

MANUAL_SCHEDULER = "azchaos-test-manual"
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05,
             what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; raise AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def bind(api_url: str, namespace: str, name: str, node: str) -> None:
    """POST pods/<name>/binding with ``requests`` (the official client mis-decodes the Status it returns)."""
    body = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
    resp = requests.post(f"{api_url}/api/v1/namespaces/{namespace}/pods/{name}/binding", json=body, timeout=10)
    assert resp.status_code == 201, resp.text


def set_ready(core: Any, namespace: str, name: str, ready: bool = True) -> None:
    """Phase Running with Ready/ContainersReady as given, through pods/<name>/status (merge patch)."""
    now = _now()
    flag = "True" if ready else "False"
    status = {"phase": "Running", "startTime": now, "conditions": [
        {"type": "Initialized", "status": "True", "lastTransitionTime": now},
        {"type": "Ready", "status": flag, "lastTransitionTime": now},
        {"type": "ContainersReady", "status": flag, "lastTransitionTime": now},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
    ]}
    core.patch_namespaced_pod_status(name, namespace, {"status": status})


def pods_of(core: Any, namespace: str, selector: str) -> list[Any]:
    """Pods matching ``selector`` that are not being deleted, sorted by name."""
    items = core.list_namespaced_pod(namespace, label_selector=selector).items
    return sorted((p for p in items if p.metadata.deletion_timestamp is None), key=lambda p: p.metadata.name)


def is_ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def ready_all(core: Any, namespace: str, selector: str) -> list[str]:
    """Mark every live pod matching ``selector`` Running and Ready; returns their names."""
    names = []
    for p in pods_of(core, namespace, selector):
        if not is_ready(p):
            set_ready(core, namespace, p.metadata.name)
        names.append(p.metadata.name)
    return names


def template(labels: dict[str, str], image: str = PAUSE_IMAGE, manual: bool = True) -> dict[str, Any]:
    """A pod template (as a dict) that the tests drive by hand unless ``manual`` is False."""
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": image}], "terminationGracePeriodSeconds": 30}
    if manual:
        spec["schedulerName"] = MANUAL_SCHEDULER
    return {"metadata": {"labels": dict(labels)}, "spec": spec}
