"""What a command of the emulated userland runs with: its standard input, streams and environment.

The process model shared by the shell interpreter (:mod:`.shell`) and the busybox applets
(:mod:`.applets`): an applet is ``async (proc, argv) -> exit code``; builtins reach the running
shell through ``proc.shell`` (a :class:`ShellState`), so applets never import the interpreter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pytest_azchaos.embedded.images.fs import FileSystem, Identity

# ---------------------------------------------------------------------------------------------- stdin


class Input:
    """A process's standard input; ``read()`` returns everything up to end of file."""

    async def read(self) -> bytes:
        return b""


class BytesInput(Input):
    def __init__(self, data: bytes = b"") -> None:
        self.data = data

    async def read(self) -> bytes:
        data, self.data = self.data, b""
        return data


class StreamInput(Input):
    """Standard input that arrives over time (an exec's stdin channel); EOF on :meth:`close`."""

    def __init__(self) -> None:
        self._chunks = bytearray()
        self._eof = asyncio.Event()

    def feed(self, data: bytes) -> None:
        self._chunks += data

    def close(self) -> None:
        self._eof.set()

    async def read(self) -> bytes:
        await self._eof.wait()
        data = bytes(self._chunks)
        self._chunks.clear()
        return data


def as_input(stdin: Any) -> Input:
    """An :class:`Input` from an exec request's ``stdin`` (bytes, or an :class:`Input` for streams)."""
    if isinstance(stdin, Input):
        return stdin
    return BytesInput(bytes(stdin or b""))


# ---------------------------------------------------------------------------------------------- userland


@dataclass(frozen=True)
class Userland:
    """Which busybox build the image carries: its banner and the libc whose ``getopt`` words option errors.

    musl (Alpine) says ``ls: unrecognized option: z`` and does not permute options after operands
    for plain ``getopt``; glibc says ``ls: invalid option -- 'z'`` and permutes.
    """

    banner: str  # "BusyBox v1.37.0 (2025-01-17 18:12:01 UTC)" as bb_banner prints it
    libc: str = "musl"  # "musl" or "glibc"


ALPINE = Userland("BusyBox v1.37.0 (2025-01-17 18:12:01 UTC)", "musl")


# ---------------------------------------------------------------------------------------------- process


class ShellState(Protocol):
    """The running shell as builtins (``cd``, ``exit``, ``export``, ``unset``, ``exec``, ``env``) see it."""

    vars: dict[str, str]
    exported: set[str]
    dialect: str
    status: int
    cwd: str

    def msg(self, text: str, err: bytearray) -> None:
        """Write a diagnostic as this shell words it (``sh: …`` or ``bash: line N: …``)."""
        ...

    async def invoke(self, argv: list[str], assigns: dict[str, str], stdin: Input, out: bytearray,
                     err: bytearray, replace_env: bool = False) -> int:
        """Run a command (builtin, applet or script) with extra environment ``assigns`` (or only those)."""
        ...

    def lookup(self, name: str, path_var: str) -> str | None:
        """Where ``name`` is found on ``path_var`` (an applet's path), or None."""
        ...


@dataclass
class Proc:
    """What a command runs with: filesystem as its identity, environment, cwd, and its three streams."""

    fs: FileSystem
    env: dict[str, str]
    cwd: str
    stdin: Input
    out: bytearray = field(default_factory=bytearray)
    err: bytearray = field(default_factory=bytearray)
    hostname: str = "localhost"
    shell: ShellState | None = None
    userland: Userland = ALPINE
    # Set when an ash builtin (echo, printf, test, [) runs: busybox then words errors with the shell's
    # applet name (``sh: invalid number 'x'``), as ash leaves ``applet_name`` alone for builtins.
    builtin_of: str | None = None
    # The container's own (pod) address: where its sockets come from (nslookup's queries).
    address: str = ""

    def path(self, p: str) -> str:
        return FileSystem.normalize(p, self.cwd)

    def print(self, text: str) -> None:
        self.out += text.encode()

    def error(self, text: str) -> None:
        self.err += (text + "\n").encode()

    @property
    def identity(self) -> Identity:
        return self.fs.identity


Applet = Callable[[Proc, list[str]], Awaitable[int]]


class ExitShell(Exception):
    """Raised by ``exit`` and ``exec``: the shell stops with ``code``."""

    def __init__(self, code: int) -> None:
        self.code = code
