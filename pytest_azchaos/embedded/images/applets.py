"""busybox applets and ash builtins on the emulated filesystem, with busybox's texts and exit codes.

Each applet is ``async (proc, argv) -> exit code``; output goes to ``proc.out``/``proc.err``.
"""

from __future__ import annotations

import asyncio
import errno
import posixpath
import re
import time
from typing import NoReturn

from pytest_azchaos.embedded.images import alpine
from pytest_azchaos.embedded.images.fs import S_ISGID, S_ISVTX, FsError, Stat
from pytest_azchaos.embedded.images.shell_process import Applet, ExitShell, Proc

# Trivial usage lines of busybox 1.37 as Alpine configures it (bb_show_usage prints the banner, then
# "Usage: NAME " and this; the verbose help text that follows in real busybox is not reproduced).
USAGE: dict[str, str] = {
    "cat": "[-nbvteA] [FILE]...",
    "chmod": "[-Rcvf] MODE[,MODE]... FILE...",
    "chown": "[-RhLHPcvf]... USER[:[GRP]] FILE...",
    "cp": "[-arPLHpfinlsTu] SOURCE DEST\nor: cp [-arPLHpfinlsu] SOURCE... { -t DIRECTORY | DIRECTORY }",
    "date": "[OPTIONS] [+FMT] [[-s] TIME]",
    "df": "[-PkmhTai] [-B SIZE] [-t TYPE] [FILESYSTEM]...",
    "grep": "[-HhnlLoqvsrRiwFE] [-m N] [-A|B|C N] { PATTERN | -e PATTERN... | -f FILE... } [FILE]...",
    "hostname": "[-sidf] [HOSTNAME | -F FILE]",
    "ls": "[-1AaCxdLHRFplinshrSXvctu] [-w WIDTH] [FILE]...",
    "mkdir": "[-m MODE] [-p] DIRECTORY...",
    "mv": "[-finT] SOURCE DEST\nor: mv [-fin] SOURCE... { -t DIRECTORY | DIRECTORY }",
    "pwd": "",
    "rm": "[-irf] FILE...",
    "rmdir": "[-p] DIRECTORY...",
    "sleep": "[N]...",
    "stat": "[-ltf] [-c FMT] FILE...",
    "touch": "[-cham] [-d DATE] [-t DATE] [-r FILE] FILE...",
    "uname": "[-amnrspvio]",
    "sync": "[-df] [FILE]...",
    "basename": "FILE [SUFFIX] | -a FILE... | -s SUFFIX FILE...",
    "dirname": "FILENAME",
    "env": "[-i0] [-u NAME]... [-] [NAME=VALUE]... [PROG ARGS]",
    "head": "[OPTIONS] [FILE]...",
    "id": "[-ugGnr] [USER]",
    "printf": "FORMAT [ARG]...",
    "seq": "[-w] [-s SEP] [FIRST [INC]] LAST",
    "tail": "[OPTIONS] [FILE]...",
    "tee": "[-ai] [FILE]...",
    "wc": "[-cmlwL] [FILE]...",
    "whoami": "",
    "printenv": "[VARIABLE]...",
    "nslookup": "[-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]",
}
# Applets whose "--help" is an ordinary argument (appletlib.c show_usage_if_dash_dash_help).
NO_HELP = frozenset({"test", "[", "true", "false", "echo"})


class AppletExit(Exception):
    """``xfunc_die``/``exit`` from inside an applet: it ends with ``code`` (its messages are already out)."""

    def __init__(self, code: int) -> None:
        self.code = code


def applet_name(proc: Proc, argv: list[str]) -> str:
    """busybox's ``applet_name``: the applet, or the shell's name when ash runs it as a builtin."""
    return proc.builtin_of or posixpath.basename(argv[0] if argv else "")


def show_usage(proc: Proc, name: str, code: int = 1) -> NoReturn:
    """``bb_show_usage``: banner and usage on stderr, exit 1 (0 for ``--help``)."""
    text = USAGE.get(name, "")
    proc.error(f"{proc.userland.banner} multi-call binary.\n\nUsage: {name}" + (f" {text}" if text else ""))
    raise AppletExit(code)


def die(proc: Proc, argv: list[str], text: str, code: int = 1) -> NoReturn:
    """``bb_error_msg_and_die``: ``NAME: text`` on stderr, exit ``code``."""
    proc.error(f"{applet_name(proc, argv)}: {text}")
    raise AppletExit(code)


def warn(proc: Proc, argv: list[str], text: str) -> None:
    """``bb_error_msg``: ``NAME: text`` on stderr."""
    proc.error(f"{applet_name(proc, argv)}: {text}")


Opts = dict[str, list[str]]


