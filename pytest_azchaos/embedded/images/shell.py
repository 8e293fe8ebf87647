"""A small POSIX shell: busybox ``ash`` (``/bin/sh``, ``/bin/ash``) and ``bash`` texts, on the emulated filesystem.

Enough of the language for what tests do through ``kubectl exec POD -- sh -c '…'``: lists with
``;``, ``&&``, ``||``, simple pipes (run one after another), redirections (``>``, ``>>``, ``<``,
``2>&1``, ``2>/dev/null``), quoting, ``$VAR``/``${VAR}``/``$?``/``$(…)``, assignments, ``!``,
``if``/``while``/``for``, ``{ …; }`` and ``( … )``. Error texts and exit codes follow busybox ash
(``sh: can't create /data/x: Permission denied``, ``sh: x: not found`` → 127, a non-executable
file → 126) or bash 5 (``bash: line 1: x: command not found``). Commands come from
:mod:`.applets` (busybox applets at their Alpine paths).

This module is the interpreter and the exec glue; the language is parsed by :mod:`.shell_parser`,
and what a command runs with (stdin, streams, environment) is :mod:`.shell_process`.
"""

from __future__ import annotations

import asyncio
import errno
import posixpath
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from pytest_azchaos.embedded.images import alpine
from pytest_azchaos.embedded.images.applets import APPLETS, BUILTINS
from pytest_azchaos.embedded.images.container import Container, ContainerSpec, ExecRequest, ExecResult
from pytest_azchaos.embedded.images.fs import FileSystem, FsError, Identity, Sandbox, attach, sandbox_of
from pytest_azchaos.embedded.images.shell_parser import (
    NAME,
    AndOr,
    For,
    Group,
    If,
    Loop,
    Parser,
    Pipeline,
    Redirect,
    Seq,
    ShellSyntaxError,
    Simple,
    Word,
    scan_subst,
    tokenize,
)
from pytest_azchaos.embedded.images.shell_process import (
    ALPINE,
    Applet,
    BytesInput,
    ExitShell,
    Input,
    Proc,
    StreamInput,
    Userland,
    as_input,
)

# ---------------------------------------------------------------------------------------------- running


