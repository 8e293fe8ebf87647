"""The container interface the kubelet drives: start, SIGTERM, SIGKILL, exit code, logs, exec, ports.

An emulated container is a program object running on the cluster's asyncio loop. It binds its
listeners on the pod's own loopback address, so peers see real socket addresses. Exit codes follow
a real runtime: the program's own code, 137 after SIGKILL, 143 when SIGTERM is not handled, 128
with reason ``StartError`` when the executable does not exist.

Subclasses implement :meth:`Container.run` (bind and start serving; return once started) and may
override :meth:`Container.on_sigterm`. They register what they open with :meth:`Container.own`
so that :meth:`Container.exit` closes it, the way process exit closes every socket.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_azchaos.embedded.images.goformat import log_prefix
from pytest_azchaos.embedded.images.logs import LogBuffer

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
EXIT_SIGKILL = 137
EXIT_SIGTERM = 143
EXIT_START_ERROR = 128


@dataclass(frozen=True)
class ContainerPort:
    """A declared ``containerPort`` (informational, as in Kubernetes: the program decides what it binds)."""

    container_port: int
    protocol: str = "TCP"
    name: str | None = None


@dataclass(frozen=True)
class BoundPort:
    """A socket the program actually listens on."""

    protocol: str  # "TCP" or "UDP"
    host: str
    port: int


@dataclass
class ContainerSpec:
    """What the kubelet hands a container: its identity, network and the pod spec's process fields."""

    name: str
    pod_name: str  # the container's hostname
    pod_ip: str  # the only address the container may bind
    image: str = ""
    command: Sequence[str] | None = None  # overrides the image ENTRYPOINT
    args: Sequence[str] | None = None  # overrides the image CMD
    env: Mapping[str, str] = field(default_factory=dict)
    ports: Sequence[ContainerPort] = ()
    stdin: bool = False  # the pod spec's ``stdin``: the process gets an open (never-ending) standard input
    # Name resolution for programs that dial by name; None: through ``resolv_conf`` (the cluster's DNS).
    resolve_host: Callable[[str], str | None] | None = None
    # The pod's ``/etc/resolv.conf`` as the kubelet formed it ("": none, names do not resolve).
    resolv_conf: str = ""


@dataclass(frozen=True)
class ExecResult:
    """Outcome of ``exec``; ``start_error`` is the runtime's text when the process could not start."""

    exit_code: int
    stdout: bytes = b""
    stderr: bytes = b""
    start_error: str | None = None


@dataclass(frozen=True)
class ExecRequest:
    argv: Sequence[str]
    user: str | int | None = None
    group: str | int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    mounts: Sequence[Any] = ()
    stdin: bytes = b""


ExecHandler = Callable[["Container", ExecRequest], Awaitable[ExecResult]]


class ContainerStartError(Exception):
    """The runtime could not start the process (kubelet: reason ``StartError``, exit code 128)."""

    reason = "StartError"
    exit_code = EXIT_START_ERROR


