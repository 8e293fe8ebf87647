"""Deployment controller (upstream ``pkg/controller/deployment``): ReplicaSets per template revision.

Names the new ReplicaSet ``<deployment>-<pod-template-hash>``, rolls with maxSurge/maxUnavailable
or Recreate, scales proportionally mid-rollout, keeps revision annotations and the history limit,
and writes status and the ``Available``/``Progressing`` conditions with upstream's reasons and
messages. The ``ScalingReplicaSet`` events read "Scaled up replica set X from 0 to 3".
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from ..apiserver.errors import ApiError, quiet
from ..apiserver.store import Event
from ..objects import deep_copy, now_rfc3339, parse_time
from .base import Controller
from .events import EventRecorder
from .workload import (
    DEPLOYMENTS,
    PODS,
    REPLICASETS,
    by_creation,
    claim,
    compute_hash,
    controller_ref,
    is_finished,
    later,
    now,
    owner_ref,
    scaled_value,
    selects,
    write_status,
)

Obj = dict[str, Any]
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
_SKIP_ANNOTATIONS = {"kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY, DESIRED,
                     MAX_REPLICAS, "deprecated.deployment.rollback.to"}


# ---------------------------------------------------------------- deployment arithmetic


def replicas_of(obj: Obj | None) -> int:
    return int(((obj or {}).get("spec") or {}).get("replicas", 1) or 0) if obj else 0


def _rs_status(rs: Obj | None, field: str) -> int:
    return int(((rs or {}).get("status") or {}).get(field) or 0)


def fenceposts(d: Obj) -> tuple[int, int]:
    """``ResolveFenceposts``: (maxSurge rounded up, maxUnavailable rounded down); both 0 means 1 unavailable."""
    strategy = (d.get("spec") or {}).get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0, 0
    ru = strategy.get("rollingUpdate") or {}
    desired = replicas_of(d)
    surge = scaled_value(ru.get("maxSurge", 0), desired, True)
    unavailable = scaled_value(ru.get("maxUnavailable", 0), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(d: Obj) -> int:
    return fenceposts(d)[0]


def max_unavailable(d: Obj) -> int:
    if ((d.get("spec") or {}).get("strategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
        return 0
    desired = replicas_of(d)
    if desired == 0:
        return 0
    return min(fenceposts(d)[1], desired)


def template_without_hash(template: Obj) -> Obj:
    t = deep_copy(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
        if not labels:
            t["metadata"].pop("labels")
    return t


def revision_of(rs: Obj) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def set_condition(status: Obj, ctype: str, cstatus: str, reason: str, message: str,
                  force: bool = False) -> None:
    """``SetDeploymentCondition``: no-op for the same status and reason; keep lastTransitionTime on same status."""
    conds = status.setdefault("conditions", [])
    current = next((c for c in conds if c.get("type") == ctype), None)
    if current is not None and current.get("status") == cstatus and current.get("reason") == reason and not force:
        return
    ts = now_rfc3339()
    new = {"type": ctype, "status": cstatus, "lastUpdateTime": ts, "lastTransitionTime": ts, "reason": reason,
           "message": message}
    if current is not None and current.get("status") == cstatus:
        new["lastTransitionTime"] = current.get("lastTransitionTime", ts)
    status["conditions"] = [c for c in conds if c.get("type") != ctype] + [new]


def get_condition(status: Obj, ctype: str) -> Obj | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == ctype), None)


class DeploymentController(Controller):
    name = "deployment-controller"

    def __init__(self, store: Any):
        super().__init__(store)
        self.recorder = EventRecorder(store, "deployment-controller")

    # ------------------------------------------------------------ events

    def on_event(self, ev: Event) -> None:
        if ev.key == DEPLOYMENTS.key:
            self.enqueue((ev.namespace, ev.obj["metadata"]["name"]))
        elif ev.key == REPLICASETS.key:
            ref = controller_ref(ev.obj)
            if ref is not None:
                if ref.get("kind") == "Deployment":
                    self.enqueue((ev.namespace, ref["name"]))
                return
            if ev.type != "DELETED":
                labels = ev.obj["metadata"].get("labels") or {}
                for d in self.store.scan(DEPLOYMENTS.key, ev.namespace):
                    if selects((d.get("spec") or {}).get("selector"), labels):
                        self.enqueue((ev.namespace, d["metadata"]["name"]))
        elif ev.key == PODS.key and ev.type == "DELETED":
            # Recreate waits for old pods to be gone.
            ref = controller_ref(ev.obj)
            if ref is not None and ref.get("kind") == "ReplicaSet":
                rs = self.store.peek(REPLICASETS.key, ev.namespace, ref["name"])
                dref = controller_ref(rs) if rs else None
                if dref is not None and dref.get("kind") == "Deployment":
                    self.enqueue((ev.namespace, dref["name"]))

    # ------------------------------------------------------------ sync

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        ns, name = key
        d = self.store.peek(DEPLOYMENTS.key, ns, name)
        if d is None:
            return
        d = deep_copy(d)
        spec = d.get("spec") or {}
        rs_list = claim(self.store, d, REPLICASETS.key, list(self.store.scan(REPLICASETS.key, ns)),
                        spec.get("selector"), REPLICASETS)
        if d["metadata"].get("deletionTimestamp"):
            self._sync_status(d, rs_list, self._find_new(d, rs_list))
            return
        if spec.get("paused") or self._is_scaling_event(d, rs_list):
            self._sync(d, rs_list)
            return
        if (spec.get("strategy") or {}).get("type") == "Recreate":
            self._rollout_recreate(d, rs_list)
        else:
            self._rollout_rolling(d, rs_list)

    def _fresh(self, d: Obj) -> Obj:
        cur = self.store.peek(DEPLOYMENTS.key, d["metadata"]["namespace"], d["metadata"]["name"])
        return deep_copy(cur) if cur is not None else d

    def _owned_rs(self, d: Obj) -> list[Obj]:
        uid = d["metadata"]["uid"]
        return [rs for rs in self.store.scan(REPLICASETS.key, d["metadata"]["namespace"])
                if (r := controller_ref(rs)) and r.get("uid") == uid]

    @staticmethod
    def _find_new(d: Obj, rs_list: list[Obj]) -> Obj | None:
        """``FindNewReplicaSet``: the oldest RS whose template equals the deployment's (hash ignored)."""
        want = template_without_hash((d.get("spec") or {}).get("template") or {})
        for rs in by_creation(rs_list):
            if template_without_hash((rs.get("spec") or {}).get("template") or {}) == want:
                return rs
        return None

    def _split(self, d: Obj, rs_list: list[Obj]) -> tuple[Obj | None, list[Obj]]:
        new = self._find_new(d, rs_list)
        old = [rs for rs in rs_list if new is None or rs["metadata"]["uid"] != new["metadata"]["uid"]]
        return new, old

    def _is_scaling_event(self, d: Obj, rs_list: list[Obj]) -> bool:
        want = replicas_of(d)
        for rs in rs_list:
            if replicas_of(rs) <= 0:
                continue
            desired = (rs["metadata"].get("annotations") or {}).get(DESIRED)
            if desired is None:
                continue
            try:
                if int(desired) != want:
                    return True
            except ValueError:
                continue
        return False

    # ------------------------------------------------------------ new replica set and revisions

    def _get_all(self, d: Obj, rs_list: list[Obj], create: bool) -> tuple[Obj | None, list[Obj], Obj]:
        new, old = self._split(d, rs_list)
        new = self._get_new(d, rs_list, old, new, create)
        d = self._fresh(d)
        return new, old, d

    def _get_new(self, d: Obj, rs_list: list[Obj], old: list[Obj], existing: Obj | None,
                 create: bool) -> Obj | None:
        ns = d["metadata"]["namespace"]
        new_revision = str(max([revision_of(rs) for rs in old] or [0]) + 1)
        status = deep_copy(d.get("status") or {})
        has_deadline = (d.get("spec") or {}).get("progressDeadlineSeconds") is not None
        if existing is not None:
            changed = [False]

            def mutate(rs: Obj) -> Obj:
                changed[0] = self._set_new_rs_annotations(d, rs, new_revision, True)
                if (rs["spec"].get("minReadySeconds") or 0) != ((d.get("spec") or {}).get("minReadySeconds") or 0):
                    rs["spec"]["minReadySeconds"] = (d.get("spec") or {}).get("minReadySeconds") or 0
                    changed[0] = True
                return rs

            updated = quiet(lambda: self.store.guaranteed_update(REPLICASETS, ns, existing["metadata"]["name"],
                                                                 mutate))
            rs = updated or existing
            self._set_deployment_revision(d, (rs["metadata"].get("annotations") or {}).get(REVISION, ""))
            if has_deadline and get_condition(status, "Progressing") is None:
                set_condition(status, "Progressing", "True", "FoundNewReplicaSet",
                              f'Found new replica set "{rs["metadata"]["name"]}"')
                write_status(self.store, DEPLOYMENTS, self._fresh(d), status)
            return rs
        if not create:
            return None
        template = deep_copy((d.get("spec") or {}).get("template") or {})
        collision = int(status.get("collisionCount") or 0)
        pth = compute_hash(template, collision)
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pth
        selector = deep_copy((d.get("spec") or {}).get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pth
        rs_name = f"{d['metadata']['name']}-{pth}"
        body: Obj = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": rs_name, "namespace": ns, "labels": dict(template["metadata"]["labels"]),
                         "ownerReferences": [owner_ref(d)]},
            "spec": {"replicas": 0, "minReadySeconds": (d.get("spec") or {}).get("minReadySeconds") or 0,
                     "selector": selector, "template": template},
        }
        if not body["spec"]["minReadySeconds"]:
            body["spec"].pop("minReadySeconds")
        count = self._new_rs_replicas(d, [*old, body], body)
        body["spec"]["replicas"] = count
        self._set_new_rs_annotations(d, body, new_revision, False)
        try:
            created = self.store.create(REPLICASETS, ns, body)
        except ApiError as e:
            if e.code == 409:
                other = self.store.peek(REPLICASETS.key, ns, rs_name)
                ref = controller_ref(other) if other else None
                if other is not None and ref and ref.get("uid") == d["metadata"]["uid"] and \
                        template_without_hash(other["spec"].get("template") or {}) == \
                        template_without_hash((d.get("spec") or {}).get("template") or {}):
                    return other
                status["collisionCount"] = collision + 1
                write_status(self.store, DEPLOYMENTS, self._fresh(d), status)
                return None
            if e.code in (403, 404):
                return None
            msg = f'Failed to create new replica set "{rs_name}": {e.message}'
            if has_deadline:
                set_condition(status, "Progressing", "False", "ReplicaSetCreateError", msg)
                write_status(self.store, DEPLOYMENTS, self._fresh(d), status)
            self.recorder.warning(d, "ReplicaSetCreateError", msg)
            return None
        if count > 0:
            self.recorder.normal(d, "ScalingReplicaSet", f"Scaled up replica set {rs_name} from 0 to {count}")
        self._set_deployment_revision(d, new_revision)
        if has_deadline:
            status = deep_copy(self._fresh(d).get("status") or {})
            set_condition(status, "Progressing", "True", "NewReplicaSetCreated", f'Created new replica set "{rs_name}"')
            write_status(self.store, DEPLOYMENTS, self._fresh(d), status)
        return created

    def _set_new_rs_annotations(self, d: Obj, rs: Obj, new_revision: str, exists: bool) -> bool:
        ann = rs["metadata"].setdefault("annotations", {})
        changed = False
        for k, v in ((d["metadata"].get("annotations") or {}).items()):
            if k in _SKIP_ANNOTATIONS:
                continue
            if ann.get(k) != v:
                ann[k] = v
                changed = True
        old = ann.get(REVISION)
        try:
            old_int = int(old) if old is not None else 0
        except ValueError:
            old_int = 0
        if old_int < int(new_revision):
            ann[REVISION] = new_revision
            changed = True
            if old is not None:
                history = ann.get(REVISION_HISTORY)
                ann[REVISION_HISTORY] = f"{history},{old}" if history else old
        if not exists:
            changed = self._set_replicas_annotations(rs, replicas_of(d), replicas_of(d) + max_surge(d)) or changed
        return changed

    @staticmethod
    def _set_replicas_annotations(rs: Obj, desired: int, maximum: int) -> bool:
        ann = rs["metadata"].setdefault("annotations", {})
        if ann.get(DESIRED) == str(desired) and ann.get(MAX_REPLICAS) == str(maximum):
            return False
        ann[DESIRED] = str(desired)
        ann[MAX_REPLICAS] = str(maximum)
        return True

    def _set_deployment_revision(self, d: Obj, revision: str) -> None:
        if not revision or (d["metadata"].get("annotations") or {}).get(REVISION) == revision:
            return

        def mutate(o: Obj) -> Obj:
            o["metadata"].setdefault("annotations", {})[REVISION] = revision
            return o

        updated = quiet(lambda: self.store.guaranteed_update(DEPLOYMENTS, d["metadata"]["namespace"],
                                                             d["metadata"]["name"], mutate))
        if updated is not None:
            d["metadata"] = updated["metadata"]

    def _new_rs_replicas(self, d: Obj, all_rs: list[Obj], new: Obj) -> int:
        """``NewRSNewReplicas``."""
        want = replicas_of(d)
        if ((d.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
            return want
        surge = scaled_value((((d.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {})
                             .get("maxSurge", 0), want, True)
        current = sum(replicas_of(rs) for rs in all_rs)
        max_total = want + surge
        if current >= max_total:
            return replicas_of(new)
        return replicas_of(new) + min(max_total - current, want - replicas_of(new))

    # ------------------------------------------------------------ scaling

    def _scale_rs(self, d: Obj, rs: Obj, size: int, operation: str | None = None) -> Obj:
        """``scaleReplicaSet``: new size and replica annotations; event when the size changes."""
        size = max(size, 0)
        old = replicas_of(rs)
        size_changed = old != size
        desired, maximum = replicas_of(d), replicas_of(d) + max_surge(d)
        ann = rs["metadata"].get("annotations") or {}
        ann_changed = ann.get(DESIRED) != str(desired) or ann.get(MAX_REPLICAS) != str(maximum)
        if not size_changed and not ann_changed:
            return rs

        def mutate(o: Obj) -> Obj:
            o["spec"]["replicas"] = size
            self._set_replicas_annotations(o, desired, maximum)
            return o

        updated = quiet(lambda: self.store.guaranteed_update(REPLICASETS, rs["metadata"]["namespace"],
                                                             rs["metadata"]["name"], mutate))
        if updated is None:
            return rs
        if size_changed:
            op = operation or ("up" if old < size else "down")
            self.recorder.normal(d, "ScalingReplicaSet",
                                 f"Scaled {op} replica set {rs['metadata']['name']} from {old} to {size}")
        return updated

    def _sync(self, d: Obj, rs_list: list[Obj]) -> None:
        new, old, d = self._get_all(d, rs_list, False)
        self._scale(d, new, old)
        if (d.get("spec") or {}).get("paused"):
            self._cleanup(d, [rs for rs in self._owned_rs(d) if new is None or rs["metadata"]["uid"] !=
                              new["metadata"]["uid"]])
        self._sync_status(d, self._owned_rs(d), self._refresh(new))

    def _scale(self, d: Obj, new: Obj | None, old: list[Obj]) -> None:
        want = replicas_of(d)
        active_or_latest = self._active_or_latest(new, old)
        if active_or_latest is not None:
            if replicas_of(active_or_latest) != want:
                self._scale_rs(d, active_or_latest, want)
            return
        if self._saturated(d, new):
            for rs in old:
                if replicas_of(rs) > 0:
                    self._scale_rs(d, rs, 0)
            return
        if ((d.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
            return
        all_rs = [rs for rs in [*old, new] if rs is not None and replicas_of(rs) > 0]
        current = sum(replicas_of(rs) for rs in all_rs)
        allowed = want + max_surge(d) if want > 0 else 0
        to_add = allowed - current
        operation = None
        if to_add > 0:
            # ReplicaSetsBySizeNewer: larger first, newer first on ties.
            ties = {}
            for r in all_rs:
                ties.setdefault(replicas_of(r), []).append(r)
            all_rs = [r for size in sorted(ties, reverse=True)
                      for r in sorted(ties[size], key=lambda r: (r["metadata"].get("creationTimestamp", ""),
                                                                 r["metadata"]["name"]), reverse=True)]
            operation = "up"
        elif to_add < 0:
            ties = {}
            for r in all_rs:
                ties.setdefault(replicas_of(r), []).append(r)
            all_rs = [r for size in sorted(ties, reverse=True)
                      for r in sorted(ties[size], key=lambda r: (r["metadata"].get("creationTimestamp", ""),
                                                                 r["metadata"]["name"]))]
            operation = "down"
        added = 0
        sizes: dict[str, int] = {}
        for rs in all_rs:
            if to_add != 0:
                prop = self._proportion(d, rs, to_add, added)
                sizes[rs["metadata"]["name"]] = replicas_of(rs) + prop
                added += prop
            else:
                sizes[rs["metadata"]["name"]] = replicas_of(rs)
        for i, rs in enumerate(all_rs):
            n = rs["metadata"]["name"]
            if i == 0 and to_add != 0:
                sizes[n] = max(sizes[n] + (to_add - added), 0)
            self._scale_rs(d, rs, sizes[n], operation)

    def _proportion(self, d: Obj, rs: Obj, to_add: int, added: int) -> int:
        if replicas_of(rs) == 0 or to_add == 0 or to_add == added:
            return 0
        want = replicas_of(d)
        if want == 0:
            fraction = -replicas_of(rs)
        else:
            max_now = want + max_surge(d)
            try:
                before = int((rs["metadata"].get("annotations") or {}).get(MAX_REPLICAS, "0"))
            except ValueError:
                before = 0
            if before == 0:
                before = int((d.get("status") or {}).get("replicas") or 0) or 1
            fraction = _round_half_away(replicas_of(rs) * max_now / before) - replicas_of(rs)
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    @staticmethod
    def _active_or_latest(new: Obj | None, old: list[Obj]) -> Obj | None:
        if new is None and not old:
            return None
        old_sorted = sorted(old, key=lambda r: (r["metadata"].get("creationTimestamp", ""), r["metadata"]["name"]),
                            reverse=True)
        active = [rs for rs in [*old_sorted, new] if rs is not None and replicas_of(rs) > 0]
        if not active:
            return new if new is not None else old_sorted[0]
        if len(active) == 1:
            return active[0]
        return None

    @staticmethod
    def _saturated(d: Obj, new: Obj | None) -> bool:
        if new is None:
            return False
        desired = (new["metadata"].get("annotations") or {}).get(DESIRED)
        want = replicas_of(d)
        return replicas_of(new) == want and desired == str(want) and _rs_status(new, "availableReplicas") == want

    def _refresh(self, rs: Obj | None) -> Obj | None:
        if rs is None:
            return None
        return self.store.peek(REPLICASETS.key, rs["metadata"]["namespace"], rs["metadata"]["name"]) or rs

    # ------------------------------------------------------------ rolling update

    def _rollout_rolling(self, d: Obj, rs_list: list[Obj]) -> None:
        new, old, d = self._get_all(d, rs_list, True)
        if new is None:
            self._sync_rollout_status(d, self._owned_rs(d), None)
            return
        all_rs = [*old, new]
        if self._reconcile_new(d, all_rs, new):
            self._sync_rollout_status(d, self._owned_rs(d), self._refresh(new))
            return
        new = self._refresh(new)
        old = [self._refresh(rs) or rs for rs in old]
        if self._reconcile_old(d, [*old, new], [rs for rs in old if replicas_of(rs) > 0], new):
            self._sync_rollout_status(d, self._owned_rs(d), self._refresh(new))
            return
        if self._complete(d, d.get("status") or {}):
            self._cleanup(d, old)
        self._sync_rollout_status(d, self._owned_rs(d), self._refresh(new))

    def _reconcile_new(self, d: Obj, all_rs: list[Obj], new: Obj) -> bool:
        want = replicas_of(d)
        if replicas_of(new) == want:
            return False
        if replicas_of(new) > want:
            return self._scale_rs(d, new, want) is not new
        count = self._new_rs_replicas(d, all_rs, new)
        return self._scale_rs(d, new, count) is not new

    def _reconcile_old(self, d: Obj, all_rs: list[Obj], old: list[Obj], new: Obj) -> bool:
        old_count = sum(replicas_of(rs) for rs in old)
        if old_count == 0:
            return False
        all_count = sum(replicas_of(rs) for rs in all_rs)
        min_available = replicas_of(d) - max_unavailable(d)
        new_unavailable = replicas_of(new) - _rs_status(new, "availableReplicas")
        max_scaled_down = all_count - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        old, cleaned = self._cleanup_unhealthy(d, old, max_scaled_down)
        scaled = self._scale_down_old(d, [*old, new], old)
        return cleaned + scaled > 0

    def _cleanup_unhealthy(self, d: Obj, old: list[Obj], max_cleanup: int) -> tuple[list[Obj], int]:
        total = 0
        out = []
        for rs in by_creation(old):
            if total >= max_cleanup or replicas_of(rs) == 0 or replicas_of(rs) == _rs_status(rs, "availableReplicas"):
                out.append(rs)
                continue
            down = min(max_cleanup - total, replicas_of(rs) - _rs_status(rs, "availableReplicas"))
            out.append(self._scale_rs(d, rs, replicas_of(rs) - down))
            total += down
        return out, total

    def _scale_down_old(self, d: Obj, all_rs: list[Obj], old: list[Obj]) -> int:
        min_available = replicas_of(d) - max_unavailable(d)
        available = sum(_rs_status(rs, "availableReplicas") for rs in all_rs)
        if available <= min_available:
            return 0
        total = 0
        budget = available - min_available
        for rs in by_creation(old):
            if total >= budget:
                break
            if replicas_of(rs) == 0:
                continue
            down = min(replicas_of(rs), budget - total)
            self._scale_rs(d, rs, replicas_of(rs) - down)
            total += down
        return total

    # ------------------------------------------------------------ recreate

    def _rollout_recreate(self, d: Obj, rs_list: list[Obj]) -> None:
        new, old, d = self._get_all(d, rs_list, False)
        scaled = False
        for rs in old:
            if replicas_of(rs) > 0:
                self._scale_rs(d, rs, 0)
                scaled = True
        if scaled:
            self._sync_rollout_status(d, self._owned_rs(d), self._refresh(new))
            return
        if self._old_pods_running(d, new, old):
            self._sync_rollout_status(d, self._owned_rs(d), self._refresh(new))
            return
        if new is None:
            new, old, d = self._get_all(d, self._owned_rs(d), True)
        if new is not None and replicas_of(new) != replicas_of(d):
            self._scale_rs(d, new, replicas_of(d))
        if self._complete(d, d.get("status") or {}):
            self._cleanup(d, old)
        self._sync_rollout_status(d, self._owned_rs(d), self._refresh(new))

    def _old_pods_running(self, d: Obj, new: Obj | None, old: list[Obj]) -> bool:
        if sum(_rs_status(self._refresh(rs), "replicas") for rs in old):
            return True
        old_uids = {rs["metadata"]["uid"] for rs in old}
        for pod in self.store.scan(PODS.key, d["metadata"]["namespace"]):
            ref = controller_ref(pod)
            if ref and ref.get("uid") in old_uids and not is_finished(pod):
                return True
        return False

    # ------------------------------------------------------------ history

    def _cleanup(self, d: Obj, old: list[Obj]) -> None:
        limit = (d.get("spec") or {}).get("revisionHistoryLimit")
        if limit is None:
            return
        candidates = [rs for rs in (self._refresh(r) for r in old) if rs is not None
                      and replicas_of(rs) == 0 and _rs_status(rs, "replicas") == 0
                      and not rs["metadata"].get("deletionTimestamp")]
        extra = len(candidates) - int(limit)
        if extra <= 0:
            return
        candidates.sort(key=lambda rs: (revision_of(rs), rs["metadata"].get("creationTimestamp", "")))
        for rs in candidates[:extra]:
            quiet(lambda rs=rs: self.store.delete(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"]))

    # ------------------------------------------------------------ status

    def _calculate_status(self, d: Obj, all_rs: list[Obj], new: Obj | None) -> Obj:
        available = sum(_rs_status(rs, "availableReplicas") for rs in all_rs)
        total = sum(replicas_of(rs) for rs in all_rs)
        old_status = d.get("status") or {}
        status: Obj = {"observedGeneration": int(d["metadata"].get("generation", 1))}
        status["replicas"] = sum(_rs_status(rs, "replicas") for rs in all_rs)
        status["updatedReplicas"] = _rs_status(new, "replicas") if new else 0
        status["readyReplicas"] = sum(_rs_status(rs, "readyReplicas") for rs in all_rs)
        status["availableReplicas"] = available
        status["unavailableReplicas"] = max(total - available, 0)
        status["terminatingReplicas"] = sum(_rs_status(rs, "terminatingReplicas") for rs in all_rs)
        for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"):
            if not status[k]:
                status.pop(k)
        if old_status.get("collisionCount") is not None:
            status["collisionCount"] = old_status["collisionCount"]
        if old_status.get("conditions"):
            status["conditions"] = deep_copy(old_status["conditions"])
        if available >= replicas_of(d) - max_unavailable(d):
            set_condition(status, "Available", "True", "MinimumReplicasAvailable",
                          "Deployment has minimum availability.")
        else:
            set_condition(status, "Available", "False", "MinimumReplicasUnavailable",
                          "Deployment does not have minimum availability.")
        return status

    def _sync_status(self, d: Obj, all_rs: list[Obj], new: Obj | None) -> None:
        d = self._fresh(d)
        write_status(self.store, DEPLOYMENTS, d, self._calculate_status(d, all_rs, new))

    @staticmethod
    def _complete(d: Obj, status: Obj) -> bool:
        want = replicas_of(d)
        return int(status.get("updatedReplicas") or 0) == want and int(status.get("replicas") or 0) == want \
            and int(status.get("availableReplicas") or 0) == want \
            and int(status.get("observedGeneration") or 0) >= int(d["metadata"].get("generation", 1))

    @staticmethod
    def _progressing(d: Obj, new_status: Obj) -> bool:
        old = d.get("status") or {}

        def g(s: Obj, k: str) -> int:
            return int(s.get(k) or 0)

        return (g(new_status, "updatedReplicas") > g(old, "updatedReplicas")
                or g(new_status, "replicas") - g(new_status, "updatedReplicas")
                < g(old, "replicas") - g(old, "updatedReplicas")
                or g(new_status, "readyReplicas") > g(old, "readyReplicas")
                or g(new_status, "availableReplicas") > g(old, "availableReplicas"))

    def _sync_rollout_status(self, d: Obj, all_rs: list[Obj], new: Obj | None) -> None:
        d = self._fresh(d)
        status = self._calculate_status(d, all_rs, new)
        deadline = (d.get("spec") or {}).get("progressDeadlineSeconds")
        if deadline is None:
            status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != "Progressing"]
            if not status["conditions"]:
                status.pop("conditions")
        current = get_condition(d.get("status") or {}, "Progressing")
        complete_already = status.get("replicas", 0) == status.get("updatedReplicas", 0) and current is not None \
            and current.get("reason") == "NewReplicaSetAvailable"
        rs_name = new["metadata"]["name"] if new else None
        if deadline is not None and not complete_already:
            if self._complete(d, status):
                msg = f'ReplicaSet "{rs_name}" has successfully progressed.' if rs_name else \
                    f'Deployment "{d["metadata"]["name"]}" has successfully progressed.'
                set_condition(status, "Progressing", "True", "NewReplicaSetAvailable", msg)
            elif self._progressing(d, status):
                msg = f'ReplicaSet "{rs_name}" is progressing.' if rs_name else \
                    f'Deployment "{d["metadata"]["name"]}" is progressing.'
                ts = now_rfc3339()
                cond = {"type": "Progressing", "status": "True", "lastUpdateTime": ts, "lastTransitionTime": ts,
                        "reason": "ReplicaSetUpdated", "message": msg}
                if current is not None and current.get("status") == "True":
                    cond["lastTransitionTime"] = current.get("lastTransitionTime", ts)
                status["conditions"] = [c for c in status.get("conditions") or []
                                        if c.get("type") != "Progressing"] + [cond]
            elif self._timed_out(d, status):
                msg = f'ReplicaSet "{rs_name}" has timed out progressing.' if rs_name else \
                    f'Deployment "{d["metadata"]["name"]}" has timed out progressing.'
                set_condition(status, "Progressing", "False", "ProgressDeadlineExceeded", msg)
        write_status(self.store, DEPLOYMENTS, d, status)
        self._requeue_stuck(d, status)

    @staticmethod
    def _timed_out(d: Obj, status: Obj) -> bool:
        cond = get_condition(status, "Progressing")
        deadline = (d.get("spec") or {}).get("progressDeadlineSeconds")
        if cond is None or deadline is None or cond.get("reason") in ("NewReplicaSetAvailable",
                                                                      "ProgressDeadlineExceeded"):
            return False
        since = parse_time(cond.get("lastUpdateTime"))
        return since is not None and since + int(deadline) < now()

    def _requeue_stuck(self, d: Obj, status: Obj) -> None:
        cond = get_condition(status, "Progressing")
        deadline = (d.get("spec") or {}).get("progressDeadlineSeconds")
        if cond is None or deadline is None or self._complete(d, status) or \
                cond.get("reason") in ("NewReplicaSetAvailable", "ProgressDeadlineExceeded"):
            return
        since = parse_time(cond.get("lastUpdateTime")) or now()
        later(since + int(deadline) - now() + 1, self.enqueue, (d["metadata"]["namespace"], d["metadata"]["name"]))


def _round_half_away(x: float) -> int:
    """``integer.RoundToInt32``: math.Round, halves away from zero."""
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)
