"""ControllerRevisions for StatefulSets and DaemonSets (upstream ``pkg/controller/history``).

A revision stores the pod template as a patch, ``{"spec":{"template":{...,"$patch":"replace"}}}``,
is named ``<owner>-<hash>`` and numbered one past the highest existing revision.
"""

from __future__ import annotations

from typing import Any

from ..apiserver.errors import ApiError, quiet
from ..apiserver.store import Store
from ..objects import deep_copy
from .workload import REVISIONS, compute_hash, controller_ref, owner_ref

Obj = dict[str, Any]
HASH_KEY = "controller.kubernetes.io/hash"


def revision_patch(owner: Obj) -> Obj:
    template = deep_copy((owner.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def template_of(revision: Obj) -> Obj:
    t = deep_copy(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    t.pop("$patch", None)
    return t


def owned_revisions(store: Store, owner: Obj) -> list[Obj]:
    uid = owner["metadata"]["uid"]
    return sorted((r for r in store.scan(REVISIONS.key, owner["metadata"]["namespace"])
                   if (ref := controller_ref(r)) and ref.get("uid") == uid),
                  key=lambda r: (int(r.get("revision") or 0), r["metadata"]["name"]))


def ensure_revision(store: Store, owner: Obj, revisions: list[Obj]) -> tuple[Obj, int]:
    """The revision equal to the owner's template, created if missing; returns (revision, collisionCount)."""
    data = revision_patch(owner)
    collision = int((owner.get("status") or {}).get("collisionCount") or 0)
    top = max([int(r.get("revision") or 0) for r in revisions] or [0])
    for r in revisions:
        if r.get("data") == data:
            if int(r.get("revision") or 0) < top:
                bumped = quiet(lambda r=r: store.guaranteed_update(
                    REVISIONS, r["metadata"]["namespace"], r["metadata"]["name"],
                    lambda o: {**o, "revision": top + 1}))
                return (bumped or r), collision
            return r, collision
    ns = owner["metadata"]["namespace"]
    labels = dict(((owner.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {})
    while True:
        h = compute_hash(data, collision)
        body: Obj = {
            "metadata": {"name": f"{owner['metadata']['name']}-{h}", "namespace": ns,
                         "labels": {**labels, HASH_KEY: h}, "ownerReferences": [owner_ref(owner)]},
            "data": data,
            "revision": top + 1,
        }
        try:
            return store.create(REVISIONS, ns, body), collision
        except ApiError as e:
            if e.code != 409:
                raise
            existing = store.peek(REVISIONS.key, ns, body["metadata"]["name"])
            if existing is not None and existing.get("data") == data:
                return existing, collision
            collision += 1


def truncate_history(store: Store, owner: Obj, revisions: list[Obj], live: set[str]) -> None:
    """Delete the oldest revisions no pod or status uses, beyond ``revisionHistoryLimit``."""
    limit = int((owner.get("spec") or {}).get("revisionHistoryLimit", 10))
    history = [r for r in revisions if r["metadata"]["name"] not in live]
    for r in history[:max(len(history) - limit, 0)]:
        quiet(lambda r=r: store.delete(REVISIONS, r["metadata"]["namespace"], r["metadata"]["name"]))
