"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge patch, apply.

Strategic merge follows ``k8s.io/apimachinery/pkg/util/strategicpatch``: lists are merged by the
``patchMergeKey`` of the Go struct field they belong to (containers by name, container ports by
containerPort, service ports by port, conditions by type ...), lists without a patch strategy
(tolerations, taints) are replaced, primitive lists with ``patchStrategy:"merge"`` (finalizers) are
merged as sets; ``$patch``, ``$retainKeys``, ``$setElementOrder`` and ``$deleteFromPrimitiveList``
are honoured, and the element order is the upstream one (patch items that the server does not know
come first). After patching, the result is "decoded" like the apiserver decodes into the typed
object: unknown fields are dropped (the default ``fieldValidation=Warn``) and a value of the wrong
kind is a 422 with the converter's message.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..objects import deep_copy
from .errors import ApiError, Cause, bad_request, unsupported_media_type

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE, STRATEGIC, APPLY)

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

_INVALID_JSON_PATCH = "the server rejected our request due to an error in our request"

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
_ANY = "*"


def _root(kind: str) -> str:
    return kind if kind in STRUCTS else _ANY


def _field_type(struct: str, field: str) -> str:
    """The type of ``field`` in ``struct`` ("*" when the struct is not described)."""
    if struct == _ANY or struct not in STRUCTS:
        return _ANY
    fields = STRUCTS[struct]
    return fields.get(field, fields.get("*", ""))  # "" = unknown field


def _elem(t: str) -> str:
    return t[1:-1] if t.startswith("[") or t.startswith("{") else _ANY


def _list_strategy(struct: str, field: str) -> tuple[str, str] | None:
    """(strategy, mergeKey) of a list field, or None when the list is replaced."""
    if struct != _ANY and struct in STRUCTS:
        return LIST_STRATEGY.get((struct, field))
    # Not described: fall back on the field name, as most names mean the same list everywhere.
    if field in MERGED_PRIMITIVE_LISTS:
        return ("merge", "")
    if field in MERGE_KEYS:
        return ("merge", MERGE_KEYS[field])
    return None


# ---------------------------------------------------------------- entry point


def apply_patch(content_type: str, current: dict[str, Any], body: bytes, kind: str) -> dict[str, Any]:
    """Return the patched copy of ``current`` as the apiserver would store it (before validation)."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == JSON_PATCH:
        ops = _load(body, "[]handlers.jsonPatchOp", list)
        return decode_typed(json_patch(current, ops), kind, None)
    if ctype == MERGE:
        patch = _load(body, "map[string]interface {}", dict)
        return decode_typed(merge_patch(current, patch), kind, None)
    if ctype == STRATEGIC:
        patch = _load(body, "map[string]interface {}", dict, prefix="")
        return decode_typed(strategic_merge(current, patch, kind), kind, patch)
    if ctype == APPLY:
        return decode_typed(server_side_apply(current, body, kind), kind, None)
    raise unsupported_media_type("415: Unsupported Media Type")


_GO_KINDS = {dict: "object", list: "array", str: "string", bool: "bool", int: "number", float: "number"}


def _load(body: bytes, go_type: str, want: type, prefix: str = "error decoding patch: ") -> Any:
    """Decode the patch body like ``json.Unmarshal`` into ``go_type`` (errors are 400s)."""
    try:
        value = json.loads(body or b"")
    except ValueError as e:
        raise bad_request(prefix + _go_json_error(body, e)) from None
    if not isinstance(value, want):
        if value is None:
            return want()
        got = _GO_KINDS.get(type(value), "value")
        raise bad_request(f"{prefix}json: cannot unmarshal {got} into Go value of type {go_type}")
    return value


def _go_json_error(body: bytes, err: ValueError) -> str:
    text = body.decode(errors="replace").strip()
    if not text:
        return "unexpected end of JSON input"
    pos = getattr(err, "pos", 0) or 0
    raw = body.decode(errors="replace")
    if pos >= len(raw):
        return "unexpected end of JSON input"
    ch = raw[pos]
    where = "looking for beginning of value" if pos == len(raw) - len(raw.lstrip()) else "after top-level value" \
        if "Extra data" in str(err) else "looking for beginning of object key string" if ch != '"' else \
        "in string literal"
    return f"invalid character '{ch}' {where}"


# ---------------------------------------------------------------- RFC 7386


def merge_patch(target: Any, patch: Any) -> Any:
    """JSON merge patch: maps merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return deep_copy(patch)
    out = deep_copy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# ---------------------------------------------------------------- RFC 6902


