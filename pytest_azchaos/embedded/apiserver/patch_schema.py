"""The built-in types as patches and the typed decode see them: field types, list merge strategies.

Strategic merge patch merges a list by the ``patchMergeKey`` of the Go struct field it belongs to;
after any patch the apiserver decodes the result into the typed object, dropping unknown fields
and rejecting values of the wrong kind with the converter's message. Both need the shape of the
built-in types, described here once (``STRUCTS``, ``LIST_STRATEGY``, ``MERGE_KEYS``), with the
Go-style value printing their error texts use.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .errors import ApiError, Cause, bad_request

# Field name -> merge key, for lists of structs that have no schema below (and for openapi.py).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "env": "name",
    "ports": "containerPort",
    "conditions": "type",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "schedulingGates": "name",
    "addresses": "type",
    "podIPs": "ip",
    "hostIPs": "ip",
}
# Lists of primitives merged as sets (patchStrategy "merge" without a key).
MERGED_PRIMITIVE_LISTS = {"finalizers", "podCIDRs"}

# ---------------------------------------------------------------- schema of the built-in types
#
# Type expressions: "s" string, "i" integer, "b" bool, "n" number, "q" quantity or int-or-string
# (string or number), "m" map of strings, "*" anything (not checked, not pruned), "[X]" list of X,
# "{X}" map of X, and a capitalised name for a struct below. Structs list every field they have, so
# anything else is an unknown field, dropped as the typed decode drops it.

_META = {"name": "s", "generateName": "s", "namespace": "s", "selfLink": "s", "uid": "s", "resourceVersion": "s",
         "generation": "i", "creationTimestamp": "s", "deletionTimestamp": "s", "deletionGracePeriodSeconds": "i",
         "labels": "m", "annotations": "m", "ownerReferences": "[OwnerReference]", "finalizers": "[s]",
         "managedFields": "[*]"}
_CONTAINER = {"name": "s", "image": "s", "command": "[s]", "args": "[s]", "workingDir": "s",
              "ports": "[ContainerPort]", "envFrom": "[*]", "env": "[EnvVar]", "resources": "Resources",
              "resizePolicy": "[*]", "restartPolicy": "s", "restartPolicyRules": "[*]",
              "volumeMounts": "[VolumeMount]", "volumeDevices": "[*]", "livenessProbe": "*", "readinessProbe": "*",
              "startupProbe": "*", "lifecycle": "*", "terminationMessagePath": "s", "terminationMessagePolicy": "s",
              "imagePullPolicy": "s", "securityContext": "*", "stdin": "b", "stdinOnce": "b", "tty": "b",
              "targetContainerName": "s"}
STRUCTS: dict[str, dict[str, str]] = {
    "ObjectMeta": _META,
    "OwnerReference": {"apiVersion": "s", "kind": "s", "name": "s", "uid": "s", "controller": "b",
                       "blockOwnerDeletion": "b"},
    "Deployment": {"kind": "s", "apiVersion": "s", "metadata": "ObjectMeta", "spec": "DeploymentSpec",
                   "status": "WorkloadStatus"},
    "ReplicaSet": {"kind": "s", "apiVersion": "s", "metadata": "ObjectMeta", "spec": "ReplicaSetSpec",
                   "status": "WorkloadStatus"},
    "StatefulSet": {"kind": "s", "apiVersion": "s", "metadata": "ObjectMeta", "spec": "StatefulSetSpec",
                    "status": "WorkloadStatus"},
    "DaemonSet": {"kind": "s", "apiVersion": "s", "metadata": "ObjectMeta", "spec": "DaemonSetSpec",
                  "status": "WorkloadStatus"},
    "DeploymentSpec": {"replicas": "i", "selector": "*", "template": "PodTemplateSpec", "strategy": "*",
                       "minReadySeconds": "i", "revisionHistoryLimit": "i", "paused": "b",
                       "progressDeadlineSeconds": "i"},
    "ReplicaSetSpec": {"replicas": "i", "minReadySeconds": "i", "selector": "*", "template": "PodTemplateSpec"},
    "StatefulSetSpec": {"replicas": "i", "selector": "*", "template": "PodTemplateSpec",
                        "volumeClaimTemplates": "[*]", "serviceName": "s", "podManagementPolicy": "s",
                        "updateStrategy": "*", "revisionHistoryLimit": "i", "minReadySeconds": "i",
                        "persistentVolumeClaimRetentionPolicy": "*", "ordinals": "*"},
    "DaemonSetSpec": {"selector": "*", "template": "PodTemplateSpec", "updateStrategy": "*", "minReadySeconds": "i",
                      "revisionHistoryLimit": "i"},
    "WorkloadStatus": {"conditions": "[Condition]", "*": "*"},
    "Condition": {"*": "*"},
    "PodTemplateSpec": {"metadata": "ObjectMeta", "spec": "PodSpec"},
    "Pod": {"kind": "s", "apiVersion": "s", "metadata": "ObjectMeta", "spec": "PodSpec", "status": "PodStatus"},
    "PodStatus": {"conditions": "[Condition]", "podIPs": "[*]", "hostIPs": "[*]", "*": "*"},
    "PodSpec": {"volumes": "[Volume]", "initContainers": "[Container]", "containers": "[Container]",
                "ephemeralContainers": "[Container]", "restartPolicy": "s", "terminationGracePeriodSeconds": "i",
                "activeDeadlineSeconds": "i", "dnsPolicy": "s", "nodeSelector": "m", "serviceAccountName": "s",
                "serviceAccount": "s", "automountServiceAccountToken": "b", "nodeName": "s", "hostNetwork": "b",
                "hostPID": "b", "hostIPC": "b", "shareProcessNamespace": "b", "securityContext": "*",
                "imagePullSecrets": "[*]", "hostname": "s", "subdomain": "s", "affinity": "*",
                "schedulerName": "s", "tolerations": "[Toleration]", "hostAliases": "[*]",
                "priorityClassName": "s", "priority": "i", "dnsConfig": "*", "readinessGates": "[*]",
                "runtimeClassName": "s", "enableServiceLinks": "b", "preemptionPolicy": "s", "overhead": "{q}",
                "topologySpreadConstraints": "[*]", "setHostnameAsFQDN": "b", "os": "*", "hostUsers": "b",
                "schedulingGates": "[*]", "resourceClaims": "[*]", "resources": "Resources",
                "hostnameOverride": "s", "workloadRef": "*"},
    "Container": _CONTAINER,
    "ContainerPort": {"name": "s", "hostPort": "i", "containerPort": "i", "protocol": "s", "hostIP": "s"},
    "EnvVar": {"name": "s", "value": "s", "valueFrom": "*"},
    "VolumeMount": {"name": "s", "readOnly": "b", "recursiveReadOnly": "s", "mountPath": "s", "subPath": "s",
                    "mountPropagation": "s", "subPathExpr": "s"},
    "Volume": {"name": "s", "*": "*"},
    "Resources": {"limits": "{q}", "requests": "{q}", "claims": "[*]"},
    "Toleration": {"key": "s", "operator": "s", "value": "s", "effect": "s", "tolerationSeconds": "i"},
    "Service": {"kind": "s", "apiVersion": "s", "metadata": "ObjectMeta", "spec": "ServiceSpec", "status": "*"},
    "ServiceSpec": {"ports": "[ServicePort]", "*": "*"},
    "ServicePort": {"name": "s", "protocol": "s", "appProtocol": "s", "port": "i", "targetPort": "q",
                    "nodePort": "i"},
    "ConfigMap": {"kind": "s", "apiVersion": "s", "metadata": "ObjectMeta", "immutable": "b", "data": "m",
                  "binaryData": "m"},
    "Secret": {"kind": "s", "apiVersion": "s", "metadata": "ObjectMeta", "immutable": "b", "data": "m",
               "stringData": "m", "type": "s"},
    "Node": {"kind": "s", "apiVersion": "s", "metadata": "ObjectMeta", "spec": "NodeSpec", "status": "NodeStatus"},
    "NodeSpec": {"podCIDR": "s", "podCIDRs": "[s]", "providerID": "s", "unschedulable": "b", "taints": "[*]",
                 "configSource": "*", "externalID": "s"},
    "NodeStatus": {"conditions": "[Condition]", "addresses": "[*]", "*": "*"},
    "Namespace": {"kind": "s", "apiVersion": "s", "metadata": "ObjectMeta", "spec": "*", "status": "NamespaceStatus"},
    "NamespaceStatus": {"phase": "s", "conditions": "[Condition]"},
    "PodDisruptionBudget": {"kind": "s", "apiVersion": "s", "metadata": "ObjectMeta", "spec": "*",
                            "status": "WorkloadStatus"},
    "Job": {"kind": "s", "apiVersion": "s", "metadata": "ObjectMeta", "spec": "JobSpec", "status": "WorkloadStatus"},
    "JobSpec": {"parallelism": "i", "completions": "i", "activeDeadlineSeconds": "i", "podFailurePolicy": "*",
                "successPolicy": "*", "backoffLimit": "i", "backoffLimitPerIndex": "i", "maxFailedIndexes": "i",
                "selector": "*", "manualSelector": "b", "template": "PodTemplateSpec", "ttlSecondsAfterFinished": "i",
                "completionMode": "s", "suspend": "b", "podReplacementPolicy": "s", "managedBy": "s"},
    "CronJob": {"kind": "s", "apiVersion": "s", "metadata": "ObjectMeta", "spec": "CronJobSpec", "status": "*"},
    "CronJobSpec": {"schedule": "s", "timeZone": "s", "startingDeadlineSeconds": "i", "concurrencyPolicy": "s",
                    "suspend": "b", "jobTemplate": "JobTemplateSpec", "successfulJobsHistoryLimit": "i",
                    "failedJobsHistoryLimit": "i"},
    "JobTemplateSpec": {"metadata": "ObjectMeta", "spec": "JobSpec"},
    "Scale": {"kind": "s", "apiVersion": "s", "metadata": "ObjectMeta", "spec": "ScaleSpec", "status": "ScaleStatus"},
    "ScaleSpec": {"replicas": "i"},
    "ScaleStatus": {"replicas": "i", "selector": "s"},
}
# (struct, field) -> patch strategy of a list field: ("merge", key) merges maps by key, ("merge", "")
# merges primitives as a set; fields not listed are replaced. From the API types' struct tags.
LIST_STRATEGY: dict[tuple[str, str], tuple[str, str]] = {
    ("ObjectMeta", "ownerReferences"): ("merge", "uid"),
    ("ObjectMeta", "finalizers"): ("merge", ""),
    ("PodSpec", "volumes"): ("merge", "name"),
    ("PodSpec", "initContainers"): ("merge", "name"),
    ("PodSpec", "containers"): ("merge", "name"),
    ("PodSpec", "ephemeralContainers"): ("merge", "name"),
    ("PodSpec", "imagePullSecrets"): ("merge", "name"),
    ("PodSpec", "hostAliases"): ("merge", "ip"),
    ("PodSpec", "topologySpreadConstraints"): ("merge", "topologyKey"),
    ("PodSpec", "schedulingGates"): ("merge", "name"),
    ("PodSpec", "resourceClaims"): ("merge", "name"),
    ("Container", "ports"): ("merge", "containerPort"),
    ("Container", "env"): ("merge", "name"),
    ("Container", "volumeMounts"): ("merge", "mountPath"),
    ("Container", "volumeDevices"): ("merge", "devicePath"),
    ("PodStatus", "conditions"): ("merge", "type"),
    ("PodStatus", "podIPs"): ("merge", "ip"),
    ("PodStatus", "hostIPs"): ("merge", "ip"),
    ("WorkloadStatus", "conditions"): ("merge", "type"),
    ("NodeStatus", "conditions"): ("merge", "type"),
    ("NodeStatus", "addresses"): ("merge", "type"),
    ("NodeSpec", "podCIDRs"): ("merge", ""),
    ("NamespaceStatus", "conditions"): ("merge", "type"),
    ("ServiceSpec", "ports"): ("merge", "port"),
}
ANY = "*"


def root_struct(kind: str) -> str:
    """The struct a kind's object is (``ANY`` for kinds not described here)."""
    return kind if kind in STRUCTS else ANY


