"""The resource types the embedded API server serves, and what each one supports.

One table, read by discovery, routing, field selectors and printing. Names, verbs,
short names, categories and storage version hashes are those of Kubernetes v1.36.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CRUD = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
CRUD_NO_COLLECTION = ("create", "delete", "get", "list", "patch", "update", "watch")
CREATE_ONLY = ("create",)
STATUS_VERBS = ("get", "patch", "update")

# Field selectors every resource supports (k8s generic registry: DefaultClusterScopedAttr / namespaced).
_META_FIELDS = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class ResourceType:
    """One served resource: ``pods``, ``deployments.apps`` ..."""

    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = CRUD
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    storage_version_hash: str = ""
    subresources: tuple[Subresource, ...] = ()
    field_selectors: tuple[str, ...] = _META_FIELDS
    # Stored under another resource's key (events.k8s.io/v1 events are core/v1 events).
    storage: str | None = None

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """Storage key: ``pods`` or ``deployments.apps``."""
        if self.storage:
            return self.storage
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    def subresource(self, name: str) -> Subresource | None:
        for sub in self.subresources:
            if sub.name == name:
                return sub
        return None


def _status(kind: str) -> Subresource:
    return Subresource("status", kind, STATUS_VERBS)


def _scale() -> Subresource:
    return Subresource("scale", "Scale", STATUS_VERBS, "autoscaling", "v1")


RESOURCES: tuple[ResourceType, ...] = (
    # core/v1
    ResourceType("", "v1", "bindings", "binding", "Binding", True, ("create",)),
    ResourceType("", "v1", "configmaps", "configmap", "ConfigMap", True, short_names=("cm",),
                 storage_version_hash="qFsyl6wFWjQ="),
    ResourceType("", "v1", "endpoints", "endpoints", "Endpoints", True, short_names=("ep",),
                 storage_version_hash="fWeeMqaN/OA="),
    ResourceType("", "v1", "events", "event", "Event", True, short_names=("ev",),
                 storage_version_hash="r2yiGXH7wu8=",
                 field_selectors=(*_META_FIELDS, "involvedObject.kind", "involvedObject.namespace",
                                  "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
                                  "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                                  "reportingComponent", "source", "type")),
    ResourceType("", "v1", "namespaces", "namespace", "Namespace", False, CRUD_NO_COLLECTION,
                 short_names=("ns",), storage_version_hash="Q3oi5N2YM8M=",
                 subresources=(Subresource("finalize", "Namespace", ("update",)), _status("Namespace")),
                 field_selectors=("metadata.name", "status.phase")),
    ResourceType("", "v1", "nodes", "node", "Node", False, short_names=("no",),
                 storage_version_hash="XwShjMxG9Fs=", subresources=(_status("Node"),),
                 field_selectors=("metadata.name", "spec.unschedulable")),
    ResourceType("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", True,
                 short_names=("pvc",), storage_version_hash="QWTyNDq0dC4=",
                 subresources=(_status("PersistentVolumeClaim"),)),
    ResourceType("", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", False,
                 short_names=("pv",), storage_version_hash="HN/zwEC+JgM=",
                 subresources=(_status("PersistentVolume"),)),
    ResourceType("", "v1", "pods", "pod", "Pod", True, short_names=("po",), categories=("all",),
                 storage_version_hash="xPOwRZ+Yhw8=",
                 subresources=(
                     Subresource("binding", "Binding", ("create",)),
                     Subresource("eviction", "Eviction", ("create",), "policy", "v1"),
                     Subresource("exec", "PodExecOptions", ("create", "get")),
                     Subresource("log", "Pod", ("get",)),
                     _status("Pod"),
                 ),
                 field_selectors=(*_META_FIELDS, "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                                  "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
                                  "status.podIPs", "status.nominatedNodeName")),
    ResourceType("", "v1", "secrets", "secret", "Secret", True, storage_version_hash="S6u1pOWzb84=",
                 field_selectors=(*_META_FIELDS, "type")),
    ResourceType("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True, short_names=("sa",),
                 storage_version_hash="pbx9ZvyFpBE="),
    ResourceType("", "v1", "services", "service", "Service", True, short_names=("svc",), categories=("all",),
                 storage_version_hash="0/CO1lhkEBI=", subresources=(_status("Service"),)),
    # apps/v1
    ResourceType("apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", True,
                 storage_version_hash="85nkx63pcBU="),
    ResourceType("apps", "v1", "daemonsets", "daemonset", "DaemonSet", True, short_names=("ds",),
                 categories=("all",), storage_version_hash="dd7pWHUlMKQ=", subresources=(_status("DaemonSet"),)),
    ResourceType("apps", "v1", "deployments", "deployment", "Deployment", True, short_names=("deploy",),
                 categories=("all",), storage_version_hash="8aSe+NMegvE=",
                 subresources=(_scale(), _status("Deployment"))),
    ResourceType("apps", "v1", "replicasets", "replicaset", "ReplicaSet", True, short_names=("rs",),
                 categories=("all",), storage_version_hash="P1RzHs8/mWQ=",
                 subresources=(_scale(), _status("ReplicaSet"))),
    ResourceType("apps", "v1", "statefulsets", "statefulset", "StatefulSet", True, short_names=("sts",),
                 categories=("all",), storage_version_hash="H+vl74LkKdo=",
                 subresources=(_scale(), _status("StatefulSet"))),
    # batch/v1
    ResourceType("batch", "v1", "cronjobs", "cronjob", "CronJob", True, short_names=("cj",), categories=("all",),
                 storage_version_hash="sd5LIXh4Fjs=", subresources=(_status("CronJob"),)),
    ResourceType("batch", "v1", "jobs", "job", "Job", True, categories=("all",),
                 storage_version_hash="mudhfqk/qZY=", subresources=(_status("Job"),)),
    # policy/v1
    ResourceType("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", True,
                 short_names=("pdb",), storage_version_hash="EVWiDmWqyJw=",
                 subresources=(_status("PodDisruptionBudget"),)),
    # discovery.k8s.io/v1
    ResourceType("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", True,
                 storage_version_hash="qgS0xkrxYAI=",
                 field_selectors=(*_META_FIELDS, "addressType")),
    # rbac.authorization.k8s.io/v1: stored and served (kubectl apply of ci/cronjob/), not enforced
    ResourceType("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding",
                 False, storage_version_hash="48tpQ8gZHFc="),
    ResourceType("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", False,
                 storage_version_hash="bYE5ZWDrJ44="),
    ResourceType("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", True,
                 storage_version_hash="eGsCzGH6b1g="),
    ResourceType("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", True,
                 storage_version_hash="7FuwZcIIItM="),
    # storage.k8s.io/v1
    ResourceType("storage.k8s.io", "v1", "csidrivers", "csidriver", "CSIDriver", False,
                 storage_version_hash="hL6j/rwBV5w="),
    ResourceType("storage.k8s.io", "v1", "csinodes", "csinode", "CSINode", False,
                 storage_version_hash="Pe62DkZtjuo="),
    ResourceType("storage.k8s.io", "v1", "csistoragecapacities", "csistoragecapacity", "CSIStorageCapacity", True,
                 storage_version_hash="xeVl+2Ly1kE="),
    ResourceType("storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", False,
                 short_names=("sc",), storage_version_hash="K+m6uJwbjGY="),
    ResourceType("storage.k8s.io", "v1", "volumeattachments", "volumeattachment", "VolumeAttachment", False,
                 storage_version_hash="tJx/ezt6UDU=", subresources=(_status("VolumeAttachment"),)),
    ResourceType("storage.k8s.io", "v1", "volumeattributesclasses", "volumeattributesclass", "VolumeAttributesClass",
                 False, short_names=("vac",), storage_version_hash="tIjydgKBC5w="),
    # authentication.k8s.io/v1: reviews answered at once, never stored (no storage version hash)
    ResourceType("authentication.k8s.io", "v1", "selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview", False,
                 CREATE_ONLY),
    ResourceType("authentication.k8s.io", "v1", "tokenreviews", "tokenreview", "TokenReview", False, CREATE_ONLY),
    # networking.k8s.io/v1: stored and served; no controller acts on them (no data-plane enforcement)
    ResourceType("networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", False,
                 storage_version_hash="l/iqIbDgFyQ="),
    ResourceType("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", True, short_names=("ing",),
                 storage_version_hash="39NQlfNR+bo=", subresources=(_status("Ingress"),)),
    ResourceType("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", True,
                 short_names=("netpol",), storage_version_hash="YpfwF18m1G8="),
    # coordination.k8s.io/v1
    ResourceType("coordination.k8s.io", "v1", "leases", "lease", "Lease", True,
                 storage_version_hash="gqkMMb/YqFM="),
    # apiextensions.k8s.io/v1: CustomResourceDefinitions (the types they define are added at run time, crd/)
    ResourceType("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
                 "CustomResourceDefinition", False, short_names=("crd", "crds"), categories=("api-extensions",),
                 storage_version_hash="M5uH+AlWATY=", subresources=(_status("CustomResourceDefinition"),)),
    # scheduling.k8s.io/v1
    ResourceType("scheduling.k8s.io", "v1", "priorityclasses", "priorityclass", "PriorityClass", False,
                 short_names=("pc",), storage_version_hash="1QwjyaZjj3Y="),
    # events.k8s.io/v1: a second view of core/v1 events
    ResourceType("events.k8s.io", "v1", "events", "event", "Event", True, short_names=("ev",),
                 storage_version_hash="r2yiGXH7wu8=", storage="events",
                 field_selectors=(*_META_FIELDS, "regarding.kind", "regarding.namespace", "regarding.name",
                                  "regarding.uid", "regarding.apiVersion", "regarding.resourceVersion",
                                  "regarding.fieldPath", "reason", "reportingController", "type")),
)

# The order of /apis on a v1.36 apiserver (golden discovery/apis.json), restricted to the groups served.
GROUP_ORDER: tuple[str, ...] = (
    "apps", "events.k8s.io", "authentication.k8s.io", "batch", "networking.k8s.io", "policy",
    "rbac.authorization.k8s.io", "storage.k8s.io",
    "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
)


@dataclass
class Registry:
    """Lookup of served resources by group/version/plural and by kind."""

    resources: tuple[ResourceType, ...] = RESOURCES
    _by_path: dict[tuple[str, str, str], ResourceType] = field(default_factory=dict, init=False)
    _by_kind: dict[tuple[str, str], ResourceType] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for r in self.resources:
            self._by_path[(r.group, r.version, r.plural)] = r
            self._by_kind.setdefault((r.api_version, r.kind), r)

    def add(self, rtype: ResourceType) -> None:
        """Serve ``rtype`` from now on (a custom resource whose CRD became Established)."""
        self.remove(rtype.group, rtype.version, rtype.plural)
        self.resources = (*self.resources, rtype)
        self._by_path[(rtype.group, rtype.version, rtype.plural)] = rtype
        self._by_kind[(rtype.api_version, rtype.kind)] = rtype

    def remove(self, group: str, version: str, plural: str) -> ResourceType | None:
        """Stop serving a resource (its CRD is gone); returns what was served."""
        gone = self._by_path.pop((group, version, plural), None)
        if gone is not None:
            self.resources = tuple(r for r in self.resources if r is not gone)
            if self._by_kind.get((gone.api_version, gone.kind)) is gone:
                del self._by_kind[(gone.api_version, gone.kind)]
        return gone

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        return self._by_kind.get((api_version, kind))

    def for_key(self, key: str) -> ResourceType:
        """The primary resource type stored under ``key`` (``pods``, ``deployments.apps``)."""
        for r in self.resources:
            if r.key == key and r.storage is None:
                return r
        raise KeyError(key)

    def groups(self) -> list[str]:
        seen = [g for g in GROUP_ORDER if any(r.group == g for r in self.resources)]
        # Groups of custom resources come last, by name (their APIServices' priority is below every built-in's).
        extra = sorted({r.group for r in self.resources if r.group and r.group not in GROUP_ORDER})
        return seen + extra

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [r for r in self.resources if r.group == group and r.version == version]


REGISTRY = Registry()
