"""busybox applets and ash builtins on the emulated filesystem, with busybox's texts and exit codes.

Each applet is ``async (proc, argv) -> exit code``; output goes to ``proc.out``/``proc.err``.
"""

from __future__ import annotations

import asyncio
import errno
import posixpath
import re
import time

from pytest_azchaos.embedded.images import alpine
from pytest_azchaos.embedded.images.fs import S_ISGID, S_ISVTX, FsError, Stat
from pytest_azchaos.embedded.images.shell_process import Applet, ExitShell, Proc


def _flags(argv: list[str], allowed: str, with_value: str = "") -> tuple[set[str], dict[str, str], list[str]]:
    """busybox getopt: combined short flags, ``--`` ends options; unknown flags raise ValueError."""
    flags: set[str] = set()
    values: dict[str, str] = {}
    args: list[str] = []
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--":
            args.extend(argv[i + 1:])
            break
        if a.startswith("-") and len(a) > 1 and not args:
            j = 1
            while j < len(a):
                c = a[j]
                if c in with_value:
                    rest = a[j + 1:]
                    if not rest:
                        i += 1
                        rest = argv[i] if i < len(argv) else ""
                    values[c] = rest
                    break
                if c not in allowed:
                    raise ValueError(c)
                flags.add(c)
                j += 1
        else:
            args.append(a)
        i += 1
    return flags, values, args


def _bad_option(proc: Proc, name: str, c: str) -> int:
    proc.error(f"{name}: unrecognized option: {c}")
    return 1


# ---------------------------------------------------------------------------------------------- output


def mode_string(s: Stat) -> str:
    kind = s.kind
    m = s.mode
    chars = [kind]
    for shift, special, flag in ((6, 0o4000, "s"), (3, S_ISGID, "s"), (0, S_ISVTX, "t")):
        bits = (m >> shift) & 7
        chars.append("r" if bits & 4 else "-")
        chars.append("w" if bits & 2 else "-")
        x = bits & 1
        if m & special:
            chars.append(flag if x else flag.upper())
        else:
            chars.append("x" if x else "-")
    return "".join(chars)


def _ls_time(mtime: float) -> str:
    t = time.localtime(mtime)
    if abs(time.time() - mtime) < 182 * 86400:
        return time.strftime("%b ", t) + f"{t.tm_mday:2d} " + time.strftime("%H:%M", t)
    return time.strftime("%b ", t) + f"{t.tm_mday:2d}  " + time.strftime("%Y", t)


async def echo(proc: Proc, argv: list[str]) -> int:
    args = argv[1:]
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        for c in args[0][1:]:
            newline = newline and c != "n"
            escapes = (escapes or c == "e") and c != "E"
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text, stop = _escapes(text)
        if stop:
            newline = False
    proc.print(text + ("\n" if newline else ""))
    return 0


def _escapes(text: str) -> tuple[str, bool]:
    out, i = [], 0
    table = {"n": "\n", "t": "\t", "\\": "\\", "a": "\a", "b": "\b", "r": "\r", "v": "\v", "f": "\f"}
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "c":
                return "".join(out), True
            if n in table:
                out.append(table[n])
                i += 2
                continue
            if n == "0":
                m = re.match(r"[0-7]{0,3}", text[i + 2:])
                out.append(chr(int(m.group(0) or "0", 8)))
                i += 2 + m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out), False


async def printf(proc: Proc, argv: list[str]) -> int:
    if len(argv) < 2:
        proc.error("Usage: printf FORMAT [ARG]...")
        return 1
    fmt, args = argv[1], argv[2:]
    spec = re.compile(r"%([-0 +#]*\d*(?:\.\d+)?)([sdibxXoc%])")
    while True:
        used = 0

        def sub(m: re.Match[str], args: list[str] = args) -> str:
            nonlocal used
            flags, conv = m.group(1), m.group(2)
            if conv == "%":
                return "%"
            arg = args[used] if used < len(args) else ""
            used += 1
            if conv == "b":
                return _escapes(arg)[0]
            if conv in "dixXoc":
                try:
                    value = int(arg or "0", 0) if conv != "c" else arg[:1]
                except ValueError:
                    proc.error(f"printf: invalid number '{arg}'")
                    value = 0
                return ("%" + flags + conv) % value if conv != "c" else str(value)
            return ("%" + flags + "s") % arg

        proc.print(_escapes(spec.sub(sub, fmt))[0])
        if used == 0 or used >= len(args):
            break
        args = args[used:]
    return 0


