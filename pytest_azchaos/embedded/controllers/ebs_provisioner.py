"""The EBS CSI driver's control-plane side: external-provisioner + ``CreateVolume``/``DeleteVolume``,
and what installing the driver (EKS add-on) puts in the cluster.

Provisioning (``sig-storage-lib-external-provisioner`` + aws-ebs-csi-driver ``controller.go``): a claim
annotated ``volume.kubernetes.io/storage-provisioner: ebs.csi.aws.com`` by the PV controller gets a
volume in one zone: the selected node's zone (WaitForFirstConsumer), else one of the class's
``allowedTopologies`` zones, else a zone with nodes, taken in turn. The PV is ``pvc-<claim uid>``,
pre-bound to the claim, ``csi.volumeHandle: vol-<17 hex>``, ``fsType`` from
``csi.storage.k8s.io/fstype`` (default ext4), capacity rounded up to whole GiB as EBS does, required
node affinity on the zone key (``topology.kubernetes.io/zone`` as drivers >= v1.33 write it, or
``topology.ebs.csi.aws.com/zone`` as <= v1.32 did; ``EbsProvisioner(topology_key=...)``), reclaim policy
and mount options from the class. Events ``Provisioning`` / ``ProvisioningSucceeded`` come from
``ebs.csi.aws.com_<controller pod>_<uuid>``. A Released ``Delete`` volume it made is deleted once no
VolumeAttachment refers to it (EBS refuses to delete an attached volume), data directory included.

``install_ebs_csi`` creates the default ``gp3`` StorageClass, the ``CSIDriver`` and one ``CSINode`` per node.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Hashable, Iterable
from typing import Any

from ..apiserver.errors import ApiError
from ..apiserver.resources import REGISTRY
from ..apiserver.store import Event, Store
from ..scheduler.quantity import whole_value
from ..storage import volume_handle, volume_store
from .base import Controller
from .events import EventRecorder
from .persistentvolume import (
    ANN_DYNAMICALLY_PROVISIONED,
    ANN_SELECTED_NODE,
    ANN_STORAGE_PROVISIONER,
    PVCS,
    PVS,
    _drop_finalizer,
    class_of,
)

Obj = dict[str, Any]
DRIVER = "ebs.csi.aws.com"
WELL_KNOWN_ZONE_KEY = "topology.kubernetes.io/zone"
DRIVER_ZONE_KEY = "topology.ebs.csi.aws.com/zone"
TOPOLOGY_KEYS = (DRIVER_ZONE_KEY, WELL_KNOWN_ZONE_KEY)
PROVISIONER_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer"
ANN_DELETION_SECRET_NAME = "volume.kubernetes.io/provisioner-deletion-secret-name"
ANN_DELETION_SECRET_NAMESPACE = "volume.kubernetes.io/provisioner-deletion-secret-namespace"
PARAM_FSTYPE = "csi.storage.k8s.io/fstype"
PROVISIONER_IDENTITY = "storage.kubernetes.io/csiProvisionerIdentity"
GIB = 1 << 30
VA_KEY = "volumeattachments.storage.k8s.io"

CLASSES = REGISTRY.lookup("storage.k8s.io", "v1", "storageclasses")
CSIDRIVERS = REGISTRY.lookup("storage.k8s.io", "v1", "csidrivers")
CSINODES = REGISTRY.lookup("storage.k8s.io", "v1", "csinodes")
assert CLASSES is not None and CSIDRIVERS is not None and CSINODES is not None


def new_volume_id(rng: random.Random) -> str:
    """An EBS volume id: ``vol-`` and 17 hex digits."""
    return "vol-0" + "".join(rng.choice("0123456789abcdef") for _ in range(16))


def round_up_gib(quantity: str | int) -> int:
    """EBS sizes are whole GiB (at least 1): ``util.RoundUpGiB`` of the requested bytes."""
    return max(1, math.ceil(whole_value(quantity) / GIB))


def zones_in(terms: Iterable[Obj] | None) -> list[str]:
    """Zones named by ``allowedTopologies`` terms under either zone key, in order, without repeats."""
    out: list[str] = []
    for term in terms or []:
        for expr in term.get("matchLabelExpressions") or []:
            if expr.get("key") in TOPOLOGY_KEYS:
                out += [v for v in expr.get("values") or [] if v not in out]
    return out


class EbsProvisioner(Controller):
    """external-provisioner for ``ebs.csi.aws.com`` with the driver's CreateVolume/DeleteVolume."""

    name = "ebs-csi-provisioner"

    def __init__(self, store: Store, topology_key: str = WELL_KNOWN_ZONE_KEY, seed: int | None = None):
        super().__init__(store)
        if topology_key not in TOPOLOGY_KEYS:
            raise ValueError(f"topology_key must be one of {TOPOLOGY_KEYS}, not {topology_key!r}")
        self.topology_key = topology_key
        self.rng = random.Random(seed)
        pod = "ebs-csi-controller-" + "".join(self.rng.choice("0123456789abcdef") for _ in range(10)) + "-" + \
              "".join(self.rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        self.identity = f"{int(time.time() * 1000)}-{self.rng.randrange(10000)}-{DRIVER}"
        self.recorder = EventRecorder(store, f"{DRIVER}_{pod}_{uuid.UUID(int=self.rng.getrandbits(128))}")
        self._turn = 0

    def on_event(self, ev: Event) -> None:
        if ev.key == PVCS.key and ev.type != "DELETED":
            self.enqueue(("claim", ev.obj["metadata"]["namespace"], ev.obj["metadata"]["name"]))
        elif ev.key == PVS.key and ev.type != "DELETED":
            self.enqueue(("volume", ev.obj["metadata"]["name"]))
        elif ev.key == VA_KEY and ev.type == "DELETED":
            pv_name = ((ev.obj.get("spec") or {}).get("source") or {}).get("persistentVolumeName")
            if pv_name:
                self.enqueue(("volume", pv_name))

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        if key[0] == "claim":
            self._sync_claim(key[1], key[2])
        else:
            self._sync_volume(key[1])

    # ------------------------------------------------------------------ provisioning

    def _sync_claim(self, ns: str, name: str) -> None:
        claim = self.store.peek(PVCS.key, ns, name)
        if claim is None or claim["metadata"].get("deletionTimestamp"):
            return
        annotations = claim["metadata"].get("annotations") or {}
        if annotations.get(ANN_STORAGE_PROVISIONER) != DRIVER or (claim.get("spec") or {}).get("volumeName"):
            return
        pv_name = f"pvc-{claim['metadata']['uid']}"
        if self.store.peek(PVS.key, "", pv_name) is not None:
            return
        sc = class_of(self.store, claim)
        if sc is None or sc.get("provisioner") != DRIVER:
            return
        zone = self._zone(claim, sc)
        if zone is None:
            return
        ref = f"{ns}/{name}"
        self.recorder.normal(claim, "Provisioning", f'External provisioner is provisioning volume for claim "{ref}"')
        try:
            self.store.create(PVS, "", self._volume(claim, sc, pv_name, zone))
        except ApiError as e:
            if e.code != 409:
                self.recorder.warning(claim, "ProvisioningFailed", f"failed to provision volume with StorageClass "
                                      f'"{sc["metadata"]["name"]}": {e.message}')
            return
        self.recorder.normal(claim, "ProvisioningSucceeded", f"Successfully provisioned volume {pv_name}")

    def _zone(self, claim: Obj, sc: Obj) -> str | None:
        selected = (claim["metadata"].get("annotations") or {}).get(ANN_SELECTED_NODE)
        if selected:
            node = self.store.peek("nodes", "", selected)
            if node is None:
                return None
            return (node["metadata"].get("labels") or {}).get(WELL_KNOWN_ZONE_KEY)
        zones = zones_in(sc.get("allowedTopologies"))
        if not zones:
            zones = sorted({z for n in self.store.scan("nodes")
                            if (z := (n["metadata"].get("labels") or {}).get(WELL_KNOWN_ZONE_KEY))})
        if not zones:
            return None
        zone = zones[self._turn % len(zones)]
        self._turn += 1
        return zone

    def _volume(self, claim: Obj, sc: Obj, pv_name: str, zone: str) -> Obj:
        spec = claim.get("spec") or {}
        params = sc.get("parameters") or {}
        request = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        handle = new_volume_id(self.rng)
        volume_store(self.store).create(handle, pv=pv_name, zone=zone, type=params.get("type", "gp3"))
        meta = claim["metadata"]
        pv_spec: Obj = {
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "capacity": {"storage": f"{round_up_gib(request)}Gi"},
            "claimRef": {"kind": "PersistentVolumeClaim", "namespace": meta["namespace"], "name": meta["name"],
                         "uid": meta["uid"], "apiVersion": "v1", "resourceVersion": meta.get("resourceVersion", "")},
            "csi": {"driver": DRIVER, "volumeHandle": handle, "fsType": params.get(PARAM_FSTYPE, "ext4"),
                    "volumeAttributes": {PROVISIONER_IDENTITY: self.identity}},
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
            "storageClassName": sc["metadata"]["name"],
            "volumeMode": spec.get("volumeMode") or "Filesystem",
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": self.topology_key, "operator": "In", "values": [zone]}]}]}},
        }
        if sc.get("mountOptions"):
            pv_spec["mountOptions"] = list(sc["mountOptions"])
        return {
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": pv_name,
                         "annotations": {ANN_DYNAMICALLY_PROVISIONED: DRIVER, ANN_DELETION_SECRET_NAME: "",
                                         ANN_DELETION_SECRET_NAMESPACE: ""},
                         "finalizers": [PROVISIONER_FINALIZER, "kubernetes.io/pv-protection"]},
            "spec": pv_spec,
        }

    # ------------------------------------------------------------------ deletion

    def _sync_volume(self, name: str) -> None:
        pv = self.store.peek(PVS.key, "", name)
        if pv is None:
            return
        if (pv["metadata"].get("annotations") or {}).get(ANN_DYNAMICALLY_PROVISIONED) != DRIVER:
            return
        phase = (pv.get("status") or {}).get("phase")
        deleting = bool(pv["metadata"].get("deletionTimestamp"))
        released = phase == "Released" and (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") == "Delete"
        if not (released or (deleting and phase != "Bound")):
            return
        if any(((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName") == name
               for va in self.store.scan(VA_KEY)):
            return  # DeleteVolume fails while attached (VolumeInUse); retried when the attachment goes
        if (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") == "Delete":
            volume_store(self.store).delete(volume_handle(pv))
        if PROVISIONER_FINALIZER in (pv["metadata"].get("finalizers") or []):
            _drop_finalizer(self.store, PVS, "", name, PROVISIONER_FINALIZER)
        if not deleting:
            try:
                self.store.delete(PVS, "", name)
            except ApiError:
                pass


# ---------------------------------------------------------------------------------------------- install

def gp3_storage_class() -> Obj:
    """The default class as the EKS EBS CSI add-on's ``defaultStorageClass`` looks, named gp3."""
    return {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "gp3", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": DRIVER,
        "parameters": {"type": "gp3"},
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }


def csi_driver() -> Obj:
    return {
        "apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver",
        "metadata": {"name": DRIVER},
        "spec": {"attachRequired": True, "podInfoOnMount": False, "requiresRepublish": False,
                 "storageCapacity": False, "fsGroupPolicy": "ReadWriteOnceWithFSType",
                 "volumeLifecycleModes": ["Persistent"], "seLinuxMount": False},
    }


def csi_node(node: Obj, instance_id: str, allocatable: int = 25) -> Obj:
    """The CSINode the kubelet registers once the driver's node plugin reports ``NodeGetInfo``."""
    meta = node["metadata"]
    return {
        "apiVersion": "storage.k8s.io/v1", "kind": "CSINode",
        "metadata": {"name": meta["name"],
                     "annotations": {"storage.alpha.kubernetes.io/migrated-plugins":
                                     "kubernetes.io/aws-ebs,kubernetes.io/azure-disk,kubernetes.io/azure-file,"
                                     "kubernetes.io/cinder,kubernetes.io/gce-pd,kubernetes.io/portworx-volume,"
                                     "kubernetes.io/vsphere-volume"},
                     "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": meta["name"],
                                          "uid": meta.get("uid", "")}]},
        "spec": {"drivers": [{"name": DRIVER, "nodeID": instance_id, "topologyKeys": sorted(TOPOLOGY_KEYS),
                              "allocatable": {"count": allocatable}}]},
    }


def install_ebs_csi(store: Store, instance_ids: dict[str, str], default_class: bool = True) -> None:
    """Create what the EBS CSI add-on brings: default ``gp3`` class, ``CSIDriver``, a ``CSINode`` per node."""
    if default_class:
        store.create(CLASSES, "", gp3_storage_class())
    store.create(CSIDRIVERS, "", csi_driver())
    for node_name, instance_id in instance_ids.items():
        node = store.peek("nodes", "", node_name)
        if node is not None:
            store.create(CSINODES, "", csi_node(node, instance_id))
