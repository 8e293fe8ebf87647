"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.

Strategic merge follows ``k8s.io/apimachinery/pkg/util/strategicpatch`` for the list merge
keys of the built-in types (containers by name, ports by containerPort, tolerations
replaced, ...), including ``$patch``, ``$setElementOrder`` and ``$deleteFromPrimitiveList``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .errors import ApiError, bad_request, unsupported_media_type

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"

# Field name -> merge key for lists merged by key (from the Go struct tags of core/apps types).
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
    "taints": "key",
}
# Lists of primitives merged as sets.
MERGED_PRIMITIVE_LISTS = {"finalizers"}
# Service ports merge on port (with protocol); container ports on containerPort.
_SERVICE_PORTS_KEY = "port"

_INVALID_JSON_PATCH = "the server rejected our request due to an error in our request"


def apply_patch(content_type: str, current: dict[str, Any], body: bytes, kind: str) -> dict[str, Any]:
    """Return the patched copy of ``current``."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == JSON_PATCH:
        return json_patch(current, _load(body, ctype))
    if ctype == MERGE:
        patch = _load(body, ctype)
        if not isinstance(patch, dict):
            raise bad_request("json: cannot unmarshal into Go value of type map[string]interface {}")
        return merge_patch(current, patch)
    if ctype == STRATEGIC:
        patch = _load(body, ctype)
        if not isinstance(patch, dict):
            raise bad_request("json: cannot unmarshal into Go value of type map[string]interface {}")
        return strategic_merge(current, patch, kind)
    if ctype == APPLY:
        return server_side_apply(current, body, kind)
    raise unsupported_media_type("415: Unsupported Media Type")


def _load(body: bytes, ctype: str) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError as e:
        raise bad_request(f"error decoding patch: {e}") from None


# ---------------------------------------------------------------- RFC 7386


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# ---------------------------------------------------------------- RFC 6902


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "Invalid", _INVALID_JSON_PATCH, {})
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> tuple[Any, str]:
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise ApiError(422, "Invalid", _INVALID_JSON_PATCH, {})
    return cur, parts[-1]


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent, last = _walk(doc, parts)
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise ApiError(422, "Invalid", _INVALID_JSON_PATCH, {})


def _add(doc: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _walk(doc, parts)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise ApiError(422, "Invalid", _INVALID_JSON_PATCH, {})
    else:
        raise ApiError(422, "Invalid", _INVALID_JSON_PATCH, {})
    return doc


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    parent, last = _walk(doc, parts)
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]
    else:
        raise ApiError(422, "Invalid", _INVALID_JSON_PATCH, {})
    return doc


def json_patch(current: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(current)
    for op in ops:
        if not isinstance(op, dict):
            raise ApiError(422, "Invalid", _INVALID_JSON_PATCH, {})
        kind, path = op.get("op"), op.get("path", "")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            doc = _remove(doc, path) if _pointer(path) else doc
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "move":
            value = _get(doc, op.get("from", ""))
            doc = _remove(doc, op.get("from", ""))
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op.get("from", ""))))
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise ApiError(422, "Invalid", _INVALID_JSON_PATCH, {})
        else:
            raise ApiError(422, "Invalid", _INVALID_JSON_PATCH, {})
    return doc


# ---------------------------------------------------------------- strategic merge


def _merge_key(field: str, parent_path: tuple[str, ...], kind: str) -> str | None:
    if field == "ports" and parent_path and parent_path[-1] == "spec" and kind == "Service":
        return _SERVICE_PORTS_KEY
    if field == "ports" and kind == "EndpointSlice":
        return None
    return MERGE_KEYS.get(field)


def strategic_merge(current: dict[str, Any], patch: dict[str, Any], kind: str) -> dict[str, Any]:
    return _smp_map(copy.deepcopy(current), patch, (), kind)


def _smp_map(original: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...], kind: str) -> dict[str, Any]:
    if patch.get("$patch") == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return {}
    out = original
    orders: dict[str, list[Any]] = {}
    for k, v in patch.items():
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(out.get(field), list):
                out[field] = [x for x in out[field] if x not in (v or [])]
            continue
        if k.startswith("$retainKeys") or k == "$patch":
            continue
        if v is None:
            out.pop(k, None)
            continue
        cur = out.get(k)
        if isinstance(v, dict) and isinstance(cur, dict):
            out[k] = _smp_map(cur, v, (*path, k), kind)
        elif isinstance(v, dict):
            out[k] = _smp_map({}, v, (*path, k), kind)
        elif isinstance(v, list):
            out[k] = _smp_list(cur if isinstance(cur, list) else [], v, k, path, kind)
        else:
            out[k] = copy.deepcopy(v)
    for field, order in orders.items():
        if isinstance(out.get(field), list):
            out[field] = _apply_order(out[field], order, _merge_key(field, path, kind))
    if "$retainKeys" in patch:
        keep = set(patch["$retainKeys"] or [])
        out = {k: v for k, v in out.items() if k in keep}
    return out


def _smp_list(original: list[Any], patch: list[Any], field: str, path: tuple[str, ...], kind: str) -> list[Any]:
    key = _merge_key(field, path, kind)
    if field in MERGED_PRIMITIVE_LISTS:
        result = list(original)
        for item in patch:
            if item not in result:
                result.append(item)
        return result
    if key is None or not all(isinstance(x, dict) for x in patch):
        return [x for x in copy.deepcopy(patch) if not (isinstance(x, dict) and x.get("$patch") == "delete")]
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [x for x in copy.deepcopy(patch) if x.get("$patch") != "replace"]
    result = list(original)
    new_items: list[Any] = []
    for item in patch:
        if item.get("$patch") == "delete":
            result = [x for x in result if not (isinstance(x, dict) and x.get(key) == item.get(key))]
            continue
        for i, existing in enumerate(result):
            if isinstance(existing, dict) and existing.get(key) == item.get(key):
                result[i] = _smp_map(existing, item, (*path, field), kind)
                break
        else:
            new_items.append(_smp_map({}, item, (*path, field), kind))
    # Upstream puts new items first when no $setElementOrder is given.
    return new_items + result


def _apply_order(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    if key is None:
        return items
    wanted = [o.get(key) if isinstance(o, dict) else o for o in order]
    by_key = {x.get(key): x for x in items if isinstance(x, dict)}
    ordered = [by_key[k] for k in wanted if k in by_key]
    rest = [x for x in items if not isinstance(x, dict) or x.get(key) not in wanted]
    return ordered + rest


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