async def cat(proc: Proc, argv: list[str]) -> int:
    status = 0
    files = [a for a in argv[1:] if a != "-u"] or ["-"]
    for name in files:
        if name == "-":
            proc.out += await proc.stdin.read()
            continue
        try:
            proc.out += proc.fs.read(proc.path(name))
        except FsError as e:
            if e.errno == errno.EISDIR:
                proc.error("cat: read error: Is a directory")
            else:
                proc.error(f"cat: can't open '{name}': {e.strerror}")
            status = 1
    return status


def _ls_line(proc: Proc, s: Stat, name: str, numeric: bool) -> str:
    if numeric:
        owner = f"{s.uid:<8} {s.gid:<8}"
    else:
        owner = f"{(alpine.user_name(s.uid) or str(s.uid))[:8]:<8} {(alpine.group_name(s.gid) or str(s.gid))[:8]:<8}"
    size = s.size if s.kind != "c" else 0
    if s.kind == "c":
        return f"{mode_string(s):<10} {s.nlink:>4} {owner}   1,   3 {_ls_time(s.mtime)} {name}"
    return f"{mode_string(s):<10} {s.nlink:>4} {owner} {size:>9} {_ls_time(s.mtime)} {name}"


async def ls(proc: Proc, argv: list[str]) -> int:
    try:
        flags, _, args = _flags(argv, "lnadA1FhR")
    except ValueError as e:
        return _bad_option(proc, "ls", str(e))
    long = "l" in flags or "n" in flags
    numeric = "n" in flags
    status = 0
    targets = args or ["."]
    files: list[tuple[str, Stat]] = []
    dirs: list[tuple[str, Stat]] = []
    for name in targets:
        try:
            s = proc.fs.stat(proc.path(name))
        except FsError as e:
            proc.error(f"ls: {name}: {e.strerror}")
            status = 1
            continue
        (dirs if s.is_dir and "d" not in flags else files).append((name, s))
    for name, s in sorted(files, key=lambda x: x[0]):
        proc.print((_ls_line(proc, s, name, numeric) if long else name) + "\n")
    for index, (name, _s) in enumerate(sorted(dirs, key=lambda x: x[0])):
        if len(targets) > 1:
            proc.print(("\n" if index or files else "") + f"{name}:\n")
        path = proc.path(name)
        try:
            names = proc.fs.listdir(path)
        except FsError as e:
            proc.error(f"ls: can't open '{name}': {e.strerror}")
            status = 1
            continue
        if "a" in flags:
            names = [".", "..", *names]
        elif "A" not in flags:
            names = [n for n in names if not n.startswith(".")]
        entries: list[tuple[str, Stat | None]] = []
        for n in names:
            try:
                entries.append((n, proc.fs.stat(FsPath.join(path, n)) if long else None))
            except FsError as e:
                proc.error(f"ls: {posixpath.join(name, n)}: {e.strerror}")
                status = 1
        if long:
            blocks = sum((e.blocks if e else 0) for _, e in entries if _ not in (".", "..")) // 2
            proc.print(f"total {blocks}\n")
        for n, es in entries:
            proc.print((_ls_line(proc, es, n, numeric) if long and es else n) + "\n")
    return status


class FsPath:
    @staticmethod
    def join(base: str, name: str) -> str:
        return posixpath.normpath(posixpath.join(base, name)) if name not in (".", "..") else \
            posixpath.normpath(posixpath.join(base, name)) or "/"


def _name(ident_id: int, kind: str) -> str:
    name = alpine.user_name(ident_id) if kind == "u" else alpine.group_name(ident_id)
    return f"{ident_id}({name})" if name else str(ident_id)