class Shell:
    """One shell process: variables, cwd, last status; runs parsed scripts on a :class:`FileSystem`."""

    def __init__(self, fs: FileSystem, env: Mapping[str, str], argv0: str = "sh", dialect: str = "ash",
                 hostname: str = "localhost", cwd: str = "/", applets: Mapping[str, Applet] | None = None,
                 executables: Callable[[str], Any] | None = None, userland: Userland = ALPINE,
                 address: str = "") -> None:
        self.fs = fs
        self.address = address  # the container's (pod) address, for applets that open sockets
        self.userland = userland
        self.applet = posixpath.basename(argv0)  # busybox's applet_name: errors of builtins carry it
        self.vars: dict[str, str] = dict(env)
        self.exported: set[str] = set(env)
        self.vars.setdefault("PATH", alpine.DEFAULT_PATH)
        self.argv0 = argv0
        self.dialect = dialect
        self.hostname = hostname
        self.cwd = cwd
        self.status = 0
        self.applets = dict(applets or APPLETS)
        self.line = 1
        self.positional: list[str] = []

    def _child(self, env: Mapping[str, str], argv0: str | None = None) -> Shell:
        """A subshell (``( … )``, ``$(…)``) or a script's shell: same filesystem, userland and name."""
        sub = Shell(self.fs, env, argv0 or self.argv0, self.dialect, self.hostname, self.cwd, self.applets,
                    userland=self.userland, address=self.address)
        sub.applet = self.applet
        return sub

    # ------------------------------------------------------------------ messages
    def msg(self, text: str, err: bytearray) -> None:
        if self.dialect == "bash":
            err += f"{self.argv0}: line {self.line}: {text}\n".encode()
        else:
            err += f"{self.argv0}: {text}\n".encode()

    def _not_found(self, name: str, err: bytearray) -> None:
        self.msg(f"{name}: command not found" if self.dialect == "bash" else f"{name}: not found", err)

    def _redirect_error(self, op: str, path: str, e: FsError, err: bytearray) -> None:
        if self.dialect == "bash":
            self.msg(f"{path}: {e.strerror}", err)
        elif op == "<":
            self.msg(f"can't open {path}: {e.strerror}", err)
        else:
            self.msg(f"can't create {path}: {e.strerror}", err)

    # ------------------------------------------------------------------ entry points
    async def run_script(self, script: str, stdin: Input, out: bytearray, err: bytearray) -> int:
        try:
            tree = Parser(tokenize(script)).parse()
        except ShellSyntaxError as e:
            self.msg(f"syntax error: {e}", err)
            return 2
        try:
            return await self.run_seq(tree, stdin, out, err)
        except ExitShell as e:
            return e.code

    async def run_seq(self, seq: Seq, stdin: Input, out: bytearray, err: bytearray) -> int:
        status = 0
        for item in seq.items:
            status = await self.run_and_or(item, stdin, out, err)
        return status

    async def run_and_or(self, node: AndOr, stdin: Input, out: bytearray, err: bytearray) -> int:
        status = await self.run_pipeline(node.first, stdin, out, err)
        for op, pipe in node.rest:
            if (op == "&&" and status == 0) or (op == "||" and status != 0):
                status = await self.run_pipeline(pipe, stdin, out, err)
        return status

    async def run_pipeline(self, pipe: Pipeline, stdin: Input, out: bytearray, err: bytearray) -> int:
        current: Input = stdin
        status = 0
        for index, cmd in enumerate(pipe.commands):
            last = index == len(pipe.commands) - 1
            sink = out if last else bytearray()
            status = await self.run_command(cmd, current, sink, err)
            if not last:
                current = BytesInput(bytes(sink))
        if pipe.negate:
            status = 0 if status else 1
        self.status = status
        return status

    async def run_command(self, cmd: Any, stdin: Input, out: bytearray, err: bytearray) -> int:
        if isinstance(cmd, Simple):
            return await self.run_simple(cmd, stdin, out, err)
        streams = await self._apply_redirects(cmd.redirects, stdin, out, err)
        if streams is None:
            return 1
        s_in, s_out, s_err, finish = streams
        try:
            if isinstance(cmd, Group):
                if cmd.subshell:
                    sub = self._child({})
                    sub.vars, sub.exported, sub.status = dict(self.vars), set(self.exported), self.status
                    try:
                        status = await sub.run_seq(cmd.body, s_in, s_out, s_err)
                    except ExitShell as e:
                        status = e.code
                else:
                    status = await self.run_seq(cmd.body, s_in, s_out, s_err)
            elif isinstance(cmd, If):
                status = 0
                for cond, body in cmd.branches:
                    if await self.run_seq(cond, s_in, s_out, s_err) == 0:
                        status = await self.run_seq(body, s_in, s_out, s_err)
                        break
                else:
                    if cmd.orelse is not None:
                        status = await self.run_seq(cmd.orelse, s_in, s_out, s_err)
            elif isinstance(cmd, Loop):
                status = 0
                while (await self.run_seq(cmd.cond, s_in, s_out, s_err) == 0) != cmd.until:
                    status = await self.run_seq(cmd.body, s_in, s_out, s_err)
                    await asyncio.sleep(0)
            elif isinstance(cmd, For):
                status = 0
                items = await self.expand_words(cmd.items, err) if cmd.items is not None else list(self.positional)
                for item in items:
                    self.vars[cmd.var] = item
                    status = await self.run_seq(cmd.body, s_in, s_out, s_err)
            else:
                raise TypeError(cmd)
        finally:
            finish()
        self.status = status
        return status

    async def _apply_redirects(self, redirects: Sequence[Redirect], stdin: Input, out: bytearray,
                               err: bytearray) -> tuple[Input, bytearray, bytearray, Callable[[], None]] | None:
        """Open redirections in order; None (after the shell's message) when one cannot be opened."""
        fds: dict[int, Any] = {0: stdin, 1: out, 2: err}
        files: list[tuple[str, bytearray, bool]] = []
        for r in redirects:
            targets = await self.expand_word(r.target, err, split=False)
            target = targets[0] if targets else ""
            if r.op in (">&", "<&"):
                if target == "-":
                    fds[r.fd] = bytearray()
                    continue
                if not target.isdigit() or int(target) not in fds:
                    self.msg(f"{target}: bad file descriptor" if target.isdigit() else f"{target}: ambiguous "
                              "redirect", err)
                    return None
                fds[r.fd] = fds[int(target)]
                continue
            path = FileSystem.normalize(target, self.cwd)
            try:
                if r.op == "<":
                    fds[r.fd] = BytesInput(self.fs.read(path))
                else:
                    append = r.op == ">>"
                    self.fs.open_write(path, append=append)
                    buf = bytearray()
                    files.append((path, buf, append))
                    fds[r.fd] = buf
            except FsError as e:
                self._redirect_error(r.op, target, e, err)
                return None

        def finish() -> None:
            for path, buf, _append in files:
                if buf:
                    self.fs.write(path, bytes(buf), append=True)

        s_in = fds[0] if isinstance(fds[0], Input) else BytesInput()
        s_out = fds[1] if isinstance(fds[1], bytearray) else bytearray()
        s_err = fds[2] if isinstance(fds[2], bytearray) else bytearray()
        return s_in, s_out, s_err, finish

    async def run_simple(self, cmd: Simple, stdin: Input, out: bytearray, err: bytearray) -> int:
        self.line = cmd.line
        argv = await self.expand_words(cmd.words, err)
        values = [(name, "".join(await self.expand_word(w, err, split=False))) for name, w in cmd.assigns]
        streams = await self._apply_redirects(cmd.redirects, stdin, out, err)
        if streams is None:
            self.status = 1
            return 1
        s_in, s_out, s_err, finish = streams
        try:
            if not argv:
                for name, value in values:
                    self.vars[name] = value
                self.status = 0
                return 0
            status = await self.invoke(argv, dict(values), s_in, s_out, s_err)
        finally:
            finish()
        self.status = status
        return status

    async def invoke(self, argv: list[str], assigns: dict[str, str], stdin: Input, out: bytearray,
                     err: bytearray, replace_env: bool = False) -> int:
        name = argv[0]
        builtin = None if replace_env else BUILTINS.get(name)
        env = {} if replace_env else {k: v for k, v in self.vars.items() if k in self.exported}
        env.update(assigns)
        proc = Proc(self.fs, env, self.cwd, stdin, out, err, self.hostname, self, userland=self.userland,
                    address=self.address)
        if builtin is not None:
            return await builtin(proc, argv)
        path = self.lookup(name, env.get("PATH", self.vars.get("PATH", "")))
        if path is None:
            if "/" in name:
                full = FileSystem.normalize(name, self.cwd)
                try:
                    s = self.fs.stat(full)
                except FsError as e:
                    self.msg(f"{name}: {e.strerror}" if self.dialect == "bash" else f"{name}: not found", err)
                    return 127
                if s.is_dir or not self.fs.access(full, 1):
                    self.msg(f"{name}: {'Is a directory' if s.is_dir else 'Permission denied'}", err)
                    return 126
                try:  # an executable text file without #! runs as a script in a subshell
                    script = self.fs.read(full).decode("utf-8", "replace")
                except FsError as e:
                    self.msg(f"{name}: {e.strerror}", err)
                    return 126
                sub = self._child(env, name)
                sub.positional = argv[1:]
                return await sub.run_script(script, stdin, out, err)
            self._not_found(name, err)
            return 127
        applet = self.applets[posixpath.basename(path)]
        try:
            return await applet(proc, argv)
        except FsError as e:  # an applet's unexpected error: its name and the libc text
            proc.err += f"{posixpath.basename(name)}: {e.strerror}\n".encode()
            return 1

    def lookup(self, name: str, path_var: str) -> str | None:
        """``$PATH`` search over the image's applets (a name with a slash must be an applet's path)."""
        if "/" in name:
            full = FileSystem.normalize(name, self.cwd)
            return full if alpine.APPLET_PATHS.get(posixpath.basename(full)) == full and \
                posixpath.basename(full) in self.applets else None
        where = alpine.APPLET_PATHS.get(name)
        if where is None or name not in self.applets:
            return None
        for d in path_var.split(":"):
            if d and posixpath.join(d, name) == where:
                return where
        return None

    # ------------------------------------------------------------------ expansion
    async def expand_words(self, words: Sequence[Word], err: bytearray) -> list[str]:
        out: list[str] = []
        for w in words:
            out.extend(await self.expand_word(w, err))
        return out

    async def _param(self, name: str) -> str:
        if name == "?":
            return str(self.status)
        if name == "$":
            return "1"
        if name == "#":
            return str(len(self.positional))
        if name == "0":
            return self.argv0
        if name.isdigit():
            i = int(name)
            return self.positional[i - 1] if 0 < i <= len(self.positional) else ""
        if name in ("@", "*"):
            return " ".join(self.positional)
        return self.vars.get(name, "")

    async def _subst(self, script: str, err: bytearray) -> str:
        sub = self._child({})
        sub.vars, sub.exported, sub.status = dict(self.vars), set(self.exported), self.status
        buf = bytearray()
        self.status = await sub.run_script(script, BytesInput(), buf, err)
        return buf.decode("utf-8", "replace").rstrip("\n")

    async def _expand_text(self, text: str, err: bytearray) -> list[tuple[str, bool]]:
        """Pieces of ``text`` after ``$`` expansion: (piece, came from an expansion)."""
        pieces: list[tuple[str, bool]] = []
        i = 0
        lit: list[str] = []
        while i < len(text):
            c = text[i]
            if c == "\\" and i + 1 < len(text) and text[i + 1] in '$`"\\\n':
                lit.append(text[i + 1])
                i += 2
                continue
            if c == "$" and i + 1 < len(text):
                nxt = text[i + 1]
                value: str | None = None
                if nxt == "(":
                    j = scan_subst(text, i + 1)
                    value = await self._subst(text[i + 2:j - 1], err)
                    i = j
                elif nxt == "{":
                    j = text.index("}", i)
                    inner = text[i + 2:j]
                    name, _, default = inner.partition(":-")
                    value = await self._param(name)
                    if not value and ":-" in inner:
                        value = default
                    i = j + 1
                elif nxt in "?$#@*" or nxt.isdigit():
                    value = await self._param(nxt)
                    i += 2
                else:
                    m = NAME.match(text, i + 1)
                    if m:
                        value = await self._param(m.group(0))
                        i = m.end()
                if value is not None:
                    if lit:
                        pieces.append(("".join(lit), False))
                        lit = []
                    pieces.append((value, True))
                    continue
            lit.append(c)
            i += 1
        if lit:
            pieces.append(("".join(lit), False))
        return pieces

    async def expand_word(self, word: Word, err: bytearray, split: bool = True) -> list[str]:
        fields: list[str] = []
        current: list[str] = []
        has_field = False
        glob = False
        for kind, text in word.parts:
            if kind == "sq":
                current.append(text)
                has_field = True
                continue
            if kind == "dq":
                current.append("".join(p for p, _ in await self._expand_text(text, err)))
                has_field = True
                continue
            if text.startswith("~") and not current and (len(text) == 1 or text[1] == "/"):
                text = self.vars.get("HOME", "/root") + text[1:]
            for piece, expanded in await self._expand_text(text, err):
                if expanded and split:
                    chunks = piece.split()
                    if not chunks:
                        continue
                    if piece[:1].isspace() and (current or has_field):
                        fields.append("".join(current))
                        current = []
                    for k, chunk in enumerate(chunks):
                        if k:
                            fields.append("".join(current))
                            current = []
                        current.append(chunk)
                        has_field = True
                    if piece[-1:].isspace():
                        fields.append("".join(current))
                        current, has_field = [], False
                    continue
                if not expanded and any(ch in piece for ch in "*?["):
                    glob = True
                current.append(piece)
                has_field = has_field or bool(piece) or expanded
        if current or has_field:
            fields.append("".join(current))
        if glob and split and len(fields) == 1 and not word.quoted:
            matches = self._glob(fields[0])
            if matches:
                return matches
        return fields

    def _glob(self, pattern: str) -> list[str]:
        import fnmatch

        absolute = pattern.startswith("/")
        parts = [p for p in pattern.split("/") if p]
        results = ["/" if absolute else ""]
        for part in parts:
            nxt = []
            for base in results:
                if not any(ch in part for ch in "*?["):
                    nxt.append(posixpath.join(base, part) if base else part)
                    continue
                try:
                    names = self.fs.listdir(FileSystem.normalize(base or ".", self.cwd))
                except FsError:
                    continue
                for name in names:
                    if name.startswith(".") and not part.startswith("."):
                        continue
                    if fnmatch.fnmatchcase(name, part):
                        nxt.append(posixpath.join(base, name) if base else name)
            results = nxt
        return sorted(r for r in results if self.fs.exists(FileSystem.normalize(r, self.cwd)))