def field_type(struct: str, field: str) -> str:
    """The type of ``field`` in ``struct`` ("*" when the struct is not described)."""
    if struct == ANY or struct not in STRUCTS:
        return ANY
    fields = STRUCTS[struct]
    return fields.get(field, fields.get("*", ""))  # "" = unknown field


def elem_type(t: str) -> str:
    """The element type of a list or map type expression (``ANY`` otherwise)."""
    return t[1:-1] if t.startswith("[") or t.startswith("{") else ANY


def list_strategy(struct: str, field: str) -> tuple[str, str] | None:
    """(strategy, mergeKey) of a list field, or None when the list is replaced."""
    if struct != ANY and struct in STRUCTS:
        return LIST_STRATEGY.get((struct, field))
    # Not described: fall back on the field name, as most names mean the same list everywhere.
    if field in MERGED_PRIMITIVE_LISTS:
        return ("merge", "")
    if field in MERGE_KEYS:
        return ("merge", MERGE_KEYS[field])
    return None


def go_type(v: Any) -> str:
    """The Go type a decoded JSON value has in an ``interface{}`` (``map``, ``slice``, ``int64`` ...)."""
    if isinstance(v, dict):
        return "map"
    if isinstance(v, list):
        return "slice"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int64"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    return "nil"


# ---------------------------------------------------------------- typed decode


