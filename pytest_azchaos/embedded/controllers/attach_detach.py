"""Attach/detach of CSI volumes: the attach/detach controller (upstream
``pkg/controller/volume/attachdetach``) and the EBS driver's external-attacher.

``AttachDetachController`` keeps a desired state (every volume of every scheduled, non-terminated pod on
a node with ``volumes.kubernetes.io/controller-managed-attach-detach``) and an actual state (the
``VolumeAttachment`` objects, named ``csi-<sha256(volumeHandle + driver + node)>`` as the CSI
attacher names them). Its reconciler, as upstream's:

- detaches first: an attachment nobody wants is detached once the node no longer lists the volume
  in ``status.volumesInUse``; a volume still in use is force-detached only after
  ``profile.max_wait_for_unmount`` when the node is not Ready, or at once with the
  ``node.kubernetes.io/out-of-service`` taint; detaching removes the volume from the node's
  ``status.volumesAttached`` and deletes the VolumeAttachment;
- then attaches: a ReadWriteOnce volume attached elsewhere is not attached again; each pod waiting for
  it gets one ``FailedAttachVolume`` Multi-Attach event (``Volume is already used by pod(s) …`` when
  pods on the other node still want it, ``… exclusively attached to one node …`` when none do);
  otherwise it creates the VolumeAttachment, and once the attacher reports ``status.attached`` it adds
  the volume to ``status.volumesAttached`` and records ``SuccessfulAttachVolume`` on the pods
  (``AttachVolume.Attach succeeded for volume "pvc-…" `` with the trailing space of upstream's
  ``GenerateMsg`` and an empty suffix).

``CsiAttacher`` is the external-attacher + ``ControllerPublishVolume``/``Unpublish``: finalizer
``external-attacher/ebs-csi-aws-com`` on the VolumeAttachment and the PV, ``status.attached`` with the
EBS device path, and the finalizers removed on detach.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Hashable
from typing import Any

from ...timing import DEFAULT_PROFILE, Profile
from ..apiserver.errors import ApiError
from ..apiserver.resources import REGISTRY
from ..apiserver.store import Event, Store
from .base import Controller
from .events import EventRecorder
from .persistentvolume import PVCS, PVS, _drop_finalizer, _m
from .workload import later

log = logging.getLogger(__name__)
Obj = dict[str, Any]
VAS = REGISTRY.lookup("storage.k8s.io", "v1", "volumeattachments")
NODES = REGISTRY.lookup("", "v1", "nodes")
assert VAS is not None and NODES is not None
ANN_CONTROLLER_MANAGED = "volumes.kubernetes.io/controller-managed-attach-detach"
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
CSI_DRIVERS_KEY = "csidrivers.storage.k8s.io"


def attachment_name(volume_handle: str, driver: str, node: str) -> str:
    """``getAttachmentName`` of the CSI attacher: ``csi-`` + sha256 hex of handle, driver and node."""
    return "csi-" + hashlib.sha256(f"{volume_handle}{driver}{node}".encode()).hexdigest()


def unique_volume_name(driver: str, volume_handle: str) -> str:
    """The name the kubelet and the controller use in node status: ``kubernetes.io/csi/<driver>^<handle>``."""
    return f"kubernetes.io/csi/{driver}^{volume_handle}"


def attacher_finalizer(driver: str) -> str:
    return "external-attacher/" + driver.replace(".", "-").replace("/", "-")


def multi_attach_allowed(pv: Obj) -> bool:
    """``IsMultiAttachAllowed``: no access modes, or none of them is ReadWriteOnce/ReadWriteOncePod."""
    modes = (pv.get("spec") or {}).get("accessModes") or []
    return not any(m in ("ReadWriteOnce", "ReadWriteOncePod") for m in modes)


def pod_terminated(pod: Obj) -> bool:
    """``IsPodTerminated``: a terminal phase, or deleting with no container running or waiting."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return True
    if not pod["metadata"].get("deletionTimestamp"):
        return False
    states = [cs.get("state") or {} for cs in (status.get("initContainerStatuses") or [])
              + (status.get("containerStatuses") or [])]
    return all("terminated" in s for s in states)


def attachable_volume(store: Store, pod: Obj, claim_name: str) -> Obj | None:
    """The PV behind one of the pod's claims when its CSI driver needs attaching, else None."""
    claim = store.peek(PVCS.key, pod["metadata"]["namespace"], claim_name)
    pv_name = ((claim or {}).get("spec") or {}).get("volumeName")
    pv = store.peek(PVS.key, "", pv_name) if pv_name else None
    csi = ((pv or {}).get("spec") or {}).get("csi") or {}
    if not csi.get("driver"):
        return None
    driver = store.peek(CSI_DRIVERS_KEY, "", csi["driver"])
    if driver is None or (driver.get("spec") or {}).get("attachRequired", True) is False:
        return None
    return pv