# ---------------------------------------------------------------------------------------------- exec glue


def identity_for(sandbox: Sandbox, user: str | int | None, group: str | int | None) -> Identity:
    """The exec's credentials: the container's, or an explicit user/group (numeric or a passwd name)."""
    ident = sandbox.identity
    if user is None and group is None:
        return ident
    uid = alpine.uid_of(user) if user is not None else ident.uid
    gid = alpine.gid_of(group) if group is not None else (alpine.primary_gid(uid) if user is not None
                                                          else ident.gid)
    return Identity(uid, gid, tuple(sorted({gid, *alpine.groups_of(uid)})))


def ensure_sandbox(container: Container) -> Sandbox:
    """The container's sandbox, or a private root filesystem (root, no mounts) made on first use."""
    sandbox = sandbox_of(container)
    if sandbox is None:
        sandbox = alpine.private_sandbox(container)
        attach(container, sandbox)
    return sandbox


def _shell_argv(argv: Sequence[str]) -> tuple[str | None, list[str], bool]:
    """(script from -c or None, positional args, read the script from stdin)."""
    args = list(argv[1:])
    script: str | None = None
    while args and args[0].startswith("-") and args[0] not in ("-", "--"):
        flag = args.pop(0)
        if "c" in flag[1:]:
            if not args:
                return None, [], False
            script = args.pop(0)
    if args and args[0] == "--":
        args.pop(0)
    if script is None and args:
        return None, args, False
    return script, args[1:] if script is not None else args, script is None


