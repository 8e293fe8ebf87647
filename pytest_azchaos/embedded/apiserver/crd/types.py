"""The resource types a CRD serves: one ``CustomResourceType`` per served version."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..resources import STATUS_VERBS, ResourceType, Subresource

Obj = dict[str, Any]

# The verbs of a custom resource, in the order upstream's CRD handler lists them in discovery.
CR_VERBS = ("delete", "deletecollection", "get", "list", "patch", "create", "update", "watch")
FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def storage_version_hash(group: str, version: str, kind: str) -> str:
    """``discovery.StorageVersionHash``: the first 8 bytes of sha256("group/version/kind"), base64."""
    return base64.b64encode(hashlib.sha256(f"{group}/{version}/{kind}".encode()).digest()[:8]).decode()


@dataclass(frozen=True)
class CustomResourceType(ResourceType):
    """A served version of a CRD, with what the generic registry needs to handle its objects."""

    custom: bool = True
    crd_name: str = ""
    schema: Obj | None = field(default=None, compare=False, hash=False)
    status_schema: Obj | None = field(default=None, compare=False, hash=False)
    printer_columns: tuple[Obj, ...] = field(default=(), compare=False, hash=False)
    has_status: bool = False
    storage_version: str = ""

    @cached_property
    def has_rules(self) -> bool:
        """Whether the schema carries CEL rules (``x-kubernetes-validations``) anywhere."""
        return self.schema is not None and _has_rules(self.schema)


def _has_rules(schema: Any) -> bool:
    if isinstance(schema, dict):
        if schema.get("x-kubernetes-validations"):
            return True
        return any(_has_rules(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_has_rules(v) for v in schema)
    return False


def is_custom(rtype: ResourceType) -> bool:
    return isinstance(rtype, CustomResourceType)


def resource_types(crd: Obj) -> list[CustomResourceType]:
    """The types ``crd`` serves once Established (served versions only)."""
    spec = crd.get("spec") or {}
    names = (crd.get("status") or {}).get("acceptedNames") or spec.get("names") or {}
    group = spec.get("group", "")
    kind = names.get("kind", "")
    storage = next((v["name"] for v in spec.get("versions") or [] if v.get("storage")), "")
    out = []
    for version in spec.get("versions") or []:
        if not version.get("served"):
            continue
        v = version["name"]
        schema = ((version.get("schema") or {}).get("openAPIV3Schema")) or None
        has_status = "status" in (version.get("subresources") or {})
        subresources: tuple[Subresource, ...] = ()
        if has_status:
            subresources = (Subresource("status", kind, STATUS_VERBS, group, v),)
        status_schema = ((schema or {}).get("properties") or {}).get("status") if has_status else None
        out.append(CustomResourceType(
            group, v, names.get("plural", ""), names.get("singular") or kind.lower(), kind,
            spec.get("scope") == "Namespaced", CR_VERBS, tuple(names.get("shortNames") or ()),
            tuple(names.get("categories") or ()), storage_version_hash(group, v, kind), subresources,
            # selectableFields: field selectors on the CRD's own fields, besides name and namespace.
            ("metadata.name", "metadata.namespace",
             *(f["jsonPath"].lstrip(".") for f in version.get("selectableFields") or [] if f.get("jsonPath"))),
            crd_name=crd["metadata"]["name"], schema=schema, status_schema=status_schema,
            printer_columns=tuple(version.get("additionalPrinterColumns") or ()), has_status=has_status,
            storage_version=storage))
    return out
