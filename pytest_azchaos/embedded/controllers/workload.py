"""What the workload controllers share: pod health, owner references, selectors, hashes, scaling.

Mirrors the helpers of upstream ``pkg/controller/controller_utils.go``, ``pkg/api/v1/pod`` and
``k8s.io/apimachinery/pkg/util/intstr`` that the ReplicaSet, Deployment, StatefulSet, DaemonSet
and disruption controllers all use.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, datetime
from typing import Any

from ..apiserver.errors import ApiError, quiet
from ..apiserver.resources import REGISTRY, ResourceType
from ..apiserver.selectors import label_selector_matches
from ..apiserver.store import Store
from ..objects import deep_copy, parse_time

Obj = dict[str, Any]


def rtype(group: str, plural: str) -> ResourceType:
    rt = REGISTRY.lookup(group, "v1", plural)
    assert rt is not None, plural
    return rt


PODS = rtype("", "pods")
NODES = rtype("", "nodes")
PVCS = rtype("", "persistentvolumeclaims")
REPLICASETS = rtype("apps", "replicasets")
DEPLOYMENTS = rtype("apps", "deployments")
STATEFULSETS = rtype("apps", "statefulsets")
DAEMONSETS = rtype("apps", "daemonsets")
REVISIONS = rtype("apps", "controllerrevisions")
PDBS = rtype("policy", "poddisruptionbudgets")

SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


# ---------------------------------------------------------------- time


def now() -> float:
    return datetime.now(UTC).timestamp()


def later(delay: float, fn: Callable[[Hashable], None], key: Hashable) -> None:
    """Run ``fn(key)`` after ``delay`` seconds on the running loop (timed requeues)."""
    asyncio.get_running_loop().call_later(max(delay, 0.0), fn, key)


# ---------------------------------------------------------------- pods


def condition(obj: Obj, ctype: str) -> Obj | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def is_ready(pod: Obj) -> bool:
    c = condition(pod, "Ready")
    return bool(c and c.get("status") == "True")


def ready_since(pod: Obj) -> float | None:
    c = condition(pod, "Ready")
    if not c or c.get("status") != "True":
        return None
    return parse_time(c.get("lastTransitionTime")) or now()


def is_available(pod: Obj, min_ready_seconds: int, at: float | None = None) -> bool:
    """Ready for at least ``minReadySeconds`` (``podutil.IsPodAvailable``)."""
    since = ready_since(pod)
    if since is None:
        return False
    if not min_ready_seconds:
        return True
    return since + min_ready_seconds <= (at if at is not None else now())


def available_in(pods: Iterable[Obj], min_ready_seconds: int) -> float | None:
    """Seconds until the next ready-but-not-yet-available pod becomes available, if any."""
    if not min_ready_seconds:
        return None
    t = now()
    waits = [s + min_ready_seconds - t for p in pods if (s := ready_since(p)) is not None
             and s + min_ready_seconds > t]
    return min(waits) + 0.05 if waits else None


def is_terminating(pod: Obj) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def is_finished(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_active(pod: Obj) -> bool:
    """``controller.IsPodActive``: not finished and not being deleted."""
    return not is_finished(pod) and not is_terminating(pod)


# ---------------------------------------------------------------- owners and selectors


def pods_on_node(store: Store, node_name: str) -> list[Obj]:
    """Every pod bound to ``node_name``."""
    return [p for p in store.scan("pods") if (p.get("spec") or {}).get("nodeName") == node_name]


def pod_ref(pod: Obj) -> Obj:
    """An event's ``involvedObject`` for a pod (kind, namespace, name, apiVersion)."""
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta.get("namespace", ""), "name": meta["name"], "apiVersion": "v1"}


