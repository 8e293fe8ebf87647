"""VolumeBinding and VolumeZone: where a pod's PersistentVolumeClaims let it run.

``VolumeBinding`` is a class so the storage work can extend it (e.g. CSIStorageCapacity, or binding in
PreBind): PreFilter rejects missing / immediate-unbound claims for the whole cluster; Filter checks a
bound PV's node affinity, and for WaitForFirstConsumer claims a matching static PV or a provisioner
whose StorageClass ``allowedTopologies`` admit the node.

Wording follows the emulated Kubernetes v1.36: a bound PV whose node affinity excludes the node gives
``node(s) didn't match PersistentVolume's node affinity`` (PR #129887, v1.33+; v1.32 and older said
``node(s) had volume node affinity conflict``). With the PV's zone cordoned, NodeUnschedulable runs first,
so the golden ``ebs-pv-zone-cordoned`` message lists both counts: ``2 node(s) were unschedulable, 4 node(s)
didn't match PersistentVolume's node affinity``. Binding itself (PreBind) is the scheduler controller's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..rules.node_affinity import node_selector_matches
from .matching import Obj, labels_of, topology_terms_match
from .model import NodeInfo, Status, VolumeState, name_of, namespace_of, reject
from .quantity import whole_value

ERR_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
ERR_NODE_CONFLICT = "node(s) didn't match PersistentVolume's node affinity"
ERR_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
ERR_NOT_ENOUGH_SPACE = "node(s) did not have enough free storage"
ERR_PV_NOT_EXIST = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
ERR_VOLUME_ZONE = "node(s) had no available volume zone"
NO_PROVISIONER = "kubernetes.io/no-provisioner"
ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone",
               "topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")


def claim_names(pod: Obj) -> list[str]:
    """PVC names the pod uses: ``persistentVolumeClaim`` volumes and generic ephemeral volumes."""
    names = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if volume.get("persistentVolumeClaim"):
            names.append(volume["persistentVolumeClaim"].get("claimName", ""))
        elif volume.get("ephemeral"):
            names.append(f"{name_of(pod)}-{volume.get('name', '')}")
    return names


@dataclass
class PodClaims:
    """The pod's claims sorted the way the binder sorts them."""

    bound: list[Obj] = field(default_factory=list)
    delayed: list[Obj] = field(default_factory=list)
    immediate: list[Obj] = field(default_factory=list)


class VolumeBinding:
    """The VolumeBinding plugin over a ``VolumeState`` snapshot."""

    def __init__(self, state: VolumeState | None) -> None:
        self.state = state or VolumeState()

    def storage_class_of(self, claim: Obj) -> Obj | None:
        spec = claim.get("spec") or {}
        name = spec.get("storageClassName")
        if name is None:
            return self.state.default_class()
        return self.state.storage_class(name) if name else None

    def is_delayed(self, claim: Obj) -> bool:
        storage_class = self.storage_class_of(claim)
        return bool(storage_class) and storage_class.get("volumeBindingMode") == "WaitForFirstConsumer"

    def claims(self, pod: Obj) -> tuple[PodClaims | None, Status | None]:
        """PreFilter: classify the pod's claims, or reject (missing, deleting, unbound immediate)."""
        names = claim_names(pod)
        if not names:
            return None, None
        out = PodClaims()
        for name in names:
            claim = self.state.claim(namespace_of(pod), name)
            if claim is None:
                return None, reject("VolumeBinding", f'persistentvolumeclaim "{name}" not found', resolvable=False)
            if (claim.get("metadata") or {}).get("deletionTimestamp"):
                return None, reject("VolumeBinding", f'persistentvolumeclaim "{name}" is being deleted',
                                    resolvable=False)
            if (claim.get("spec") or {}).get("volumeName"):
                out.bound.append(claim)
            elif self.is_delayed(claim):
                out.delayed.append(claim)
            else:
                out.immediate.append(claim)
        if out.immediate:
            return None, reject("VolumeBinding", ERR_UNBOUND_IMMEDIATE, resolvable=False)
        return out, None

    def filter(self, pod: Obj, claims: PodClaims | None, info: NodeInfo) -> Status | None:
        if claims is None:
            return None
        reasons: list[str] = []
        for claim in claims.bound:
            pv = self.state.volume((claim.get("spec") or {}).get("volumeName", ""))
            if pv is None:
                return reject("VolumeBinding", ERR_PV_NOT_EXIST, resolvable=False)
            affinity = ((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required")
            if affinity is not None and not node_selector_matches(affinity, info.node):
                reasons.append(ERR_NODE_CONFLICT)
                break
        taken: set[str] = set()
        for claim in claims.delayed:
            pv = self.find_matching_volume(claim, info, taken)
            if pv is not None:
                taken.add(name_of(pv))
                continue
            if not self.can_provision(claim, info):
                reasons.append(ERR_BIND_CONFLICT)
                break
        if reasons:
            return reject("VolumeBinding", *reasons, resolvable=False)
        return None

    def find_matching_volume(self, claim: Obj, info: NodeInfo, taken: set[str]) -> Obj | None:
        """A static, available PV of the claim's class, big enough, reachable from the node."""
        spec = claim.get("spec") or {}
        want_class = spec.get("storageClassName") or ""
        want_size = whole_value(((spec.get("resources") or {}).get("requests") or {}).get("storage", "0"))
        want_modes = set(spec.get("accessModes") or [])
        best: Obj | None = None
        best_size = 0
        for pv in self.state.volumes:
            pv_spec = pv.get("spec") or {}
            if name_of(pv) in taken or (pv_spec.get("storageClassName") or "") != want_class:
                continue
            ref = pv_spec.get("claimRef")
            if ref and (ref.get("name") != name_of(claim) or ref.get("namespace") != namespace_of(claim)):
                continue
            if (pv.get("status") or {}).get("phase") not in (None, "Available") and not ref:
                continue
            size = whole_value((pv_spec.get("capacity") or {}).get("storage", "0"))
            if size < want_size or not want_modes <= set(pv_spec.get("accessModes") or []):
                continue
            affinity = (pv_spec.get("nodeAffinity") or {}).get("required")
            if affinity is not None and not node_selector_matches(affinity, info.node):
                continue
            if best is None or size < best_size:
                best, best_size = pv, size
        return best

    def can_provision(self, claim: Obj, info: NodeInfo) -> bool:
        storage_class = self.storage_class_of(claim)
        if storage_class is None or storage_class.get("provisioner") in (None, "", NO_PROVISIONER):
            return False
        return topology_terms_match(storage_class.get("allowedTopologies"), info.labels)


def volume_zone(binding: VolumeBinding, claims: PodClaims | None, info: NodeInfo) -> Status | None:
    """VolumeZone: a bound PV's zone/region *labels* (``a__b`` = several) must include the node's."""
    if claims is None:
        return None
    node_labels = info.labels
    for claim in claims.bound:
        pv = binding.state.volume((claim.get("spec") or {}).get("volumeName", ""))
        if pv is None:
            continue
        for key, value in labels_of(pv).items():
            if key not in ZONE_LABELS:
                continue
            if node_labels.get(key) not in set(value.split("__")):
                return reject("VolumeZone", ERR_VOLUME_ZONE, resolvable=False)
    return None
