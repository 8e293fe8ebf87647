"""Per-kind rules of the registry layer, as upstream's ``pkg/registry/*/strategy.go``.

What happens on create (defaults, initial status, generation), on update (status
subresource vs main resource, immutable fields), on delete (grace periods, finalizers)
and what is allocated (Service IPs and ports). The store calls these; it knows no kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..objects import deep_copy, now_rfc3339, parse_time
from . import defaults, pod_security, validation
from .errors import Cause
from .resources import ResourceType

if TYPE_CHECKING:
    from .store import Store

Obj = dict[str, Any]

# Kinds whose metadata.generation tracks spec changes.
_GENERATION_KINDS = {
    "Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "PodDisruptionBudget", "EndpointSlice",
    "Job", "CronJob", "Ingress", "IngressClass", "NetworkPolicy",
}
# Kinds with a status the main resource cannot change (status subresource).
_STATUS_KINDS = {
    "Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "PodDisruptionBudget", "Node", "Namespace",
    "PersistentVolume", "PersistentVolumeClaim", "Service", "VolumeAttachment", "Ingress", "Job", "CronJob",
}


class Strategy:
    """Default behaviour; subclasses override for kinds that differ."""

    def __init__(self, rtype: ResourceType):
        self.rtype = rtype

    # create ---------------------------------------------------------------
    def prepare_for_create(self, obj: Obj, store: Store) -> None:
        kind = self.rtype.kind
        if kind in _GENERATION_KINDS:
            obj["metadata"]["generation"] = 1
        if kind in _STATUS_KINDS and kind not in ("Node",):
            obj.pop("status", None)
        defaults.apply(kind, obj)

    def validate(self, obj: Obj, store: Store) -> list[Cause]:
        return validation.validate(self.rtype, obj)

    def allocate(self, obj: Obj, store: Store, dry_run: bool) -> None:
        """Reserve what the object needs from cluster-wide pools (IPs, ports)."""

    def after_create(self, obj: Obj, store: Store) -> None:
        """Side effects the apiserver itself performs once the object is stored."""

    # update ---------------------------------------------------------------
    def prepare_for_update(self, new: Obj, old: Obj, subresource: str | None, store: Store) -> None:
        if self.rtype.kind in _STATUS_KINDS:
            if subresource == "status":
                for k in list(new):
                    if k not in ("metadata", "status", "kind", "apiVersion"):
                        new.pop(k)
                for k, v in old.items():
                    if k not in ("metadata", "status", "kind", "apiVersion"):
                        new[k] = v
                # A status write cannot change labels, annotations, finalizers, owners.
                for k in ("labels", "annotations", "finalizers", "ownerReferences"):
                    if k in old["metadata"]:
                        new["metadata"][k] = old["metadata"][k]
                    else:
                        new["metadata"].pop(k, None)
            elif subresource is None:
                if "status" in old:
                    new["status"] = old["status"]
                else:
                    new.pop("status", None)
        defaults.apply(self.rtype.kind, new)

    def validate_update(self, new: Obj, old: Obj, subresource: str | None, store: Store) -> list[Cause]:
        return validation.validate_for_update(self.rtype, new, old)

    def after_update(self, obj: Obj, old: Obj, store: Store) -> None:
        pass

    # delete ---------------------------------------------------------------
    # Namespaces delete in two phases: the first DELETE only marks them Terminating.
    two_phase_delete = False

    def grace_period(self, obj: Obj, requested: int | None) -> int | None:
        """Seconds of graceful deletion; None when the kind has no graceful deletion (upstream's
        ``RESTGracefulDeleteStrategy``, which only pods implement)."""
        return None

    # ``DefaultGarbageCollectionPolicy``: a DELETE without a propagation policy orphans the dependents (batch/v1
    # Jobs) instead of deleting them in the background.
    orphans_by_default = False

    def check_delete(self, obj: Obj) -> None:
        """Raise an ``ApiError`` when ``obj`` may not be deleted at all (the system PriorityClasses)."""

    def begin_delete(self, obj: Obj, store: Store) -> None:
        """Mutate an object entering deletion (e.g. namespace phase)."""

    def finished_deleting(self, obj: Obj) -> bool:
        """Whether an object with deletionTimestamp and no finalizers may go now."""
        return not obj["metadata"].get("deletionGracePeriodSeconds")

    def after_delete(self, obj: Obj, store: Store) -> None:
        pass


class PodStrategy(Strategy):
    def prepare_for_create(self, obj: Obj, store: Store) -> None:
        from .priority import admit_pod

        spec = obj.get("spec") or {}
        given = (spec.get("priority"), spec.get("preemptionPolicy"))
        super().prepare_for_create(obj, store)
        admit_pod(obj, store, *given)  # Priority admission (mutating admission runs after defaulting)
        status: Obj = {"phase": "Pending"}
        status["qosClass"] = defaults.qos_class(obj)
        obj["status"] = status

    def grace_period(self, obj: Obj, requested: int | None) -> int | None:
        # podStrategy.CheckGracefulDelete: unscheduled or finished pods go at once.
        spec = obj.get("spec") or {}
        phase = (obj.get("status") or {}).get("phase")
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return requested
        return int(spec.get("terminationGracePeriodSeconds") or 0)

    def finished_deleting(self, obj: Obj) -> bool:
        # A pod on a node goes when its kubelet deletes it with grace 0.
        return not obj["spec"].get("nodeName") or obj["metadata"].get("deletionGracePeriodSeconds") == 0


class NamespaceStrategy(Strategy):
    def validate(self, obj: Obj, store: Store) -> list[Cause]:
        return super().validate(obj, store) + pod_security.namespace_causes(obj)

    def validate_update(self, new: Obj, old: Obj, subresource: str | None, store: Store) -> list[Cause]:
        return super().validate_update(new, old, subresource, store) + pod_security.namespace_causes(new, old)

    def prepare_for_create(self, obj: Obj, store: Store) -> None:
        super().prepare_for_create(obj, store)
        obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
        obj["status"] = {"phase": "Active"}

    def after_create(self, obj: Obj, store: Store) -> None:
        # What the service-account and root-CA publishers of kube-controller-manager add to every namespace.
        from .resources import REGISTRY

        ns = obj["metadata"]["name"]
        store.create(REGISTRY.lookup("", "v1", "serviceaccounts"), ns, {"metadata": {"name": "default"}})
        store.create(
            REGISTRY.lookup("", "v1", "configmaps"),
            ns,
            {
                "metadata": {
                    "name": "kube-root-ca.crt",
                    "annotations": {
                        "kubernetes.io/description": "Contains a CA bundle that can be used to verify the "
                        "kube-apiserver when using internal endpoints such as the internal service IP or "
                        "kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes "
                        "clusters."
                    },
                },
                "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n(embedded cluster: plain HTTP)\n"
                         "-----END CERTIFICATE-----\n"},
            },
        )

    two_phase_delete = True

    def begin_delete(self, obj: Obj, store: Store) -> None:
        obj.setdefault("status", {})["phase"] = "Terminating"

    def finished_deleting(self, obj: Obj) -> bool:
        return not (obj.get("spec") or {}).get("finalizers")

    def prepare_for_update(self, new: Obj, old: Obj, subresource: str | None, store: Store) -> None:
        super().prepare_for_update(new, old, subresource, store)
        if subresource != "finalize":
            new["spec"] = old.get("spec", {})
        else:
            new["status"] = old.get("status", {})


class ServiceStrategy(Strategy):
    def allocate(self, obj: Obj, store: Store, dry_run: bool) -> None:
        alloc = store.allocators.get("services")
        if alloc is not None:
            alloc.allocate(obj, dry_run)

    def after_delete(self, obj: Obj, store: Store) -> None:
        alloc = store.allocators.get("services")
        if alloc is not None:
            alloc.release(obj)

    def prepare_for_update(self, new: Obj, old: Obj, subresource: str | None, store: Store) -> None:
        super().prepare_for_update(new, old, subresource, store)
        if subresource is None:
            alloc = store.allocators.get("services")
            if alloc is not None:
                alloc.reconcile_update(new, old)


class WorkloadStrategy(Strategy):
    """Deployments, ReplicaSets, StatefulSets, DaemonSets, PDBs, Ingresses: initial status as upstream writes it."""

    _initial = {
        "Deployment": {},
        "ReplicaSet": {"replicas": 0},
        "StatefulSet": {"replicas": 0, "availableReplicas": 0},
        "DaemonSet": {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0,
                      "numberReady": 0},
        "PodDisruptionBudget": {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0,
                                "expectedPods": 0},
        # ingressStrategy.PrepareForCreate: an empty IngressStatus (its loadBalancer is not omitempty).
        "Ingress": {"loadBalancer": {}},
    }

    def prepare_for_create(self, obj: Obj, store: Store) -> None:
        super().prepare_for_create(obj, store)
        obj["status"] = deep_copy(self._initial.get(self.rtype.kind, {}))


class JobStrategy(WorkloadStrategy):
    """batch/v1 Jobs (``pkg/registry/batch/job/strategy.go``): an empty status, and unless ``manualSelector``,
    the generated selector on ``batch.kubernetes.io/controller-uid`` with the four job labels on the template
    (upstream generates them in Validate, once the uid is known; here the uid is drawn first). A DELETE without
    a propagation policy orphans the Job's pods."""

    orphans_by_default = True

    def prepare_for_create(self, obj: Obj, store: Store) -> None:
        import uuid

        super().prepare_for_create(obj, store)
        meta = obj["metadata"]
        meta["uid"] = str(uuid.uuid4())
        if not (obj.get("spec") or {}).get("manualSelector"):
            generate_job_selector(obj)
        defaults.job_labels(obj)


