"""Progress lines during long waits: what is awaited, for how long, until when (never silent)."""

from __future__ import annotations

import time
from collections.abc import Callable


class TerminalProgress:
    """Implements ``kube.wait.Progress`` by writing a line every ``every`` seconds per wait."""

    def __init__(self, write_line: Callable[[str], None], every: float = 2.0):
        self.write_line = write_line
        self.every = every
        self._last: dict[str, float] = {}

    def update(self, what: str, elapsed: float, timeout: float, detail: str = "") -> None:
        now = time.monotonic()
        last = self._last.get(what)
        if last is None:
            self._last[what] = now
            return
        if now - last >= self.every:
            self._last[what] = now
            extra = f" ({detail})" if detail else ""
            self.write_line(f"[azchaos] waiting for {what}: {elapsed:.0f}s of {timeout:.0f}s{extra}")

    def done(self, what: str, elapsed: float, ok: bool) -> None:
        started = self._last.pop(what, None)
        if started is not None and elapsed >= self.every:
            verdict = "done" if ok else "TIMED OUT"
            self.write_line(f"[azchaos] {what}: {verdict} after {elapsed:.1f}s")

    def note(self, text: str) -> None:
        self.write_line(f"[azchaos] {text}")
