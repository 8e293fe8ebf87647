"""Strategic merge patch, as ``k8s.io/apimachinery/pkg/util/strategicpatch`` merges into the built-in types.

Lists are merged by the ``patchMergeKey`` of the Go struct field they belong to (containers by
name, container ports by containerPort, service ports by port, conditions by type ...), lists
without a patch strategy (tolerations, taints) are replaced, primitive lists with
``patchStrategy:"merge"`` (finalizers) are merged as sets; ``$patch``, ``$retainKeys``,
``$setElementOrder`` and ``$deleteFromPrimitiveList`` are honoured, and the element order is the
upstream one (patch items that the server does not know come first). The field types come from
:mod:`.patch_schema`.
"""

from __future__ import annotations

from typing import Any

from ..objects import deep_copy
from .errors import ApiError, bad_request
from .patch_schema import ANY, STRUCTS, elem_type, field_type, go_type, gofmt, list_strategy, root_struct


def strategic_merge(current: dict[str, Any], patch: dict[str, Any], kind: str) -> dict[str, Any]:
    """``StrategicMergeMapPatch`` with the apiserver's options (parallel lists merged, unmatched nulls ignored)."""
    return _smp_map(deep_copy(current), deep_copy(patch), root_struct(kind))


def _internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]})


def _smp_map(original: dict[str, Any] | None, patch: dict[str, Any], struct: str) -> dict[str, Any]:
    if "$patch" in patch:
        directive = patch["$patch"]
        if directive == "replace":
            return _clean({k: v for k, v in patch.items() if k != "$patch"})
        if directive == "delete":
            return {}
        raise _internal(f"unknown patch type: {gofmt(directive)} in map: {gofmt(patch)}")
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
        if go_type(cur) != go_type(v):
            original[k] = _clean(v)
            continue
        ftype = field_type(struct, k)
        if isinstance(cur, dict):
            original[k] = _smp_map(cur, v, ftype if ftype not in ("", "m") and not ftype.startswith("{") else ANY)
        elif isinstance(cur, list):
            strategy = list_strategy(struct, k)
            if strategy is None:
                original[k] = _clean(v)
            else:
                original[k] = _merge_slice(cur, v, elem_type(ftype) if ftype else ANY, strategy[1], delete_list)
        else:
            original[k] = v
    return original


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
        strategy = list_strategy(struct, field) or ("replace", "")
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
            ftype = field_type(struct, field)
            merged = _merge_slice(orig_list, patch_list, elem_type(ftype) if ftype else ANY, merge_key, False)
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
    kinds = {go_type(x) for x in original + patch}
    if "slice" in kinds:
        raise ApiError(422, "Invalid", "lists of lists are not supported", {})
    if len(kinds) > 1:
        raise _internal(f"list element types are not identical: {gofmt([original, patch])}")
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
                raise _internal(f"map: {gofmt(item)} does not contain declared merge key: {merge_key}")
            server = [x for x in server if not (isinstance(x, dict) and x.get(merge_key) == item[merge_key])]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise _internal("merging lists cannot yet be specified in the patch")
        else:
            raise _internal(f"unknown patch type: {gofmt(directive)} in map: {gofmt(item)}")
    if replace:
        server, items = [_clean(x) for x in items], []
    order_of_server = list(server)
    merged = list(server)
    for item in items:
        if merge_key not in item:
            raise _internal(f"map: {gofmt(item)} does not contain declared merge key: {merge_key}")
        i = _find(merged, merge_key, item)
        if i >= 0:
            merged[i] = _smp_map(merged[i], item, elem if elem in STRUCTS else ANY)
        else:
            merged.append(_smp_map({}, item, elem if elem in STRUCTS else ANY))
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