def getopt(proc: Proc, argv: list[str], spec: str, *, min_args: int = 0,
           long: dict[str, str] | None = None, usage_code: int = 1) -> tuple[Opts, list[str]]:
    """busybox ``getopt32`` over the image's libc ``getopt``/``getopt_long``.

    ``spec`` is a C optstring (``"m:pv"``; a leading ``+`` stops at the first operand). Options come
    back as ``{char: [values]}`` (flags map to ``[""]``). Errors print the libc's message with
    ``argv[0]`` and then the usage, exit 1; fewer than ``min_args`` operands also shows the usage.
    """
    name = posixpath.basename(argv[0])
    stop_at_operand = spec.startswith("+")
    spec = spec.lstrip("+")
    # musl permutes only in getopt_long (applets with long options); glibc always does.
    permute = not stop_at_operand and (proc.userland.libc == "glibc" or long is not None)
    glibc = proc.userland.libc == "glibc"
    opts: Opts = {}
    operands: list[str] = []
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--":
            operands.extend(argv[i + 1:])
            break
        if not a.startswith("-") or a == "-":
            if not permute:
                operands.extend(argv[i:])
                break
            operands.append(a)
            i += 1
            continue
        if a.startswith("--") and long is not None:
            key, eq, value = a[2:].partition("=")
            matches = [n for n in long if n == key] or [n for n in long if n.startswith(key)]
            if len(matches) != 1:
                if glibc:
                    proc.error(f"{argv[0]}: unrecognized option '{a}'" if not matches else
                               f"{argv[0]}: option '{a}' is ambiguous")
                else:
                    proc.error(f"{argv[0]}: {'option is ambiguous' if matches else 'unrecognized option'}: "
                               f"{a[2:]}")
                show_usage(proc, name, usage_code)
            char = long[matches[0]]
            takes = char in spec and spec[spec.index(char) + 1:spec.index(char) + 2] == ":"
            if takes and not eq:
                i += 1
                if i >= len(argv):
                    proc.error(f"{argv[0]}: option '--{matches[0]}' requires an argument" if glibc else
                               f"{argv[0]}: option requires an argument: {matches[0]}")
                    show_usage(proc, name, usage_code)
                value = argv[i]
            opts.setdefault(char, []).append(value if takes else "")
            i += 1
            continue
        j = 1
        while j < len(a):
            c = a[j]
            k = spec.find(c) if c != ":" else -1
            if k < 0:
                proc.error(f"{argv[0]}: invalid option -- '{c}'" if glibc else f"{argv[0]}: unrecognized option: {c}")
                show_usage(proc, name, usage_code)
            if spec[k + 1:k + 2] == ":":
                optional = spec[k + 2:k + 3] == ":"
                value = a[j + 1:]
                if not value and not optional:
                    i += 1
                    if i >= len(argv):
                        proc.error(f"{argv[0]}: option requires an argument -- '{c}'" if glibc else
                                   f"{argv[0]}: option requires an argument: {c}")
                        show_usage(proc, name, usage_code)
                    value = argv[i]
                opts.setdefault(c, []).append(value)
                break
            opts.setdefault(c, []).append("")
            j += 1
        i += 1
    if len(operands) < min_args:
        show_usage(proc, name, usage_code)
    return opts, operands


def skip_dash_dash(argv: list[str]) -> list[str]:
    """libbb ``skip_dash_dash``: the operands after argv[0] and one leading ``--``."""
    rest = argv[1:]
    return rest[1:] if rest[:1] == ["--"] else rest


def perror(proc: Proc, argv: list[str], what: str, e: FsError) -> None:
    """``bb_perror_msg``: ``NAME: what: strerror``."""
    warn(proc, argv, f"{what}: {e.strerror}")


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


def _ls_line(proc: Proc, s: Stat, name: str, numeric: bool) -> str:
    if numeric:
        owner = f"{s.uid:<8} {s.gid:<8}"
    else:
        owner = f"{(alpine.user_name(s.uid) or str(s.uid))[:8]:<8} {(alpine.group_name(s.gid) or str(s.gid))[:8]:<8}"
    size = s.size if s.kind != "c" else 0
    if s.kind == "c":
        return f"{mode_string(s):<10} {s.nlink:>4} {owner}   1,   3 {_ls_time(s.mtime)} {name}"
    return f"{mode_string(s):<10} {s.nlink:>4} {owner} {size:>9} {_ls_time(s.mtime)} {name}"


class FsPath:
    @staticmethod
    def join(base: str, name: str) -> str:
        return posixpath.normpath(posixpath.join(base, name)) if name not in (".", "..") else \
            posixpath.normpath(posixpath.join(base, name)) or "/"


def _name(ident_id: int, kind: str) -> str:
    name = alpine.user_name(ident_id) if kind == "u" else alpine.group_name(ident_id)
    return f"{ident_id}({name})" if name else str(ident_id)


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
            for operand in (left, right):
                if not re.fullmatch(r"\s*[-+]?\d+\s*", operand):
                    raise _TestError(f"{operand}: bad number")
            return bool(ints[op](int(left), int(right)))
        raise _TestError(f"{op}: unknown operand")
    raise _TestError("syntax error")


async def true(proc: Proc, argv: list[str]) -> int:
    return 0


async def false(proc: Proc, argv: list[str]) -> int:
    return 1


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


async def head(proc: Proc, argv: list[str]) -> int:
    return await _lines_applet(proc, argv, "head")


async def tail(proc: Proc, argv: list[str]) -> int:
    return await _lines_applet(proc, argv, "tail")


async def printf(proc: Proc, argv: list[str]) -> int:
    rest = skip_dash_dash(argv)
    if not rest:
        if proc.builtin_of is not None:
            warn(proc, argv, "usage: printf FORMAT [ARGUMENT...]")
            return 2
        show_usage(proc, "printf")
    fmt, args = rest[0], rest[1:]
    status = 0
    spec = re.compile(r"%([-0 +#]*\d*(?:\.\d+)?)([sdibxXouc%])")
    while True:
        used = 0

        def sub(m: re.Match[str], args: list[str] = args) -> str:
            nonlocal used, status
            flags, conv = m.group(1), m.group(2)
            if conv == "%":
                return "%"
            arg = args[used] if used < len(args) else ""
            used += 1
            if conv == "b":
                return _escapes(arg)[0]
            if conv == "c":
                return arg[:1]
            if conv in "dixXou":
                text = str(ord(arg[1])) if arg[:1] in "\"'" and len(arg) > 1 else arg
                try:
                    value = int(text or "0", 0) if not re.fullmatch(r"\s*[-+]?0\d+\s*", text or "0") \
                        else int(text, 8)
                except ValueError:
                    warn(proc, argv, f"invalid number '{arg}'")
                    status = 1
                    value = 0
                return ("%" + flags + ("d" if conv in "iu" else conv)) % value
            return ("%" + flags + "s") % arg

        proc.print(_escapes(spec.sub(sub, fmt))[0])
        if used == 0 or used >= len(args):
            break
        args = args[used:]
    return status


