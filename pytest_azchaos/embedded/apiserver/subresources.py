"""Subresources with behaviour of their own: binding, eviction, scale.

Eviction follows ``pkg/registry/core/pod/storage/eviction.go``: pods that are Pending,
finished or already terminating go at once; otherwise the one PodDisruptionBudget that
selects the pod must allow a disruption, which is then taken from its status.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..objects import now_rfc3339
from . import errors, protobuf
from .errors import ApiError, Cause
from .resources import REGISTRY
from .selectors import format_label_selector, label_selector_matches
from .store import Store, dumps

if TYPE_CHECKING:
    from .server import ApiServer, Request

Obj = dict[str, Any]
PODS = REGISTRY.lookup("", "v1", "pods")
PDBS = REGISTRY.lookup("policy", "v1", "poddisruptionbudgets")
assert PODS is not None and PDBS is not None

EVICTION_REFUSED = "Cannot evict pod as it would violate the pod's disruption budget."
MAX_DISRUPTED_PODS = 2000  # eviction.go MaxDisruptedPodSize


def _status_success(code: int) -> web.Response:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code}
    return web.Response(body=dumps(body), status=code, content_type="application/json")


# ---------------------------------------------------------------- binding


def bind_pod(store: Store, namespace: str, name: str, node: str, annotations: dict[str, str] | None = None) -> Obj:
    """Assign a pod to a node as the scheduler's Binding does (409 if already assigned)."""
    pod = store.get(PODS, namespace, name)
    if pod["spec"].get("nodeName"):
        raise errors.conflict("", "pods/binding", name,
                              f'pod {name} is already assigned to node "{pod["spec"]["nodeName"]}"')
    if pod["metadata"].get("deletionTimestamp"):
        raise errors.conflict("", "pods/binding", name, f"pod {name} is being deleted, cannot be assigned to a host")

    def mutate(p: Obj) -> Obj:
        p["spec"]["nodeName"] = node
        if annotations:
            p["metadata"].setdefault("annotations", {}).update(annotations)
        # podutil.UpdatePodCondition: replace in place; the transition time moves only when the status does.
        conds = p.setdefault("status", {}).setdefault("conditions", [])
        new = {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now_rfc3339()}
        for i, c in enumerate(conds):
            if c.get("type") == "PodScheduled":
                if c.get("status") == "True":
                    new["lastTransitionTime"] = c.get("lastTransitionTime")
                conds[i] = new
                break
        else:
            conds.append(new)
        return p

    # Binding writes spec.nodeName, which the main resource forbids: write through the status path
    # after setting spec directly (the registry's own BindingREST does the same on storage).
    entry = store.get_entry(PODS, namespace, name)
    current = json.loads(entry.full)
    new = mutate(current)
    return store.update_raw(PODS, new, entry.obj)


async def binding_handler(req: Request, server: ApiServer) -> web.StreamResponse:
    body = json.loads(await req.http.read() or b"{}")
    target = (body.get("target") or {}).get("name")
    name = req.name or (body.get("metadata") or {}).get("name")
    if not target or not name:
        raise errors.bad_request("a binding needs metadata.name and target.name")
    bind_pod(server.store, req.namespace or "", name, target, (body.get("metadata") or {}).get("annotations"))
    return _status_success(201)


# ---------------------------------------------------------------- eviction


def _pod_ready(pod: Obj) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def matching_pdbs(store: Store, pod: Obj) -> list[Obj]:
    ns = pod["metadata"].get("namespace", "")
    labels = pod["metadata"].get("labels") or {}
    out = []
    for pdb in store.scan(PDBS.key, ns):
        sel = (pdb.get("spec") or {}).get("selector")
        if sel is None:
            continue
        if not sel:  # an empty selector matches nothing for PDBs in policy/v1? it matches every pod
            out.append(pdb)
            continue
        if label_selector_matches(sel, labels):
            out.append(pdb)
    return out


def evict(store: Store, namespace: str, name: str, delete_options: Obj | None = None) -> None:
    """Evict a pod or raise the ApiError the apiserver would answer."""
    pod = store.get(PODS, namespace, name)
    opts = delete_options or {}
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed", "Pending") or pod["metadata"].get("deletionTimestamp"):
        _delete_evicted(store, pod, opts)
        return
    pdbs = matching_pdbs(store, pod)
    if len(pdbs) > 1:
        # eviction.go answers a hand-built Status: code 500, no reason, no details.
        raise ApiError(500, "",
                       "This pod has more than one PodDisruptionBudget, which the eviction subresource does not "
                       "support.")
    if not pdbs:
        _delete_evicted(store, pod, opts)
        return
    pdb = pdbs[0]
    spec, status = pdb.get("spec") or {}, pdb.get("status") or {}
    pdb_name = pdb["metadata"]["name"]
    if not _pod_ready(pod):
        # An unhealthy pod goes without taking a disruption when the policy or a healthy budget allows it.
        policy = spec.get("unhealthyPodEvictionPolicy", "IfHealthyBudget")
        healthy_budget = int(status.get("currentHealthy", 0)) >= int(status.get("desiredHealthy", 0)) \
            and int(status.get("desiredHealthy", 0)) > 0
        if policy == "AlwaysAllow" or healthy_budget:
            _delete_evicted(store, pod, opts)
            return
    # checkAndDecrement, in upstream's order.
    if int(status.get("observedGeneration", 0)) < int(pdb["metadata"].get("generation", 1)):
        raise errors.too_many_requests(
            EVICTION_REFUSED,
            [Cause("DisruptionBudget", f"The disruption budget {pdb_name} is still being processed by the server.")],
            retry_after=10)
    allowed = int(status.get("disruptionsAllowed", 0))
    if allowed < 0:  # upstream names the resource in the singular here
        raise errors.forbidden("policy", "poddisruptionbudget", pdb_name, "pdb disruptions allowed is negative")
    if len(status.get("disruptedPods") or {}) > MAX_DISRUPTED_PODS:
        raise errors.forbidden("policy", "poddisruptionbudget", pdb_name,
                               "DisruptedPods map too big - too many evictions not confirmed by PDB controller")
    if allowed == 0:
        raise errors.too_many_requests(
            EVICTION_REFUSED,
            [Cause("DisruptionBudget",
                   f"The disruption budget {pdb_name} needs {status.get('desiredHealthy', 0)} healthy pods and "
                   f"has {status.get('currentHealthy', 0)} currently")])

    def take(p: Obj) -> Obj:
        st = p.setdefault("status", {})
        st["disruptionsAllowed"] = int(st.get("disruptionsAllowed", 0)) - 1
        if st["disruptionsAllowed"] == 0:
            _set_disruption_allowed_condition(st)
        st.setdefault("disruptedPods", {})[name] = now_rfc3339()
        return p

    store.guaranteed_update(PDBS, namespace, pdb_name, take, subresource="status")
    _delete_evicted(store, pod, opts)


