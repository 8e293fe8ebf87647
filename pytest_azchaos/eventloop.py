"""One place that picks the asyncio event loop: uvloop where installed (2-4x cheaper sockets), else stdlib."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop when available (the embedded data plane and the prober are socket-bound)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


class LateRun:
    """Consecutive late ticks of a loop-lag monitor, read as one stall: ``(start, end, total lag)``.

    A process starved of CPU for a while runs every loop iteration late by a little (each tick 0.1-0.15 s
    late), never by much at once; a request that needs ten iterations then takes over a second longer.
    Judged tick by tick that lost time is invisible to a per-tick threshold, so ticks ``floor`` or more late
    add up into one run, which the first on-time tick ends."""

    def __init__(self, floor: float) -> None:
        self.floor = floor
        self.current: tuple[float, float, float] | None = None

    def add(self, now: float, late: float) -> tuple[float, float, float] | None:
        """The run so far after a tick that ended at ``now``, ``late`` seconds late; None when it was on time."""
        if late < self.floor:
            self.current = None
            return None
        start, _, lag = self.current if self.current is not None else (now - late, now, 0.0)
        self.current = (start, now, lag + late)
        return self.current
