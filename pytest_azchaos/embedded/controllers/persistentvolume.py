"""The PersistentVolume controller (upstream ``pkg/controller/volume/persistentvolume``) and the PV/PVC
protection controllers (``pkg/controller/volume/{pv,pvc}protection``).

Binding follows upstream's ``syncClaim`` / ``syncVolume``:

- an unbound claim without a class gets the default StorageClass (RetroactiveDefaultStorageClass);
- a claim naming a volume, or a static volume matching it (class, access modes, capacity, volume mode,
  selector; the smallest that fits), is bound: the PV gets ``claimRef`` (and
  ``pv.kubernetes.io/bound-by-controller`` when the controller chose it), the PVC gets ``volumeName``,
  ``pv.kubernetes.io/bind-completed`` (and ``bound-by-controller`` when the controller set the name),
  status ``Bound`` with the volume's capacity and access modes; the PV's phase goes Bound;
- WaitForFirstConsumer claims wait for the scheduler's ``volume.kubernetes.io/selected-node`` (event
  ``WaitForFirstConsumer``); claims to provision get ``volume.kubernetes.io/storage-provisioner`` (and
  the beta key) and the ``ExternalProvisioning`` event: an external provisioner (``ebs_provisioner``)
  creates the PV;
- a volume whose claim is gone becomes ``Released``; ``Retain`` keeps it, ``Delete`` is done by the
  external provisioner that made it; a bound claim whose volume vanished becomes ``Lost``.

Event texts are v1.36's (golden ``wffc-pvc-no-provisioner``, ``statefulset-vct-unbound-pvc``).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from ..apiserver.errors import ApiError
from ..apiserver.resources import REGISTRY
from ..apiserver.selectors import label_selector_matches
from ..apiserver.store import Event, Store
from ..objects import now_rfc3339
from ..scheduler.quantity import whole_value
from .base import Controller
from .events import EventRecorder

Obj = dict[str, Any]
PVCS = REGISTRY.lookup("", "v1", "persistentvolumeclaims")
PVS = REGISTRY.lookup("", "v1", "persistentvolumes")
PODS = REGISTRY.lookup("", "v1", "pods")
assert PVCS is not None and PVS is not None and PODS is not None
CLASSES_KEY = "storageclasses.storage.k8s.io"

ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANN_DYNAMICALLY_PROVISIONED = "pv.kubernetes.io/provisioned-by"
ANN_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
WFFC = "WaitForFirstConsumer"

MSG_WAIT_FOR_CONSUMER = "waiting for first consumer to be created before binding"
MSG_NO_CLASS = "no persistent volumes available for this claim and no storage class is set"
MSG_CLAIM_LOST = "Bound claim has lost its PersistentVolume. Data on the volume is lost!"
MSG_CLAIM_LOST_REF = "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!"


def external_provisioning_message(provisioner: str) -> str:
    return (f"Waiting for a volume to be created either by the external provisioner '{provisioner}' or manually "
            "by the system administrator. If volume creation is delayed, please verify that the provisioner is "
            "running and correctly registered.")


def default_class(store: Store) -> Obj | None:
    """The default StorageClass; with several, the newest (then by name), as ``GetDefaultClass`` picks."""
    defaults = [sc for sc in store.scan(CLASSES_KEY)
                if ((sc["metadata"].get("annotations") or {}).get(ANN_DEFAULT_CLASS)) == "true"]
    if not defaults:
        return None
    defaults.sort(key=lambda sc: (sc["metadata"].get("creationTimestamp") or "", sc["metadata"]["name"]))
    newest = defaults[-1]["metadata"].get("creationTimestamp")
    return sorted((sc for sc in defaults if sc["metadata"].get("creationTimestamp") == newest),
                  key=lambda sc: sc["metadata"]["name"])[0]


def class_of(store: Store, claim: Obj) -> Obj | None:
    name = (claim.get("spec") or {}).get("storageClassName")
    return store.peek(CLASSES_KEY, "", name) if name else None


def is_delayed(store: Store, claim: Obj) -> bool:
    sc = class_of(store, claim)
    return bool(sc) and sc.get("volumeBindingMode") == WFFC


def claim_ref(claim: Obj) -> Obj:
    meta = claim["metadata"]
    return {"kind": "PersistentVolumeClaim", "namespace": meta["namespace"], "name": meta["name"],
            "uid": meta["uid"], "apiVersion": "v1", "resourceVersion": meta.get("resourceVersion", "")}


def bound_to_claim(pv: Obj, claim: Obj) -> bool:
    """``IsVolumeBoundToClaim``: claimRef names the claim (and its uid, when the ref has one)."""
    ref = (pv.get("spec") or {}).get("claimRef")
    if not ref:
        return False
    meta = claim["metadata"]
    if ref.get("name") != meta["name"] or ref.get("namespace") != meta["namespace"]:
        return False
    return not ref.get("uid") or ref.get("uid") == meta.get("uid")


def volume_matches(pv: Obj, claim: Obj) -> bool:
    """Class, volume mode, access modes, capacity and selector fit (``checkVolumeSatisfyClaim`` + selector)."""
    spec, pv_spec = claim.get("spec") or {}, pv.get("spec") or {}
    if (pv_spec.get("storageClassName") or "") != (spec.get("storageClassName") or ""):
        return False
    if (pv_spec.get("volumeMode") or "Filesystem") != (spec.get("volumeMode") or "Filesystem"):
        return False
    if not set(spec.get("accessModes") or []) <= set(pv_spec.get("accessModes") or []):
        return False
    want = whole_value(((spec.get("resources") or {}).get("requests") or {}).get("storage", "0"))
    if whole_value((pv_spec.get("capacity") or {}).get("storage", "0")) < want:
        return False
    selector = spec.get("selector")
    return selector is None or label_selector_matches(selector, pv["metadata"].get("labels") or {})


def find_best_match(store: Store, claim: Obj, delayed: bool) -> Obj | None:
    """``findBestMatchForClaim``: a volume pre-bound to the claim, else the smallest available match
    (with delayed binding only pre-bound volumes: the scheduler picks the others)."""
    best: Obj | None = None
    best_size = 0
    for pv in store.scan(PVS.key):
        if pv["metadata"].get("deletionTimestamp") or not volume_matches(pv, claim):
            continue
        if bound_to_claim(pv, claim):
            return pv
        if delayed or (pv.get("spec") or {}).get("claimRef"):
            continue
        if (pv.get("status") or {}).get("phase") not in ("Available", "Pending", None):
            continue
        size = whole_value(((pv.get("spec") or {}).get("capacity") or {}).get("storage", "0"))
        if best is None or size < best_size:
            best, best_size = pv, size
    return best


class PersistentVolumeController(Controller):
    """Binds claims and volumes, drives their phases, asks external provisioners for volumes."""

    name = "persistentvolume-controller"

    def __init__(self, store: Store):
        super().__init__(store)
        self.recorder = EventRecorder(store, "persistentvolume-controller")
        self._announced: set[tuple[str, str]] = set()  # (claim uid, reason) reported once per claim

    def on_event(self, ev: Event) -> None:
        if ev.key == PVCS.key:
            meta = ev.obj["metadata"]
            if ev.type == "DELETED":
                name = (ev.obj.get("spec") or {}).get("volumeName")
                if name:
                    self.enqueue(("volume", name))
                for pv in self.store.scan(PVS.key):
                    if ((pv.get("spec") or {}).get("claimRef") or {}).get("uid") == meta.get("uid"):
                        self.enqueue(("volume", pv["metadata"]["name"]))
            else:
                self.enqueue(("claim", meta["namespace"], meta["name"]))
        elif ev.key == PVS.key:
            self.enqueue(("volume", ev.obj["metadata"]["name"]))
            ref = (ev.obj.get("spec") or {}).get("claimRef") or {}
            if ref.get("name"):
                self.enqueue(("claim", ref.get("namespace", ""), ref["name"]))
            if ev.type != "MODIFIED":  # a new or vanished volume may fit any unbound claim
                for claim in self.store.scan(PVCS.key):
                    if not (claim.get("spec") or {}).get("volumeName") or ev.type == "DELETED":
                        self.enqueue(("claim", claim["metadata"]["namespace"], claim["metadata"]["name"]))
        elif ev.key == CLASSES_KEY and ev.type != "DELETED":
            for claim in self.store.scan(PVCS.key):
                if not (claim.get("spec") or {}).get("volumeName"):
                    self.enqueue(("claim", claim["metadata"]["namespace"], claim["metadata"]["name"]))

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        if key[0] == "claim":
            self._sync_claim(key[1], key[2])
        else:
            self._sync_volume(key[1])

    # ------------------------------------------------------------------ claims

    def _once(self, claim: Obj, reason: str) -> bool:
        k = (claim["metadata"].get("uid", ""), reason)
        if k in self._announced:
            return False
        self._announced.add(k)
        return True

    def _sync_claim(self, ns: str, name: str) -> None:
        claim = self.store.peek(PVCS.key, ns, name)
        if claim is None:
            return
        annotations = claim["metadata"].get("annotations") or {}
        spec = claim.get("spec") or {}
        if annotations.get(ANN_BIND_COMPLETED) == "yes":
            self._sync_bound_claim(claim)
            return
        volume_name = spec.get("volumeName")
        if not volume_name:
            if spec.get("storageClassName") is None:
                sc = default_class(self.store)
                if sc is not None:
                    self._update_claim(claim, lambda c: c["spec"].__setitem__("storageClassName",
                                                                              sc["metadata"]["name"]))
                    return
            if claim["metadata"].get("deletionTimestamp"):
                return
            delayed = is_delayed(self.store, claim)
            pv = find_best_match(self.store, claim, delayed)
            if pv is not None:
                self._bind(claim, pv)
                return
            if delayed and not annotations.get(ANN_SELECTED_NODE):
                if self._once(claim, "WaitForFirstConsumer"):
                    self.recorder.normal(claim, "WaitForFirstConsumer", MSG_WAIT_FOR_CONSUMER)
                return
            if spec.get("storageClassName"):
                self._provision(claim)
                return
            if self._once(claim, "FailedBinding"):
                self.recorder.normal(claim, "FailedBinding", MSG_NO_CLASS)
            return
        pv = self.store.peek(PVS.key, "", volume_name)
        if pv is None:
            return
        ref = (pv.get("spec") or {}).get("claimRef")
        if ref and not bound_to_claim(pv, claim):
            if self._once(claim, "FailedBinding-other"):
                self.recorder.warning(claim, "FailedBinding",
                                      f'volume "{volume_name}" already bound to a different claim.')
            return
        self._bind(claim, pv)

    def _provision(self, claim: Obj) -> None:
        sc = class_of(self.store, claim)
        if sc is None:
            if self._once(claim, "ProvisioningFailed"):
                self.recorder.warning(claim, "ProvisioningFailed",
                                      f'storageclass.storage.k8s.io "{claim["spec"]["storageClassName"]}" not found')
            return
        provisioner = sc.get("provisioner", "")
        annotations = claim["metadata"].get("annotations") or {}
        if annotations.get(ANN_STORAGE_PROVISIONER) != provisioner:
            def mutate(c: Obj) -> None:
                ann = c["metadata"].setdefault("annotations", {})
                ann[ANN_BETA_STORAGE_PROVISIONER] = provisioner
                ann[ANN_STORAGE_PROVISIONER] = provisioner

            self._update_claim(claim, mutate)
        if self._once(claim, "ExternalProvisioning"):
            self.recorder.normal(claim, "ExternalProvisioning", external_provisioning_message(provisioner))

    def _sync_bound_claim(self, claim: Obj) -> None:
        volume_name = (claim.get("spec") or {}).get("volumeName", "")
        pv = self.store.peek(PVS.key, "", volume_name) if volume_name else None
        if pv is None or not bound_to_claim(pv, claim):
            if (claim.get("status") or {}).get("phase") != "Lost":
                self._claim_status(claim, {"phase": "Lost"})
                self.recorder.warning(claim, "ClaimLost", MSG_CLAIM_LOST if pv is None else MSG_CLAIM_LOST_REF)
            return
        self._finish(claim, pv)

    def _bind(self, claim: Obj, pv: Obj) -> None:
        """``bind``: volume first (claimRef, phase), then the claim (volumeName, annotations, status)."""
        pv_name = pv["metadata"]["name"]
        if not bound_to_claim(pv, claim) or not ((pv.get("spec") or {}).get("claimRef") or {}).get("uid"):
            chose = not bound_to_claim(pv, claim)

            def set_ref(v: Obj) -> None:
                v["spec"]["claimRef"] = claim_ref(claim)
                if chose:
                    v["metadata"].setdefault("annotations", {})[ANN_BOUND_BY_CONTROLLER] = "yes"

            try:
                pv = self.store.guaranteed_update(PVS, "", pv_name, _m(set_ref))
            except ApiError:
                return
        self._finish(claim, pv)

    def _finish(self, claim: Obj, pv: Obj) -> None:
        pv_name = pv["metadata"]["name"]
        self._volume_phase(pv, "Bound")
        spec = claim.get("spec") or {}
        annotations = claim["metadata"].get("annotations") or {}
        if spec.get("volumeName") != pv_name or annotations.get(ANN_BIND_COMPLETED) != "yes":
            set_name = spec.get("volumeName") != pv_name

            def mutate(c: Obj) -> None:
                ann = c["metadata"].setdefault("annotations", {})
                if set_name:
                    c["spec"]["volumeName"] = pv_name
                    ann[ANN_BOUND_BY_CONTROLLER] = "yes"
                ann[ANN_BIND_COMPLETED] = "yes"

            claim = self._update_claim(claim, mutate) or claim
        pv_spec = pv.get("spec") or {}
        status = {"phase": "Bound", "accessModes": list(pv_spec.get("accessModes") or []),
                  "capacity": dict(pv_spec.get("capacity") or {})}
        current = claim.get("status") or {}
        if any(current.get(k) != v for k, v in status.items()):
            self._claim_status(claim, status)

    def _update_claim(self, claim: Obj, mutate: Any) -> Obj | None:
        meta = claim["metadata"]
        try:
            return self.store.guaranteed_update(PVCS, meta["namespace"], meta["name"], _m(mutate))
        except ApiError:
            return None

    def _claim_status(self, claim: Obj, status: Obj) -> None:
        meta = claim["metadata"]

        def mutate(c: Obj) -> None:
            new = dict(c.get("status") or {})
            new.update(status)
            if status.get("phase") != "Bound":
                new.pop("capacity", None)
                new.pop("accessModes", None)
            c["status"] = {k: new[k] for k in ("phase", "accessModes", "capacity", *new) if k in new}

        try:
            self.store.guaranteed_update(PVCS, meta["namespace"], meta["name"], _m(mutate), subresource="status")
        except ApiError:
            pass

    # ------------------------------------------------------------------ volumes

    def _volume_phase(self, pv: Obj, phase: str) -> None:
        if (pv.get("status") or {}).get("phase") == phase:
            return

        def mutate(v: Obj) -> None:
            v["status"] = {"phase": phase, "lastPhaseTransitionTime": now_rfc3339()}

        try:
            self.store.guaranteed_update(PVS, "", pv["metadata"]["name"], _m(mutate), subresource="status")
        except ApiError:
            pass

    def _sync_volume(self, name: str) -> None:
        pv = self.store.peek(PVS.key, "", name)
        if pv is None:
            return
        ref = (pv.get("spec") or {}).get("claimRef")
        if not ref:
            self._volume_phase(pv, "Available")
            return
        claim = self.store.peek(PVCS.key, ref.get("namespace", ""), ref.get("name", ""))
        if not ref.get("uid"):
            self._volume_phase(pv, "Available")
            if claim is not None:
                self.enqueue(("claim", ref.get("namespace", ""), ref["name"]))
            return
        if claim is None or claim["metadata"].get("uid") != ref.get("uid"):
            self._volume_phase(pv, "Released")
            return
        volume_name = (claim.get("spec") or {}).get("volumeName")
        if volume_name == name:
            self._volume_phase(pv, "Bound")
        elif not volume_name:
            self.enqueue(("claim", ref["namespace"], ref["name"]))
        elif (pv["metadata"].get("annotations") or {}).get(ANN_BOUND_BY_CONTROLLER) == "yes":
            # The claim bound elsewhere: undo our half of the binding (``unbindVolume``).
            def unbind(v: Obj) -> None:
                v["spec"].pop("claimRef", None)
                (v["metadata"].get("annotations") or {}).pop(ANN_BOUND_BY_CONTROLLER, None)

            try:
                self.store.guaranteed_update(PVS, "", name, _m(unbind))
            except ApiError:
                pass
        else:
            self._volume_phase(pv, "Released")


class StorageProtectionController(Controller):
    """Removes ``kubernetes.io/pvc-protection`` once no pod uses a deleting claim, and
    ``kubernetes.io/pv-protection`` once a deleting volume is not Bound."""

    name = "storage-protection"

    def on_event(self, ev: Event) -> None:
        if ev.key == PVCS.key and ev.type != "DELETED" and ev.obj["metadata"].get("deletionTimestamp"):
            self.enqueue(("claim", ev.obj["metadata"]["namespace"], ev.obj["metadata"]["name"]))
        elif ev.key == PVS.key and ev.type != "DELETED" and ev.obj["metadata"].get("deletionTimestamp"):
            self.enqueue(("volume", ev.obj["metadata"]["name"]))
        elif ev.key == PODS.key and (ev.type == "DELETED" or _terminal(ev.obj)):
            for claim in self.store.scan(PVCS.key, ev.namespace):
                if claim["metadata"].get("deletionTimestamp"):
                    self.enqueue(("claim", ev.namespace, claim["metadata"]["name"]))

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        if key[0] == "claim":
            claim = self.store.peek(PVCS.key, key[1], key[2])
            if claim is None or PVC_PROTECTION not in (claim["metadata"].get("finalizers") or []):
                return
            if any(_uses(pod, key[2]) and not _terminal(pod) for pod in self.store.scan(PODS.key, key[1])):
                return
            _drop_finalizer(self.store, PVCS, key[1], key[2], PVC_PROTECTION)
        else:
            pv = self.store.peek(PVS.key, "", key[1])
            if pv is None or PV_PROTECTION not in (pv["metadata"].get("finalizers") or []):
                return
            if (pv.get("status") or {}).get("phase") == "Bound":
                return
            _drop_finalizer(self.store, PVS, "", key[1], PV_PROTECTION)


def _uses(pod: Obj, claim_name: str) -> bool:
    pod_name = pod["metadata"]["name"]
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if (volume.get("persistentVolumeClaim") or {}).get("claimName") == claim_name:
            return True
        if volume.get("ephemeral") and f"{pod_name}-{volume.get('name', '')}" == claim_name:
            return True
    return False


def _terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _drop_finalizer(store: Store, rtype: Any, ns: str, name: str, finalizer: str) -> None:
    def mutate(o: Obj) -> None:
        o["metadata"]["finalizers"] = [f for f in o["metadata"].get("finalizers") or [] if f != finalizer]

    try:
        store.guaranteed_update(rtype, ns, name, _m(mutate))
    except ApiError:
        pass


def _m(fn: Any) -> Any:
    """Adapt an in-place mutator to ``guaranteed_update``'s return-the-object contract."""
    def wrapper(o: Obj) -> Obj:
        fn(o)
        return o
    return wrapper
