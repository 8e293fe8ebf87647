"""A container's view of files: a private root filesystem plus mounts, with emulated ownership.

Data is written for real under host directories, but owner, group and mode are kept in our own
metadata and checked here the way the kernel checks them (owner/group/other bits, root bypasses
read/write, setgid directories pass their group on, umask 022). The emulator may run as an
ordinary user (no chown) or as root (which would bypass every check), so the host's own
ownership is never used.

Per-file metadata of a tree lives beside it in ``<dir>.owners.json`` (never inside, so the
container does not see it); the tree's root entry may come from elsewhere (a volume's root is
recorded by :mod:`pytest_azchaos.embedded.storage`) through :class:`RootOwner` callbacks.
"""

from __future__ import annotations

import errno
import json
import os
import posixpath
import shutil
import stat as st
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UMASK = 0o022
S_ISGID = 0o2000
S_ISVTX = 0o1000


class FsError(OSError):
    """A failed file operation; ``strerror`` is the libc text (``Permission denied`` ...)."""

    def __init__(self, code: int, path: str = "") -> None:
        super().__init__(code, os.strerror(code), path)


@dataclass(frozen=True)
class Identity:
    """The process credentials: uid, primary gid and supplementary groups."""

    uid: int = 0
    gid: int = 0
    groups: tuple[int, ...] = ()

    def in_group(self, gid: int) -> bool:
        return gid == self.gid or gid in self.groups


@dataclass(frozen=True)
class Meta:
    uid: int
    gid: int
    mode: int  # permission bits incl. setuid/setgid/sticky


@dataclass(frozen=True)
class Stat:
    kind: str  # "d" directory, "-" file, "c" character device
    mode: int
    uid: int
    gid: int
    nlink: int
    size: int
    mtime: float
    blocks: int  # 512-byte blocks

    @property
    def is_dir(self) -> bool:
        return self.kind == "d"


@dataclass
class RootOwner:
    """Where a tree's root ownership is kept when not in the tree's own sidecar."""

    get: Callable[[], Meta]
    set: Callable[[Meta], None]


