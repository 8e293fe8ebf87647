"""The Alpine 3.21 userland under agnhost (its BASEIMAGE): users, groups, paths of busybox applets, rootfs.

agnhost's Dockerfile adds ``bash`` (``/bin/bash``) to Alpine, whose ``/bin/sh`` and ``/bin/ash`` are
busybox. The root filesystem a container starts with is made here, in a host directory of its own.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from pytest_azchaos.embedded.images.fs import Identity, Sandbox, Tree, make_rootfs

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SHELLS = ("/bin/sh", "/bin/ash", "/bin/bash")

PASSWD = [  # name, uid, gid, home, shell
    ("root", 0, 0, "/root", "/bin/sh"), ("bin", 1, 1, "/bin", "/sbin/nologin"),
    ("daemon", 2, 2, "/sbin", "/sbin/nologin"), ("lp", 4, 7, "/var/lp", "/sbin/nologin"),
    ("sync", 5, 0, "/sbin", "/bin/sync"), ("shutdown", 6, 0, "/sbin", "/sbin/shutdown"),
    ("halt", 7, 0, "/sbin", "/sbin/halt"), ("mail", 8, 12, "/var/mail", "/sbin/nologin"),
    ("news", 9, 13, "/usr/lib/news", "/sbin/nologin"), ("uucp", 10, 14, "/var/spool/uucppublic", "/sbin/nologin"),
    ("cron", 16, 16, "/var/spool/cron", "/sbin/nologin"), ("ftp", 21, 21, "/var/lib/ftp", "/sbin/nologin"),
    ("sshd", 22, 22, "/dev/null", "/sbin/nologin"), ("games", 35, 35, "/usr/games", "/sbin/nologin"),
    ("ntp", 123, 123, "/var/empty", "/sbin/nologin"), ("guest", 405, 100, "/dev/null", "/sbin/nologin"),
    ("nobody", 65534, 65534, "/", "/sbin/nologin"),
]
GROUPS = [  # name, gid, members
    ("root", 0, ("root",)), ("bin", 1, ("root", "bin", "daemon")), ("daemon", 2, ("root", "bin", "daemon")),
    ("sys", 3, ("root", "bin", "adm")), ("adm", 4, ("root", "adm", "daemon")), ("tty", 5, ()),
    ("disk", 6, ("root", "adm")), ("lp", 7, ("lp",)), ("kmem", 9, ()), ("wheel", 10, ("root",)),
    ("floppy", 11, ("root",)), ("mail", 12, ("mail",)), ("news", 13, ("news",)), ("uucp", 14, ("uucp",)),
    ("cron", 16, ("cron",)), ("console", 17, ()), ("audio", 18, ()), ("cdrom", 19, ()),
    ("dialout", 20, ("root",)), ("ftp", 21, ()), ("sshd", 22, ()), ("input", 23, ()), ("tape", 26, ("root",)),
    ("video", 27, ("root",)), ("netdev", 28, ()), ("kvm", 34, ("kvm",)), ("games", 35, ()), ("shadow", 42, ()),
    ("www-data", 82, ()), ("users", 100, ("games",)), ("ntp", 123, ()), ("abuild", 300, ()), ("utmp", 406, ()),
    ("ping", 999, ()), ("nogroup", 65533, ()), ("nobody", 65534, ()),
]

# busybox applets (and the few real programs) by name → where Alpine installs them
APPLET_PATHS = {
    **{n: f"/bin/{n}" for n in (
        "cat", "chmod", "chown", "cp", "date", "df", "echo", "false", "grep", "hostname", "ls", "mkdir",
        "mv", "pwd", "rm", "rmdir", "sleep", "stat", "touch", "true", "uname", "sync")},
    **{n: f"/usr/bin/{n}" for n in (
        "basename", "dirname", "env", "head", "id", "printf", "seq", "tail", "tee", "test", "[", "wc", "whoami")},
}
APPLET_PATHS["printenv"] = "/usr/bin/printenv"
APPLET_PATHS["nslookup"] = "/usr/bin/nslookup"


def user_name(uid: int) -> str | None:
    return next((name for name, u, *_ in PASSWD if u == uid), None)


def group_name(gid: int) -> str | None:
    return next((name for name, g, _ in GROUPS if g == gid), None)


def uid_of(user: str | int) -> int:
    if isinstance(user, int) or str(user).isdigit():
        return int(user)
    found = next((u for name, u, *_ in PASSWD if name == user), None)
    if found is None:
        raise KeyError(f"unknown user {user}")
    return found


def gid_of(group: str | int) -> int:
    if isinstance(group, int) or str(group).isdigit():
        return int(group)
    found = next((g for name, g, _ in GROUPS if name == group), None)
    if found is None:
        raise KeyError(f"unknown group {group}")
    return found


def primary_gid(uid: int) -> int:
    """The passwd entry's group; 0 for a uid the image does not know (as containerd does)."""
    return next((g for _, u, g, *_ in PASSWD if u == uid), 0)