async def cat(proc: Proc, argv: list[str]) -> int:
    opts, files = getopt(proc, argv, "etvAnbu")
    status = 0
    number = "n" in opts or "b" in opts
    line_no = 1
    for name in files or ["-"]:
        if name == "-":
            data = await proc.stdin.read()
        else:
            try:
                data = proc.fs.read(proc.path(name))
            except FsError as e:
                if e.errno == errno.EISDIR:
                    warn(proc, argv, "read error: Is a directory")
                else:
                    warn(proc, argv, f"can't open '{name}': {e.strerror}")
                status = 1
                continue
        if not number:
            proc.out += data
            continue
        for line in data.splitlines(keepends=True):
            if "b" in opts and line in (b"\n", b""):
                proc.out += line
                continue
            proc.out += f"{line_no:6d}\t".encode() + line
            line_no += 1
    return status


async def ls(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "1AaCxdLHRFplinshrSXvctuw:\x01::",
                        long={"full-time": "\x03", "group-directories-first": "\x02", "color": "\x01"})
    flags = set(opts)
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
            perror(proc, argv, name, e)
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
            warn(proc, argv, f"can't open '{name}': {e.strerror}")
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
                perror(proc, argv, posixpath.join(name, n), e)
                status = 1
        if long:
            blocks = sum((e.blocks if e else 0) for _, e in entries if _ not in (".", "..")) // 2
            proc.print(f"total {blocks}\n")
        for n, es in entries:
            proc.print((_ls_line(proc, es, n, numeric) if long and es else n) + "\n")
    return status


async def id_(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "ugGnr")
    flags = set(opts)
    if len(args) > 1 or len(flags & {"u", "g", "G"}) > 1 or ("n" in flags and not flags & {"u", "g", "G"}):
        show_usage(proc, "id")
    ident = proc.identity
    if args:
        try:
            uid = alpine.uid_of(args[0])
        except KeyError:
            die(proc, argv, f"unknown user {args[0]}")
        ident = alpine.identity(uid, None)
    names = "n" in flags
    if "u" in flags:
        value = alpine.user_name(ident.uid) if names else None
        if names and value is None:
            warn(proc, argv, f"unknown ID {ident.uid}")
            proc.print(f"{ident.uid}\n")
            return 1
        proc.print(f"{value if names else ident.uid}\n")
        return 0
    if "g" in flags:
        value = alpine.group_name(ident.gid) if names else None
        if names and value is None:
            warn(proc, argv, f"unknown ID {ident.gid}")
            proc.print(f"{ident.gid}\n")
            return 1
        proc.print(f"{value if names else ident.gid}\n")
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
    if len(argv) > 1:
        show_usage(proc, "whoami")
    name = alpine.user_name(proc.identity.uid)
    if name is None:
        die(proc, argv, f"unknown uid {proc.identity.uid}")
    proc.print(name + "\n")
    return 0


async def test(proc: Proc, argv: list[str]) -> int:
    args = argv[1:]
    if posixpath.basename(argv[0]) == "[":
        if not args or args[-1] != "]":
            warn(proc, argv, "missing ]")
            return 2
        args = args[:-1]
    try:
        return 0 if _test(proc, args) else 1
    except _TestError as e:
        warn(proc, argv, str(e))
        return 2


def _parse_octal_or_symbolic(spec: str, base: int) -> int | None:
    try:
        return _parse_mode(spec, base, True) & 0o7777
    except ValueError:
        return None


async def mkdir(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "m:pv", long={"mode": "m", "parents": "p", "verbose": "v"})
    mode = 0o777
    if "m" in opts:
        parsed = _parse_octal_or_symbolic(opts["m"][-1], 0o777)
        if parsed is None:
            die(proc, argv, f"invalid mode '{opts['m'][-1]}'")
        mode = parsed
    if not args:
        show_usage(proc, "mkdir")
    status = 0
    for name in args:
        path = proc.path(name)
        try:
            if "p" in opts:
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
            if "m" in opts:
                proc.fs.chmod(path, mode)
        except FsError as e:
            perror(proc, argv, f"can't create directory '{name}'", e)
            status = 1
    return status


async def touch(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "chr:d:t:am", min_args=1,
                        long={"no-create": "c", "no-dereference": "h", "reference": "r", "date": "d"})
    when: float | None = None
    if "r" in opts:
        try:
            when = proc.fs.stat(proc.path(opts["r"][-1])).mtime
        except FsError as e:
            perror(proc, argv, opts["r"][-1], e)
            raise AppletExit(1) from None
    for key in ("d", "t"):
        if key in opts:
            parsed = _parse_date(opts[key][-1])
            if parsed is None:
                die(proc, argv, f"invalid date '{opts[key][-1]}'")
            when = parsed
    status = 0
    for name in args:
        path = proc.path(name)
        try:
            try:
                proc.fs.touch(path, when)
            except FsError as e:
                if e.errno != errno.ENOENT:
                    raise
                if "c" in opts:
                    continue
                proc.fs.open_write(path, truncate=False)
                if when is not None:
                    proc.fs.touch(path, when)
        except FsError as e:
            perror(proc, argv, name, e)
            status = 1
    return status