def userland_of(container: Container) -> Userland:
    """The busybox build of the container's image (Alpine's unless the image said otherwise)."""
    return getattr(container, "userland", ALPINE)


async def run_shell(container: Container, req: ExecRequest, out: bytearray | None = None,
                    err: bytearray | None = None) -> ExecResult:
    """``/bin/sh``, ``/bin/ash``, ``/bin/bash`` as an exec'd process (or the container's main one)."""
    sandbox = ensure_sandbox(container)
    fs = sandbox.view(identity_for(sandbox, req.user, req.group))
    argv0 = req.argv[0]
    dialect = "bash" if posixpath.basename(argv0) == "bash" else "ash"
    env = {**alpine.base_env(container), **sandbox.env, **req.env}
    stdin = as_input(req.stdin)
    out = bytearray() if out is None else out
    err = bytearray() if err is None else err
    script, args, from_stdin = _shell_argv(req.argv)
    shell = Shell(fs, env, argv0, dialect, sandbox.hostname, sandbox.workdir, userland=userland_of(container),
                  address=container.spec.pod_ip)
    if script is None and not from_stdin:  # sh FILE
        path = FileSystem.normalize(args[0], sandbox.workdir)
        try:
            script = fs.read(path).decode("utf-8", "replace")
        except FsError as e:
            if dialect == "bash":
                err += f"{argv0}: {args[0]}: {e.strerror}\n".encode()
            else:
                err += f"{argv0}: can't open '{args[0]}': {e.strerror}\n".encode()
            return ExecResult(127 if e.errno == errno.ENOENT else 2, bytes(out), bytes(err))
        shell.argv0, args = args[0], args[1:]
    elif from_stdin:
        script = (await stdin.read()).decode("utf-8", "replace")
        stdin = BytesInput()
    elif args:
        shell.argv0, args = args[0], args[1:]
    shell.positional = args
    code = await shell.run_script(script or "", stdin, out, err)
    return ExecResult(code & 0xFF, bytes(out), bytes(err))


