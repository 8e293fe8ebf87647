"""Where an emulated EBS volume's data lives on disk, and who owns its root directory.

Each volume is a real directory ``<state dir>/volumes/<volume handle>/`` (``vol-…`` for EBS), created
when the provisioner creates the volume (or on first use for a static PV) and removed only when the
volume is deleted, so data survives pod deletion and rescheduling and lives as long as the PV.
The state dir belongs to one cluster process (``EmbeddedCluster(state_dir=...)``, a temporary
directory by default).

Ownership split between modules:

- this module owns *where the data is* (``volume_path(store, pv_name)``) and *who owns the volume's
  root directory*: a fresh filesystem's root is ``uid 0, gid 0, mode 0755`` (what mkfs.ext4/xfs
  leaves), recorded in ``<state dir>/volumes/<handle>.meta.json`` beside (never inside) the data, so
  the container does not see it. ``root_ownership`` / ``set_root_ownership`` read and write it (the
  kubelet's fsGroup handling changes the root's group and mode there).
- the emulated shell (``images/shell*.py``) owns per-file ownership of what is written beneath.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .apiserver.store import Store

Obj = dict[str, Any]
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Ownership:
    """Owner, group and permission bits of a volume's root directory."""

    uid: int = 0
    gid: int = 0
    mode: int = 0o755

    def to_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "gid": self.gid, "mode": f"{self.mode:04o}"}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Ownership:
        return cls(int(d.get("uid", 0)), int(d.get("gid", 0)), int(str(d.get("mode", "0755")), 8))


class VolumeStore:
    """The on-disk side of one cluster's volumes under ``root``; ``owned`` roots are removed on close."""

    def __init__(self, root: Path | None = None):
        self.owned = root is None
        self.root = Path(tempfile.mkdtemp(prefix="azchaos-cluster-")) if root is None else Path(root)
        self.volumes_dir = self.root / "volumes"
        self.volumes_dir.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(handle: str) -> str:
        return _SAFE.sub("_", handle) or "_"

    def path(self, handle: str) -> Path:
        return self.volumes_dir / self.key(handle)

    def metadata_path(self, handle: str) -> Path:
        return self.volumes_dir / f"{self.key(handle)}.meta.json"

    def create(self, handle: str, **info: Any) -> Path:
        """Make the volume's directory (root-owned, 0755 in the metadata) if it does not exist yet."""
        path = self.path(handle)
        if not path.is_dir():
            path.mkdir(parents=True, exist_ok=True)
        meta = self.metadata_path(handle)
        if not meta.exists():
            self._write_meta(handle, {"volumeHandle": handle, "root": Ownership().to_dict(), **info})
        return path

    def exists(self, handle: str) -> bool:
        return self.path(handle).is_dir()

    def delete(self, handle: str) -> None:
        shutil.rmtree(self.path(handle), ignore_errors=True)
        self.metadata_path(handle).unlink(missing_ok=True)

    def metadata(self, handle: str) -> dict[str, Any]:
        try:
            return json.loads(self.metadata_path(handle).read_text())
        except (FileNotFoundError, ValueError):
            return {"volumeHandle": handle, "root": Ownership().to_dict()}

    def root_ownership(self, handle: str) -> Ownership:
        return Ownership.from_dict(self.metadata(handle).get("root") or {})

    def set_root_ownership(self, handle: str, ownership: Ownership) -> None:
        meta = self.metadata(handle)
        meta["root"] = ownership.to_dict()
        self._write_meta(handle, meta)

    def _write_meta(self, handle: str, meta: dict[str, Any]) -> None:
        target = self.metadata_path(handle)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        tmp.replace(target)

    def close(self) -> None:
        if self.owned:
            shutil.rmtree(self.root, ignore_errors=True)


_STORES: weakref.WeakKeyDictionary[Store, VolumeStore] = weakref.WeakKeyDictionary()


def attach_volume_store(store: Store, volumes: VolumeStore) -> None:
    """Make ``volumes`` the on-disk side of ``store``'s PersistentVolumes (done once by the cluster)."""
    _STORES[store] = volumes


def volume_store(store: Store) -> VolumeStore:
    """The cluster's ``VolumeStore`` (a temporary one is made for a bare store, e.g. in unit use)."""
    vs = _STORES.get(store)
    if vs is None:
        vs = _STORES[store] = VolumeStore()
    return vs


def volume_handle(pv: Obj) -> str:
    """The key of a PV's data: the CSI volumeHandle, else ``pv-<name>`` for other volume sources."""
    spec = pv.get("spec") or {}
    handle = (spec.get("csi") or {}).get("volumeHandle")
    return str(handle) if handle else f"pv-{pv['metadata']['name']}"


def volume_path(store: Store, pv_name: str) -> Path:
    """The directory holding PV ``pv_name``'s data (created on first use); KeyError if no such PV."""
    pv = store.peek("persistentvolumes", "", pv_name)
    if pv is None:
        raise KeyError(f'persistentvolume "{pv_name}" not found')
    vs = volume_store(store)
    handle = volume_handle(pv)
    return vs.create(handle, pv=pv_name)


def root_ownership(store: Store, pv_name: str) -> Ownership:
    """Owner/group/mode of the PV's root directory (``0:0 0755`` for a new volume)."""
    pv = store.peek("persistentvolumes", "", pv_name)
    if pv is None:
        raise KeyError(f'persistentvolume "{pv_name}" not found')
    return volume_store(store).root_ownership(volume_handle(pv))


def set_root_ownership(store: Store, pv_name: str, ownership: Ownership) -> None:
    """Record a new owner/group/mode for the PV's root directory (fsGroup handling, chown/chmod of /)."""
    pv = store.peek("persistentvolumes", "", pv_name)
    if pv is None:
        raise KeyError(f'persistentvolume "{pv_name}" not found')
    volume_store(store).set_root_ownership(volume_handle(pv), ownership)
