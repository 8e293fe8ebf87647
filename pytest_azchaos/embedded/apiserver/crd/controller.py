"""What the apiextensions controllers inside kube-apiserver do for a CRD.

Naming (``NamesAccepted``), establishing (``Established``, the types become served), and the
finalizer ``customresourcecleanup.apiextensions.k8s.io``: a deleted CRD first deletes its objects
(``Terminating`` goes ``InstanceDeletionPending`` → ``InstanceDeletionInProgress``), then its types
stop being served and their watches end. Each step runs on the event loop right after the write
that causes it, as upstream's controllers do within a fraction of a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...objects import now_rfc3339
from ..errors import ApiError
from .types import FINALIZER, CustomResourceType, resource_types

if TYPE_CHECKING:
    from ..store import Store

Obj = dict[str, Any]
CRDS_KEY = "customresourcedefinitions.apiextensions.k8s.io"
_RETRY = 0.2


def soon(fn: Callable[..., None], *args: Any) -> None:
    """Run ``fn`` once the current write has returned (at once when no loop runs, as in unit tests)."""
    try:
        asyncio.get_running_loop().call_soon(fn, *args)
    except RuntimeError:
        fn(*args)


def _crd_type(store: Store) -> Any:
    return store.registry.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")


def set_condition(crd: Obj, ctype: str, status: str, reason: str, message: str) -> None:
    conditions = list((crd.setdefault("status", {}).get("conditions")) or [])
    now = now_rfc3339()
    for c in conditions:
        if c.get("type") == ctype:
            if c.get("status") != status:
                c["lastTransitionTime"] = now
            c.update(status=status, reason=reason, message=message)
            break
    else:
        conditions.append({"type": ctype, "status": status, "lastTransitionTime": now, "reason": reason,
                           "message": message})
    crd["status"]["conditions"] = conditions


def established(crd: Obj) -> bool:
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in (crd.get("status") or {}).get("conditions") or [])


def _conflict(store: Store, crd: Obj) -> tuple[str, str] | None:
    """(reason, message) when another CRD of the group already uses the plural or kind."""
    spec = crd["spec"]
    names = spec.get("names") or {}
    for other in store.scan(CRDS_KEY):
        if other["metadata"]["name"] == crd["metadata"]["name"] or other["spec"].get("group") != spec.get("group"):
            continue
        accepted = (other.get("status") or {}).get("acceptedNames") or {}
        if accepted.get("plural") and accepted.get("plural") == names.get("plural"):
            return "PluralConflict", f'"{names["plural"]}" is already in use'
        if accepted.get("kind") and accepted.get("kind") == names.get("kind"):
            return "KindConflict", f'"{names["kind"]}" is already in use'
    return None


def establish(store: Store, name: str) -> None:
    """NamingConditionController + EstablishingController: accept the names, then serve the types."""
    crd = store.peek(CRDS_KEY, "", name)
    if crd is None or crd["metadata"].get("deletionTimestamp"):
        return

    def mutate(c: Obj) -> Obj:
        conflict = _conflict(store, c)
        if conflict is not None:
            set_condition(c, "NamesAccepted", "False", *conflict)
            set_condition(c, "Established", "False", "NotAccepted", "not all names are accepted")
            return c
        c["status"]["acceptedNames"] = dict(c["spec"]["names"])
        set_condition(c, "NamesAccepted", "True", "NoConflicts", "no conflicts found")
        set_condition(c, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted")
        return c

    with contextlib.suppress(ApiError):
        store.guaranteed_update(_crd_type(store), "", name, mutate, subresource="status")


def serve(store: Store, crd: Obj) -> None:
    """Serve ``crd``'s types as it now reads (a schema or printer column change applies at once)."""
    name = crd["metadata"]["name"]
    wanted = resource_types(crd)
    for old in [r for r in store.registry.resources if isinstance(r, CustomResourceType) and r.crd_name == name]:
        if not any((w.group, w.version, w.plural) == (old.group, old.version, old.plural) for w in wanted):
            store.registry.remove(old.group, old.version, old.plural)
    for rtype in wanted:
        store.registry.add(rtype)


def unserve(store: Store, name: str) -> None:
    """The CRD is gone: its types leave discovery and routing, and their watches end."""
    for old in [r for r in store.registry.resources if isinstance(r, CustomResourceType) and r.crd_name == name]:
        store.registry.remove(old.group, old.version, old.plural)
        store.close_watchers(old.key)


def clean_up(store: Store, name: str) -> None:
    """The CRD finalizer: delete every object of the CRD, then release the CRD."""
    crd = store.peek(CRDS_KEY, "", name)
    if crd is None or FINALIZER not in (crd["metadata"].get("finalizers") or []):
        return
    crd_type = _crd_type(store)
    conditions = (crd.get("status") or {}).get("conditions") or []
    if not any(c.get("reason") == "InstanceDeletionInProgress" for c in conditions):
        def in_progress(c: Obj) -> Obj:
            set_condition(c, "Terminating", "True", "InstanceDeletionInProgress",
                          "CustomResource deletion is in progress")
            return c

        with contextlib.suppress(ApiError):
            store.guaranteed_update(crd_type, "", name, in_progress, subresource="status")
    types = [r for r in store.registry.resources if isinstance(r, CustomResourceType) and r.crd_name == name]
    left = 0
    if types:
        rtype = next((r for r in types if r.version == r.storage_version), types[0])
        for obj in list(store.scan(rtype.key)):
            meta = obj["metadata"]
            if not meta.get("deletionTimestamp"):
                with contextlib.suppress(ApiError):
                    store.delete(rtype, meta.get("namespace", ""), meta["name"])
        left = sum(1 for _ in store.scan(rtype.key))
    if left:
        # Objects held by their own finalizers: check again shortly.
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().call_later(_RETRY, clean_up, store, name)
        return

    def release(c: Obj) -> Obj:
        c["metadata"]["finalizers"] = [f for f in c["metadata"].get("finalizers") or [] if f != FINALIZER]
        return c

    with contextlib.suppress(ApiError):
        store.guaranteed_update(crd_type, "", name, release)


def install(store: Store, crd: Obj) -> list[CustomResourceType]:
    """Create ``crd`` unless it exists and establish it now; returns the types it serves.

    For what the embedded cluster brings along (an add-on's CRDs): its controllers can use the types
    straight away, without waiting for the event loop's next turn.
    """
    name = crd["metadata"]["name"]
    if store.peek(CRDS_KEY, "", name) is None:
        store.create(_crd_type(store), "", json.loads(json.dumps(crd)))
    establish(store, name)
    return [r for r in store.registry.resources if isinstance(r, CustomResourceType) and r.crd_name == name]