async def run_applet(name: str, container: Container, req: ExecRequest, out: bytearray | None = None,
                     err: bytearray | None = None) -> ExecResult:
    """Applet ``name`` as a process of its own (``kubectl exec POD -- id``, or ``command: [sleep, "3600"]``)."""
    sandbox = ensure_sandbox(container)
    fs = sandbox.view(identity_for(sandbox, req.user, req.group))
    env = {**alpine.base_env(container), **sandbox.env, **req.env}
    userland = userland_of(container)
    proc = Proc(fs, env, sandbox.workdir, as_input(req.stdin), hostname=sandbox.hostname, userland=userland,
                address=container.spec.pod_ip)
    if out is not None:
        proc.out = out
    if err is not None:
        proc.err = err
    # ``env PROG`` execs PROG: a shell object gives it the image's $PATH lookup and applets.
    proc.shell = Shell(fs, env, name, "ash", sandbox.hostname, sandbox.workdir, userland=userland,
                       address=container.spec.pod_ip)
    proc.shell.exported = set(env)
    try:
        code = await APPLETS[name](proc, list(req.argv))
    except FsError as e:
        proc.err += f"{name}: {e.strerror}\n".encode()
        code = 1
    return ExecResult(code & 0xFF, bytes(proc.out), bytes(proc.err))


def applet_handler(name: str) -> Callable[[Container, ExecRequest], Awaitable[ExecResult]]:
    """An exec handler running applet ``name`` directly (``kubectl exec POD -- id``)."""

    async def handle(container: Container, req: ExecRequest) -> ExecResult:
        return await run_applet(name, container, req)

    return handle