def pod_claim_volumes(pod: Obj) -> list[tuple[str, str]]:
    """(volume name in the pod, claim name) for every claim-backed volume of the pod."""
    out = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if volume.get("persistentVolumeClaim"):
            out.append((volume["name"], volume["persistentVolumeClaim"].get("claimName", "")))
        elif volume.get("ephemeral"):
            out.append((volume["name"], f"{pod['metadata']['name']}-{volume['name']}"))
    return out


def _ready(node: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])


class AttachDetachController(Controller):
    """Reconciles VolumeAttachments with what the scheduled pods need."""

    name = "attachdetach-controller"

    def __init__(self, store: Store, profile: Profile | None = None):
        super().__init__(store)
        profile = profile or Profile.by_name(DEFAULT_PROFILE)
        self.max_wait_for_unmount = profile.max_wait_for_unmount
        self.period = profile.attach_detach_reconcile_period
        self.recorder = EventRecorder(store, "attachdetach-controller")
        self._detach_requested: dict[tuple[str, str], float] = {}
        self._multi_attach_reported: set[tuple[str, str, str]] = set()  # (pv, node, pod uid)
        self._attach_reported: set[tuple[str, str, str]] = set()
        self._managed: set[tuple[str, str]] = set()  # attachments this controller made or saw wanted
        self._timer = False

    def on_event(self, ev: Event) -> None:
        if ev.key in ("pods", PVCS.key, PVS.key, VAS.key, NODES.key):
            if ev.key == NODES.key and ev.type == "MODIFIED" and not _node_change_matters(ev.old, ev.obj):
                return
            # A pod without claims never needs an attachment: skip the full reconcile (thousands of pods).
            if ev.key == "pods" and not any(True for _ in pod_claim_volumes(ev.obj)) and \
                    not (ev.old is not None and any(True for _ in pod_claim_volumes(ev.old))):
                return
            self.enqueue("reconcile")

    def _retry_later(self) -> None:
        if not self._timer:
            self._timer = True
            later(self.period, self._tick, "reconcile")

    def _tick(self, key: Hashable) -> None:
        self._timer = False
        self.enqueue(key)

    # ------------------------------------------------------------------ state

    def desired(self) -> dict[tuple[str, str], list[Obj]]:
        """(PV name, node) -> pods that need the volume attached there."""
        out: dict[tuple[str, str], list[Obj]] = {}
        for pod in self.store.scan("pods"):
            node_name = (pod.get("spec") or {}).get("nodeName")
            if not node_name or pod_terminated(pod):
                continue
            node = self.store.peek(NODES.key, "", node_name)
            if node is None or (node["metadata"].get("annotations") or {}).get(ANN_CONTROLLER_MANAGED) != "true":
                continue
            for _, claim_name in pod_claim_volumes(pod):
                pv = attachable_volume(self.store, pod, claim_name)
                if pv is not None:
                    out.setdefault((pv["metadata"]["name"], node_name), []).append(pod)
        return out

    def sync(self, key: Hashable) -> None:
        desired = self.desired()
        attachments: dict[tuple[str, str], Obj] = {}
        for va in self.store.scan(VAS.key):
            spec = va.get("spec") or {}
            pv_name = (spec.get("source") or {}).get("persistentVolumeName")
            if pv_name:
                attachments[(pv_name, spec.get("nodeName", ""))] = va
        waiting = self._detach(desired, attachments)
        waiting = self._attach(desired, attachments) or waiting
        if waiting:
            self._retry_later()

    # ------------------------------------------------------------------ detach

    def _detach(self, desired: dict[tuple[str, str], list[Obj]], attachments: dict[tuple[str, str], Obj]) -> bool:
        waiting = False
        now = time.monotonic()
        for key in list(self._detach_requested):
            if key in desired or key not in attachments:
                del self._detach_requested[key]
        self._managed &= set(attachments)
        for key, va in attachments.items():
            if key in desired:
                self._managed.add(key)
            if key in desired or key not in self._managed or va["metadata"].get("deletionTimestamp"):
                continue
            pv_name, node_name = key
            node = self.store.peek(NODES.key, "", node_name)
            handle = _handle_of(self.store, pv_name)
            unique = unique_volume_name(va["spec"].get("attacher", ""), handle)
            requested = self._detach_requested.setdefault(key, now)
            if node is not None:
                in_use = unique in ((node.get("status") or {}).get("volumesInUse") or [])
                timeout = now - requested > self.max_wait_for_unmount
                force = timeout and not _ready(node)
                oos = any(t.get("key") == OUT_OF_SERVICE for t in (node.get("spec") or {}).get("taints") or [])
                if in_use and not force and not oos:
                    waiting = True
                    continue
                if in_use and force:
                    log.warning('attacherDetacher.DetachVolume started: this volume is not safe to detach, but '
                                'maxWaitForUnmountDuration %ss expired, force detaching volume "%s" node "%s"',
                                self.max_wait_for_unmount, unique, node_name)
                self._report_attached(node_name, unique, attached=False)
            try:
                self.store.delete(VAS, "", va["metadata"]["name"])
            except ApiError:
                pass
            self._detach_requested.pop(key, None)
        return waiting

    # ------------------------------------------------------------------ attach

    def _attach(self, desired: dict[tuple[str, str], list[Obj]], attachments: dict[tuple[str, str], Obj]) -> bool:
        waiting = False
        live = {(pv, node, pod["metadata"]["uid"]) for (pv, node), pods in desired.items() for pod in pods}
        self._multi_attach_reported &= live
        self._attach_reported &= live
        for (pv_name, node_name), pods in sorted(desired.items()):
            pv = self.store.peek(PVS.key, "", pv_name)
            if pv is None:
                continue
            csi = (pv.get("spec") or {}).get("csi") or {}
            driver, handle = csi.get("driver", ""), csi.get("volumeHandle", "")
            unique = unique_volume_name(driver, handle)
            va = attachments.get((pv_name, node_name))
            if va is not None:
                if va["metadata"].get("deletionTimestamp"):
                    waiting = True
                elif (va.get("status") or {}).get("attached"):
                    self._report_attached(node_name, unique, attached=True)
                    for pod in pods:
                        k = (pv_name, node_name, pod["metadata"]["uid"])
                        if k not in self._attach_reported:
                            self._attach_reported.add(k)
                            self.recorder.normal(pod, "SuccessfulAttachVolume",
                                                 f'AttachVolume.Attach succeeded for volume "{pv_name}" ')
                continue
            others = [node for (name, node) in attachments if name == pv_name and node != node_name]
            if others and not multi_attach_allowed(pv):
                self._report_multi_attach(pv_name, node_name, pods, others, desired)
                waiting = True
                continue
            body = {"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment",
                    "metadata": {"name": attachment_name(handle, driver, node_name)},
                    "spec": {"attacher": driver, "source": {"persistentVolumeName": pv_name},
                             "nodeName": node_name}}
            self._managed.add((pv_name, node_name))
            try:
                self.store.create(VAS, "", body)
            except ApiError as e:
                if e.code != 409:
                    log.warning("creating VolumeAttachment for %s on %s: %s", pv_name, node_name, e.message)
        return waiting

    def _report_multi_attach(self, pv_name: str, node_name: str, pods: list[Obj], others: list[str],
                             desired: dict[tuple[str, str], list[Obj]]) -> None:
        """``reportMultiAttachError``: one event per waiting pod, naming only same-namespace pods."""
        blocking = [p for other in others for p in desired.get((pv_name, other), [])]
        for pod in pods:
            k = (pv_name, node_name, pod["metadata"]["uid"])
            if k in self._multi_attach_reported:
                continue
            self._multi_attach_reported.add(k)
            if not blocking:
                suffix = "Volume is already exclusively attached to one node and can't be attached to another"
            else:
                ns = pod["metadata"]["namespace"]
                local = [p["metadata"]["name"] for p in blocking if p["metadata"]["namespace"] == ns]
                other = len(blocking) - len(local)
                if local:
                    suffix = f"Volume is already used by pod(s) {', '.join(local)}"
                    if other:
                        suffix += f" and {other} pod(s) in different namespaces"
                else:
                    suffix = f"Volume is already used by {other} pod(s) in different namespaces"
            self.recorder.warning(pod, "FailedAttachVolume", f'Multi-Attach error for volume "{pv_name}" {suffix}')

    def _report_attached(self, node_name: str, unique: str, attached: bool) -> None:
        """Keep ``status.volumesAttached`` of the node in line (the node status updater)."""
        node = self.store.peek(NODES.key, "", node_name)
        if node is None:
            return
        current = [v.get("name") for v in (node.get("status") or {}).get("volumesAttached") or []]
        if (unique in current) == attached:
            return

        def mutate(n: Obj) -> None:
            status = n.setdefault("status", {})
            names = {v.get("name") for v in status.get("volumesAttached") or []}
            names = names | {unique} if attached else names - {unique}
            if names:
                status["volumesAttached"] = [{"name": name, "devicePath": ""} for name in sorted(names)]
            else:
                status.pop("volumesAttached", None)

        try:
            self.store.guaranteed_update(NODES, "", node_name, _m(mutate), subresource="status")
        except ApiError:
            pass


