"""Discovery documents (/api, /apis, /api/v1, /apis/<group>/<version>, /version), built from the registry."""

from __future__ import annotations

from typing import Any

from .resources import REGISTRY, Registry, ResourceType

VERSION_INFO: dict[str, Any] = {
    "major": "1",
    "minor": "36",
    "emulationMajor": "1",
    "emulationMinor": "36",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "35",
    "gitVersion": "v1.36.2",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-11-01T00:00:00Z",
    "goVersion": "go1.26.4",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group_entry(group: str, registry: Registry) -> dict[str, Any]:
    versions = sorted({r.version for r in registry.resources if r.group == group})
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list(registry: Registry = REGISTRY) -> dict[str, Any]:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_entry(g, registry) for g in registry.groups()],
    }


def api_group(group: str, registry: Registry = REGISTRY) -> dict[str, Any] | None:
    if group not in registry.groups():
        return None
    entry = _group_entry(group, registry)
    return {"kind": "APIGroup", "apiVersion": "v1", **entry}


def _resource_entries(r: ResourceType) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        main["shortNames"] = list(r.short_names)
    if r.categories:
        main["categories"] = list(r.categories)
    if r.storage_version_hash:
        main["storageVersionHash"] = r.storage_version_hash
    out = [main]
    for sub in r.subresources:
        entry: dict[str, Any] = {
            "name": f"{r.plural}/{sub.name}",
            "singularName": "",
            "namespaced": r.namespaced,
        }
        if sub.group is not None and not getattr(r, "custom", False):
            entry["group"] = sub.group
            entry["version"] = sub.version
        entry["kind"] = sub.kind
        entry["verbs"] = list(sub.verbs)
        out.append(entry)
    return out


def api_resource_list(group: str, version: str, registry: Registry = REGISTRY) -> dict[str, Any] | None:
    resources = registry.in_group_version(group, version)
    if not resources:
        return None
    entries: list[dict[str, Any]] = []
    for r in sorted(resources, key=lambda r: r.plural):
        entries.extend(_resource_entries(r))
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": entries,
    }


# ---------------------------------------------------------------- aggregated discovery (apidiscovery.k8s.io/v2)

AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
NOT_ACCEPTABLE = ("only the following media types are accepted: application/json, application/yaml, "
                  "application/vnd.kubernetes.protobuf")
_LEGACY_TYPES = {"application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "*/*",
                 "application/*"}


def negotiate(accept: str | None) -> str | None:
    """``"aggregated"``, ``"legacy"`` or None (406) for a discovery request's Accept header.

    The first clause the server can produce wins, as in apimachinery's content negotiation:
    only the v2 aggregated form is still served (v2beta1 was removed).
    """
    if not accept or not accept.strip():
        return "legacy"
    for clause in accept.split(","):
        parts = [p.strip() for p in clause.split(";") if p.strip()]
        if not parts:
            continue
        media = parts[0].lower()
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        params.pop("q", None)
        if not params:
            if media in _LEGACY_TYPES:
                return "legacy"
            continue
        if (media == "application/json" and params.get("g") == "apidiscovery.k8s.io" and params.get("v") == "v2"
                and params.get("as") == "APIGroupDiscoveryList"):
            return "aggregated"
    return None


def _discovery_resource(r: ResourceType) -> dict[str, Any]:
    # A custom resource's responseKind names its group and version (the CRD handler fills them in).
    custom = getattr(r, "custom", False)
    entry: dict[str, Any] = {
        "resource": r.plural,
        "responseKind": {"group": r.group if custom else "", "version": r.version if custom else "",
                         "kind": r.kind},
        "scope": "Namespaced" if r.namespaced else "Cluster",
        "singularResource": r.singular,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    if r.subresources:
        entry["subresources"] = [
            {"subresource": s.name,
             "responseKind": {"group": s.group or "", "version": s.version or "", "kind": s.kind},
             "verbs": list(s.verbs)}
            for s in sorted(r.subresources, key=lambda s: s.name)]
    return entry


def _discovery_group(group: str, registry: Registry) -> dict[str, Any]:
    versions = []
    for v in sorted({r.version for r in registry.resources if r.group == group}):
        resources = sorted(registry.in_group_version(group, v), key=lambda r: r.plural)
        versions.append({"version": v, "resources": [_discovery_resource(r) for r in resources],
                         "freshness": "Current"})
    return {"metadata": {"name": group} if group else {}, "versions": versions}


def aggregated(legacy_core: bool, registry: Registry = REGISTRY) -> dict[str, Any]:
    """The APIGroupDiscoveryList of ``/api`` (``legacy_core``) or of ``/apis``."""
    groups = [""] if legacy_core else registry.groups()
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
            "items": [_discovery_group(g, registry) for g in groups]}