def generate_job_selector(job: Obj) -> None:
    """``generateSelector``: the job-name and controller-uid labels (legacy and batch.kubernetes.io/ keys) on the
    pod template, unless the user set them, and ``batch.kubernetes.io/controller-uid`` in the selector."""
    meta = job["metadata"]
    spec = job.setdefault("spec", {})
    tmpl = spec.setdefault("template", {})
    tmeta = tmpl.get("metadata")
    if not isinstance(tmeta, dict):
        tmpl["metadata"] = tmeta = {}
    labels = tmeta.get("labels")
    if not isinstance(labels, dict):
        labels = {}
    uid = meta.get("uid", "")
    for key, value in (("batch.kubernetes.io/controller-uid", uid), ("batch.kubernetes.io/job-name", meta.get(
            "name", "")), ("controller-uid", uid), ("job-name", meta.get("name", ""))):
        labels.setdefault(key, value)
    tmeta["labels"] = dict(sorted(labels.items()))
    tmpl["metadata"] = {"labels": tmeta["labels"], **{k: v for k, v in tmeta.items() if k != "labels"}}
    sel = spec.get("selector")
    if not isinstance(sel, dict):
        sel = {}
    ml = sel.get("matchLabels")
    if not isinstance(ml, dict):
        ml = {}
    ml.setdefault("batch.kubernetes.io/controller-uid", uid)
    sel["matchLabels"] = ml
    spec["selector"] = sel
    # Keep the Go field order: the selector sits before manualSelector and the template.
    order = ("parallelism", "completions", "activeDeadlineSeconds", "podFailurePolicy", "successPolicy",
             "backoffLimit", "backoffLimitPerIndex", "maxFailedIndexes", "selector", "manualSelector", "template")
    ordered = {k: spec[k] for k in order if k in spec}
    ordered.update({k: v for k, v in spec.items() if k not in ordered})
    job["spec"] = ordered