async def id_(proc: Proc, argv: list[str]) -> int:
    try:
        flags, _, args = _flags(argv, "ugGnr")
    except ValueError as e:
        return _bad_option(proc, "id", str(e))
    ident = proc.identity
    if args:
        try:
            uid = alpine.uid_of(args[0])
        except KeyError:
            proc.error(f"id: unknown user {args[0]}")
            return 1
        ident = alpine.identity(uid, None)
    names = "n" in flags
    if "u" in flags:
        value = alpine.user_name(ident.uid) if names else None
        if names and value is None:
            proc.error(f"id: unknown ID {ident.uid}")
            return 1
        proc.print(f"{value if names else ident.uid}\n")
        return 0
    if "g" in flags:
        value = alpine.group_name(ident.gid) if names else None
        proc.print(f"{value if names and value else ident.gid}\n")
        return 0
    groups = list(ident.groups) or [ident.gid]
    if "G" in flags:
        proc.print(" ".join((alpine.group_name(g) or str(g)) if names else str(g) for g in groups) + "\n")
        return 0
    text = f"uid={_name(ident.uid, 'u')} gid={_name(ident.gid, 'g')}"
    if ident.groups:
        text += " groups=" + ",".join(_name(g, "g") for g in ident.groups)
    proc.print(text + "\n")
    return 0


async def whoami(proc: Proc, argv: list[str]) -> int:
    name = alpine.user_name(proc.identity.uid)
    if name is None:
        proc.error(f"whoami: unknown uid {proc.identity.uid}")
        return 1
    proc.print(name + "\n")
    return 0


async def test(proc: Proc, argv: list[str]) -> int:
    args = argv[1:]
    name = posixpath.basename(argv[0])
    if name == "[":
        if not args or args[-1] != "]":
            proc.error("[: missing ]")
            return 2
        args = args[:-1]
    try:
        return 0 if _test(proc, args) else 1
    except _TestError as e:
        proc.error(f"{name}: {e}")
        return 2


class _TestError(Exception):
    pass


def _test(proc: Proc, a: list[str]) -> bool:
    if not a:
        return False
    if a[0] == "!" and len(a) > 1:
        return not _test(proc, a[1:])
    for i, tok in enumerate(a):
        if tok in ("-a", "-o") and 0 < i < len(a) - 1:
            left, right = _test(proc, a[:i]), _test(proc, a[i + 1:])
            return (left and right) if tok == "-a" else (left or right)
    if len(a) == 1:
        return a[0] != ""
    if len(a) == 2:
        op, arg = a
        if op == "-z":
            return arg == ""
        if op == "-n":
            return arg != ""
        path = proc.path(arg)
        try:
            s = proc.fs.stat(path)
        except FsError:
            return False
        checks = {"-e": True, "-f": s.kind == "-", "-d": s.is_dir, "-s": s.size > 0, "-c": s.kind == "c",
                  "-r": proc.fs.access(path, 4), "-w": proc.fs.access(path, 2), "-x": proc.fs.access(path, 1),
                  "-g": bool(s.mode & S_ISGID), "-k": bool(s.mode & S_ISVTX), "-u": bool(s.mode & 0o4000),
                  "-O": s.uid == proc.identity.uid, "-G": s.gid == proc.identity.gid, "-L": False, "-h": False}
        if op not in checks:
            raise _TestError(f"{op}: unknown operand")
        return checks[op]
    if len(a) == 3:
        left, op, right = a
        if op in ("=", "=="):
            return left == right
        if op == "!=":
            return left != right
        ints = {"-eq": int.__eq__, "-ne": int.__ne__, "-lt": int.__lt__, "-le": int.__le__, "-gt": int.__gt__,
                "-ge": int.__ge__}
        if op in ints:
            for v in (left, right):
                if not re.fullmatch(r"\s*[-+]?\d+\s*", v):
                    raise _TestError(f"invalid number '{v}'")
            return bool(ints[op](int(left), int(right)))
        raise _TestError(f"{op}: unknown operand")
    raise _TestError("syntax error")


async def mkdir(proc: Proc, argv: list[str]) -> int:
    try:
        flags, values, args = _flags(argv, "pv", "m")
    except ValueError as e:
        return _bad_option(proc, "mkdir", str(e))
    mode = int(values["m"], 8) if "m" in values else 0o777
    status = 0
    for name in args:
        path = proc.path(name)
        try:
            if "p" in flags:
                parts = [p for p in path.split("/") if p]
                for k in range(1, len(parts) + 1):
                    sub = "/" + "/".join(parts[:k])
                    try:
                        if proc.fs.stat(sub).is_dir:
                            continue
                    except FsError as e:
                        if e.errno != errno.ENOENT:
                            raise
                    proc.fs.mkdir(sub, mode if k == len(parts) else 0o777)
            else:
                proc.fs.mkdir(path, mode)
            if "m" in values:
                proc.fs.chmod(path, mode)
        except FsError as e:
            proc.error(f"mkdir: can't create directory '{name}': {e.strerror}")
            status = 1
    return status