def _failed() -> ApiError:
    # Upstream answers every failure to apply a JSON patch with this generic 422.
    return ApiError(422, "Invalid", _INVALID_JSON_PATCH, {})


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str):
        raise _failed()
    if path == "":
        return []
    if not path.startswith("/"):
        raise _failed()
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list[Any], token: str, allow_end: bool = False) -> int:
    if token.isdigit() and (token == "0" or not token.startswith("0")):
        i = int(token)
        if i < len(container) or (allow_end and i == len(container)):
            return i
    raise _failed()


def _walk(doc: Any, parts: list[str]) -> tuple[Any, str]:
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list):
            cur = cur[_index(cur, p)]
        else:
            raise _failed()
    return cur, parts[-1]


def _get(doc: Any, path: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent, last = _walk(doc, parts)
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last)]
    raise _failed()


def _add(doc: Any, path: Any, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _walk(doc, parts)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            parent.insert(_index(parent, last, allow_end=True), value)
    else:
        raise _failed()
    return doc


def _remove(doc: Any, path: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        raise _failed()
    parent, last = _walk(doc, parts)
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(parent, last)]
    else:
        raise _failed()
    return doc


def _replace(doc: Any, path: Any, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _walk(doc, parts)
    if isinstance(parent, dict) and last in parent:
        parent[last] = value
    elif isinstance(parent, list):
        parent[_index(parent, last)] = value
    else:
        raise _failed()
    return doc


def json_patch(current: Any, ops: list[Any]) -> Any:
    """Apply RFC 6902 operations in order; any failure (a failed ``test`` too) changes nothing."""
    if len(ops) > 10000:
        raise ApiError(413, "RequestEntityTooLarge",
                       f"Request entity too large: The allowed maximum operations in a JSON patch is 10000, got "
                       f"{len(ops)}", {})
    doc = deep_copy(current)
    for op in ops:
        if not isinstance(op, dict):
            raise _failed()
        kind, path = op.get("op"), op.get("path")
        if kind == "add":
            if "value" not in op:
                raise _failed()
            doc = _add(doc, path, deep_copy(op["value"]))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            if "value" not in op:
                raise _failed()
            doc = _replace(doc, path, deep_copy(op["value"]))
        elif kind == "move":
            value = _get(doc, op.get("from"))
            doc = _remove(doc, op.get("from"))
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, deep_copy(_get(doc, op.get("from"))))
        elif kind == "test":
            if not _json_equal(_get(doc, path), op.get("value")):
                raise _failed()
        else:
            raise _failed()
    return doc


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b if isinstance(a, bool) and isinstance(b, bool) else False
    return bool(a == b)


# ---------------------------------------------------------------- strategic merge


def strategic_merge(current: dict[str, Any], patch: dict[str, Any], kind: str) -> dict[str, Any]:
    """``StrategicMergeMapPatch`` with the apiserver's options (parallel lists merged, unmatched nulls ignored)."""
    return _smp_map(deep_copy(current), deep_copy(patch), _root(kind))


def _internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]})


def _smp_map(original: dict[str, Any] | None, patch: dict[str, Any], struct: str) -> dict[str, Any]:
    if "$patch" in patch:
        directive = patch["$patch"]
        if directive == "replace":
            return _clean({k: v for k, v in patch.items() if k != "$patch"})
        if directive == "delete":
            return {}
        raise _internal(f"unknown patch type: {_gofmt(directive)} in map: {_gofmt(patch)}")
    if original is None:
        original = {}
    _retain_keys(original, patch)
    _set_element_orders(original, patch, struct)
    for k, v in list(patch.items()):
        delete_list = False
        if k.startswith("$deleteFromPrimitiveList/"):
            k = k.split("/", 1)[1]
            delete_list = True
        if v is None:
            original.pop(k, None)
            continue
        if k not in original:
            original[k] = _clean(v)
            continue
        cur = original[k]
        if _go_type(cur) != _go_type(v):
            original[k] = _clean(v)
            continue
        ftype = _field_type(struct, k)
        if isinstance(cur, dict):
            original[k] = _smp_map(cur, v, ftype if ftype not in ("", "m") and not ftype.startswith("{") else _ANY)
        elif isinstance(cur, list):
            strategy = _list_strategy(struct, k)
            if strategy is None:
                original[k] = _clean(v)
            else:
                original[k] = _merge_slice(cur, v, _elem(ftype) if ftype else _ANY, strategy[1], delete_list)
        else:
            original[k] = v
    return original


