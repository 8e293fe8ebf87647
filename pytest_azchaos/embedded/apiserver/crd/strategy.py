"""Registry rules of CRDs and of the custom objects they define (``apiextensions-apiserver/pkg/registry``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import validation
from ..errors import Cause
from ..strategy import Strategy
from . import controller
from . import schema as crd_schema
from .types import FINALIZER, CustomResourceType

if TYPE_CHECKING:
    from ..store import Store

Obj = dict[str, Any]

# Key order of the Go structs (JSONSchemaProps, CustomResourceColumnDefinition ...), as a stored CRD reads back.
_SCHEMA_ORDER = (
    "id", "$schema", "$ref", "description", "type", "format", "title", "default", "maximum", "exclusiveMaximum",
    "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
    "multipleOf", "enum", "maxProperties", "minProperties", "required", "items", "allOf", "oneOf", "anyOf", "not",
    "properties", "additionalProperties", "patternProperties", "dependencies", "additionalItems", "definitions",
    "externalDocs", "example", "nullable", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string", "x-kubernetes-list-map-keys", "x-kubernetes-list-type", "x-kubernetes-map-type",
    "x-kubernetes-validations",
)
_SPEC_ORDER = ("group", "names", "scope", "versions", "conversion", "preserveUnknownFields")
_NAMES_ORDER = ("plural", "singular", "shortNames", "kind", "listKind", "categories")
_VERSION_ORDER = ("name", "served", "storage", "deprecated", "deprecationWarning", "schema", "subresources",
                  "additionalPrinterColumns", "selectableFields")
_COLUMN_ORDER = ("name", "type", "format", "description", "priority", "jsonPath")


def _order(obj: Obj, order: tuple[str, ...]) -> Obj:
    out = {k: obj[k] for k in order if k in obj}
    out.update({k: v for k, v in obj.items() if k not in out})
    return out


def _schema(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    out = _order(node, _SCHEMA_ORDER)
    for key in ("properties", "patternProperties", "definitions"):
        if isinstance(out.get(key), dict):
            out[key] = {k: _schema(v) for k, v in sorted(out[key].items())}
    for key in ("items", "additionalProperties", "not", "additionalItems"):
        if isinstance(out.get(key), dict):
            out[key] = _schema(out[key])
    for key in ("allOf", "oneOf", "anyOf"):
        if isinstance(out.get(key), list):
            out[key] = [_schema(s) for s in out[key]]
    return out


def normalize_crd(crd: Obj) -> None:
    """Defaults (``conversion``, ``listKind``, ``singular``) and the key order a stored CRD has."""
    spec = crd.setdefault("spec", {})
    names = spec.setdefault("names", {})
    if names.get("kind"):
        names.setdefault("listKind", names["kind"] + "List")
        names.setdefault("singular", names["kind"].lower())
    spec["names"] = _order(names, _NAMES_ORDER)
    spec.setdefault("conversion", {"strategy": "None"})
    versions = []
    for version in spec.get("versions") or []:
        v = _order(version, _VERSION_ORDER)
        schema = (v.get("schema") or {}).get("openAPIV3Schema")
        if isinstance(schema, dict):
            v["schema"] = {"openAPIV3Schema": _schema(schema)}
        if v.get("additionalPrinterColumns"):
            v["additionalPrinterColumns"] = [_order(c, _COLUMN_ORDER) for c in v["additionalPrinterColumns"]]
        versions.append(v)
    if "versions" in spec:
        spec["versions"] = versions
    crd["spec"] = _order(spec, _SPEC_ORDER)


def _validate_crd(crd: Obj) -> list[Cause]:
    """The checks of ``ValidateCustomResourceDefinition`` that clients run into."""
    causes: list[Cause] = []
    meta, spec = crd.get("metadata") or {}, crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group") or ""
    if not group:
        causes.append(validation.required("spec.group"))
    elif "." not in group:
        causes.append(validation.invalid("spec.group", group, "should be a domain with at least one dot"))
    name = meta.get("name") or ""
    if names.get("plural") and group and name != f"{names['plural']}.{group}":
        causes.append(validation.invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    scope = spec.get("scope")
    if scope not in ("Cluster", "Namespaced"):
        causes.append(validation.required("spec.scope") if not scope else
                      validation.not_supported("spec.scope", scope, ("Cluster", "Namespaced")))
    if not names.get("plural"):
        causes.append(validation.required("spec.names.plural"))
    if not names.get("kind"):
        causes.append(validation.required("spec.names.kind"))
    versions = spec.get("versions") or []
    if not versions:
        causes.append(validation.required("spec.versions", "must have exactly one version marked as storage "
                                          "version"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(validation.invalid("spec.versions", versions, "must have exactly one version marked as "
                                         "storage version"))
    for i, v in enumerate(versions):
        if not (v.get("schema") or {}).get("openAPIV3Schema"):
            causes.append(validation.required(f"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required"))
    return causes


class CRDStrategy(Strategy):
    """CustomResourceDefinitions: initial status, establishing, and the cleanup finalizer on delete."""

    def prepare_for_create(self, obj: Obj, store: Store) -> None:
        obj["metadata"]["generation"] = 1
        normalize_crd(obj)
        storage = [v["name"] for v in obj["spec"].get("versions") or [] if v.get("storage")]
        obj["status"] = {"conditions": None, "acceptedNames": {"plural": "", "kind": ""}, "storedVersions": storage}

    def validate(self, obj: Obj, store: Store) -> list[Cause]:
        return validation.validate_metadata(self.rtype, obj) + _validate_crd(obj)

    def after_create(self, obj: Obj, store: Store) -> None:
        controller.soon(controller.establish, store, obj["metadata"]["name"])

    def prepare_for_update(self, new: Obj, old: Obj, subresource: str | None, store: Store) -> None:
        if subresource == "status":
            status, meta = new.get("status"), new["metadata"]
            new.clear()
            new.update({k: v for k, v in old.items() if k != "metadata"})
            new["metadata"] = meta
            new["status"] = status if status is not None else old.get("status")
        else:
            new["status"] = old.get("status")
            normalize_crd(new)

    def validate_update(self, new: Obj, old: Obj, subresource: str | None, store: Store) -> list[Cause]:
        if subresource == "status":
            return []
        causes = self.validate(new, store)
        for path, key in (("spec.group", "group"), ("spec.scope", "scope")):
            if (new.get("spec") or {}).get(key) != (old.get("spec") or {}).get(key):
                causes.append(Cause("FieldValueInvalid", f"Invalid value: {validation.go_json(new['spec'].get(key))}"
                                    ": field is immutable", path))
        return causes

    def after_update(self, obj: Obj, old: Obj, store: Store) -> None:
        if obj["metadata"].get("deletionTimestamp"):
            if not old["metadata"].get("deletionTimestamp"):
                controller.soon(controller.clean_up, store, obj["metadata"]["name"])
        elif controller.established(obj):
            controller.serve(store, obj)

    two_phase_delete = True

    def begin_delete(self, obj: Obj, store: Store) -> None:
        """The CRD REST storage's Delete: the cleanup finalizer and ``Terminating`` (InstanceDeletionPending)."""
        finalizers = obj["metadata"].setdefault("finalizers", [])
        if FINALIZER not in finalizers:
            finalizers.append(FINALIZER)
        controller.set_condition(
            obj, "Terminating", "True", "InstanceDeletionPending",
            "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon")

    def finished_deleting(self, obj: Obj) -> bool:
        return not obj["metadata"].get("finalizers")

    def after_delete(self, obj: Obj, store: Store) -> None:
        controller.unserve(store, obj["metadata"]["name"])


