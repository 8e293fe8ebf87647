"""Known top-level fields per kind, for ``fieldValidation=Strict`` (unknown fields are a 400)."""

from __future__ import annotations

from typing import Any

_COMMON = {"apiVersion", "kind", "metadata"}
_FIELDS: dict[str, set[str]] = {
    "ConfigMap": {"data", "binaryData", "immutable"},
    "Secret": {"data", "stringData", "type", "immutable"},
    "Event": {"involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "type",
              "eventTime", "series", "action", "related", "reportingComponent", "reportingInstance"},
    "ServiceAccount": {"secrets", "imagePullSecrets", "automountServiceAccountToken"},
    "StorageClass": {"provisioner", "parameters", "reclaimPolicy", "mountOptions", "allowVolumeExpansion",
                     "volumeBindingMode", "allowedTopologies"},
    "EndpointSlice": {"addressType", "endpoints", "ports"},
    "Endpoints": {"subsets"},
    "ControllerRevision": {"data", "revision"},
    "Binding": {"target"},
    "CSIStorageCapacity": {"nodeTopology", "storageClassName", "capacity", "maximumVolumeSize"},
    "VolumeAttributesClass": {"driverName", "parameters"},
    "SelfSubjectReview": {"status"},
    "PriorityClass": {"value", "globalDefault", "description", "preemptionPolicy"},
    "ClusterRole": {"rules", "aggregationRule"},
    "Role": {"rules"},
    "ClusterRoleBinding": {"subjects", "roleRef"},
    "RoleBinding": {"subjects", "roleRef"},
    "MutatingWebhookConfiguration": {"webhooks"},
}
_SPEC_STATUS = {"spec", "status"}


def unknown_fields(kind: str, obj: dict[str, Any]) -> list[str]:
    """Top-level fields that ``kind`` does not have, in the order they appear."""
    allowed = _COMMON | _FIELDS.get(kind, _SPEC_STATUS)
    return [k for k in obj if k not in allowed]


def warning_header(text: str) -> str:
    """One ``Warning`` header value as the apiserver writes it (code 299, agent ``-``, Go-quoted text)."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{quoted}"'