class ContainerState(enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"


def executable_not_found(name: str) -> str:
    """runc's text for a missing executable (``exec: "x": executable file not found in $PATH``)."""
    if "/" in name:
        return f'exec: "{name}": stat {name}: no such file or directory'
    return f'exec: "{name}": executable file not found in $PATH'


def start_error_message(detail: str) -> str:
    """The container status message containerd reports when runc cannot start the process."""
    return ("failed to create containerd task: failed to create shim task: OCI runtime create failed: "
            f"runc create failed: unable to start container process: {detail}: unknown")


def exec_error_message(detail: str) -> str:
    """The text containerd reports when an exec's process cannot start."""
    return f"OCI runtime exec failed: exec failed: unable to start container process: {detail}: unknown"


class Container:
    """Base class of emulated containers; one instance is one run (a restart is a new instance)."""

    #: Executables inside the image that ``exec`` can run, by absolute path.
    executables: Mapping[str, ExecHandler] = {}

    def __init__(self, spec: ContainerSpec, argv: Sequence[str], *, path: str = DEFAULT_PATH) -> None:
        self.spec = spec
        self.argv = list(argv)
        self.path = spec.env.get("PATH", path)
        self.logs = LogBuffer()
        self.state = ContainerState.CREATED
        self.exit_code: int | None = None
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.started_monotonic_ns = 0
        self._exit_event = asyncio.Event()
        self._closers: list[Callable[[], object]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._bound: list[BoundPort] = []
        self._exec_handlers: dict[str, ExecHandler] = dict(self.executables)

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Start the program; returns once it serves (or has already exited with its own error)."""
        if self.state is not ContainerState.CREATED:
            raise RuntimeError(f"container {self.spec.name} was already started")
        self.state = ContainerState.RUNNING
        self.started_at = time.time()
        self.started_monotonic_ns = time.monotonic_ns()
        try:
            await self.run()
        except Exception as e:  # a program's crash at start-up is an exit, as log.Fatal would make it
            if self.state is ContainerState.RUNNING:
                self.log(f"{type(e).__name__}: {e}")
                self.exit(1)

    async def run(self) -> None:
        """Bind and start serving. Subclasses override; the default waits for a signal."""

    async def signal_term(self) -> None:
        """Deliver SIGTERM (the kubelet's graceful stop)."""
        if self.state is ContainerState.RUNNING:
            await self.on_sigterm()

    async def on_sigterm(self) -> None:
        """What the program does on SIGTERM; the default is the kernel's: die with 128+15."""
        self.exit(EXIT_SIGTERM)

    async def kill(self) -> None:
        """Deliver SIGKILL: the process ends at once with 137."""
        if self.state is ContainerState.RUNNING:
            self.exit(EXIT_SIGKILL)

    def exit(self, code: int) -> None:
        """End the process with ``code``: every socket it owns closes, connections are dropped."""
        if self.state is ContainerState.EXITED:
            return
        self.state = ContainerState.EXITED
        self.exit_code = code & 0xFF
        self.finished_at = time.time()
        current = asyncio.current_task() if _loop_running() else None
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception:
                pass
        self._closers.clear()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        self._bound.clear()
        self._exit_event.set()

    async def wait(self) -> int:
        """Wait for the process to exit and return its exit code."""
        await self._exit_event.wait()
        assert self.exit_code is not None
        return self.exit_code

    @property
    def running(self) -> bool:
        return self.state is ContainerState.RUNNING

    # ----------------------------------------------------------------- resources
    def own(self, closer: Callable[[], object]) -> None:
        """Register something to close when the process exits."""
        self._closers.append(closer)

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run a coroutine as part of the process (a goroutine); cancelled at exit."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def add_bound_port(self, protocol: str, host: str, port: int) -> None:
        self._bound.append(BoundPort(protocol, host, port))

    def bound_ports(self) -> list[BoundPort]:
        """Sockets the program listens on right now (empty once it exited)."""
        return list(self._bound)

    # ----------------------------------------------------------------- output
    def stdout(self, text: str) -> None:
        self.logs.write("stdout", text)

    def stderr(self, text: str) -> None:
        self.logs.write("stderr", text)

    def log(self, text: str) -> None:
        """Go's ``log.Printf``: stderr, ``2006/01/02 15:04:05 `` prefix."""
        self.logs.write("stderr", log_prefix() + text)

    # ----------------------------------------------------------------- exec
    def register_executable(self, path: str, handler: ExecHandler) -> None:
        """Make ``path`` runnable by ``exec`` in this container (shell emulation plugs in here)."""
        self._exec_handlers[path] = handler

    def find_executable(self, name: str) -> str | None:
        """Resolve ``argv[0]`` as runc does: a name with a slash is a path, else search ``$PATH``."""
        if "/" in name:
            return name if name in self._exec_handlers else None
        for directory in self.path.split(":"):
            candidate = f"{directory.rstrip('/')}/{name}"
            if candidate in self._exec_handlers:
                return candidate
        return None

    async def exec(self, argv: Sequence[str], user: str | int | None = None, group: str | int | None = None,
                   env: Mapping[str, str] | None = None, mounts: Sequence[Any] = (),
                   stdin: bytes = b"") -> ExecResult:
        """Run ``argv`` inside the container; 127 with the runtime's text when it cannot start."""
        if not argv:
            return ExecResult(126, start_error=exec_error_message('exec: "": executable file not found in $PATH'))
        if self.state is not ContainerState.RUNNING:
            return ExecResult(126, start_error="container is not running")
        path = self.find_executable(argv[0])
        if path is None:
            message = exec_error_message(executable_not_found(argv[0]))
            return ExecResult(127, stderr=(message + "\n").encode(), start_error=message)
        request = ExecRequest(argv=list(argv), user=user, group=group, env=dict(env or {}), mounts=mounts,
                              stdin=stdin)
        return await self._exec_handlers[path](self, request)


class StartFailedContainer(Container):
    """A container whose executable does not exist: ``start`` fails as runc does."""

    def __init__(self, spec: ContainerSpec, argv: Sequence[str], detail: str) -> None:
        super().__init__(spec, argv)
        self.detail = detail

    async def start(self) -> None:
        self.state = ContainerState.EXITED
        self.exit_code = EXIT_START_ERROR
        self.started_at = self.finished_at = time.time()
        self._exit_event.set()
        raise ContainerStartError(start_error_message(self.detail))


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