async def rm(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "fiRrv")
    force = "f" in opts
    if not args:
        if not force:
            show_usage(proc, "rm")
        return 0
    status = 0
    for name in args:
        base = posixpath.basename(name.rstrip("/")) if name.rstrip("/") else "/"
        if base in (".", ".."):
            warn(proc, argv, "can't remove '.' or '..'")
            status = 1
            continue
        path = proc.path(name)
        try:
            s = proc.fs.stat(path)
        except FsError as e:
            if e.errno == errno.ENOENT and force:
                continue
            perror(proc, argv, f"can't {'remove' if e.errno == errno.ENOENT else 'stat'} '{name}'", e)
            status = 1
            continue
        try:
            if s.is_dir:
                if not opts.keys() & {"r", "R"}:
                    warn(proc, argv, f"'{name}' is a directory")
                    status = 1
                    continue
                proc.fs.remove_tree(path)
            else:
                proc.fs.unlink(path)
        except FsError as e:
            perror(proc, argv, f"can't remove '{name}'", e)
            status = 1
    return status


async def rmdir(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "pv", min_args=1,
                        long={"parents": "p", "ignore-fail-on-non-empty": "\x01", "verbose": "v"})
    status = 0
    for name in args:
        path = name
        while True:
            if "v" in opts:
                proc.print(f"rmdir: removing directory, '{path}'\n")
            try:
                proc.fs.rmdir(proc.path(path))
            except FsError as e:
                if not ("\x01" in opts and e.errno == errno.ENOTEMPTY):
                    perror(proc, argv, f"'{path}'", e)
                    status = 1
                break
            if "p" in opts:
                path = posixpath.dirname(path.rstrip("/"))
                if path not in ("", ".", "/"):
                    continue
            break
    return status


async def cp(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "arPLHpfinlsTudvt:",
                        long={"archive": "a", "force": "f", "interactive": "i", "no-clobber": "n", "link": "l",
                              "dereference": "L", "no-dereference": "P", "recursive": "R", "symbolic-link": "s",
                              "no-target-directory": "T", "target-directory": "t", "update": "u", "verbose": "v",
                              "parents": "\x01", "preserve": "\x02", "remove-destination": "\x03",
                              "reflink": "\x04"})
    if "t" in opts:
        sources, dest = args, opts["t"][-1]
        if not sources:
            show_usage(proc, "cp")
    else:
        if len(args) < 2:
            show_usage(proc, "cp")
        *sources, dest = args
    status = 0
    dest_path = proc.path(dest)
    dest_is_dir = proc.fs.exists(dest_path) and proc.fs.stat(dest_path).is_dir
    if len(sources) > 1 and not dest_is_dir:
        if not proc.fs.exists(dest_path):
            warn(proc, argv, f"can't stat '{dest}': No such file or directory")
        else:
            warn(proc, argv, f"target '{dest}' is not a directory")
        return 1
    for src in sources:
        target = posixpath.join(dest_path, posixpath.basename(src.rstrip("/"))) if dest_is_dir else dest_path
        status |= _copy(proc, argv, proc.path(src), target, src, bool(opts.keys() & {"r", "R", "a"}))
    return status


def _copy(proc: Proc, argv: list[str], src: str, dst: str, shown: str, recursive: bool) -> int:
    try:
        s = proc.fs.stat(src)
    except FsError as e:
        perror(proc, argv, f"can't stat '{shown}'", e)
        return 1
    if s.is_dir:
        if not recursive:
            warn(proc, argv, f"omitting directory '{shown}'")
            return 1
        try:
            if not proc.fs.exists(dst):
                proc.fs.mkdir(dst)
        except FsError as e:
            perror(proc, argv, f"can't create directory '{dst}'", e)
            return 1
        status = 0
        for n in proc.fs.listdir(src):
            status |= _copy(proc, argv, posixpath.join(src, n), posixpath.join(dst, n), posixpath.join(shown, n),
                            True)
        return status
    try:
        data = proc.fs.read(src)
    except FsError as e:
        perror(proc, argv, f"can't open '{shown}'", e)
        return 1
    try:
        proc.fs.open_write(dst)
        proc.fs.write(dst, data)
    except FsError as e:
        perror(proc, argv, f"can't create '{dst}'", e)
        return 1
    return 0


async def mv(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "finTt:v", min_args=1,
                        long={"interactive": "i", "force": "f", "no-clobber": "n", "no-target-directory": "T",
                              "target-directory": "t", "verbose": "v"})
    if "t" in opts:
        sources, dest = args, opts["t"][-1]
    else:
        if len(args) < 2 or (len(args) > 2 and "T" in opts):
            show_usage(proc, "mv")
        *sources, dest = args
    dest_path = proc.path(dest)
    dest_is_dir = proc.fs.exists(dest_path) and proc.fs.stat(dest_path).is_dir and "T" not in opts
    status = 0
    for src in sources:
        target = posixpath.join(dest_path, posixpath.basename(src.rstrip("/"))) if dest_is_dir else dest_path
        if "n" in opts and proc.fs.exists(target):
            continue
        try:
            proc.fs.rename(proc.path(src), target)
        except FsError as e:
            perror(proc, argv, f"can't rename '{src}'", e)
            status = 1
            continue
        if "v" in opts:
            proc.print(f"'{src}' -> '{target if dest_is_dir else dest}'\n")
    return status


_SLEEP_SUFFIX = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


