"""The HTTP layer: parse a Kubernetes REST request, call the store, render the answer.

No state lives here. Routing follows the apiserver's URL scheme:
``/api/v1[/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]`` and the same under
``/apis/<group>/<version>``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import discovery, errors, openapi, pod_security, protobuf, tables, validation
from .errors import ApiError
from .faults import ApiFaults
from .faults import install as install_faults
from .patch import PATCH_TYPES, STRATEGIC, apply_patch
from .resources import REGISTRY, ResourceType
from .schema import warning_header
from .selectors import parse_field_selector, parse_label_selector
from .store import Store, bookmark_object, dumps, typed_raw

log = logging.getLogger(__name__)

JSON = "application/json"
_ACCEPTED_BODY = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
_CR_PATCH_TYPES = ("the body of the request was in an unknown format - accepted media types include: "
                   "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
_UNKNOWN_FORMAT = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json, application/yaml, application/vnd.kubernetes.protobuf"
)

SubresourceHandler = Callable[["Request", "ApiServer"], Awaitable[web.StreamResponse]]


@dataclass
class Request:
    """A parsed resource request."""

    http: web.Request
    rtype: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None

    @property
    def query(self) -> Any:
        return self.http.query


def _json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    raw = body if isinstance(body, bytes) else dumps(body)
    return web.Response(body=raw, status=status, content_type=JSON, headers=headers)


def error_response(err: ApiError) -> web.Response:
    headers = {"Retry-After": str(err.retry_after)} if err.retry_after is not None else None
    return _json_response(err.status(), err.code, headers)


def _bool(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


def _wants_table(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    first = accept.split(",")[0]
    return "as=Table" in first


def audit_key(req: Request) -> tuple[str, str, str, str]:
    """The RBAC (verb, apiGroup, resource, namespace) a request needs, verbs named as Kubernetes names them;
    namespace "" for cluster-scoped and all-namespaces requests (only a ClusterRole can grant those)."""
    method = req.http.method
    if method == "GET":
        verb = "watch" if _bool(req.query.get("watch")) else ("get" if req.name is not None else "list")
    elif method == "DELETE":
        verb = "delete" if req.name is not None else "deletecollection"
    else:
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())
    resource = req.rtype.plural + (f"/{req.subresource}" if req.subresource else "")
    return verb, req.rtype.group, resource, req.namespace or ""


# Connect subresources whose handler also authorizes ``create`` on any method (v1.35+, feature gate
# AuthorizePodWebsocketUpgradeCreatePermission, on by default): a WebSocket GET needs get AND create.
_CONNECT_CREATE = ("pods/exec", "pods/attach", "pods/portforward")


def audit_keys(req: Request) -> set[tuple[str, str, str, str]]:
    """Every RBAC (verb, apiGroup, resource, namespace) the apiserver authorizes for ``req``."""
    key = audit_key(req)
    _, group, resource, namespace = key
    return {key, ("create", group, resource, namespace)} if resource in _CONNECT_CREATE else {key}


class ApiServer:
    """aiohttp application serving the Kubernetes API from a ``Store``."""

    def __init__(self, store: Store, server_address: str = "127.0.0.1:0"):
        self.store = store
        self.server_address = server_address
        self.subresources: dict[tuple[str, str], SubresourceHandler] = {}
        # Collections whose POST is an action, not a stored object (``bindings``).
        self.creators: dict[str, SubresourceHandler] = {}
        self.bookmark_interval = 60.0
        # (verb, apiGroup, resource[/subresource], namespace) of every resource request served: the RBAC a
        # client needs (read and cleared at the emulator path /azchaos/v1/audit).
        self.audit: set[tuple[str, str, str, str]] = set()
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self.dispatch)
        # --- API faults on demand (issue 17): the switch and its /azchaos/v1/api-faults endpoint live in
        # faults.py; this outermost middleware is the only hook (inactive until a fault is switched on).
        self.faults = ApiFaults()
        install_faults(self.app, self.faults)

    def register_subresource(self, key: str, name: str, handler: SubresourceHandler) -> None:
        """Serve ``<resource>/<name>`` with ``handler`` (exec, log, eviction, binding ...)."""
        self.subresources[(key, name)] = handler

    # ------------------------------------------------------------------ routing

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._dispatch(request)
        except ApiError as e:
            return error_response(e)
        except web.HTTPException:
            raise
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception as e:  # a bug here must not kill the server; answer as the apiserver would
            log.exception("internal error serving %s %s", request.method, request.path)
            return error_response(errors.internal(f"embedded apiserver error: {e!r}"))

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if not parts:
            return _json_response({"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz",
                                              "/version"]})
        head = parts[0]
        if head in ("healthz", "livez", "readyz"):
            return web.Response(text="ok", content_type="text/plain", charset="utf-8")
        if head == "version":
            return _json_response(discovery.VERSION_INFO)
        if head == "openapi":
            return openapi.response(request, parts)
        if head in ("api", "apis") and len(parts) == 1:
            form = discovery.negotiate(request.headers.get("Accept"))
            if form is None:
                raise errors.ApiError(406, "NotAcceptable", discovery.NOT_ACCEPTABLE)
            if form == "aggregated":
                body = dumps(discovery.aggregated(head == "api"))
                return web.Response(body=body, headers={"Content-Type": discovery.AGGREGATED_TYPE, "Vary": "Accept",
                                                        "Etag": f'"{hashlib.sha256(body).hexdigest()}"'})
        if head == "api":
            if len(parts) == 1:
                return _json_response(discovery.api_versions(self.server_address))
            if parts[1] != "v1":
                return _not_found_page()
            if len(parts) == 2:
                return _json_response(discovery.api_resource_list("", "v1"))
            return await self._resource(request, "", "v1", parts[2:])
        if head == "apis":
            if len(parts) == 1:
                return _json_response(discovery.api_group_list())
            group = parts[1]
            if group not in REGISTRY.groups():
                return _not_found_page()
            if len(parts) == 2:
                return _json_response(discovery.api_group(group))
            version = parts[2]
            if len(parts) == 3:
                doc = discovery.api_resource_list(group, version)
                return _json_response(doc) if doc else _not_found_page()
            return await self._resource(request, group, version, parts[3:])
        return _not_found_page()

    async def _resource(self, request: web.Request, group: str, version: str, parts: list[str]) -> web.StreamResponse:
        namespace: str | None = None
        if parts[0] == "namespaces" and len(parts) >= 3:
            # /namespaces/<ns>/<plural>... unless it is the namespace's own subresource
            if parts[2] in ("status", "finalize") and len(parts) == 3 and not group:
                rtype = REGISTRY.lookup("", "v1", "namespaces")
                assert rtype is not None
                return await self._serve(Request(request, rtype, None, parts[1], parts[2]))
            namespace, parts = parts[1], parts[2:]
        rtype = REGISTRY.lookup(group, version, parts[0])
        if rtype is not None and namespace is not None and not rtype.namespaced and getattr(rtype, "custom", False):
            return _not_found_page()  # the CRD handler's answer for a cluster-scoped type under a namespace
        if rtype is None or (namespace is not None and not rtype.namespaced):
            raise errors.resource_not_found()
        name = parts[1] if len(parts) > 1 else None
        sub = parts[2] if len(parts) > 2 else None
        if len(parts) > 3:
            raise errors.resource_not_found()
        if sub is not None and rtype.subresource(sub) is None:
            raise errors.resource_not_found()
        return await self._serve(Request(request, rtype, namespace, name, sub))

    async def _serve(self, req: Request) -> web.StreamResponse:
        method = req.http.method
        rtype = req.rtype
        self.audit |= audit_keys(req)
        if req.subresource:
            sub = rtype.subresource(req.subresource)
            assert sub is not None
            verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "POST": "create", "DELETE": "delete"}.get(method)
            if verb not in sub.verbs:
                raise errors.method_not_allowed()
            handler = self.subresources.get((rtype.key, req.subresource))
            if handler is not None:
                return await handler(req, self)
            if req.subresource in ("status", "finalize"):
                return await self._item(req)
            raise errors.method_not_allowed()
        if audit_key(req)[0] not in rtype.verbs:  # e.g. a GET of create-only tokenreviews
            raise errors.method_not_allowed()
        if req.name is None:
            if method == "GET":
                if _bool(req.query.get("watch")):
                    return await self._watch(req)
                return self._list(req)
            if method == "POST":
                creator = self.creators.get(rtype.key)
                if creator is not None:
                    return await creator(req, self)
                return await self._create(req)
            if method == "DELETE" and "deletecollection" in rtype.verbs:
                return await self._delete_collection(req)
            raise errors.method_not_allowed()
        return await self._item(req)

    async def _item(self, req: Request) -> web.StreamResponse:
        method = req.http.method
        if method == "GET":
            if _bool(req.query.get("watch")):
                return await self._watch(req, name=req.name)
            return self._get(req)
        if method == "PUT":
            return await self._update(req)
        if method == "PATCH":
            return await self._patch(req)
        if method == "DELETE" and req.subresource is None:
            return await self._delete(req)
        raise errors.method_not_allowed()

    # ------------------------------------------------------------------ verbs

    def _ns(self, req: Request) -> str:
        return req.namespace or ""

    def _get(self, req: Request) -> web.Response:
        assert req.name is not None
        entry = self.store.get_entry(req.rtype, self._ns(req), req.name)
        if _wants_table(req.http):
            obj = json.loads(entry.full)
            return _json_response(tables.to_table(req.rtype, [obj], obj["metadata"]["resourceVersion"],
                                                  req.query.get("includeObject", "Metadata")))
        return _json_response(self.render(req.rtype, entry.obj, entry.raw))

    @staticmethod
    def _to_storage(rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """A request body in the storage shape (events.k8s.io/v1 Events are stored as core/v1)."""
        if not _events_v1(rtype):
            return obj
        from .events import events_v1_to_core

        core = events_v1_to_core(obj)
        if obj.get("kind") is None:
            core.pop("kind")
        core["apiVersion"] = obj.get("apiVersion")
        if core["apiVersion"] is None:
            core.pop("apiVersion")
        return core

    def render_written(self, rtype: ResourceType, obj: dict[str, Any]) -> bytes:
        """``render`` for an object the store just returned: its cached JSON when it is the stored one."""
        entry = self.store.entry_for(rtype, obj)
        return self.render(rtype, obj, entry.raw if entry is not None else dumps(_untyped(obj)))

    def render(self, rtype: ResourceType, obj: dict[str, Any], raw: bytes) -> bytes:
        """The JSON of one object as ``rtype``'s clients expect it (events.k8s.io converts)."""
        if rtype.storage and rtype.group == "events.k8s.io":
            from .events import core_to_events_v1

            return dumps(core_to_events_v1(obj))
        if getattr(rtype, "custom", False):  # conversion "None": the object in the version asked for
            return _custom_item(rtype, raw)
        return typed_raw(obj, raw)

    def _list(self, req: Request) -> web.Response:
        rtype = req.rtype
        q = req.query
        labels = parse_label_selector(q.get("labelSelector"))
        fields = parse_field_selector(q.get("fieldSelector"), rtype.field_selectors,
                                      custom=rtype.field_selectors != ("metadata.name", "metadata.namespace"))
        limit = _int_param(q.get("limit"), 0)
        if q.get("resourceVersionMatch") and not q.get("resourceVersion"):
            raise errors.ApiError(
                422, "Invalid",
                'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is '
                "forbidden unless resourceVersion is provided",
                {"kind": "ListOptions", "group": "meta.k8s.io",
                 "causes": [{"reason": "FieldValueForbidden",
                             "message": "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is "
                                        "provided",
                             "field": "resourceVersionMatch"}]})
        if q.get("resourceVersion") not in (None, "", "0"):
            rv = _int_param(q.get("resourceVersion"), 0)
            if rv > self.store.rv:
                raise errors.too_large_resource_version(rv, self.store.rv)
            # Before the oldest retained event nothing can be served at exactly that RV (compacted).
            if q.get("resourceVersionMatch") == "Exact" and rv < self.store.oldest_rv and rv != self.store.rv:
                raise errors.gone(errors.RV_TOO_OLD_FOR_LIST)
        raws, rv, token, remaining = self.store.list(rtype, req.namespace, labels, fields, max(limit, 0),
                                                     q.get("continue"))
        if _wants_table(req.http):
            objs = [json.loads(r) for r in raws]
            for o in objs:
                o["kind"], o["apiVersion"] = rtype.kind, rtype.api_version
            return _json_response(tables.to_table(rtype, objs, rv, q.get("includeObject", "Metadata"), token,
                                                  remaining))
        if rtype.storage and rtype.group == "events.k8s.io":
            from .events import core_to_events_v1

            raws = [dumps(core_to_events_v1(json.loads(r))) for r in raws]
        meta: dict[str, Any] = {"resourceVersion": rv}
        if getattr(rtype, "custom", False):
            # An unstructured list: items carry apiVersion and kind, and continue is always there.
            raws = [_custom_item(rtype, r) for r in raws]
            meta = {"continue": token or "", "resourceVersion": rv}
        elif token:
            meta["continue"] = token
        if remaining:
            meta["remainingItemCount"] = remaining
        head = dumps({"kind": rtype.list_kind, "apiVersion": rtype.api_version, "metadata": meta})
        body = head[:-1] + b',"items":[' + b",".join(raws) + b"]}"
        return _json_response(body)

    async def _read_body(self, req: Request) -> dict[str, Any]:
        # No Content-Type means JSON, the first supported media type (as upstream's NegotiateInputSerializer).
        ctype = (req.http.content_type or "").lower() if req.http.headers.get("Content-Type") else JSON
        raw = await req.http.read()
        if ctype not in _ACCEPTED_BODY:
            raise errors.ApiError(415, "UnsupportedMediaType", _UNKNOWN_FORMAT)
        if ctype == "application/yaml":
            import yaml  # type: ignore[import-untyped]

            try:
                obj = yaml.safe_load(raw)
            except Exception as e:
                raise errors.bad_request(f"error converting YAML to JSON: {e}") from None
        elif ctype == "application/vnd.kubernetes.protobuf":
            obj = protobuf.decode(raw, req.rtype.kind)
        else:
            try:
                obj = json.loads(raw)
            except ValueError:
                raise errors.bad_request(
                    f"the object provided is unrecognized (must be of type {req.rtype.kind}): couldn't get "
                    f"version/kind; json parse error: unexpected end of JSON input ({_summarize(raw)})") from None
        if not isinstance(obj, dict):
            raise errors.bad_request(
                f"the object provided is unrecognized (must be of type {req.rtype.kind}): couldn't get "
                "version/kind; json parse error: cannot unmarshal into object")
        return obj

    def _check_kind(self, req: Request, obj: dict[str, Any], expect_kind: str | None = None) -> list[str]:
        """Reject a body of another kind; drop unknown fields (400 under Strict). Returns Warning headers."""
        kind = obj.get("kind")
        want = expect_kind or req.rtype.kind
        api_version = obj.get("apiVersion")
        if kind and kind != want:
            version = (api_version or "").split("/")[-1]
            raise errors.bad_request(
                f'{kind} in version "{version}" cannot be handled as a {want}: converting '
                f"({version}.{kind}) to ({_internal_group(req.rtype)}.{want}): unknown conversion")
        from .schema import unknown_fields, warning_header

        validation = req.query.get("fieldValidation") or "Warn"
        if getattr(req.rtype, "custom", False):  # pruned against the CRD's schema, paths in full
            from .crd.schema import prune

            pruned = prune(obj, req.rtype.schema)  # type: ignore[attr-defined]
            if pruned and validation == "Strict":
                version = (api_version or req.rtype.version).split("/")[-1]
                detail = ", ".join(f'unknown field "{f}"' for f in pruned)
                raise errors.bad_request(
                    f'{want} in version "{version}" cannot be handled as a {want}: strict decoding error: {detail}')
            return [warning_header(f'unknown field "{f}"') for f in pruned] if validation == "Warn" else []
        unknown = unknown_fields(req.rtype.kind, obj) if req.rtype.group != "events.k8s.io" else []
        if unknown and validation == "Strict":
            version = (api_version or req.rtype.version).split("/")[-1]
            detail = ", ".join(f'unknown field "{f}"' for f in unknown)
            raise errors.bad_request(
                f'{want} in version "{version}" cannot be handled as a {want}: strict decoding error: {detail}')
        for f in unknown:  # the decoder drops what the type does not have
            obj.pop(f, None)
        return [warning_header(f'unknown field "{f}"') for f in unknown] if validation == "Warn" else []

    async def _create(self, req: Request) -> web.Response:
        obj = self._to_storage(req.rtype, await self._read_body(req))
        warnings = self._check_kind(req, obj)
        dry = req.query.get("dryRun") == "All"
        created = self.store.create(req.rtype, self._ns(req), obj, dry_run=dry, copy=False)
        warnings += [warning_header(w) for w in pod_security.warnings(self.store, req.rtype.kind, self._ns(req),
                                                                       created)]
        warnings += [warning_header(w) for w in validation.warnings_on_write(req.rtype.kind, created)]
        resp = _json_response(self.render_written(req.rtype, created), 201)
        for w in warnings:
            resp.headers.add("Warning", w)
        return resp

    async def _update(self, req: Request) -> web.Response:
        assert req.name is not None
        obj = self._to_storage(req.rtype, await self._read_body(req))
        warnings = self._check_kind(req, obj)
        dry = req.query.get("dryRun") == "All"
        rtype = req.rtype
        existed = True
        old_labels = None
        try:
            old_labels = dict(self.store.get_entry(rtype, self._ns(req), req.name).obj["metadata"].get("labels") or {})
        except ApiError:
            existed = False
        custom = getattr(rtype, "custom", False)  # custom resources allow no unconditional update either
        if not (obj.get("metadata") or {}).get("resourceVersion") and existed and req.subresource is None \
                and (rtype.kind in ("Pod",) or custom):
            shown = f"{rtype.kind}.{rtype.group}" if custom else rtype.kind
            raise errors.ApiError(
                422, "Invalid",
                f'{shown} "{req.name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be '
                "specified for an update",
                {"name": req.name, **({"group": rtype.group} if custom else {}), "kind": rtype.kind,
                 "causes": [{"reason": "FieldValueInvalid",
                             "message": "Invalid value: 0x0: must be specified for an update",
                             "field": "metadata.resourceVersion"}]})
        updated = self.store.update(rtype, self._ns(req), req.name, obj, req.subresource, dry_run=dry,
                                    force_allow_create=rtype.kind in _ALLOW_CREATE_ON_UPDATE, copy=False)
        status = 200 if existed else 201
        if req.subresource is None:
            warnings += self._pod_security_update_warnings(req, updated, old_labels)
        resp = _json_response(self.render_written(rtype, updated), status)
        for w in warnings:
            resp.headers.add("Warning", w)
        return resp

    async def _patch(self, req: Request) -> web.Response:
        assert req.name is not None
        body = await req.http.read()
        ctype = req.http.content_type or ""
        if ctype.split(";")[0].strip().lower() not in PATCH_TYPES:
            raise errors.unsupported_media_type("415: Unsupported Media Type")  # before the object is read
        if getattr(req.rtype, "custom", False) and ctype.split(";")[0].strip().lower() == STRATEGIC:
            raise ApiError(415, "UnsupportedMediaType", _CR_PATCH_TYPES)  # no strategic merge for custom resources
        dry = req.query.get("dryRun") == "All"
        rtype = req.rtype

        def mutate(current: dict[str, Any]) -> dict[str, Any]:
            if _events_v1(rtype) and current:
                from .events import core_to_events_v1

                current = core_to_events_v1(current)
            patched = apply_patch(ctype, current, body, rtype.kind)
            if not isinstance(patched, dict):
                raise errors.bad_request("patch did not produce an object")
            return self._to_storage(rtype, patched)

        if ctype.split(";")[0] == "application/apply-patch+yaml":
            try:
                self.store.get_entry(rtype, self._ns(req), req.name)
            except ApiError:
                obj = mutate({})
                created = self.store.create(rtype, self._ns(req), obj, dry_run=dry)
                resp = _json_response(self.render(rtype, created, dumps(_untyped(created))), 201)
                for w in pod_security.warnings(self.store, rtype.kind, self._ns(req), created):
                    resp.headers.add("Warning", warning_header(w))
                return resp
        old_labels = None
        if rtype.kind == "Namespace":
            try:
                old_labels = dict(self.store.get_entry(rtype, "", req.name).obj["metadata"].get("labels") or {})
            except ApiError:
                pass
        updated = self.store.guaranteed_update(rtype, self._ns(req), req.name, mutate, req.subresource, dry,
                                               copy=False)
        resp = _json_response(self.render_written(rtype, updated))
        for w in self._pod_security_update_warnings(req, updated, old_labels) if req.subresource is None else []:
            resp.headers.add("Warning", w)
        return resp

    def _pod_security_update_warnings(self, req: Request, updated: dict[str, Any],
                                      old_labels: dict[str, str] | None) -> list[str]:
        """PodSecurity warnings of a PUT/PATCH: a workload's new pod template, a namespace's new enforce level."""
        texts = pod_security.update_warnings(self.store, req.rtype.kind, self._ns(req), updated, old_labels)
        return [warning_header(w) for w in texts]

    async def _delete_options(self, req: Request) -> dict[str, Any]:
        raw = await req.http.read()
        opts: dict[str, Any] = {}
        if raw.startswith(protobuf.MAGIC):
            opts = protobuf.decode(raw, "DeleteOptions")
        elif raw.strip():
            try:
                opts = json.loads(raw)
            except ValueError:
                raise errors.bad_request("invalid delete options") from None
        q = req.query
        if "gracePeriodSeconds" in q:
            opts["gracePeriodSeconds"] = _int_param(q["gracePeriodSeconds"], 0)
        if "propagationPolicy" in q:
            opts["propagationPolicy"] = q["propagationPolicy"]
        if "orphanDependents" in q:
            opts["orphanDependents"] = _bool(q["orphanDependents"])
        if q.get("dryRun") == "All":
            opts["dryRun"] = ["All"]
        return opts

    async def _delete(self, req: Request) -> web.Response:
        assert req.name is not None
        opts = await self._delete_options(req)
        propagation = opts.get("propagationPolicy")
        if propagation is None and opts.get("orphanDependents") is not None:
            propagation = "Orphan" if opts["orphanDependents"] else "Background"
        if propagation not in (None, "Orphan", "Background", "Foreground"):
            raise errors.ApiError(
                422, "Invalid",
                f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "{propagation}": '
                'supported values: "Foreground", "Background", "Orphan", "nil"', {})
        obj, gone = self.store.delete(
            req.rtype, self._ns(req), req.name, opts.get("gracePeriodSeconds"), opts.get("preconditions"),
            propagation, dry_run="All" in (opts.get("dryRun") or []))
        orphaned = propagation is None and self.store.strategy(req.rtype).orphans_by_default
        if gone and req.rtype.kind not in _RETURN_DELETED:
            details: dict[str, Any] = {"name": req.name}
            if req.rtype.group:
                details["group"] = req.rtype.group
            details["kind"] = req.rtype.plural
            details["uid"] = obj["metadata"]["uid"]
            return _json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                   "details": details})
        status = 202 if not gone and opts.get("orphanDependents") is False else 200
        resp = _json_response(self.render(req.rtype, obj, dumps(_untyped(obj))), status)
        if orphaned:  # the Job registry's deleteOptionWarnings
            resp.headers.add("Warning", warning_header(JOB_ORPHAN_WARNING))
        return resp

    async def _delete_collection(self, req: Request) -> web.Response:
        rtype = req.rtype
        q = req.query
        opts = await self._delete_options(req)
        labels = parse_label_selector(q.get("labelSelector"))
        fields = parse_field_selector(q.get("fieldSelector"), rtype.field_selectors,
                                      custom=rtype.field_selectors != ("metadata.name", "metadata.namespace"))
        raws, _, _, _ = self.store.list(rtype, req.namespace, labels, fields)
        items = []
        for raw in raws:
            meta = json.loads(raw)["metadata"]
            try:
                obj, _ = self.store.delete(rtype, meta.get("namespace", ""), meta["name"],
                                           opts.get("gracePeriodSeconds"), None, opts.get("propagationPolicy"))
                items.append(_untyped(obj))
            except ApiError as e:
                if e.code != 404:
                    raise
        return _json_response({"kind": rtype.list_kind, "apiVersion": rtype.api_version,
                               "metadata": {"resourceVersion": str(self.store.rv)}, "items": items})

    # ------------------------------------------------------------------ watch

    async def _watch(self, req: Request, name: str | None = None) -> web.StreamResponse:
        """A watch stream: one JSON event per line until timeoutSeconds, as the watch cache serves it.

        Bookmarks (``allowWatchBookmarks``) come every ``bookmark_interval`` and 2 s before the
        deadline, only once the resource's RV has moved past the watch's start RV. A client that
        goes away is noticed within a second and its watcher removed; one too slow to read is
        closed by the store (``Watcher.limit``) instead of holding events without bound.
        """
        rtype = req.rtype
        q = req.query
        labels = parse_label_selector(q.get("labelSelector"))
        fields = parse_field_selector(q.get("fieldSelector"), rtype.field_selectors,
                                      custom=rtype.field_selectors != ("metadata.name", "metadata.namespace"))
        timeout = _int_param(q.get("timeoutSeconds"), 0)
        if timeout <= 0:
            timeout = int(1800 * (1 + random.random()))  # upstream: minRequestTimeout * [1, 2)
        bookmarks = _bool(q.get("allowWatchBookmarks"))
        send_initial = None if q.get("sendInitialEvents") is None else _bool(q.get("sendInitialEvents"))
        _validate_watch_options(q.get("resourceVersionMatch"), send_initial)
        loop = asyncio.get_running_loop()
        rv_param = q.get("resourceVersion")
        if rv_param and rv_param.isdigit() and int(rv_param) > self.store.rv:
            # The watch cache waits up to 3 s for a future RV before giving up with 504.
            give_up = loop.time() + 3.0
            while int(rv_param) > self.store.rv and loop.time() < give_up:
                await asyncio.sleep(0.05)
        resp = web.StreamResponse(status=200, headers={"Content-Type": JSON, "Transfer-Encoding": "chunked"})
        try:
            watcher = self.store.watch(rtype, req.namespace, labels, fields, rv_param, name, send_initial)
        except ApiError as e:
            if e.code not in (410, 504):
                raise
            await resp.prepare(req.http)
            await resp.write(dumps({"type": "ERROR", "object": e.status()}) + b"\n")
            return resp
        initial_left = watcher.queue.qsize() if send_initial else -1
        snapshot_rv = self.store.rv
        start = loop.time()
        deadline = start + timeout
        next_periodic = start + self.bookmark_interval
        final_bookmark = deadline - 2.0
        transport = req.http.transport
        as_table, first_table = _wants_table(req.http), True
        try:
            await resp.prepare(req.http)
            while True:
                if initial_left == 0:
                    # WatchList: the initial state is complete; say so with an annotated bookmark.
                    initial_left = -1
                    bm = bookmark_object(rtype.kind, rtype.api_version, snapshot_rv, initial_events_end=True)
                    await resp.write(dumps({"type": "BOOKMARK", "object": bm}) + b"\n")
                now = loop.time()
                if now >= deadline or transport is None or transport.is_closing():
                    break
                due = min(next_periodic, final_bookmark) if bookmarks else deadline
                if bookmarks and now >= due and initial_left < 0:
                    if now >= final_bookmark:
                        final_bookmark = deadline  # sent once, about 2 s before the deadline
                    next_periodic = now + self.bookmark_interval
                    bm_rv = self.store.bookmark_rv(rtype.key)
                    if bm_rv > watcher.start_rv:
                        bm = bookmark_object(rtype.kind, rtype.api_version, bm_rv)
                        await resp.write(dumps({"type": "BOOKMARK", "object": bm}) + b"\n")
                    continue
                if not watcher.queue.empty():
                    etype, obj, raw, _rv = watcher.queue.get_nowait()
                else:
                    wait = max(0.01, min(deadline, due if initial_left < 0 else deadline, now + 1.0) - now)
                    try:
                        etype, obj, raw, _rv = await asyncio.wait_for(watcher.queue.get(), timeout=wait)
                    except TimeoutError:
                        continue
                if obj is None or raw is None:  # the store closed a watcher that fell too far behind
                    break
                payload = self.render(rtype, obj, raw)
                if as_table:  # one-row Tables; columns only in the first event, as upstream saves bandwidth
                    table = tables.to_table(rtype, [json.loads(payload)], obj["metadata"].get("resourceVersion", ""),
                                            q.get("includeObject", "Metadata"))
                    if not first_table:
                        table["columnDefinitions"] = None
                    first_table = False
                    payload = dumps(table)
                line = b'{"type":"' + etype.encode() + b'","object":' + payload + b"}\n"
                await resp.write(line)
                if initial_left > 0:
                    initial_left -= 1
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.store.stop_watch(watcher)
        return resp