def groups_of(uid: int) -> list[int]:
    """Groups listing the user in /etc/group (what containerd adds as supplementary groups)."""
    name = user_name(uid)
    if name is None:
        return []
    return [g for _, g, members in GROUPS if name in members]


def identity(uid: int | None, gid: int | None, extra: list[int] | tuple[int, ...] = ()) -> Identity:
    """Process credentials for ``runAsUser``/``runAsGroup`` plus fsGroup and supplementalGroups."""
    u = 0 if uid is None else uid
    g = primary_gid(u) if gid is None else gid
    return Identity(u, g, tuple(sorted({g, *groups_of(u), *extra})))


def _passwd_text() -> bytes:
    return "".join(f"{n}:x:{u}:{g}:{n}:{h}:{s}\n" for n, u, g, h, s in PASSWD).encode()


def _group_text() -> bytes:
    return "".join(f"{n}:x:{g}:{','.join(m)}\n" for n, g, m in GROUPS).encode()


ROOT_DIRS = {
    "bin": 0o755, "dev": 0o755, "etc": 0o755, "home": 0o755, "lib": 0o755, "media": 0o755, "mnt": 0o755,
    "opt": 0o755, "proc": 0o555, "root": 0o700, "run": 0o755, "sbin": 0o755, "srv": 0o755, "sys": 0o555,
    "tmp": 0o1777, "usr": 0o755, "usr/bin": 0o755, "usr/sbin": 0o755, "usr/local": 0o755,
    "usr/local/bin": 0o755, "var": 0o755, "uploads": 0o755,
}


def make_alpine_rootfs(host: Path, hostname: str, extra_files: dict[str, tuple[bytes, int]] | None = None) -> Tree:
    """A fresh copy of the image's root filesystem in ``host``."""
    files: dict[str, tuple[bytes, int]] = {
        "etc/passwd": (_passwd_text(), 0o644), "etc/group": (_group_text(), 0o644),
        "etc/hostname": (hostname.encode() + b"\n", 0o644),
        "etc/os-release": (b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.21.3\n'
                           b'PRETTY_NAME="Alpine Linux v3.21"\n', 0o644),
        "agnhost": (b"", 0o755), "bin/busybox": (b"", 0o755),
    }
    for path in (*SHELLS, *APPLET_PATHS.values()):
        files[path.lstrip("/")] = (b"", 0o755)
    files.update(extra_files or {})
    return make_rootfs(host, files, ROOT_DIRS)


class LazyTree:
    """A root filesystem written to disk on first use: most containers never exec, so most never need one."""

    def __init__(self, make: Any):
        self._make = make
        self._tree: Tree | None = None
        self._then: list[Any] = []

    def materialize(self) -> Tree:
        if self._tree is None:
            self._tree = self._make()
            for then in self._then:
                then(self._tree)
            self._then.clear()
        return self._tree

    def when_materialized(self, then: Any) -> None:
        """Run ``then(tree)`` once the tree exists (now, if it already does)."""
        if self._tree is not None:
            then(self._tree)
        else:
            self._then.append(then)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.materialize(), name)


def base_env(container: Any) -> dict[str, str]:
    """The environment every process of the container starts with (image ENV, HOSTNAME, HOME, pod env)."""
    spec = container.spec
    env = {"PATH": DEFAULT_PATH, "HOSTNAME": spec.pod_name, "HOME": "/root"}
    env.update(spec.env)
    return env


def private_sandbox(container: Any) -> Sandbox:
    """A root filesystem of the container's own, removed when the container exits (root, no volumes)."""
    host = Path(tempfile.mkdtemp(prefix="azchaos-rootfs-")) / "rootfs"
    tree = make_alpine_rootfs(host, container.spec.pod_name)
    container.own(lambda: shutil.rmtree(host.parent, ignore_errors=True))
    return Sandbox(rootfs=tree, hostname=container.spec.pod_name)