async def touch(proc: Proc, argv: list[str]) -> int:
    try:
        flags, _, args = _flags(argv, "cam")
    except ValueError as e:
        return _bad_option(proc, "touch", str(e))
    status = 0
    for name in args:
        path = proc.path(name)
        try:
            try:
                proc.fs.touch(path)
            except FsError as e:
                if e.errno != errno.ENOENT or "c" in flags:
                    raise
                proc.fs.open_write(path, truncate=False)
        except FsError as e:
            if e.errno != errno.ENOENT or "c" not in flags:
                proc.error(f"touch: {name}: {e.strerror}")
                status = 1
    return status


async def rm(proc: Proc, argv: list[str]) -> int:
    try:
        flags, _, args = _flags(argv, "frRiv")
    except ValueError as e:
        return _bad_option(proc, "rm", str(e))
    status = 0
    for name in args:
        path = proc.path(name)
        try:
            s = proc.fs.stat(path)
            if s.is_dir:
                if not flags & {"r", "R"}:
                    proc.error(f"rm: '{name}' is a directory")
                    status = 1
                    continue
                proc.fs.remove_tree(path)
            else:
                proc.fs.unlink(path)
        except FsError as e:
            if e.errno == errno.ENOENT and "f" in flags:
                continue
            proc.error(f"rm: can't remove '{name}': {e.strerror}")
            status = 1
    return status


async def rmdir(proc: Proc, argv: list[str]) -> int:
    status = 0
    for name in argv[1:]:
        try:
            proc.fs.rmdir(proc.path(name))
        except FsError as e:
            proc.error(f"rmdir: '{name}': {e.strerror}")
            status = 1
    return status


async def cp(proc: Proc, argv: list[str]) -> int:
    try:
        flags, _, args = _flags(argv, "rRpaf")
    except ValueError as e:
        return _bad_option(proc, "cp", str(e))
    if len(args) < 2:
        proc.error("BusyBox v1.37.0 (2025-01-17 18:12:01 UTC) multi-call binary.\n\nUsage: cp [-arPLHpfinlsTu] "
                   "SOURCE DEST")
        return 1
    *sources, dest = args
    status = 0
    dest_path = proc.path(dest)
    dest_is_dir = proc.fs.exists(dest_path) and proc.fs.stat(dest_path).is_dir
    for src in sources:
        target = posixpath.join(dest_path, posixpath.basename(src.rstrip("/"))) if dest_is_dir else dest_path
        status |= _copy(proc, proc.path(src), target, src, bool(flags & {"r", "R", "a"}))
    return status


def _copy(proc: Proc, src: str, dst: str, shown: str, recursive: bool) -> int:
    try:
        s = proc.fs.stat(src)
    except FsError as e:
        proc.error(f"cp: can't stat '{shown}': {e.strerror}")
        return 1
    if s.is_dir:
        if not recursive:
            proc.error(f"cp: omitting directory '{shown}'")
            return 1
        try:
            if not proc.fs.exists(dst):
                proc.fs.mkdir(dst)
        except FsError as e:
            proc.error(f"cp: can't create directory '{dst}': {e.strerror}")
            return 1
        status = 0
        for n in proc.fs.listdir(src):
            status |= _copy(proc, posixpath.join(src, n), posixpath.join(dst, n), posixpath.join(shown, n), True)
        return status
    try:
        data = proc.fs.read(src)
    except FsError as e:
        proc.error(f"cp: can't open '{shown}': {e.strerror}")
        return 1
    try:
        proc.fs.open_write(dst)
        proc.fs.write(dst, data)
    except FsError as e:
        proc.error(f"cp: can't create '{dst}': {e.strerror}")
        return 1
    return 0


async def mv(proc: Proc, argv: list[str]) -> int:
    try:
        _, _, args = _flags(argv, "fin")
    except ValueError as e:
        return _bad_option(proc, "mv", str(e))
    *sources, dest = args
    dest_path = proc.path(dest)
    dest_is_dir = proc.fs.exists(dest_path) and proc.fs.stat(dest_path).is_dir
    status = 0
    for src in sources:
        target = posixpath.join(dest_path, posixpath.basename(src)) if dest_is_dir else dest_path
        try:
            proc.fs.rename(proc.path(src), target)
        except FsError as e:
            proc.error(f"mv: can't rename '{src}': {e.strerror}")
            status = 1
    return status