class PersistentVolumeStrategy(Strategy):
    def prepare_for_create(self, obj: Obj, store: Store) -> None:
        super().prepare_for_create(obj, store)
        obj["metadata"].setdefault("finalizers", ["kubernetes.io/pv-protection"])
        obj["status"] = {"phase": "Pending", "lastPhaseTransitionTime": now_rfc3339()}

    def finished_deleting(self, obj: Obj) -> bool:
        return True


class PersistentVolumeClaimStrategy(Strategy):
    def prepare_for_create(self, obj: Obj, store: Store) -> None:
        super().prepare_for_create(obj, store)
        spec = obj.setdefault("spec", {})
        if spec.get("storageClassName") is None and "volume.beta.kubernetes.io/storage-class" not in (
                obj["metadata"].get("annotations") or {}):
            # DefaultStorageClass admission: the default class (newest first, then by name) fills the gap.
            defaults = [sc for sc in store.scan("storageclasses.storage.k8s.io") if (sc["metadata"].get(
                "annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true"]
            if defaults:
                defaults.sort(key=lambda sc: (-(parse_time(sc["metadata"].get("creationTimestamp")) or 0.0),
                                              sc["metadata"]["name"]))
                spec["storageClassName"] = defaults[0]["metadata"]["name"]
        obj["metadata"].setdefault("finalizers", ["kubernetes.io/pvc-protection"])
        obj["status"] = {"phase": "Pending"}

    def finished_deleting(self, obj: Obj) -> bool:
        return True


class NodeStrategy(Strategy):
    def prepare_for_create(self, obj: Obj, store: Store) -> None:
        super().prepare_for_create(obj, store)
        conditions = (obj.get("status") or {}).get("conditions") or []
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        spec = obj.setdefault("spec", {})
        if not ready:
            # NodeTaint admission: a new node is not-ready until its kubelet says otherwise.
            taints = spec.setdefault("taints", [])
            if not any(t.get("key") == "node.kubernetes.io/not-ready" for t in taints):
                taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})


