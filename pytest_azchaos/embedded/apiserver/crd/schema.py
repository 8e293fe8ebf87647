"""Custom objects against their CRD's structural OpenAPI v3 schema: pruning, defaulting, validation.

The wording is that of kube-openapi's validator as the apiextensions apiserver converts its errors
(``spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"``): the
field is the path from the object root, the message names the path inside the validated value
(``status.x`` is validated by the status validator, whose messages say ``x``). Array items are
``[i]``. CEL rules (``x-kubernetes-validations``, see ``cel``) run once the schema found no blocking
error; a blocking error (type, required, enum, too long, too many) instead adds upstream's ``<nil>``
notice that the rules were not checked.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import Cause

Obj = dict[str, Any]

RULES_NOT_CHECKED = Cause(
    "FieldValueInvalid", "Invalid value: null: some validation rules were not checked because the object was "
    "invalid; correct the existing errors to complete validation", "<nil>")
_BLOCKING = {"FieldValueTypeInvalid", "FieldValueRequired", "FieldValueNotSupported", "FieldValueTooLong",
             "FieldValueTooMany"}
_ROOT_META = ("apiVersion", "kind", "metadata")


# ------------------------------------------------------------------------------------------ pruning

def prune(obj: Obj, schema: Obj | None) -> list[str]:
    """Drop fields the schema does not declare (in place); returns their paths, sorted.

    ``apiVersion``, ``kind`` and ``metadata`` are kept at the root and under
    ``x-kubernetes-embedded-resource``; ``x-kubernetes-preserve-unknown-fields`` keeps everything
    below it that the schema does not describe.
    """
    if schema is None:
        return []
    dropped: list[str] = []
    _prune(obj, schema, "", dropped, root=True)
    return sorted(dropped)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _prune(value: Any, schema: Obj, path: str, dropped: list[str], root: bool = False) -> None:
    if isinstance(value, dict):
        props = schema.get("properties")
        additional = schema.get("additionalProperties")
        preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        keep_meta = root or bool(schema.get("x-kubernetes-embedded-resource"))
        for key in list(value):
            if keep_meta and key in _ROOT_META:
                continue
            if props is not None and key in props:
                _prune(value[key], props[key], _join(path, key), dropped)
            elif isinstance(additional, dict):
                _prune(value[key], additional, _join(path, key), dropped)
            elif additional is True or preserve or (
                    props is None and additional is None and not schema.get("type") and _in_combinator(schema)):
                continue
            else:
                dropped.append(_join(path, key))
                del value[key]
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                _prune(item, items, f"{path}[{i}]", dropped)


def _in_combinator(schema: Obj) -> bool:
    return any(k in schema for k in ("anyOf", "allOf", "oneOf"))


# ---------------------------------------------------------------------------------------- defaulting

def apply_defaults(value: Any, schema: Obj | None) -> None:
    """Set ``default`` on absent fields (and on nulls of non-nullable fields) where the parent exists."""
    if schema is None:
        return
    if isinstance(value, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if "default" in sub and (key not in value or (value[key] is None and not sub.get("nullable"))):
                value[key] = json.loads(json.dumps(sub["default"]))
            if key in value:
                apply_defaults(value[key], sub)
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            props = schema.get("properties") or {}
            for key, item in value.items():
                if key not in props:
                    apply_defaults(item, additional)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for item in value:
                apply_defaults(item, items)


# ---------------------------------------------------------------------------------------- validation

def go_value(value: Any) -> str:
    """A bad value as ``field.Error`` prints it: strings quoted, numbers bare, the rest as JSON."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_ok(value: Any, want: str) -> bool:
    got = json_type(value)
    return got == want or (want == "number" and got == "integer")