async def sleep(proc: Proc, argv: list[str]) -> int:
    args = skip_dash_dash(argv)
    if not args:
        show_usage(proc, "sleep")
    if args[0][:3].lower() == "inf":
        await asyncio.Event().wait()
    total = 0.0
    for a in args:
        m = re.fullmatch(r"(\d+)([smhd]?)", a)
        if m:
            total += int(m.group(1)) * _SLEEP_SUFFIX[m.group(2)]
            continue
        if "." in a:  # parse_duration_str: strtod over [0-9.], then the suffix
            num = re.match(r"[0-9.]*", a).group(0)  # type: ignore[union-attr]
            suffix = a[len(num):]
            try:
                value = float(num)
            except ValueError:
                show_usage(proc, "sleep")
            if suffix not in _SLEEP_SUFFIX:
                die(proc, argv, f"invalid number '1{suffix}'")
            total += value * _SLEEP_SUFFIX[suffix]
            continue
        die(proc, argv, f"invalid number '{a}'")
    await asyncio.sleep(total)
    return 0


async def pwd(proc: Proc, argv: list[str]) -> int:
    if proc.builtin_of is None:
        getopt(proc, argv, "LP")
    proc.print(proc.cwd + "\n")
    return 0


async def env(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "+i0u:", long={"ignore-environment": "i", "null": "0", "unset": "u"})
    environment = dict(proc.env)
    if args and args[0] == "-":
        opts["i"] = [""]
        args = args[1:]
    if "i" in opts:
        environment = {}
    for name in opts.get("u", []):
        environment.pop(name, None)
    while args and "=" in args[0]:
        k, _, v = args.pop(0).partition("=")
        environment[k] = v
    if args:
        shell = proc.shell
        # execvp without $PATH searches libc's default path (musl: /usr/local/bin:/bin:/usr/bin)
        path_var = environment.get("PATH", "/usr/local/bin:/bin:/usr/bin")
        if shell is None or shell.lookup(args[0], path_var) is None:
            die(proc, argv, f"can't execute '{args[0]}': No such file or directory", 127)
        return await shell.invoke(args, environment, proc.stdin, proc.out, proc.err, replace_env=True)
    end = "\0" if "0" in opts else "\n"
    for k, v in environment.items():
        proc.print(f"{k}={v}{end}")
    return 0


async def printenv(proc: Proc, argv: list[str]) -> int:
    if len(argv) == 1:
        for k, v in proc.env.items():
            proc.print(f"{k}={v}\n")
        return 0
    status = 0
    for name in argv[1:]:
        if name in proc.env:
            proc.print(proc.env[name] + "\n")
        else:
            status = 1
    return status


async def hostname(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "dfisF:v")
    if args or "F" in opts:
        die(proc, argv, "sethostname: Operation not permitted")
    if "i" in opts:
        proc.print("127.0.0.1\n")
        return 0
    name = proc.hostname
    if "s" in opts:
        name = name.split(".", 1)[0]
    elif "d" in opts:
        name = name.partition(".")[2]
        if not name:
            return 0
    proc.print(name + "\n")
    return 0


async def stat(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "tLfc:", min_args=1)
    fmt = opts["c"][-1] if "c" in opts else None
    status = 0
    for name in args:
        try:
            s = proc.fs.stat(proc.path(name))
        except FsError as e:
            perror(proc, argv, f"can't stat '{name}'", e)
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


async def chmod(proc: Proc, argv: list[str]) -> int:
    # A mode such as -w or -x looks like an option: busybox protects the first one from getopt.
    munged = list(argv)
    for k in range(1, len(munged)):
        a = munged[k]
        if not a.startswith("-"):
            break
        if len(a) > 1 and a[1] not in "-Rvcf":
            munged[k] = "a" + a[1:]
            break
    opts, args = getopt(proc, munged, "Rvcf", min_args=2)
    spec = args[0]
    if spec.startswith("a") and spec[1:] and ("-" + spec[1:]) in argv:
        spec = "-" + spec[1:]
    names = args[1:]
    status = 0
    for name in names:
        for path in _walk(proc, proc.path(name), "R" in opts):
            try:
                s = proc.fs.stat(path)
                proc.fs.chmod(path, _parse_mode(spec, s.mode, s.is_dir))
            except ValueError:
                die(proc, argv, f"invalid mode '{spec}'")
            except FsError as e:
                if "f" not in opts:
                    perror(proc, argv, name if path == proc.path(name) else path, e)
                status = 1
    return status


async def chown(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "RhvcfLHP", min_args=2,
                        long={"recursive": "R", "dereference": "\x01", "no-dereference": "h", "changes": "c",
                              "silent": "f", "quiet": "f", "verbose": "v"})
    spec, *names = args
    user, sep, group = spec.partition(":") if ":" in spec else spec.partition(".") if "." in spec \
        else (spec, "", "")
    try:
        uid = alpine.uid_of(user) if user else None
    except KeyError:
        die(proc, argv, f"unknown user {user}")
    try:
        gid = alpine.gid_of(group) if group else (alpine.primary_gid(uid) if sep and uid is not None else None)
    except KeyError:
        die(proc, argv, f"unknown group {group}")
    status = 0
    for name in names:
        for path in _walk(proc, proc.path(name), "R" in opts):
            try:
                proc.fs.chown(path, uid, gid)
            except FsError as e:
                if "f" not in opts:
                    perror(proc, argv, name if path == proc.path(name) else path, e)
                status = 1
    return status