async def sleep(proc: Proc, argv: list[str]) -> int:
    total = 0.0
    for a in argv[1:]:
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", a)
        if not m:
            proc.error(f"sleep: invalid number '{a}'")
            return 1
        total += float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if len(argv) < 2:
        proc.error("BusyBox v1.37.0 (2025-01-17 18:12:01 UTC) multi-call binary.\n\nUsage: sleep [N]...")
        return 1
    await asyncio.sleep(total)
    return 0


async def true(proc: Proc, argv: list[str]) -> int:
    return 0


async def false(proc: Proc, argv: list[str]) -> int:
    return 1


async def pwd(proc: Proc, argv: list[str]) -> int:
    proc.print(proc.cwd + "\n")
    return 0


async def env(proc: Proc, argv: list[str]) -> int:
    args = argv[1:]
    environment = dict(proc.env)
    if args and args[0] == "-i":
        environment, args = {}, args[1:]
    while args and "=" in args[0]:
        k, _, v = args.pop(0).partition("=")
        environment[k] = v
    if args:
        shell = proc.shell
        if shell is None:
            proc.error(f"env: can't execute '{args[0]}': No such file or directory")
            return 127
        return await shell.invoke(args, environment, proc.stdin, proc.out, proc.err)
    for k, v in environment.items():
        proc.print(f"{k}={v}\n")
    return 0


async def printenv(proc: Proc, argv: list[str]) -> int:
    if len(argv) == 1:
        return await env(proc, ["env"])
    status = 0
    for name in argv[1:]:
        if name in proc.env:
            proc.print(proc.env[name] + "\n")
        else:
            status = 1
    return status


async def hostname(proc: Proc, argv: list[str]) -> int:
    proc.print(proc.hostname + "\n")
    return 0


async def stat(proc: Proc, argv: list[str]) -> int:
    try:
        _, values, args = _flags(argv, "Lt", "c")
    except ValueError as e:
        return _bad_option(proc, "stat", str(e))
    fmt = values.get("c")
    status = 0
    for name in args:
        try:
            s = proc.fs.stat(proc.path(name))
        except FsError as e:
            proc.error(f"stat: can't stat '{name}': {e.strerror}")
            status = 1
            continue
        if fmt is None:
            proc.print(f"  File: {name}\n  Size: {s.size}\t\tBlocks: {s.blocks}\n"
                       f"Access: ({s.mode & 0o7777:04o}/{mode_string(s)})  Uid: ({s.uid:5d}/"
                       f"{(alpine.user_name(s.uid) or 'UNKNOWN'):>8})   Gid: ({s.gid:5d}/"
                       f"{(alpine.group_name(s.gid) or 'UNKNOWN'):>8})\n")
            continue
        kinds = {"d": "directory", "c": "character special file"}
        table = {
            "a": f"{s.mode & 0o7777:o}", "A": mode_string(s), "u": str(s.uid), "g": str(s.gid),
            "U": alpine.user_name(s.uid) or "UNKNOWN", "G": alpine.group_name(s.gid) or "UNKNOWN", "n": name,
            "s": str(s.size), "h": str(s.nlink), "b": str(s.blocks), "Y": str(int(s.mtime)),
            "F": kinds.get(s.kind, "regular file" if s.size else "regular empty file"), "%": "%",
        }
        proc.print(re.sub(r"%(.)", lambda m, table=table: table.get(m.group(1), "?"), fmt) + "\n")
    return status


