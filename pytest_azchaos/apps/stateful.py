"""The stateful sample app: a StatefulSet whose pods each write to their own zonal EBS volume (gp3)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..wellknown import ZONE_LABEL
from .echo import MANAGED
from .images import SampleImages
from .security import restricted_container_security, restricted_pod_security


@dataclass(frozen=True)
class StatefulSpec:
    name: str = "store"
    replicas: int = 3
    storage_class: str = "gp3"
    size: str = "1Gi"
    mount_path: str = "/data"
    run_as_user: int | None = 1000
    fs_group: int | None = 1000  # None: the non-root writer cannot write a fresh volume
    node_selector: dict[str, str] | None = None
    # tolerationSeconds for not-ready/unreachable nodes; None: the API default (300 s).
    node_loss_toleration: int | None = None

    def but(self, **changes: Any) -> StatefulSpec:
        return replace(self, **changes)

    @property
    def selector(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name}


def stateful_manifests(spec: StatefulSpec, run_labels: dict[str, str] | None = None,
                       images: SampleImages | None = None) -> list[dict[str, Any]]:
    """Headless Service and StatefulSet; ``images``: the image and pull secrets to use (default: upstream's)."""
    images = images or SampleImages()
    labels = {**MANAGED, **(run_labels or {})}
    security: dict[str, Any] = {}
    if spec.run_as_user is not None:
        security = restricted_pod_security(spec.run_as_user)
    if spec.fs_group is not None:
        security["fsGroup"] = spec.fs_group
    pod_spec: dict[str, Any] = {
        "securityContext": security,
        "containers": [{
            "name": "app", "image": images.agnhost, "args": ["netexec", "--http-port=8080"],
            "volumeMounts": [{"name": "data", "mountPath": spec.mount_path}],
            "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}, "periodSeconds": 1},
        }],
        **images.pod_spec_fields(),
    }
    if spec.run_as_user is not None:
        pod_spec["containers"][0]["securityContext"] = restricted_container_security()
    if spec.node_loss_toleration is not None:
        pod_spec["tolerations"] = [
            {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": spec.node_loss_toleration}
            for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")]
    if spec.node_selector:
        pod_spec["nodeSelector"] = spec.node_selector
    else:
        # One replica per zone, so taking any zone away strands exactly one pod on its volume.
        pod_spec["topologySpreadConstraints"] = [{
            "maxSkew": 1, "topologyKey": ZONE_LABEL, "whenUnsatisfiable": "DoNotSchedule",
            "nodeTaintsPolicy": "Honor", "labelSelector": {"matchLabels": spec.selector}}]
    return [
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": spec.name, "labels": labels},
         "spec": {"clusterIP": "None", "selector": spec.selector, "ports": [{"port": 8080, "name": "http"}]}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet",
         "metadata": {"name": spec.name, "labels": labels},
         "spec": {
             "serviceName": spec.name, "replicas": spec.replicas, "podManagementPolicy": "Parallel",
             "selector": {"matchLabels": spec.selector},
             "template": {"metadata": {"labels": {**spec.selector, **labels}}, "spec": pod_spec},
             "volumeClaimTemplates": [{
                 "metadata": {"name": "data"},
                 "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": spec.storage_class,
                          "resources": {"requests": {"storage": spec.size}}}}],
         }},
    ]