def _go_type(v: Any) -> str:
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


def _clean(v: Any) -> Any:
    """Drop directives and nulls from a value taken as is (the typed decode ignores them)."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items() if x is not None and not k.startswith("$")}
    if isinstance(v, list):
        return [_clean(x) for x in v if not (isinstance(x, dict) and "$patch" in x)]
    return v


def _retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    if "$retainKeys" not in patch:
        return
    keep = patch.pop("$retainKeys")
    if not isinstance(keep, list):
        raise bad_request("invalid patch format of retainKeys")
    for k, v in patch.items():
        if v is None or k.startswith("$deleteFromPrimitiveList/") or k.startswith("$setElementOrder/"):
            continue
        if k not in keep:
            raise bad_request("invalid patch format of retainKeys")
    for k in list(original):
        if k not in keep:
            del original[k]


def _set_element_orders(original: dict[str, Any], patch: dict[str, Any], struct: str) -> None:
    for key in [k for k in patch if k.startswith("$setElementOrder/")]:
        order = patch.pop(key)
        if not isinstance(order, list):
            raise bad_request("invalid patch format of setElementOrder list")
        field = key.split("/", 1)[1]
        strategy = _list_strategy(struct, field) or ("replace", "")
        merge_key = strategy[1]
        found_orig, found_patch = field in original, field in patch
        orig_list = original.get(field) if isinstance(original.get(field), list) else []
        patch_list = patch.get(field) if isinstance(patch.get(field), list) else []
        if not found_orig and not found_patch:
            continue
        if found_orig and not found_patch:
            merged = orig_list
        elif not found_orig:
            merged = _clean(patch_list)
        elif strategy[0] == "merge":
            ftype = _field_type(struct, field)
            merged = _merge_slice(orig_list, patch_list, _elem(ftype) if ftype else _ANY, merge_key, False)
        else:
            merged = _clean(patch_list)
        if merge_key:
            in_patch = [x for x in merged if _find(order, merge_key, x) >= 0]
            server_only = [x for x in merged if _find(order, merge_key, x) < 0]
        else:
            in_patch = [x for x in merged if x in order]
            server_only = [x for x in merged if x not in order]
        original[field] = _normalize_order(in_patch, server_only, order, orig_list, merge_key)
        patch.pop(field, None)


def _find(items: list[Any], merge_key: str, item: Any) -> int:
    """Index of ``item`` in ``items`` by merge key (by value for primitives), or -1."""
    for i, x in enumerate(items):
        if merge_key:
            if isinstance(x, dict) and isinstance(item, dict) and merge_key in x and x.get(merge_key) == \
                    item.get(merge_key):
                return i
        elif x == item and type(x) is type(item):
            return i
    return -1


def _merge_slice(original: list[Any], patch: list[Any], elem: str, merge_key: str, delete_list: bool) -> list[Any]:
    if not original and not patch:
        return original
    kinds = {_go_type(x) for x in original + patch}
    if "slice" in kinds:
        raise ApiError(422, "Invalid", "lists of lists are not supported", {})
    if len(kinds) > 1:
        raise _internal(f"list element types are not identical: {_gofmt([original, patch])}")
    if kinds != {"map"}:
        if delete_list:
            return [x for x in original if x not in patch]
        merged = _dedupe(list(original) + list(patch))
        in_patch = [x for x in merged if x in patch]
        server_only = [x for x in merged if x not in patch]
        return _normalize_order(in_patch, server_only, patch, original, "")
    if not merge_key:
        raise _internal("cannot merge lists without merge key for type map")
    server = list(original)
    items: list[Any] = []
    replace = False
    for item in patch:
        directive = item.get("$patch")
        if directive is None:
            items.append(item)
        elif directive == "delete":
            if merge_key not in item:
                raise _internal(f"map: {_gofmt(item)} does not contain declared merge key: {merge_key}")
            server = [x for x in server if not (isinstance(x, dict) and x.get(merge_key) == item[merge_key])]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise _internal("merging lists cannot yet be specified in the patch")
        else:
            raise _internal(f"unknown patch type: {_gofmt(directive)} in map: {_gofmt(item)}")
    if replace:
        server, items = [_clean(x) for x in items], []
    order_of_server = list(server)
    merged = list(server)
    for item in items:
        if merge_key not in item:
            raise _internal(f"map: {_gofmt(item)} does not contain declared merge key: {merge_key}")
        i = _find(merged, merge_key, item)
        if i >= 0:
            merged[i] = _smp_map(merged[i], item, elem if elem in STRUCTS else _ANY)
        else:
            merged.append(_smp_map({}, item, elem if elem in STRUCTS else _ANY))
    in_patch = [x for x in merged if _find(items, merge_key, x) >= 0]
    server_only = [x for x in merged if _find(items, merge_key, x) < 0]
    return _normalize_order(in_patch, server_only, items, order_of_server, merge_key)


def _dedupe(s: list[Any]) -> list[Any]:
    """``deduplicateScalars``: the duplicate's slot takes the last element (order as upstream)."""
    length = len(s) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if s[i] == s[j] and type(s[i]) is type(s[j]):
                s[j] = s[length]
                s = s[:length]
                length -= 1
                j -= 1
            j += 1
        i += 1
    return s