class Tree:
    """A host directory whose files carry emulated ownership (one mount's data, or a rootfs)."""

    def __init__(self, host: Path, root: RootOwner | None = None, default_root: Meta = Meta(0, 0, 0o755)) -> None:
        self.host = Path(host)
        self.sidecar = self.host.parent / f"{self.host.name}.owners.json"
        self.root = root
        self.default_root = default_root

    def _load(self) -> dict[str, list[int]]:
        try:
            return json.loads(self.sidecar.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def _save(self, data: dict[str, list[int]]) -> None:
        tmp = self.sidecar.with_name(self.sidecar.name + ".tmp")
        tmp.write_text(json.dumps(data, sort_keys=True))
        tmp.replace(self.sidecar)

    def meta(self, rel: str) -> Meta:
        """Owner, group and mode of ``rel`` ('' is the root); unknown files are root's with the host mode."""
        if rel == "" and self.root is not None:
            return self.root.get()
        entry = self._load().get(rel)
        if entry is not None:
            return Meta(*entry)
        if rel == "":
            return self.default_root
        host_mode = (self.host / rel).lstat().st_mode & 0o7777
        return Meta(0, 0, host_mode)

    def set_meta(self, rel: str, meta: Meta) -> None:
        if rel == "" and self.root is not None:
            self.root.set(meta)
            return
        data = self._load()
        data[rel] = [meta.uid, meta.gid, meta.mode]
        self._save(data)

    def forget(self, rel: str) -> None:
        """Drop metadata of ``rel`` and everything beneath it."""
        data = self._load()
        prefix = rel + "/"
        keep = {k: v for k, v in data.items() if k != rel and not k.startswith(prefix)}
        if keep != data:
            self._save(keep)

    def rename(self, old: str, new: str) -> None:
        data = self._load()
        moved: dict[str, list[int]] = {}
        for k, v in data.items():
            if k == old:
                moved[new] = v
            elif k.startswith(old + "/"):
                moved[new + k[len(old):]] = v
            elif k != new and not k.startswith(new + "/"):
                moved[k] = v
        self._save(moved)

    def walk(self) -> list[str]:
        """Every path in the tree (root first, '' is the root), without following symlinks."""
        out = [""]
        for dirpath, dirnames, filenames in os.walk(self.host):
            base = os.path.relpath(dirpath, self.host)
            for name in sorted(dirnames) + sorted(filenames):
                out.append(name if base == "." else f"{base}/{name}")
        return out

    def set_many(self, metas: dict[str, Meta]) -> None:
        """Set several entries at once (the kubelet's recursive fsGroup change)."""
        root = metas.pop("", None)
        data = self._load()
        for rel, m in metas.items():
            data[rel] = [m.uid, m.gid, m.mode]
        self._save(data)
        if root is not None:
            self.set_meta("", root)


@dataclass(frozen=True)
class Mount:
    """``tree`` mounted at ``path`` inside the container."""

    path: str
    tree: Tree
    read_only: bool = False


DEV_NULL = "/dev/null"


@dataclass
class Sandbox:
    """One container's filesystem view and default process identity (what an exec runs with)."""

    rootfs: Tree
    mounts: list[Mount] = field(default_factory=list)
    identity: Identity = field(default_factory=Identity)
    hostname: str = "localhost"
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"

    def __post_init__(self) -> None:
        self.mounts.sort(key=lambda m: len(m.path), reverse=True)
        # Mount points exist in the image's filesystem; a lazy root filesystem gets them when it is written.
        when_materialized = getattr(type(self.rootfs), "when_materialized", None)
        if when_materialized is not None:
            when_materialized(self.rootfs, self._make_mount_points)
        else:
            self._make_mount_points(self.rootfs)

    def _make_mount_points(self, rootfs: Tree) -> None:
        for m in self.mounts:
            (rootfs.host / m.path.lstrip("/")).mkdir(parents=True, exist_ok=True)

    def view(self, identity: Identity | None = None) -> FileSystem:
        return FileSystem(self, identity or self.identity)


class FileSystem:
    """File operations on a :class:`Sandbox` as ``identity``, raising :class:`FsError` like the syscalls."""

    def __init__(self, sandbox: Sandbox, identity: Identity) -> None:
        self.sandbox = sandbox
        self.identity = identity

    # ------------------------------------------------------------------ resolution
    def _locate(self, path: str) -> tuple[Tree, str, bool, str]:
        """(tree, relative path, read-only, mount point) of an absolute, normalized path."""
        for m in self.sandbox.mounts:
            if path == m.path or path.startswith(m.path.rstrip("/") + "/"):
                rel = path[len(m.path):].strip("/")
                return m.tree, rel, m.read_only, m.path
        return self.sandbox.rootfs, path.strip("/"), False, "/"

    @staticmethod
    def normalize(path: str, cwd: str = "/") -> str:
        full = path if path.startswith("/") else posixpath.join(cwd, path)
        norm = posixpath.normpath(full)
        return "/" + norm.lstrip("/") if norm != "/" else "/"

    def _host(self, path: str) -> Path:
        tree, rel, _, _ = self._locate(path)
        return tree.host / rel if rel else tree.host

    def _allowed(self, meta: Meta, want: int, is_dir: bool) -> bool:
        ident = self.identity
        if ident.uid == 0:
            if want & 1 and not is_dir:
                return bool(meta.mode & 0o111)
            return True
        if ident.uid == meta.uid:
            bits = (meta.mode >> 6) & 7
        elif ident.in_group(meta.gid):
            bits = (meta.mode >> 3) & 7
        else:
            bits = meta.mode & 7
        return bits & want == want

    def _search(self, path: str) -> None:
        """Every directory above ``path`` must exist, be a directory and be searchable (x)."""
        parts = [p for p in path.split("/") if p]
        current = "/"
        for part in parts[:-1]:
            s = self._stat_raw(current)
            if s is None:
                raise FsError(errno.ENOENT, path)
            if not s.is_dir:
                raise FsError(errno.ENOTDIR, path)
            if not self._allowed(Meta(s.uid, s.gid, s.mode), 1, True):
                raise FsError(errno.EACCES, path)
            current = posixpath.join(current, part)
        s = self._stat_raw(current)
        if s is None:
            raise FsError(errno.ENOENT, path)
        if not s.is_dir:
            raise FsError(errno.ENOTDIR, path)
        if parts and not self._allowed(Meta(s.uid, s.gid, s.mode), 1, True):
            raise FsError(errno.EACCES, path)

    def _stat_raw(self, path: str) -> Stat | None:
        if path == DEV_NULL:
            return Stat("c", 0o666, 0, 0, 1, 0, 0.0, 0)
        tree, rel, _, _ = self._locate(path)
        host = tree.host / rel if rel else tree.host
        try:
            hs = host.lstat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        meta = tree.meta(rel)
        kind = "d" if st.S_ISDIR(hs.st_mode) else "-"
        return Stat(kind, meta.mode, meta.uid, meta.gid, hs.st_nlink, hs.st_size, hs.st_mtime, hs.st_blocks)

    # ------------------------------------------------------------------ queries
    def stat(self, path: str) -> Stat:
        self._search(path)
        s = self._stat_raw(path)
        if s is None:
            raise FsError(errno.ENOENT, path)
        return s

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
        except FsError:
            return False
        return True

    def access(self, path: str, want: int) -> bool:
        """``access(2)``: r=4, w=2, x=1 (read-only mounts refuse w)."""
        try:
            s = self.stat(path)
        except FsError:
            return False
        if want & 2 and self._locate(path)[2] and path != DEV_NULL:
            return False
        return self._allowed(Meta(s.uid, s.gid, s.mode), want, s.is_dir)

    def listdir(self, path: str) -> list[str]:
        s = self.stat(path)
        if not s.is_dir:
            raise FsError(errno.ENOTDIR, path)
        if not self._allowed(Meta(s.uid, s.gid, s.mode), 4, True):
            raise FsError(errno.EACCES, path)
        names = {p.name for p in self._host(path).iterdir()}
        prefix = path.rstrip("/") + "/"
        for m in self.sandbox.mounts:  # mount points show up in their parent
            if m.path.startswith(prefix) and "/" not in m.path[len(prefix):]:
                names.add(m.path[len(prefix):])
        if path == "/":
            names.add("dev")
        return sorted(names)

    # ------------------------------------------------------------------ reading and writing
    def read(self, path: str) -> bytes:
        if path == DEV_NULL:
            return b""
        s = self.stat(path)
        if s.is_dir:
            raise FsError(errno.EISDIR, path)
        if not self._allowed(Meta(s.uid, s.gid, s.mode), 4, False):
            raise FsError(errno.EACCES, path)
        return self._host(path).read_bytes()

    def open_write(self, path: str, append: bool = False, truncate: bool = True) -> None:
        """``open(O_WRONLY|O_CREAT[|O_TRUNC|O_APPEND], 0666)``: check, create or truncate."""
        if path == DEV_NULL:
            return
        self._search(path)
        s = self._stat_raw(path)
        _tree, _rel, read_only, _ = self._locate(path)
        if s is not None:
            if s.is_dir:
                raise FsError(errno.EISDIR, path)
            if not self._allowed(Meta(s.uid, s.gid, s.mode), 2, False):
                raise FsError(errno.EACCES, path)
            if read_only:
                raise FsError(errno.EROFS, path)
            if truncate and not append:
                self._host(path).write_bytes(b"")
            return
        self._create(path, 0o666, directory=False)

    def write(self, path: str, data: bytes, append: bool = False) -> None:
        """Write ``data`` to an opened file (after :meth:`open_write`)."""
        if path == DEV_NULL:
            return
        with open(self._host(path), "ab") as f:  # open_write already truncated
            f.write(data)

    def _parent_for_create(self, path: str) -> Stat:
        parent = posixpath.dirname(path) or "/"
        ps = self._stat_raw(parent)
        if ps is None:
            raise FsError(errno.ENOENT, path)
        if not ps.is_dir:
            raise FsError(errno.ENOTDIR, path)
        if not self._allowed(Meta(ps.uid, ps.gid, ps.mode), 3, True):
            raise FsError(errno.EACCES, path)
        if self._locate(path)[2]:
            raise FsError(errno.EROFS, path)
        return ps

    def _create(self, path: str, mode: int, directory: bool) -> None:
        ps = self._parent_for_create(path)
        gid = ps.gid if ps.mode & S_ISGID else self.identity.gid
        bits = mode & ~UMASK & 0o777
        if directory and ps.mode & S_ISGID:
            bits |= S_ISGID
        tree, rel, _, _ = self._locate(path)
        host = tree.host / rel
        if directory:
            host.mkdir()
        else:
            host.touch()
        tree.set_meta(rel, Meta(self.identity.uid, gid, bits))

    def mkdir(self, path: str, mode: int = 0o777) -> None:
        self._search(path)
        if self._stat_raw(path) is not None:
            raise FsError(errno.EEXIST, path)
        self._create(path, mode, directory=True)

    def _check_remove(self, path: str, s: Stat) -> None:
        ps = self._parent_for_create(path)
        if ps.mode & S_ISVTX and self.identity.uid not in (0, s.uid, ps.uid):
            raise FsError(errno.EPERM, path)

    def unlink(self, path: str) -> None:
        s = self.stat(path)
        if s.is_dir:
            raise FsError(errno.EISDIR, path)
        self._check_remove(path, s)
        tree, rel, _, _ = self._locate(path)
        (tree.host / rel).unlink()
        tree.forget(rel)

    def rmdir(self, path: str) -> None:
        s = self.stat(path)
        if not s.is_dir:
            raise FsError(errno.ENOTDIR, path)
        tree, rel, _, _mountpoint = self._locate(path)
        if not rel:
            raise FsError(errno.EBUSY, path)
        if any((tree.host / rel).iterdir()):
            raise FsError(errno.ENOTEMPTY, path)
        self._check_remove(path, s)
        (tree.host / rel).rmdir()
        tree.forget(rel)

    def remove_tree(self, path: str) -> None:
        """``rm -r``: children first, each with its own checks."""
        s = self.stat(path)
        if s.is_dir:
            for name in self.listdir(path):
                self.remove_tree(posixpath.join(path, name))
            self.rmdir(path)
        else:
            self.unlink(path)

    def rename(self, old: str, new: str) -> None:
        s = self.stat(old)
        self._check_remove(old, s)
        self._search(new)
        self._parent_for_create(new)
        t_old, r_old, _, m_old = self._locate(old)
        t_new, r_new, _, m_new = self._locate(new)
        if m_old != m_new:
            raise FsError(errno.EXDEV, new)
        os.replace(t_old.host / r_old, t_new.host / r_new)
        t_old.rename(r_old, r_new)

    def touch(self, path: str, when: float | None = None) -> None:
        s = self.stat(path)
        is_owner = self.identity.uid in (0, s.uid)
        if not is_owner and not self._allowed(Meta(s.uid, s.gid, s.mode), 2, s.is_dir):
            raise FsError(errno.EACCES, path)
        if self._locate(path)[2]:
            raise FsError(errno.EROFS, path)
        os.utime(self._host(path), None if when is None else (when, when))

    def chmod(self, path: str, mode: int) -> None:
        s = self.stat(path)
        if self.identity.uid not in (0, s.uid):
            raise FsError(errno.EPERM, path)
        if self._locate(path)[2]:
            raise FsError(errno.EROFS, path)
        if self.identity.uid != 0 and not self.identity.in_group(s.gid):
            mode &= ~S_ISGID  # the kernel clears setgid for a group the caller is not in
        tree, rel, _, _ = self._locate(path)
        tree.set_meta(rel, Meta(s.uid, s.gid, mode & 0o7777))

    def chown(self, path: str, uid: int | None, gid: int | None) -> None:
        s = self.stat(path)
        new_uid = s.uid if uid is None else uid
        new_gid = s.gid if gid is None else gid
        if self.identity.uid != 0 and (new_uid != s.uid or self.identity.uid != s.uid
                                       or not self.identity.in_group(new_gid)):
            raise FsError(errno.EPERM, path)
        if self._locate(path)[2]:
            raise FsError(errno.EROFS, path)
        tree, rel, _, _ = self._locate(path)
        mode = s.mode if s.is_dir else s.mode & ~0o6000
        tree.set_meta(rel, Meta(new_uid, new_gid, mode))

    def copy_file(self, src: str, dst: str) -> None:
        data = self.read(src)
        self.open_write(dst)
        self.write(dst, data, append=False)


# ---------------------------------------------------------------------- rootfs and registry
_SANDBOXES: weakref.WeakKeyDictionary[Any, Sandbox] = weakref.WeakKeyDictionary()


def attach(container: Any, sandbox: Sandbox) -> None:
    """Give ``container`` its filesystem and identity (the kubelet does this before it starts)."""
    _SANDBOXES[container] = sandbox


def sandbox_of(container: Any) -> Sandbox | None:
    return _SANDBOXES.get(container)


def make_rootfs(host: Path, files: dict[str, tuple[bytes, int]], dirs: dict[str, int]) -> Tree:
    """Populate ``host`` as an image's root filesystem (dirs and files with their modes, all root's)."""
    host.mkdir(parents=True, exist_ok=True)
    tree = Tree(host, default_root=Meta(0, 0, 0o755))
    metas: dict[str, Meta] = {}
    for d, mode in dirs.items():
        (host / d.strip("/")).mkdir(parents=True, exist_ok=True)
        metas[d.strip("/")] = Meta(0, 0, mode)
    for f, (data, mode) in files.items():
        p = host / f.strip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        metas[f.strip("/")] = Meta(0, 0, mode)
    tree.set_many(metas)
    return tree


def remove_tree(tree: Tree) -> None:
    """Delete a tree's data and its sidecar."""
    shutil.rmtree(tree.host, ignore_errors=True)
    tree.sidecar.unlink(missing_ok=True)