def _parse_mode(spec: str, current: int, is_dir: bool) -> int:
    if re.fullmatch(r"[0-7]{1,4}", spec):
        value = int(spec, 8)
        if is_dir and len(spec) < 4:  # coreutils/busybox keep a directory's setgid unless given 4 digits
            value |= current & S_ISGID
        return value
    mode = current
    for clause in spec.split(","):
        m = re.fullmatch(r"([ugoa]*)([-+=])([rwxXst]*)", clause)
        if not m:
            raise ValueError(spec)
        who, op, perms = m.groups()
        who = who or "a"
        if "a" in who:
            who = "ugo"
        bits = 0
        for w in who:
            shift = {"u": 6, "g": 3, "o": 0}[w]
            for p in perms:
                if p == "r":
                    bits |= 4 << shift
                elif p == "w":
                    bits |= 2 << shift
                elif p == "x" or (p == "X" and (is_dir or current & 0o111)):
                    bits |= 1 << shift
                elif p == "s" and w in "ug":
                    bits |= 0o4000 if w == "u" else S_ISGID
                elif p == "t" and w == "o":
                    bits |= S_ISVTX
        if op == "+":
            mode |= bits
        elif op == "-":
            mode &= ~bits
        else:
            mask = sum({"u": 0o4700, "g": 0o2070, "o": 0o1007}[w] for w in who)
            mode = (mode & ~mask) | bits
    return mode


async def chmod(proc: Proc, argv: list[str]) -> int:
    args = argv[1:]
    recursive = False
    while args and args[0] in ("-R", "-f", "-v", "-c"):
        recursive = recursive or args[0] == "-R"
        args = args[1:]
    if len(args) < 2:
        proc.error("BusyBox v1.37.0 (2025-01-17 18:12:01 UTC) multi-call binary.\n\nUsage: chmod [-Rcvf] "
                   "MODE[,MODE]... FILE...")
        return 1
    spec, *names = args
    status = 0
    for name in names:
        for path in _walk(proc, proc.path(name), recursive):
            try:
                s = proc.fs.stat(path)
                proc.fs.chmod(path, _parse_mode(spec, s.mode, s.is_dir))
            except ValueError:
                proc.error(f"chmod: invalid mode '{spec}'")
                return 1
            except FsError as e:
                proc.error(f"chmod: {name if path == proc.path(name) else path}: {e.strerror}")
                status = 1
    return status


def _walk(proc: Proc, path: str, recursive: bool) -> list[str]:
    out = [path]
    if recursive:
        try:
            if proc.fs.stat(path).is_dir:
                for n in proc.fs.listdir(path):
                    out.extend(_walk(proc, posixpath.join(path, n), True))
        except FsError:
            pass
    return out


async def chown(proc: Proc, argv: list[str]) -> int:
    args = argv[1:]
    recursive = False
    while args and args[0] in ("-R", "-f", "-v", "-c", "-h"):
        recursive = recursive or args[0] == "-R"
        args = args[1:]
    if len(args) < 2:
        proc.error("BusyBox v1.37.0 (2025-01-17 18:12:01 UTC) multi-call binary.\n\nUsage: chown [-RhLHPcvf]... "
                   "USER[:[GRP]] FILE...")
        return 1
    spec, *names = args
    user, _sep, group = spec.replace(".", ":", 1).partition(":") if ":" in spec or "." in spec else (spec, "", "")
    try:
        uid = alpine.uid_of(user) if user else None
        gid = alpine.gid_of(group) if group else None
    except KeyError:
        proc.error(f"chown: unknown user/group {spec}")
        return 1
    status = 0
    for name in names:
        for path in _walk(proc, proc.path(name), recursive):
            try:
                proc.fs.chown(path, uid, gid)
            except FsError as e:
                proc.error(f"chown: {name if path == proc.path(name) else path}: {e.strerror}")
                status = 1
    return status


async def _lines_applet(proc: Proc, argv: list[str], name: str) -> int:
    args = argv[1:]
    count = 10
    files: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-n" and i + 1 < len(args):
            count = int(args[i + 1].lstrip("+-") or 0)
            i += 2
            continue
        if re.fullmatch(r"-n?\d+", a):
            count = int(a.lstrip("-n"))
        else:
            files.append(a)
        i += 1
    status = 0
    for f in files or ["-"]:
        if f == "-":
            data = await proc.stdin.read()
        else:
            try:
                data = proc.fs.read(proc.path(f))
            except FsError as e:
                proc.error(f"{name}: can't open '{f}': {e.strerror}")
                status = 1
                continue
        lines = data.splitlines(keepends=True)
        chosen = lines[:count] if name == "head" else (lines[-count:] if count else [])
        proc.out += b"".join(chosen)
    return status


async def head(proc: Proc, argv: list[str]) -> int:
    return await _lines_applet(proc, argv, "head")