def _set_disruption_allowed_condition(status: Obj) -> None:
    """pdbhelper.UpdateDisruptionAllowedCondition (apimeta.SetStatusCondition semantics)."""
    allowed = int(status.get("disruptionsAllowed", 0)) > 0
    new = {"type": "DisruptionAllowed", "status": "True" if allowed else "False",
           "observedGeneration": status.get("observedGeneration", 0), "lastTransitionTime": now_rfc3339(),
           "reason": "SufficientPods" if allowed else "InsufficientPods", "message": ""}
    conds = status.setdefault("conditions", [])
    for i, c in enumerate(conds):
        if c.get("type") == "DisruptionAllowed":
            if c.get("status") == new["status"]:
                new["lastTransitionTime"] = c.get("lastTransitionTime")
            conds[i] = new
            return
    conds.append(new)


def _delete_evicted(store: Store, pod: Obj, opts: Obj) -> None:
    ns, name = pod["metadata"].get("namespace", ""), pod["metadata"]["name"]
    if not pod["metadata"].get("deletionTimestamp"):
        def mark(p: Obj) -> Obj:
            conds = [c for c in p.setdefault("status", {}).get("conditions") or []
                     if c.get("type") != "DisruptionTarget"]
            conds.append({"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                          "lastTransitionTime": now_rfc3339(), "reason": "EvictionByEvictionAPI",
                          "message": "Eviction API: evicting"})
            p["status"]["conditions"] = conds
            return p

        store.guaranteed_update(PODS, ns, name, mark, subresource="status")
    store.delete(PODS, ns, name, opts.get("gracePeriodSeconds"), opts.get("preconditions"))


async def eviction_handler(req: Request, server: ApiServer) -> web.StreamResponse:
    raw = await req.http.read()
    try:
        body = protobuf.decode(raw, "Eviction") if raw.startswith(protobuf.MAGIC) else json.loads(raw or b"{}")
    except ValueError:
        raise errors.bad_request("invalid Eviction body") from None
    assert req.name is not None
    body_name = (body.get("metadata") or {}).get("name")
    if body_name and body_name != req.name:
        raise errors.bad_request("name in URL does not match name in Eviction object")
    evict(server.store, req.namespace or "", req.name, body.get("deleteOptions"))
    return _status_success(201)


# ---------------------------------------------------------------- scale


def _scale_of(obj: Obj) -> Obj:
    selector = format_label_selector((obj.get("spec") or {}).get("selector"))
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {"replicas": (obj.get("status") or {}).get("replicas", 0), "selector": selector},
    }


async def scale_handler(req: Request, server: ApiServer) -> web.StreamResponse:
    from .patch import apply_patch

    assert req.name is not None
    store = server.store
    ns = req.namespace or ""
    method = req.http.method
    if method == "GET":
        return web.Response(body=dumps(_scale_of(store.get(req.rtype, ns, req.name))), content_type="application/json")
    raw = await req.http.read()
    current_scale = _scale_of(store.get(req.rtype, ns, req.name))
    if method == "PUT":
        new_scale = json.loads(raw)
        rv = (new_scale.get("metadata") or {}).get("resourceVersion")
        if rv and rv != current_scale["metadata"]["resourceVersion"]:
            raise errors.conflict(req.rtype.group, req.rtype.plural, req.name, errors.STALE_OBJECT)
    else:
        new_scale = apply_patch(req.http.content_type or "", current_scale, raw, "Scale")
    replicas = (new_scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or replicas < 0:
        raise errors.invalid("autoscaling", "Scale", req.name,
                             [Cause("FieldValueInvalid", f"Invalid value: {replicas}: must be greater than or equal "
                                    "to 0", "spec.replicas")])

    def mutate(o: Obj) -> Obj:
        o["spec"]["replicas"] = replicas
        return o

    updated = store.guaranteed_update(req.rtype, ns, req.name, mutate)
    return web.Response(body=dumps(_scale_of(updated)), content_type="application/json")


def register(server: ApiServer) -> None:
    from . import authn

    server.creators["bindings"] = binding_handler
    authn.register(server)
    server.register_subresource("pods", "binding", binding_handler)
    server.register_subresource("pods", "eviction", eviction_handler)
    for key in ("deployments.apps", "replicasets.apps", "statefulsets.apps"):
        server.register_subresource(key, "scale", scale_handler)