class _Validator:
    def __init__(self, field_prefix: str):
        self.field_prefix = field_prefix
        self.causes: list[Cause] = []

    def field(self, path: str) -> str:
        if self.field_prefix and path:
            return f"{self.field_prefix}.{path}" if not path.startswith("[") else self.field_prefix + path
        return self.field_prefix or path

    def add(self, reason: str, message: str, path: str) -> None:
        self.causes.append(Cause(reason, message, self.field(path)))

    def invalid(self, path: str, value: Any, detail: str) -> None:
        self.add("FieldValueInvalid", f"Invalid value: {go_value(value)}: {detail}", path)

    def validate(self, value: Any, schema: Obj, path: str) -> None:
        name = path or "body"  # kube-openapi names the root "body"... but only roots carry no path
        if value is None:
            if schema.get("nullable"):
                return
            if schema.get("type"):
                self.add("FieldValueTypeInvalid",
                         f'Invalid value: "null": {name} in body must be of type {schema["type"]}: "null"', path)
            return
        if schema.get("x-kubernetes-int-or-string"):
            if json_type(value) not in ("integer", "string"):
                self.add("FieldValueTypeInvalid", f'Invalid value: "{json_type(value)}": {name} in body must be '
                         f'of type integer or string: "{json_type(value)}"', path)
                return
        elif schema.get("type") and not _type_ok(value, schema["type"]):
            got = json_type(value)
            self.add("FieldValueTypeInvalid",
                     f'Invalid value: "{got}": {name} in body must be of type {schema["type"]}: "{got}"', path)
            return
        if "enum" in schema and value not in schema["enum"]:
            listed = ", ".join(go_value(v) for v in schema["enum"])
            self.add("FieldValueNotSupported", f"Unsupported value: {go_value(value)}: supported values: {listed}",
                     path)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self._number(value, schema, path, name)
        elif isinstance(value, str):
            self._string(value, schema, path, name)
        elif isinstance(value, list):
            self._array(value, schema, path, name)
        elif isinstance(value, dict):
            self._object(value, schema, path, name)
        for sub in schema.get("allOf") or []:
            self.validate(value, sub, path)
        if schema.get("anyOf") and not any(_valid(value, s) for s in schema["anyOf"]):
            self.invalid(path, value, f"{name} in body must be of type {_any_types(schema['anyOf'])}")

    def _number(self, value: float, schema: Obj, path: str, name: str) -> None:
        if "maximum" in schema:
            top = schema["maximum"]
            if schema.get("exclusiveMaximum") and value >= top:
                self.invalid(path, value, f"{name} in body should be less than {_number(top)}")
            elif value > top:
                self.invalid(path, value, f"{name} in body should be less than or equal to {_number(top)}")
        if "minimum" in schema:
            low = schema["minimum"]
            if schema.get("exclusiveMinimum") and value <= low:
                self.invalid(path, value, f"{name} in body should be greater than {_number(low)}")
            elif value < low:
                self.invalid(path, value, f"{name} in body should be greater than or equal to {_number(low)}")
        step = schema.get("multipleOf")
        if step and (value / step) != int(value / step):
            self.invalid(path, value, f"{name} in body should be a multiple of {_number(step)}")

    def _string(self, value: str, schema: Obj, path: str, name: str) -> None:
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            self.add("FieldValueTooLong", f"Too long: may not be more than {schema['maxLength']} bytes", path)
        if "minLength" in schema and len(value) < schema["minLength"]:
            self.invalid(path, value, f"{name} in body should be at least {schema['minLength']} chars long")
        pattern = schema.get("pattern")
        if pattern:
            try:
                matched = re.search(pattern, value) is not None
            except re.error:
                matched = True
            if not matched:
                self.invalid(path, value, f"{name} in body should match '{pattern}'")

    def _array(self, value: list[Any], schema: Obj, path: str, name: str) -> None:
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            self.add("FieldValueTooMany", f"Too many: {len(value)}: must have at most {schema['maxItems']} items",
                     path)
        if "minItems" in schema and len(value) < schema["minItems"]:
            self.invalid(path, value, f"{name} in body should have at least {schema['minItems']} items")
        if schema.get("uniqueItems") or schema.get("x-kubernetes-list-type") == "set":
            seen: list[Any] = []
            for i, item in enumerate(value):
                if item in seen:
                    self.add("FieldValueDuplicate", f"Duplicate value: {go_value(item)}", f"{path}[{i}]")
                seen.append(item)
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                self.validate(item, items, f"{path}[{i}]")

    def _object(self, value: Obj, schema: Obj, path: str, name: str) -> None:
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            self.add("FieldValueTooMany",
                     f"Too many: {len(value)}: must have at most {schema['maxProperties']} items", path)
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            self.invalid(path, value, f"{name} in body should have at least {schema['minProperties']} properties")
        for key in schema.get("required") or []:
            if key not in value:
                self.add("FieldValueRequired", "Required value", _join(path, key))
        props = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        for key in sorted(value):
            if key in props:
                self.validate(value[key], props[key], _join(path, key))
            elif isinstance(additional, dict):
                self.validate(value[key], additional, _join(path, key))