def _count(proc: Proc, argv: list[str], text: str) -> tuple[int, bool]:
    """head/tail ``-n`` values: ``[+-]N`` with busybox's size suffixes; (count, from_start)."""
    m = re.fullmatch(r"([+-]?)(\d+)(b|k|m|kB|KB|kD|MB|mD|GB)?", text)
    if not m:
        die(proc, argv, f"invalid number '{text}'")
    mult = {None: 1, "b": 512, "k": 1024, "m": 1024 * 1024, "kB": 1024, "KB": 1024, "kD": 1000,
            "MB": 1024 * 1024, "mD": 1000 * 1000, "GB": 1024 ** 3}[m.group(3)]
    return int(m.group(2)) * mult, m.group(1) == "+"


async def _lines_applet(proc: Proc, argv: list[str], name: str) -> int:
    # busybox converts an old-style "-N" first argument to "-n N" (head.c, tail.c).
    args = list(argv)
    if len(args) > 1 and re.fullmatch(r"-\d+", args[1]):
        args[1:2] = ["-n", args[1][1:]]
    opts, files = getopt(proc, args, "n:c:qv" if name == "head" else "fFc:n:qs:v")
    count, from_start, by_bytes = 10, False, False
    for key in ("n", "c"):
        if key in opts:
            count, from_start = _count(proc, argv, opts[key][-1])
            by_bytes = key == "c"
    headers = ("v" in opts or len(files) > 1) and "q" not in opts
    status = 0
    for index, f in enumerate(files or ["-"]):
        if f == "-":
            data = await proc.stdin.read()
        else:
            try:
                data = proc.fs.read(proc.path(f))
            except FsError as e:
                perror(proc, argv, f"can't open '{f}'", e)
                status = 1
                continue
        if headers:
            proc.print(("\n" if index else "") + f"==> {'standard input' if f == '-' else f} <==\n")
        if by_bytes:
            if name == "head":
                chosen = data[:count]
            else:
                chosen = data[count - 1:] if from_start else (data[-count:] if count else b"")
            proc.out += chosen
            continue
        lines = data.splitlines(keepends=True)
        if name == "head":
            picked = lines[:count]
        else:
            picked = lines[max(count - 1, 0):] if from_start else (lines[-count:] if count else [])
        proc.out += b"".join(picked)
    return status


async def wc(proc: Proc, argv: list[str]) -> int:
    opts, files = getopt(proc, argv, "lwmcL")
    status = 0
    chosen = [c for c in "lwcmL" if c in opts] or ["l", "w", "c"]
    totals = dict.fromkeys("lwcmL", 0)
    shown = 0
    for f in files or ["-"]:
        if f == "-":
            data = await proc.stdin.read()
        else:
            try:
                data = proc.fs.read(proc.path(f))
            except FsError as e:
                perror(proc, argv, f"can't open '{f}'", e)
                status = 1
                continue
        text = data.decode("utf-8", "replace")
        counts = {"l": data.count(b"\n"), "w": len(data.split()), "c": len(data), "m": len(text),
                  "L": max((len(x) for x in text.split("\n")), default=0)}
        for k in totals:
            totals[k] = max(totals[k], counts[k]) if k == "L" else totals[k] + counts[k]
        shown += 1
        _wc_line(proc, [counts[c] for c in chosen], f if f != "-" else "")
    if shown > 1:
        _wc_line(proc, [totals[c] for c in chosen], "total")
    return status


def _wc_line(proc: Proc, values: list[int], name: str) -> None:
    if len(values) == 1 and not name:
        proc.print(f"{values[0]}\n")
        return
    text = " ".join(f"{v:>{9 if len(values) > 1 or name else 0}}" for v in values)
    proc.print(text + (f" {name}" if name else "") + "\n")


async def grep(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "HhnlLoqvsrRiwFExzm:A:B:C:e:f:", usage_code=2,
                        long={"color": "\x01", "include": "\x02", "exclude": "\x03", "exclude-dir": "\x04"})
    flags = set(opts)
    patterns = list(opts.get("e", []))
    for pattern_file in opts.get("f", []):
        try:
            patterns += proc.fs.read(proc.path(pattern_file)).decode("utf-8", "replace").splitlines()
        except FsError as e:
            die(proc, argv, f"{pattern_file}: {e.strerror}", 2)
    if not patterns:
        if not args:
            show_usage(proc, "grep", 2)
        patterns, args = [args[0]], args[1:]
    regexes = []
    for pattern in patterns:
        regex = re.escape(pattern) if "F" in flags else _bre(pattern) if "E" not in flags else pattern
        if "w" in flags:
            regex = rf"(?<!\w)(?:{regex})(?!\w)"
        if "x" in flags:
            regex = rf"^(?:{regex})$"
        regexes.append(regex)
    try:
        compiled = re.compile("|".join(f"(?:{r})" for r in regexes), re.IGNORECASE if "i" in flags else 0)
    except re.error:
        die(proc, argv, "bad regex", 2)
    limit = int(opts["m"][-1]) if "m" in opts and opts["m"][-1].isdigit() else None
    found = 0
    status = 0
    multiple = (len(args) > 1 or "H" in flags) and "h" not in flags
    for f in args or ["-"]:
        if f == "-":
            data = await proc.stdin.read()
        else:
            try:
                data = proc.fs.read(proc.path(f))
            except FsError as e:
                if "s" not in flags:
                    warn(proc, argv, f"{f}: {e.strerror}")
                status = 2
                continue
        shown = "(standard input)" if f == "-" else f
        count = 0
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if limit is not None and count >= limit:
                break
            if bool(compiled.search(line)) != ("v" in flags):
                count += 1
                if "q" in flags:
                    return 0
                if flags & {"c", "l", "L"}:
                    continue
                prefix = (f"{shown}:" if multiple else "") + (f"{n}:" if "n" in flags else "")
                if "o" in flags and "v" not in flags:
                    for m in compiled.finditer(line):
                        proc.print(prefix + m.group(0) + "\n")
                else:
                    proc.print(prefix + line + "\n")
        if "c" in flags:
            proc.print((f"{shown}:" if multiple else "") + f"{count}\n")
        if "l" in flags and count:
            proc.print(shown + "\n")
        if "L" in flags and not count:
            proc.print(shown + "\n")
        found += count
    if status and ("s" not in flags or not found):
        return status
    return 0 if found else 1