class CustomResourceStrategy(Strategy):
    """A CRD's objects: schema defaults, pruning and validation; the status subresource when declared."""

    rtype: CustomResourceType

    def __init__(self, rtype: CustomResourceType):
        super().__init__(rtype)

    def _defaults_and_pruning(self, obj: Obj) -> None:
        crd_schema.apply_defaults(obj, self.rtype.schema)
        crd_schema.prune(obj, self.rtype.schema)

    def prepare_for_create(self, obj: Obj, store: Store) -> None:
        obj["metadata"]["generation"] = 1
        if self.rtype.has_status:
            obj.pop("status", None)
        self._defaults_and_pruning(obj)

    def validate(self, obj: Obj, store: Store) -> list[Cause]:
        rt = self.rtype
        return validation.validate_metadata(rt, obj) + crd_schema.validate(obj, rt.schema, rt.has_rules)

    def prepare_for_update(self, new: Obj, old: Obj, subresource: str | None, store: Store) -> None:
        if subresource == "status":
            status, had = new.get("status"), "status" in new
            meta = new["metadata"]
            new.clear()
            new.update({k: v for k, v in old.items() if k != "metadata"})
            for key in ("labels", "annotations", "finalizers", "ownerReferences"):
                if key in old["metadata"]:
                    meta[key] = old["metadata"][key]
                else:
                    meta.pop(key, None)
            new["metadata"] = meta
            if had:
                new["status"] = status
            else:
                new.pop("status", None)
        elif self.rtype.has_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        elif new.get("status") != old.get("status") and all(
                new.get(k) == old.get(k) for k in new.keys() | old.keys()
                if k not in ("metadata", "status", "kind", "apiVersion")):
            # Without a status subresource every change but metadata moves the generation.
            new["metadata"]["generation"] = int(old["metadata"].get("generation", 1)) + 1
        self._defaults_and_pruning(new)

    def validate_update(self, new: Obj, old: Obj, subresource: str | None, store: Store) -> list[Cause]:
        rt = self.rtype
        if subresource == "status":
            return crd_schema.validate_status(new, rt.status_schema, rt.has_rules, old)
        return validation.validate_metadata(rt, new) + crd_schema.validate(new, rt.schema, rt.has_rules, old)