def _valid(value: Any, schema: Obj) -> bool:
    v = _Validator("")
    v.validate(value, schema, "x")
    return not v.causes


def _any_types(schemas: list[Obj]) -> str:
    return "/".join(s.get("type", "") for s in schemas if s.get("type"))


def validate(obj: Obj, schema: Obj | None, has_rules: bool, old: Obj | None = None) -> list[Cause]:
    """Causes of ``obj`` against the whole schema (the main resource's validator), then its CEL rules."""
    if schema is None:
        return []
    v = _Validator("")
    body = {k: val for k, val in obj.items() if k not in _ROOT_META}
    root = {**schema, "properties": {k: s for k, s in (schema.get("properties") or {}).items()
                                     if k not in _ROOT_META}}
    v.validate(body, root, "")
    return _with_rules(v, body, root, has_rules, _strip(old))


def validate_status(obj: Obj, status_schema: Obj | None, has_rules: bool, old: Obj | None = None) -> list[Cause]:
    """Causes of ``obj``'s status against the status schema (the status subresource's validator)."""
    if status_schema is None or "status" not in obj:
        return []
    v = _Validator("status")
    v.validate(obj["status"], status_schema, "")
    return _with_rules(v, obj["status"], status_schema, has_rules, (old or {}).get("status", _NO_OLD))


_NO_OLD = object()


def _strip(old: Obj | None) -> Any:
    return _NO_OLD if old is None else {k: val for k, val in old.items() if k not in _ROOT_META}


def _with_rules(v: _Validator, value: Any, schema: Obj, has_rules: bool, old: Any) -> list[Cause]:
    """Upstream's order: schema errors; a blocking one means the rules are not run (and says so)."""
    if not has_rules:
        return v.causes
    if any(c.reason in _BLOCKING for c in v.causes):
        return [*v.causes, RULES_NOT_CHECKED]
    _rules(v, value, schema, "", old)
    return v.causes


_RULE_REASONS = {"FieldValueForbidden": "Forbidden", "FieldValueRequired": "Required value",
                 "FieldValueDuplicate": "Duplicate value"}


def _rules(v: _Validator, value: Any, schema: Obj, path: str, old: Any) -> None:
    """``x-kubernetes-validations`` of this node, then of its children (rules it cannot evaluate are skipped)."""
    from .cel import Unsupported, evaluate

    for rule in schema.get("x-kubernetes-validations") or []:
        text = rule.get("rule", "")
        transition = "oldSelf" in text
        if transition and old is _NO_OLD:
            continue
        try:
            ok = evaluate(text, value, old) if transition else evaluate(text, value)
        except (Unsupported, RecursionError):
            continue
        if not ok:
            message = rule.get("message") or f"failed rule: {text}"
            reason = rule.get("reason") or "FieldValueInvalid"
            where = path + (rule.get("fieldPath") or "")
            v.add(reason, f"{_RULE_REASONS.get(reason, 'Invalid value')}: {message}", where.lstrip("."))
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        for key in sorted(value):
            sub = props.get(key) if key in props else additional if isinstance(additional, dict) else None
            if sub is not None:
                before = old.get(key, _NO_OLD) if isinstance(old, dict) else _NO_OLD
                _rules(v, value[key], sub, _join(path, key), before)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _rules(v, item, schema["items"], f"{path}[{i}]", _NO_OLD)