def _validate_watch_options(match: str | None, send_initial: bool | None) -> None:
    """``validateWatchOptions``: resourceVersionMatch only with sendInitialEvents, and only NotOlderThan."""
    causes: list[tuple[str, str]] = []
    if send_initial is not None and match != "NotOlderThan":
        causes.append(("FieldValueForbidden",
                       "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
    if match:
        if send_initial is None:
            causes.append(("FieldValueForbidden",
                           "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
                           "provided"))
        if match != "NotOlderThan":
            causes.append(("FieldValueNotSupported",
                           f'Unsupported value: "{match}": supported values: "NotOlderThan"'))
    if not causes:
        return
    parts = [f"resourceVersionMatch: {m}" for _, m in causes]
    joined = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    raise errors.ApiError(
        422, "Invalid", f'ListOptions.meta.k8s.io "" is invalid: {joined}',
        {"kind": "ListOptions", "group": "meta.k8s.io",
         "causes": [{"reason": r, "message": m, "field": "resourceVersionMatch"} for r, m in causes]})


JOB_ORPHAN_WARNING = ("child pods are preserved by default when jobs are deleted; set propagationPolicy=Background "
                      "to remove them or set propagationPolicy=Orphan to suppress this warning")
_RETURN_DELETED = {"Pod", "Namespace", "Service", "PersistentVolume", "PersistentVolumeClaim", "Node", "StorageClass",
                   "VolumeAttributesClass"}
_ALLOW_CREATE_ON_UPDATE = {"Lease", "Endpoints", "Event"}


def _events_v1(rtype: ResourceType) -> bool:
    return bool(rtype.storage) and rtype.group == "events.k8s.io"


def _custom_item(rtype: ResourceType, raw: bytes) -> bytes:
    """A custom object's stored JSON (no kind/apiVersion) with the served version's apiVersion and kind."""
    head = dumps({"apiVersion": rtype.api_version, "kind": rtype.kind})
    return head[:-1] + (b"," + raw[1:] if len(raw) > 2 else b"}")


def _untyped(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


def _internal_group(rtype: ResourceType) -> str:
    return rtype.group.split(".")[0] if rtype.group else "core"


def _int_param(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f'invalid value "{value}"') from None


def _summarize(data: bytes, max_length: int = 30) -> str:
    """The body excerpt upstream's ``summarizeData`` puts in decode errors (JSON as text, else hex)."""
    if not data:
        return "<empty>"
    if data[:1] == b"{":
        return data[:max_length].decode(errors="replace") + (" ..." if len(data) > max_length else "")
    return data[:max_length].hex() + (" ..." if len(data) > max_length else "")


def _not_found_page() -> web.Response:
    return web.Response(status=404, text="404 page not found\n", content_type="text/plain")