def controller_ref(obj: Obj) -> Obj | None:
    for ref in obj["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            return ref
    return None


def owner_ref(owner: Obj, controller: bool = True) -> Obj:
    ref = {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
           "uid": owner["metadata"]["uid"]}
    if controller:
        ref["controller"] = True
        ref["blockOwnerDeletion"] = True
    return ref


def selects(sel: Obj | None, labels: dict[str, str] | None) -> bool:
    """A workload's ``spec.selector`` (nil or empty selects nothing for workloads)."""
    if not sel:
        return False
    return label_selector_matches(sel, labels)


def claim(store: Store, owner: Obj, key: str, candidates: Iterable[Obj], sel: Obj | None,
          rt: ResourceType) -> list[Obj]:
    """``ControllerRefManager.Claim``: owned objects, adopting matching orphans, releasing non-matching ones."""
    uid = owner["metadata"]["uid"]
    deleting = bool(owner["metadata"].get("deletionTimestamp"))
    out: list[Obj] = []
    for obj in candidates:
        ref = controller_ref(obj)
        labels = obj["metadata"].get("labels") or {}
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if selects(sel, labels) or deleting:
                out.append(obj)
                continue
            release(store, rt, obj, uid)
            continue
        if deleting or obj["metadata"].get("deletionTimestamp") or not selects(sel, labels):
            continue
        adopted = adopt(store, rt, obj, owner)
        if adopted is not None:
            out.append(adopted)
    return out


def adopt(store: Store, rt: ResourceType, obj: Obj, owner: Obj) -> Obj | None:
    def mutate(o: Obj) -> Obj:
        if controller_ref(o) is None:
            o["metadata"]["ownerReferences"] = [*list(o["metadata"].get("ownerReferences") or []), owner_ref(owner)]
        return o

    try:
        return store.guaranteed_update(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], mutate)
    except ApiError:
        return None


def release(store: Store, rt: ResourceType, obj: Obj, uid: str) -> None:
    def mutate(o: Obj) -> Obj:
        refs = [r for r in o["metadata"].get("ownerReferences") or () if r.get("uid") != uid]
        if refs:
            o["metadata"]["ownerReferences"] = refs
        else:
            o["metadata"].pop("ownerReferences", None)
        return o

    quiet(lambda: store.guaranteed_update(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"],
                                          mutate))


# ---------------------------------------------------------------- writes


def write_status(store: Store, rt: ResourceType, obj: Obj, status: Obj) -> Obj | None:
    """Replace ``status`` through the status subresource (the store skips no-op writes)."""
    if (obj.get("status") or {}) == status:
        return None

    def mutate(o: Obj) -> Obj:
        o["status"] = deep_copy(status)
        return o

    return quiet(lambda: store.guaranteed_update(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"],
                                                 mutate, subresource="status"))


def pod_from_template(owner: Obj, template: Obj, generate_name: str | None = None,
                      name: str | None = None) -> Obj:
    """``controller.GetPodFromTemplate``: labels, annotations, finalizers and spec of the template."""
    tmeta = template.get("metadata") or {}
    meta: Obj = {}
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = generate_name or owner["metadata"]["name"] + "-"
    for k in ("labels", "annotations", "finalizers"):
        if tmeta.get(k):
            meta[k] = deep_copy(tmeta[k])
    meta["ownerReferences"] = [owner_ref(owner)]
    return {"metadata": meta, "spec": deep_copy(template.get("spec") or {})}


# ---------------------------------------------------------------- hashes and numbers


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(s: str) -> str:
    """``rand.SafeEncodeString``: each byte mapped into the no-vowel alphabet."""
    return "".join(SAFE_ALPHABET[ord(c) % len(SAFE_ALPHABET)] for c in s)


def compute_hash(obj: Any, collision_count: int | None = None) -> str:
    """``controller.ComputeHash``: FNV-32a of the object (+ collisionCount), safe-encoded decimal."""
    data = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += collision_count.to_bytes(4, "little")
    return safe_encode(str(fnv32a(data)))


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        pct = int(text[:-1])
        exact = pct * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(text)


def by_creation(objs: Iterable[Obj]) -> list[Obj]:
    return sorted(objs, key=lambda o: (o["metadata"].get("creationTimestamp", ""), o["metadata"]["name"]))


def pod_owner_keys(store: Any, ev: Any, kind: str, owner_key: str) -> list[tuple[str, str]]:
    """The (namespace, name) of the ``kind`` controllers a pod event concerns: the pod's controller if it
    is a ``kind``, else, for a live orphan, every ``kind`` whose selector matches it (it may adopt the pod)."""
    ref = controller_ref(ev.obj)
    if ref is not None:
        return [(ev.namespace, ref["name"])] if ref.get("kind") == kind else []
    if ev.type == "DELETED":
        return []
    labels = ev.obj["metadata"].get("labels") or {}
    return [(ev.namespace, owner["metadata"]["name"]) for owner in store.scan(owner_key, ev.namespace)
            if selects((owner.get("spec") or {}).get("selector"), labels)]