async def tail(proc: Proc, argv: list[str]) -> int:
    return await _lines_applet(proc, argv, "tail")


async def wc(proc: Proc, argv: list[str]) -> int:
    try:
        flags, _, files = _flags(argv, "lwcm")
    except ValueError as e:
        return _bad_option(proc, "wc", str(e))
    status = 0
    for f in files or ["-"]:
        if f == "-":
            data = await proc.stdin.read()
        else:
            try:
                data = proc.fs.read(proc.path(f))
            except FsError as e:
                proc.error(f"wc: can't open '{f}': {e.strerror}")
                status = 1
                continue
        counts = {"l": data.count(b"\n"), "w": len(data.split()), "c": len(data), "m": len(data)}
        chosen = [c for c in "lwc" if c in flags] or ["l", "w", "c"]
        text = str(counts[chosen[0]]) if len(chosen) == 1 else " ".join(f"{counts[c]:>9}" for c in chosen)
        proc.print(text + (f" {f}" if f != "-" else "") + "\n")
    return status


async def grep(proc: Proc, argv: list[str]) -> int:
    try:
        flags, values, args = _flags(argv, "qvcinFEwsx", "e")
    except ValueError as e:
        return _bad_option(proc, "grep", str(e))
    pattern = values.get("e")
    if pattern is None:
        if not args:
            proc.error("BusyBox v1.37.0 (2025-01-17 18:12:01 UTC) multi-call binary.\n\nUsage: grep "
                       "[-HhnlLoqvsrRiwFE] [-m N] [-A|B|C N] { PATTERN | -e PATTERN... | -f FILE... } [FILE]...")
            return 2
        pattern, args = args[0], args[1:]
    regex = re.escape(pattern) if "F" in flags else pattern
    if "w" in flags:
        regex = rf"\b(?:{regex})\b"
    if "x" in flags:
        regex = rf"^(?:{regex})$"
    compiled = re.compile(regex, re.IGNORECASE if "i" in flags else 0)
    found = 0
    status = 0
    for f in args or ["-"]:
        if f == "-":
            data = await proc.stdin.read()
        else:
            try:
                data = proc.fs.read(proc.path(f))
            except FsError as e:
                if "s" not in flags:
                    proc.error(f"grep: {f}: {e.strerror}")
                status = 2
                continue
        count = 0
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if bool(compiled.search(line)) != ("v" in flags):
                count += 1
                if "q" in flags:
                    return 0
                if "c" not in flags:
                    prefix = (f"{f}:" if len(args) > 1 else "") + (f"{n}:" if "n" in flags else "")
                    proc.print(prefix + line + "\n")
        if "c" in flags:
            proc.print((f"{f}:" if len(args) > 1 else "") + f"{count}\n")
        found += count
    if status and not found:
        return status
    return 0 if found else 1


async def tee(proc: Proc, argv: list[str]) -> int:
    append = "-a" in argv[1:]
    files = [a for a in argv[1:] if a != "-a"]
    data = await proc.stdin.read()
    proc.out += data
    status = 0
    for f in files:
        path = proc.path(f)
        try:
            proc.fs.open_write(path, append=append)
            proc.fs.write(path, data, append=True)
        except FsError as e:
            proc.error(f"tee: can't open '{f}': {e.strerror}")
            status = 1
    return status


async def basename(proc: Proc, argv: list[str]) -> int:
    name = posixpath.basename(argv[1].rstrip("/")) if len(argv) > 1 else ""
    if len(argv) > 2 and name.endswith(argv[2]) and name != argv[2]:
        name = name[:-len(argv[2])]
    proc.print((name or "/") + "\n")
    return 0


async def dirname(proc: Proc, argv: list[str]) -> int:
    proc.print((posixpath.dirname(argv[1].rstrip("/")) or "." if len(argv) > 1 else ".") + "\n")
    return 0


async def date(proc: Proc, argv: list[str]) -> int:
    fmt = next((a[1:] for a in argv[1:] if a.startswith("+")), "%a %b %e %H:%M:%S %Z %Y")
    utc = "-u" in argv[1:]
    proc.print(time.strftime(fmt, time.gmtime() if utc else time.localtime()) + "\n")
    return 0


async def uname(proc: Proc, argv: list[str]) -> int:
    proc.print(("Linux " + proc.hostname + " 6.1.0 #1 SMP x86_64 Linux" if "-a" in argv else "Linux") + "\n")
    return 0