def _bre(pattern: str) -> str:
    """A POSIX basic regular expression as Python's: ``\\(``, ``\\|``, ``\\{`` are the operators, ``+?(|{`` literal."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            n = pattern[i + 1]
            out.append(n if n in "(){}|+?" else "\\" + n)
            i += 2
            continue
        out.append("\\" + c if c in "(){}|+?" else c)
        i += 1
    return "".join(out)


async def tee(proc: Proc, argv: list[str]) -> int:
    opts, files = getopt(proc, argv, "ia")
    data = await proc.stdin.read()
    proc.out += data
    status = 0
    for f in files:
        path = proc.path(f)
        try:
            proc.fs.open_write(path, append="a" in opts)
            proc.fs.write(path, data, append=True)
        except FsError as e:
            perror(proc, argv, f"can't open '{f}'", e)
            status = 1
    return status


async def basename(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "+as:", min_args=1)
    suffix = opts["s"][-1] if "s" in opts else None
    if not opts:
        if len(args) > 2:
            show_usage(proc, "basename")
        suffix = args[1] if len(args) == 2 else None
        args = args[:1]
    for arg in args:
        stripped = arg.rstrip("/")
        name = posixpath.basename(stripped) if stripped else ("/" if arg else "")
        if suffix and len(name) > len(suffix) and name.endswith(suffix):
            name = name[:-len(suffix)]
        proc.print(name + "\n")
    return 0


async def dirname(proc: Proc, argv: list[str]) -> int:
    args = skip_dash_dash(argv)
    if len(args) != 1:
        show_usage(proc, "dirname")
    path = args[0]
    stripped = path.rstrip("/")
    if not stripped:
        proc.print(("/" if path else ".") + "\n")
        return 0
    head = posixpath.dirname(stripped).rstrip("/")
    proc.print((head or ("/" if "/" in stripped else ".")) + "\n")
    return 0


_DATE_FORMATS = ("%H:%M", "%H:%M:%S", "%m.%d-%H:%M", "%m.%d-%H:%M:%S", "%Y.%m.%d-%H:%M", "%Y.%m.%d-%H:%M:%S",
                 "%b %d %H:%M:%S %Y", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H", "%Y-%m-%d")


def _parse_date(text: str) -> float | None:
    """libbb ``parse_datestr``: the strptime formats, ``@SECONDS`` and ``MMDDhhmm[[CC]YY][.ss]``; None if invalid."""
    import datetime

    now = datetime.datetime.now()
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
        if "%Y" not in fmt:
            parsed = parsed.replace(year=now.year)
        if "%d" not in fmt:
            parsed = parsed.replace(month=now.month, day=now.day)
        return parsed.timestamp()
    if re.fullmatch(r"@-?\d+", text):
        return float(text[1:])
    m = re.fullmatch(r"(\d{2})(\d{2})(\d{2})(\d{2})((?:\d{2}){0,2})(?:\.(\d{2}))?", text)
    if m:
        year = int(m.group(5)) if len(m.group(5)) == 4 else (2000 + int(m.group(5)) if m.group(5) else now.year)
        try:
            return datetime.datetime(year, int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                                     int(m.group(6) or 0)).timestamp()
        except ValueError:
            return None
    return None


async def date(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "Rs:ud:r:I::D:",
                        long={"rfc-822": "R", "rfc-2822": "R", "set": "s", "utc": "u", "universal": "u",
                              "date": "d", "reference": "r", "iso-8601": "I"})
    utc = "u" in opts
    fmt: str | None = None
    if args and args[0].startswith("+"):
        fmt, args = args[0][1:], args[1:]
    date_str = (opts.get("d") or opts.get("s") or [None])[-1]
    setting = "s" in opts
    if date_str is None and "d" not in opts and args:
        date_str, args = args[0], args[1:]
        setting = True
    if args:
        show_usage(proc, "date")
    when = time.time()
    if "r" in opts:
        try:
            when = proc.fs.stat(proc.path(opts["r"][-1])).mtime
        except FsError as e:
            die(proc, argv, f"can't stat '{opts['r'][-1]}': {e.strerror}")
    if date_str is not None:
        parsed = _parse_date(date_str)
        if parsed is None:
            die(proc, argv, f"invalid date '{date_str}'")
        when = parsed
        if setting:  # a container has no CAP_SYS_TIME: clock_settime fails, the date is still printed
            warn(proc, argv, "can't set date: Operation not permitted")
    if fmt is None:
        if "I" in opts:
            spec = opts["I"][-1] or "date"
            formats = {"date": "%Y-%m-%d", "hours": "%Y-%m-%dT%H%z", "minutes": "%Y-%m-%dT%H:%M%z",
                       "seconds": "%Y-%m-%dT%H:%M:%S%z", "ns": "%Y-%m-%dT%H:%M:%S,000000000%z"}
            if spec not in formats:
                show_usage(proc, "date")
            fmt = formats[spec]
        elif "R" in opts:
            fmt = "%a, %d %b %Y %H:%M:%S %z"
        else:
            fmt = "%a %b %e %H:%M:%S %Z %Y"
    t = time.gmtime(when) if utc else time.localtime(when)
    text = time.strftime(fmt.replace("%N", f"{int((when % 1) * 1e9):09d}"), t)
    if utc:
        text = text.replace("GMT", "UTC")
    if "I" in opts and "%z" in fmt:
        text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)
    proc.print(text + "\n")
    return 0


async def uname(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(proc, argv, "snrvmpioa",
                        long={"all": "a", "kernel-name": "s", "nodename": "n", "kernel-release": "r",
                              "release": "r", "kernel-version": "v", "machine": "m", "processor": "p",
                              "hardware-platform": "i", "operating-system": "o"})
    if args:
        show_usage(proc, "uname")
    fields = {"s": "Linux", "n": proc.hostname, "r": "6.1.0", "v": "#1 SMP PREEMPT_DYNAMIC", "m": "x86_64",
              "p": "unknown", "i": "unknown", "o": "GNU/Linux"}
    wanted = "snrvmpio" if "a" in opts else "".join(c for c in "snrvmpio" if c in opts) or "s"
    proc.print(" ".join(fields[c] for c in wanted) + "\n")
    return 0


async def df(proc: Proc, argv: list[str]) -> int:
    getopt(proc, argv, "kPTaimhB:t:")
    proc.print("Filesystem           1K-blocks      Used Available Use% Mounted on\n")
    proc.print(f"{'overlay':<20}{20959212:>11}{2097152:>10}{18862060:>10}  10% /\n")
    for m in sorted(proc.fs.sandbox.mounts, key=lambda m: m.path):
        proc.print(f"{'/dev/nvme1n1':<20}{1020828:>11}{24:>10}{1004420:>10}   0% {m.path}\n")
    return 0


async def seq(proc: Proc, argv: list[str]) -> int:
    # A negative number ends the options (seq.c truncates argv there before getopt).
    cut = next((k for k, a in enumerate(argv[1:], 1) if re.match(r"-[.0-9]", a)), len(argv))
    opts, args = getopt(proc, argv[:cut], "+ws:")
    args += argv[cut:]
    try:
        nums = [float(a) for a in args]
    except ValueError:
        show_usage(proc, "seq")
    if not 1 <= len(nums) <= 3:
        show_usage(proc, "seq")
    first, step, last = (1.0, 1.0, nums[0]) if len(nums) == 1 else (nums[0], 1.0, nums[1]) if len(nums) == 2 \
        else (nums[0], nums[1], nums[2])
    frac = max((len(a.partition(".")[2]) for a in args[:-1]), default=0)
    width = max(len(a.partition(".")[0]) for a in args) + (frac + 1 if frac else 0) if "w" in opts else 0
    sep = opts["s"][-1] if "s" in opts else "\n"
    out = []
    n = 0
    v = first
    while (v <= last) if step >= 0 else (v >= last):
        out.append(f"{v:0{width}.{frac}f}")
        n += 1
        v = first + n * step
        if step == 0 and n > 100000:
            break
    if out:
        proc.print(sep.join(out) + "\n")
    return 0


async def sync(proc: Proc, argv: list[str]) -> int:
    getopt(proc, argv, "df")
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


def _main(name: str, fn: Applet) -> Applet:
    """An applet as busybox runs it: ``NAME --help`` shows the usage (exit 0), ``xfunc_die`` ends it."""

    async def run(proc: Proc, argv: list[str]) -> int:
        try:
            if name not in NO_HELP and len(argv) > 1 and argv[1] == "--help":
                show_usage(proc, name, 0)
            return await fn(proc, argv)
        except AppletExit as e:
            return e.code

    run.__name__ = getattr(fn, "__name__", name)
    return run


def _builtin(fn: Applet) -> Applet:
    """An ash builtin: busybox code inside it words errors with the shell's name (``sh: ...``)."""

    async def run(proc: Proc, argv: list[str]) -> int:
        shell = proc.shell
        if shell is not None and getattr(shell, "dialect", "ash") == "ash":
            proc.builtin_of = getattr(shell, "applet", "sh")
        try:
            return await fn(proc, argv)
        except AppletExit as e:
            return e.code

    run.__name__ = getattr(fn, "__name__", "builtin")
    return run