def _normalize_order(patch_items: list[Any], server_only: list[Any], patch_order: list[Any],
                     server_order: list[Any], merge_key: str) -> list[Any]:
    """``normalizeElementOrder``: sort each side by its order, then merge by the server order."""
    left = _sort_by(patch_items, patch_order, merge_key)
    right = _sort_by(server_only, server_order, merge_key)
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li, ri = _find(server_order, merge_key, left[i]), _find(server_order, merge_key, right[j])
            if li >= 0 and ri >= 0 and ri < li:
                out.append(right[j])
                j += 1
            else:
                out.append(left[i])
                i += 1
    return out


def _sort_by(items: list[Any], order: list[Any], merge_key: str) -> list[Any]:
    """``normalizeSliceOrder``: Go's stable insertion sort with upstream's (non-strict) less."""
    data = [x for x in items if not (merge_key and isinstance(x, dict) and x.get("$patch") == "delete")]
    deleted = [x for x in items if x not in data]

    def less(a: Any, b: Any) -> bool:
        ia = _find(order, merge_key, a)
        if ia >= 0:
            ib = _find(order, merge_key, b)
            if ib >= 0:
                return ia < ib
        return True

    for i in range(1, len(data)):
        j = i
        while j > 0 and less(data[j], data[j - 1]):
            data[j], data[j - 1] = data[j - 1], data[j]
            j -= 1
    return data + deleted


# ---------------------------------------------------------------- typed decode


def decode_typed(obj: Any, kind: str, smp_patch: dict[str, Any] | None) -> dict[str, Any]:
    """Drop unknown fields and reject values of the wrong kind, like decoding into the Go struct.

    ``smp_patch`` is the strategic patch as sent: its errors quote it (``patch: Invalid value``).
    """
    if not isinstance(obj, dict):
        raise bad_request("patch did not produce an object")
    try:
        return _decode(obj, _root(kind))
    except _ConvertError as e:
        shown = _gofmt(smp_patch) if smp_patch is not None else json.dumps(obj, separators=(",", ":"))
        message = f"Invalid value: {_go_quote(shown)}: {e}"
        raise ApiError(422, "Invalid", f' "" is invalid: patch: {message}', {},
                       [Cause("FieldValueInvalid", message, "patch")]) from None


class _ConvertError(Exception):
    pass


_SCALARS = {"s": "string", "i": "int64", "b": "bool", "n": "float64"}


def _decode(value: Any, t: str) -> Any:
    if t == _ANY or value is None:
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
    kind = _go_type(v)
    return "map" if kind == "map" else kind


def _gofmt(v: Any) -> str:
    """Go's ``%v`` of a decoded JSON value (maps print with sorted keys)."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{_gofmt(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(_gofmt(x) for x in v) + "]"
    if isinstance(v, float):
        if math.isfinite(v) and v.is_integer() and abs(v) < 1e21:
            return str(int(v))
        return repr(v).replace("e+", "e+").replace("e-0", "e-0")
    return str(v)


def _go_quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


# ---------------------------------------------------------------- server-side apply (simplified)


def server_side_apply(current: dict[str, Any], body: bytes, kind: str) -> dict[str, Any]:
    """Apply as a strategic merge of the applied configuration (no field-manager conflicts)."""
    try:
        applied = json.loads(body)
    except ValueError:
        try:
            import yaml  # type: ignore[import-untyped]

            applied = yaml.safe_load(body)
        except Exception as e:
            raise bad_request(f"error decoding YAML: {e}") from None
    if not isinstance(applied, dict):
        raise bad_request("error decoding YAML: not an object")
    return strategic_merge(current, applied, kind)
