"""What a pod's containers see mounted where, as which user, and the kubelet's fsGroup ownership change.

Volumes: ``emptyDir`` is a per-pod directory (``0777 root:root``, removed with the pod);
``persistentVolumeClaim`` is the bound PV's directory from :mod:`pytest_azchaos.embedded.storage`
(root ``0:0 0755`` as mkfs leaves it). Other sources mount an empty read-only directory.

fsGroup follows ``pkg/volume/volume_linux.go`` ``SetVolumeOwnership``: every file's group becomes
fsGroup and its mode gains ``rw`` for the group (``0660``), directories also ``x`` (``0110``) and
setgid; ``OnRootMismatch`` skips the walk when the root already has the group, those bits and setgid.
It applies to emptyDir always and to CSI volumes with the default ``ReadWriteOnceWithFSType``
policy only when the PV has an fsType and its access modes include ``ReadWriteOnce``. The process
runs as ``runAsUser``/``runAsGroup`` (container over pod), else as the image's ``USER`` (``uid[:gid]``
or a name from the image's ``/etc/passwd``, as containerd's ``WithUser``; no USER: root), with fsGroup
and ``supplementalGroups`` added to its groups. An image user name the image does not know runs as root
here (containerd fails the create: "no matching entries in passwd file"; not emulated).
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from ..images import alpine
from ..images.fs import S_ISGID, Meta, Mount, RootOwner, Sandbox, Tree

Obj = dict[str, Any]
RW_MASK = 0o660
RO_MASK = 0o440
EXEC_MASK = 0o110


def requires_permission_change(root: Meta, fs_group: int, read_only: bool) -> bool:
    """``requiresPermissionChange``: the root's group, the rw(x) group bits and setgid decide."""
    if root.gid != fs_group:
        return True
    want = (RO_MASK if read_only else RW_MASK) | EXEC_MASK
    return (root.mode & 0o777) & want != want or not root.mode & S_ISGID


def set_volume_ownership(tree: Tree, fs_group: int, policy: str | None = None, read_only: bool = False) -> bool:
    """Apply fsGroup to every file of ``tree`` as the kubelet does; False when OnRootMismatch skipped it."""
    if policy == "OnRootMismatch" and not requires_permission_change(tree.meta(""), fs_group, read_only):
        return False
    mask = RO_MASK if read_only else RW_MASK
    metas: dict[str, Meta] = {}
    for rel in tree.walk():
        meta = tree.meta(rel)
        host = tree.host / rel if rel else tree.host
        if host.is_symlink():
            continue
        bits = mask | (EXEC_MASK | S_ISGID if host.is_dir() else 0)
        metas[rel] = Meta(meta.uid, fs_group, meta.mode | bits)
    tree.set_many(metas)
    return True


def _security(pod: Obj, container: Obj) -> tuple[int | None, int | None, list[int], int | None, str | None]:
    psc = pod["spec"].get("securityContext") or {}
    csc = container.get("securityContext") or {}
    uid = csc.get("runAsUser", psc.get("runAsUser"))
    gid = csc.get("runAsGroup", psc.get("runAsGroup"))
    fs_group = psc.get("fsGroup")
    groups = [int(g) for g in psc.get("supplementalGroups") or []]
    if fs_group is not None:
        groups.append(int(fs_group))
    return uid, gid, groups, fs_group, psc.get("fsGroupChangePolicy")


def _image_identity(user: str) -> tuple[int | None, int | None]:
    """The uid and gid (None: unset) an image's config ``User`` gives a process (containerd ``WithUser``)."""
    name, _, group = user.partition(":")
    uid = gid = None
    with contextlib.suppress(KeyError, ValueError):
        uid = alpine.uid_of(name) if name else None
    with contextlib.suppress(KeyError, ValueError):
        gid = alpine.gid_of(group) if group else None
    return uid, gid


def _new_tree(host: Path) -> Tree:
    host.mkdir(parents=True, exist_ok=True)
    return Tree(host)


def _pods_dir(store: Any) -> Path | None:
    from .. import storage

    try:
        root = storage.volume_store(store).root
    except Exception:  # no storage layer (pure tests): the system temp dir
        return None
    pods = root / "pods"
    pods.mkdir(parents=True, exist_ok=True)
    return pods