class EventStrategy(Strategy):
    """core/v1 Events (also written through events.k8s.io/v1): the fields Go always serializes."""

    def prepare_for_create(self, obj: Obj, store: Store) -> None:
        from .events import normalize_core

        super().prepare_for_create(obj, store)
        normalize_core(obj)

    def prepare_for_update(self, new: Obj, old: Obj, subresource: str | None, store: Store) -> None:
        from .events import normalize_core

        super().prepare_for_update(new, old, subresource, store)
        normalize_core(new)


_BY_KIND: dict[str, type[Strategy]] = {
    "Event": EventStrategy,
    "Pod": PodStrategy,
    "Namespace": NamespaceStrategy,
    "Service": ServiceStrategy,
    "Deployment": WorkloadStrategy,
    "ReplicaSet": WorkloadStrategy,
    "StatefulSet": WorkloadStrategy,
    "DaemonSet": WorkloadStrategy,
    "PodDisruptionBudget": WorkloadStrategy,
    "Ingress": WorkloadStrategy,
    "Job": JobStrategy,
    "CronJob": WorkloadStrategy,
    "PersistentVolume": PersistentVolumeStrategy,
    "PersistentVolumeClaim": PersistentVolumeClaimStrategy,
    "Node": NodeStrategy,
}
_CACHE: dict[str, Strategy] = {}


def strategy_for(rtype: ResourceType) -> Strategy:
    if getattr(rtype, "custom", False):  # a CRD's type carries its own schema: never cached by key
        from .crd.strategy import CustomResourceStrategy

        return CustomResourceStrategy(rtype)  # type: ignore[arg-type]
    s = _CACHE.get(rtype.key)
    if s is None:
        s = (_BY_KIND.get(rtype.kind) or _lazy_kind(rtype.kind) or Strategy)(rtype)
        _CACHE[rtype.key] = s
    return s


def _lazy_kind(kind: str) -> type[Strategy] | None:
    """Strategies living in their own modules (which import this one)."""
    if kind == "CustomResourceDefinition":
        from .crd.strategy import CRDStrategy

        return CRDStrategy
    if kind == "PriorityClass":
        from .priority import PriorityClassStrategy

        return PriorityClassStrategy
    return None