APPLETS: dict[str, Applet] = {name: _main(name, fn) for name, fn in {
    "cat": cat, "chmod": chmod, "chown": chown, "cp": cp, "date": date, "df": df, "echo": echo, "false": false,
    "grep": grep, "hostname": hostname, "ls": ls, "mkdir": mkdir, "mv": mv, "pwd": pwd, "rm": rm, "rmdir": rmdir,
    "sleep": sleep, "stat": stat, "touch": touch, "true": true, "uname": uname, "printenv": printenv,
    "sync": sync, "basename": basename, "dirname": dirname, "env": env, "head": head, "id": id_, "printf": printf,
    "seq": seq, "tail": tail, "tee": tee, "test": test, "[": test, "wc": wc, "whoami": whoami,
}.items()}

# ash builtins: found before $PATH
BUILTINS: dict[str, Applet] = {name: _builtin(fn) for name, fn in {
    "cd": cd, "exit": exit_, "export": export, "unset": unset, ":": colon, "umask": umask, "exec": exec_,
    "echo": echo, "printf": printf, "test": test, "[": test, "true": true, "false": false, "pwd": pwd,
}.items()}

# nslookup lives in its own module (it uses the helpers above).
from pytest_azchaos.embedded.images.nslookup import nslookup as _nslookup  # noqa: E402

APPLETS["nslookup"] = _main("nslookup", _nslookup)