def decode_typed(obj: Any, kind: str, smp_patch: dict[str, Any] | None) -> dict[str, Any]:
    """Drop unknown fields and reject values of the wrong kind, like decoding into the Go struct.

    ``smp_patch`` is the strategic patch as sent: its errors quote it (``patch: Invalid value``).
    """
    if not isinstance(obj, dict):
        raise bad_request("patch did not produce an object")
    try:
        return _decode(obj, root_struct(kind))
    except _ConvertError as e:
        shown = gofmt(smp_patch) if smp_patch is not None else json.dumps(obj, separators=(",", ":"))
        message = f"Invalid value: {_go_quote(shown)}: {e}"
        raise ApiError(422, "Invalid", f' "" is invalid: patch: {message}', {},
                       [Cause("FieldValueInvalid", message, "patch")]) from None


class _ConvertError(Exception):
    pass


_SCALARS = {"s": "string", "i": "int64", "b": "bool", "n": "float64"}


def _decode(value: Any, t: str) -> Any:
    if t == ANY or value is None:
        return value
    if t.startswith("["):
        if not isinstance(value, list):
            raise _ConvertError(f"cannot restore slice from {_go_kind(value)}")
        return [_decode(x, t[1:-1]) for x in value]
    if t == "m" or t.startswith("{"):
        if not isinstance(value, dict):
            raise _ConvertError(f"cannot restore map from {_go_kind(value)}")
        inner = "s" if t == "m" else t[1:-1]
        return {k: _decode(v, inner) for k, v in value.items()}
    if t in STRUCTS:
        if not isinstance(value, dict):
            raise _ConvertError(f"cannot restore struct from: {_go_kind(value)}")
        fields = STRUCTS[t]
        out = {}
        for k, v in value.items():
            ft = fields.get(k, fields.get("*"))
            if ft is None:
                continue  # unknown field: dropped (fieldValidation=Warn)
            decoded = _decode(v, ft)
            if t == "ObjectMeta" and decoded in ([], {}):
                continue  # every list and map of ObjectMeta is omitempty
            out[k] = decoded
        return out
    if t == "q":
        if isinstance(value, (dict, list, bool)):
            raise _ConvertError(f"cannot convert {_go_kind(value)} to string")
        return value
    want = _SCALARS.get(t)
    if want is None:
        return value
    ok = (want == "string" and isinstance(value, str)) or (want == "bool" and isinstance(value, bool)) or \
        (want in ("int64", "float64") and isinstance(value, (int, float)) and not isinstance(value, bool))
    if not ok:
        raise _ConvertError(f"cannot convert {_go_kind(value)} to {want}")
    if want == "int64" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _go_kind(v: Any) -> str:
    kind = go_type(v)
    return "map" if kind == "map" else kind


def gofmt(v: Any) -> str:
    """Go's ``%v`` of a decoded JSON value (maps print with sorted keys)."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{gofmt(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(gofmt(x) for x in v) + "]"
    if isinstance(v, float):
        if math.isfinite(v) and v.is_integer() and abs(v) < 1e21:
            return str(int(v))
        return repr(v).replace("e+", "e+").replace("e-0", "e-0")
    return str(v)


def _go_quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)
