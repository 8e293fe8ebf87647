"""The one wait primitive: a finite timeout always, a result always (ok, elapsed, last state seen).

Transient API errors (connection trouble, 5xx, 429) are retried inside the deadline; a progress
callback hears what is being waited for, for how long, and until when, so long waits are never
silent. tenacity does the retrying.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import tenacity

T = TypeVar("T")


class Progress(Protocol):
    """Told about a running wait; the plugin's terminal reporter implements it."""

    def update(self, what: str, elapsed: float, timeout: float, detail: str = "") -> None: ...

    def done(self, what: str, elapsed: float, ok: bool) -> None: ...


class NoProgress:
    def update(self, what: str, elapsed: float, timeout: float, detail: str = "") -> None:
        pass

    def done(self, what: str, elapsed: float, ok: bool) -> None:
        pass


@dataclass(frozen=True)
class WaitResult(Generic[T]):
    """How a wait ended: ``ok`` when the predicate held, ``last`` is the last value fetched."""

    ok: bool
    elapsed: float
    last: T | None
    what: str
    error: str = ""
    api_errors: int = 0  # fetches that failed on the API (retried inside the deadline)
    stale: float = 0.0  # seconds between the last successful fetch (or the start) and the end

    def __bool__(self) -> bool:
        return self.ok

    def inconclusive_reason(self) -> str:
        """Why a timed-out wait says nothing about the cluster: the API failed us at the end, so what was last
        seen is too old to judge by. '' when the wait succeeded or its last observations are fresh."""
        if self.ok or not self.api_errors:
            return ""
        if self.last is not None and self.stale <= max(1.0, 0.1 * self.elapsed):
            return ""
        seen = "nothing was ever read" if self.last is None else f"the last good read was {self.stale:.1f}s old"
        return (f"the Kubernetes API failed {self.api_errors} time(s) while waiting for {self.what}; {seen} "
                f"(last error: {self.error})")

    def describe(self) -> str:
        state = "done" if self.ok else "timed out"
        extra = f" (last error: {self.error})" if self.error else ""
        return f"{self.what}: {state} after {self.elapsed:.1f}s{extra}"


def _transient(exc: BaseException) -> bool:
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return status >= 500 or status == 429
    return isinstance(exc, OSError | ConnectionError | TimeoutError)


def wait_until(
    fetch: Callable[[], T],
    predicate: Callable[[T], bool],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
    progress: Progress | None = None,
    describe: Callable[[T], str] | None = None,
) -> WaitResult[T]:
    """Poll ``fetch()`` until ``predicate`` holds or ``timeout`` seconds pass; never raises on timeout."""
    progress = progress or NoProgress()
    start = time.monotonic()
    last: list[T] = []
    errors: list[str] = []
    last_good = [start]

    def attempt() -> bool:
        try:
            value = fetch()
        except Exception as e:
            if not _transient(e):
                raise
            errors.append(f"{type(e).__name__}: {e}")
            return False
        last[:] = [value]
        last_good[0] = time.monotonic()
        progress.update(what, time.monotonic() - start, timeout, describe(value) if describe else "")
        return predicate(value)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_delay(timeout),
        wait=tenacity.wait_fixed(interval),
        retry=tenacity.retry_if_result(lambda ok: not ok),
        retry_error_callback=lambda state: False,
        reraise=True,
    )
    ok = bool(retrying(attempt))
    elapsed = time.monotonic() - start
    progress.done(what, elapsed, ok)
    return WaitResult(ok, elapsed, last[0] if last else None, what, errors[-1] if errors and not ok else "",
                      len(errors), time.monotonic() - last_good[0])