class PodVolumes:
    """The volumes of one pod on its node: set up once when the first container starts, torn down at the end."""

    def __init__(self, store: Any, pod: Obj) -> None:
        self.store = store
        self.pod = pod
        self.dir: Path | None = None
        self.trees: dict[str, tuple[Tree, bool]] = {}  # volume name -> (tree, read-only source)
        self.skipped: dict[str, str] = {}  # volume name -> why it is not mounted
        self._count = 0

    def setup(self) -> None:
        if self.dir is not None:
            return
        # Under the cluster's state directory, so a stopped cluster leaves nothing behind.
        # Created on first write: a pod without emptyDir volumes that never execs needs no directory at all.
        parent = _pods_dir(self.store) or Path(tempfile.gettempdir())
        meta = self.pod["metadata"]
        self.dir = parent / f"azchaos-pod-{meta['name'][:40]}-{meta.get('uid') or uuid.uuid4().hex}"
        _, _, _, fs_group, policy = _security(self.pod, {})
        for volume in self.pod["spec"].get("volumes") or []:
            name = volume["name"]
            if "emptyDir" in volume:
                host = self.dir / "volumes" / "empty-dir" / name
                host.mkdir(parents=True)
                tree = Tree(host, default_root=Meta(0, 0, 0o777))
                if fs_group is not None:
                    set_volume_ownership(tree, int(fs_group))  # the change policy has no effect on emptyDir
                self.trees[name] = (tree, False)
            elif "persistentVolumeClaim" in volume:
                source = volume["persistentVolumeClaim"]
                tree_fs = self._claim_tree(source.get("claimName", ""), name)
                if tree_fs is None:
                    continue
                tree, fs_type, rwo = tree_fs
                read_only = bool(source.get("readOnly"))
                if fs_group is not None and fs_type and rwo:
                    set_volume_ownership(tree, int(fs_group), policy, read_only)
                self.trees[name] = (tree, read_only)
            else:
                host = self.dir / "volumes" / "other" / name
                self.trees[name] = (alpine.LazyTree(functools.partial(_new_tree, host)), True)

    def _claim_tree(self, claim: str, volume: str) -> tuple[Tree, str, bool] | None:
        ns = self.pod["metadata"]["namespace"]
        pvc = self.store.peek("persistentvolumeclaims", ns, claim)
        pv_name = (pvc or {}).get("spec", {}).get("volumeName")
        if not pv_name:
            self.skipped[volume] = f'persistentvolumeclaim "{claim}" is not bound'
            return None
        try:
            from .. import storage
        except ImportError:
            self.skipped[volume] = "no storage backend"
            return None
        pv = self.store.peek("persistentvolumes", "", pv_name) or {}
        host = storage.volume_path(self.store, pv_name)

        def get() -> Meta:
            o = storage.root_ownership(self.store, pv_name)
            return Meta(o.uid, o.gid, o.mode)

        def put(meta: Meta) -> None:
            storage.set_root_ownership(self.store, pv_name, storage.Ownership(meta.uid, meta.gid, meta.mode))

        spec = pv.get("spec") or {}
        fs_type = (spec.get("csi") or {}).get("fsType") or (spec.get("awsElasticBlockStore") or {}).get("fsType") \
            or ""
        rwo = "ReadWriteOnce" in (spec.get("accessModes") or [])
        return Tree(host, root=RootOwner(get, put)), fs_type, rwo

    def sandbox(self, container: Obj, owner: Any, image_user: str = "", resolv_conf: str = "") -> Sandbox:
        """The filesystem and identity of one run of ``container`` (a fresh writable layer each run);
        ``image_user`` is the image config's ``User``, used when the pod sets no ``runAsUser``;
        ``resolv_conf`` the pod's ``/etc/resolv.conf`` (the kubelet's, bind-mounted over the image's)."""
        self.setup()
        assert self.dir is not None
        self._count += 1
        host = self.dir / "containers" / f"{container['name']}-{self._count}" / "rootfs"
        pod_name = self.pod["metadata"]["name"]
        extra = {"etc/resolv.conf": (resolv_conf.encode(), 0o644)} if resolv_conf else None
        rootfs = alpine.LazyTree(lambda: alpine.make_alpine_rootfs(host, pod_name, extra))
        mounts = []
        for vm in container.get("volumeMounts") or []:
            entry = self.trees.get(vm.get("name", ""))
            if entry is None or vm.get("subPath") or vm.get("subPathExpr"):
                continue
            tree, read_only = entry
            mounts.append(Mount(vm["mountPath"].rstrip("/") or "/", tree, read_only or bool(vm.get("readOnly"))))
        uid, gid, groups, _, _ = _security(self.pod, container)
        if uid is None:
            uid, image_gid = _image_identity(image_user)
            gid = image_gid if gid is None else gid
        if owner is not None and hasattr(owner, "own"):
            owner.own(lambda: shutil.rmtree(host.parent, ignore_errors=True))
        return Sandbox(rootfs=rootfs, mounts=mounts, identity=alpine.identity(uid, gid, groups), hostname=pod_name,
                       workdir=container.get("workingDir") or "/")

    def teardown(self) -> None:
        """Remove the pod's own directories (emptyDir, writable layers); PV data stays."""
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)  # sidecars of its trees live inside it too
            self.dir = None