async def df(proc: Proc, argv: list[str]) -> int:
    proc.print("Filesystem           1K-blocks      Used Available Use% Mounted on\n")
    proc.print(f"{'overlay':<20}{20959212:>11}{2097152:>10}{18862060:>10}  10% /\n")
    for m in sorted(proc.fs.sandbox.mounts, key=lambda m: m.path):
        proc.print(f"{'/dev/nvme1n1':<20}{1020828:>11}{24:>10}{1004420:>10}   0% {m.path}\n")
    return 0


async def seq(proc: Proc, argv: list[str]) -> int:
    nums = [int(a) for a in argv[1:]]
    first, step, last = (1, 1, nums[0]) if len(nums) == 1 else (nums[0], 1, nums[1]) if len(nums) == 2 \
        else (nums[0], nums[1], nums[2])
    proc.print("".join(f"{n}\n" for n in range(first, last + (1 if step > 0 else -1), step)))
    return 0


async def sync(proc: Proc, argv: list[str]) -> int:
    return 0


# ---------------------------------------------------------------------------------------------- builtins


async def cd(proc: Proc, argv: list[str]) -> int:
    shell = proc.shell
    assert shell is not None
    target = argv[1] if len(argv) > 1 else shell.vars.get("HOME", "/")
    path = proc.path(target)
    try:
        s = proc.fs.stat(path)
        if not s.is_dir:
            raise FsError(errno.ENOTDIR, path)
        if not proc.fs.access(path, 1):
            raise FsError(errno.EACCES, path)
    except FsError as e:
        shell.msg(f"cd: can't cd to {target}: {e.strerror}" if shell.dialect == "ash"
                   else f"cd: {target}: {e.strerror}", proc.err)
        return 2 if shell.dialect == "ash" else 1
    shell.cwd = path
    shell.vars["PWD"] = path
    return 0


async def exit_(proc: Proc, argv: list[str]) -> int:
    shell = proc.shell
    code = shell.status if shell is not None else 0
    if len(argv) > 1:
        try:
            code = int(argv[1])
        except ValueError:
            if shell is not None:
                shell.msg(f"exit: Illegal number: {argv[1]}", proc.err)
            code = 2
    raise ExitShell(code & 0xFF)


async def export(proc: Proc, argv: list[str]) -> int:
    shell = proc.shell
    assert shell is not None
    for a in argv[1:]:
        if a == "-p":
            continue
        name, sep, value = a.partition("=")
        if sep:
            shell.vars[name] = value
        shell.exported.add(name)
    return 0


async def unset(proc: Proc, argv: list[str]) -> int:
    shell = proc.shell
    assert shell is not None
    for a in argv[1:]:
        shell.vars.pop(a, None)
        shell.exported.discard(a)
    return 0


async def colon(proc: Proc, argv: list[str]) -> int:
    return 0


async def umask(proc: Proc, argv: list[str]) -> int:
    proc.print("0022\n")
    return 0


async def exec_(proc: Proc, argv: list[str]) -> int:
    shell = proc.shell
    if len(argv) < 2 or shell is None:
        return 0
    raise ExitShell(await shell.invoke(argv[1:], {}, proc.stdin, proc.out, proc.err))


APPLETS: dict[str, Applet] = {
    "cat": cat, "chmod": chmod, "chown": chown, "cp": cp, "date": date, "df": df, "echo": echo, "false": false,
    "grep": grep, "hostname": hostname, "ls": ls, "mkdir": mkdir, "mv": mv, "pwd": pwd, "rm": rm, "rmdir": rmdir,
    "sleep": sleep, "stat": stat, "touch": touch, "true": true, "uname": uname, "printenv": printenv,
    "sync": sync, "basename": basename, "dirname": dirname, "env": env, "head": head, "id": id_, "printf": printf,
    "seq": seq, "tail": tail, "tee": tee, "test": test, "[": test, "wc": wc, "whoami": whoami,
}

# ash builtins: found before $PATH
BUILTINS: dict[str, Applet] = {
    "cd": cd, "exit": exit_, "export": export, "unset": unset, ":": colon, "umask": umask, "exec": exec_,
    "echo": echo, "printf": printf, "test": test, "[": test, "true": true, "false": false, "pwd": pwd,
}
