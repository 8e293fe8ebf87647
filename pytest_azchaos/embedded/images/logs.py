"""A container's log: timestamped lines from stdout and stderr, as the CRI log file keeps them.

``kubectl logs`` reads both streams interleaved; ``--timestamps`` prefixes each line with its
RFC3339Nano time. The buffer is bounded (the kubelet rotates real logs at 10Mi) so a busy
netexec cannot grow memory without limit.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from pytest_azchaos.embedded.images.goformat import rfc3339_nano


@dataclass(frozen=True, slots=True)
class LogLine:
    ts_ns: int
    stream: str  # "stdout" or "stderr"
    text: str  # without the trailing newline


class LogBuffer:
    """Bounded, append-only lines of one container run."""

    def __init__(self, max_lines: int = 20_000) -> None:
        self._lines: deque[LogLine] = deque(maxlen=max_lines)

    def write(self, stream: str, text: str) -> None:
        """Append ``text`` (one or more lines; a trailing newline does not make an empty line)."""
        now = time.time_ns()
        if text.endswith("\n"):
            text = text[:-1]
        if "\n" not in text:
            self._lines.append(LogLine(now, stream, text))
            return
        for part in text.split("\n"):
            self._lines.append(LogLine(now, stream, part))

    def lines(self, *, tail: int | None = None, since_ns: int | None = None) -> list[LogLine]:
        """The kept lines, oldest first, optionally only the last ``tail`` or those at/after ``since_ns``."""
        out = list(self._lines)
        if since_ns is not None:
            out = [line for line in out if line.ts_ns >= since_ns]
        if tail is not None:
            out = out[-tail:] if tail > 0 else []
        return out

    def render(self, *, timestamps: bool = False, tail: int | None = None, since_ns: int | None = None) -> str:
        """Text as ``kubectl logs`` prints it (each line newline-terminated)."""
        lines = self.lines(tail=tail, since_ns=since_ns)
        if timestamps:
            return "".join(f"{rfc3339_nano(line.ts_ns)} {line.text}\n" for line in lines)
        return "".join(line.text + "\n" for line in lines)

    def __len__(self) -> int:
        return len(self._lines)