def _handle_of(store: Store, pv_name: str) -> str:
    pv = store.peek(PVS.key, "", pv_name)
    return str((((pv or {}).get("spec") or {}).get("csi") or {}).get("volumeHandle") or "")


def _node_change_matters(old: Obj | None, new: Obj) -> bool:
    if old is None:
        return True
    o, n = old.get("status") or {}, new.get("status") or {}
    return (o.get("volumesInUse") != n.get("volumesInUse") or _ready(old) != _ready(new)
            or (old.get("spec") or {}).get("taints") != (new.get("spec") or {}).get("taints"))


class CsiAttacher(Controller):
    """external-attacher for one driver: publishes VolumeAttachments, unpublishes deleted ones."""

    name = "csi-attacher"

    def __init__(self, store: Store, driver: str = "ebs.csi.aws.com"):
        super().__init__(store)
        self.driver = driver
        self.finalizer = attacher_finalizer(driver)
        self._devices: dict[str, dict[str, str]] = {}  # node -> pv -> device path

    def on_event(self, ev: Event) -> None:
        if ev.key == VAS.key and ev.type != "DELETED" and (ev.obj.get("spec") or {}).get("attacher") == self.driver:
            self.enqueue(("va", ev.obj["metadata"]["name"]))
        elif ev.key == VAS.key and ev.type == "DELETED":
            pv_name = ((ev.obj.get("spec") or {}).get("source") or {}).get("persistentVolumeName")
            if pv_name:
                self.enqueue(("pv", pv_name))

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        if key[0] == "pv":
            self._release_pv(key[1])
            return
        va = self.store.peek(VAS.key, "", key[1])
        if va is None:
            return
        spec = va.get("spec") or {}
        pv_name = (spec.get("source") or {}).get("persistentVolumeName", "")
        node = spec.get("nodeName", "")
        if va["metadata"].get("deletionTimestamp"):
            self._devices.get(node, {}).pop(pv_name, None)
            _drop_finalizer(self.store, VAS, "", key[1], self.finalizer)
            return
        if (va.get("status") or {}).get("attached"):
            return
        pv = self.store.peek(PVS.key, "", pv_name)
        if pv is None:
            return
        if self.finalizer not in (pv["metadata"].get("finalizers") or []):
            self._add_finalizer(PVS, pv_name)
        if self.finalizer not in (va["metadata"].get("finalizers") or []):
            self._add_finalizer(VAS, key[1])
        device = self._device(node, pv_name)

        def attach(v: Obj) -> None:
            v["status"] = {"attached": True, "attachmentMetadata": {"devicePath": device}}

        try:
            self.store.guaranteed_update(VAS, "", key[1], _m(attach), subresource="status")
        except ApiError:
            pass

    def _device(self, node: str, pv_name: str) -> str:
        """EBS device names per instance: ``/dev/xvdaa``, ``/dev/xvdab``, … (the driver's allocator)."""
        used = self._devices.setdefault(node, {})
        if pv_name not in used:
            taken = set(used.values())
            for first in "abcdefghijklmnopqrstuvwxyz":
                for second in "abcdefghijklmnopqrstuvwxyz":
                    path = f"/dev/xvd{first}{second}"
                    if path not in taken:
                        used[pv_name] = path
                        break
                if pv_name in used:
                    break
        return used[pv_name]

    def _add_finalizer(self, rtype: Any, name: str) -> None:
        def mutate(o: Obj) -> None:
            fins = o["metadata"].setdefault("finalizers", [])
            if self.finalizer not in fins:
                fins.append(self.finalizer)

        try:
            self.store.guaranteed_update(rtype, "", name, _m(mutate))
        except ApiError:
            pass

    def _release_pv(self, pv_name: str) -> None:
        if any(((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName") == pv_name
               for va in self.store.scan(VAS.key)):
            return
        pv = self.store.peek(PVS.key, "", pv_name)
        if pv is not None and self.finalizer in (pv["metadata"].get("finalizers") or []):
            _drop_finalizer(self.store, PVS, "", pv_name, self.finalizer)