def exec_handlers() -> dict[str, Callable[[Container, ExecRequest], Awaitable[ExecResult]]]:
    """Every userland executable of the Alpine image by path: the shells and busybox applets."""

    handlers: dict[str, Callable[[Container, ExecRequest], Awaitable[ExecResult]]] = {
        path: run_shell for path in alpine.SHELLS}
    for name, path in alpine.APPLET_PATHS.items():
        if name in APPLETS:
            handlers[path] = applet_handler(name)
    return handlers


class LiveOutput(bytearray):
    """A process's stdout or stderr that reaches the container log line by line, as it is written."""

    def __init__(self, container: Container, stream: str) -> None:
        super().__init__()
        self._container = container
        self._stream = stream

    def __iadd__(self, data: Any) -> LiveOutput:  # type: ignore[override]
        super().__iadd__(data)
        end = self.rfind(b"\n")
        if end >= 0:
            self._emit(end + 1)
        return self

    def _emit(self, upto: int) -> None:
        chunk = bytes(self[:upto])
        del self[:upto]
        self._container.logs.write(self._stream, chunk.decode("utf-8", "replace"))

    def close(self) -> None:
        """The process ended: a last line without its newline is still logged."""
        if self:
            self._emit(len(self))


class ProcessContainer(Container):
    """A container whose main process is a userland program (``sh -c '…'``, ``sleep 3600``).

    Its output reaches ``kubectl logs`` as it is written. As PID 1 without a handler it ignores
    SIGTERM (the kernel does not deliver default-action signals to a namespace's init), so a pod
    deletion waits out the grace period and the kubelet's SIGKILL ends it with 137, as upstream.
    Standard input is empty (the kubelet opens none) unless the container asks for ``stdin: true``.
    """

    async def run(self) -> None:
        self.spawn(self._main())

    async def _program(self, req: ExecRequest, out: bytearray, err: bytearray) -> ExecResult:
        raise NotImplementedError

    async def _main(self) -> None:
        out, err = LiveOutput(self, "stdout"), LiveOutput(self, "stderr")
        stdin: Any = StreamInput() if getattr(self.spec, "stdin", False) else b""
        try:
            result = await self._program(ExecRequest(argv=self.argv, stdin=stdin), out, err)
        finally:
            out.close()
            err.close()
        self.exit(result.exit_code)

    async def on_sigterm(self) -> None:
        """PID 1 with no SIGTERM handler: the signal is ignored."""


class ShellContainer(ProcessContainer):
    """A container whose main process is a shell (``command: [sh, -c, "…"]``; busybox's default ``sh``)."""

    async def _program(self, req: ExecRequest, out: bytearray, err: bytearray) -> ExecResult:
        return await run_shell(self, req, out, err)


def applet_container(name: str) -> Callable[[ContainerSpec, list[str]], Container]:
    """The container factory for applet ``name`` as the main process (``command: [sleep, "3600"]``)."""

    class AppletContainer(ProcessContainer):
        async def _program(self, req: ExecRequest, out: bytearray, err: bytearray) -> ExecResult:
            return await run_applet(name, self, req, out, err)

    AppletContainer.__name__ = AppletContainer.__qualname__ = f"AppletContainer[{name}]"
    return AppletContainer


def with_userland(factory: Callable[[ContainerSpec, list[str]], Container], userland: Userland = ALPINE
                  ) -> Callable[[ContainerSpec, list[str]], Container]:
    """Wrap an image's container factory so every container can exec the shells and applets."""

    def make(spec: ContainerSpec, argv: list[str]) -> Container:
        container = factory(spec, argv)
        container.userland = userland  # type: ignore[attr-defined]
        for path, handler in exec_handlers().items():
            container.register_executable(path, handler)
        return container

    return make


def userland_entrypoints() -> dict[str, Callable[[ContainerSpec, list[str]], Container]]:
    """Every executable of the userland usable as a container's command: shells and applets, by path."""
    programs: dict[str, Callable[[ContainerSpec, list[str]], Container]] = {
        path: ShellContainer for path in alpine.SHELLS}
    for name, path in alpine.APPLET_PATHS.items():
        if name in APPLETS:
            programs[path] = applet_container(name)
    return programs


__all__ = ["LiveOutput", "ProcessContainer", "Shell", "ShellContainer", "applet_container", "exec_handlers",
           "run_applet", "run_shell", "userland_entrypoints", "with_userland"]
