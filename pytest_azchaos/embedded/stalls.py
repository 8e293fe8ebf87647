"""How late the embedded cluster's event loop ran: the emulator's own stalls, reported so that nobody
mistakes them for the cluster under test failing.

The API server, controllers, kubelets and the data plane (NLB, kube-proxy, pods) share one asyncio
loop. When the machine is overloaded the loop runs late, and requests through the emulated load
balancer time out although nothing in the emulated cluster failed. ``LoopLagMonitor`` ticks every
``tick`` seconds and keeps every run of consecutive late ticks (each at least a tick late) that lost
``threshold`` or more in all, as one wall-clock window with the run's total lag (a starved loop is late
by a little on every tick, never by much on one);
the plugin reads them (``GET /azchaos/v1/stalls``) and calls failures inside them inconclusive.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from dataclasses import dataclass

from ..eventloop import LateRun


@dataclass(frozen=True)
class LoopStall:
    """The loop ran ``lag`` seconds late, from ``start`` to ``end`` (wall-clock seconds)."""

    start: float
    end: float
    lag: float

    def to_dict(self) -> dict[str, float]:
        return {"start": round(self.start, 4), "end": round(self.end, 4), "lagSeconds": round(self.lag, 4)}


class LoopLagMonitor:
    """Measures the running loop's lateness in the background; ``stalls(since)`` lists the late ticks."""

    def __init__(self, tick: float = 0.05, threshold: float = 0.1, keep: int = 10_000) -> None:
        self.tick = tick
        self.threshold = threshold
        self._stalls: collections.deque[LoopStall] = collections.deque(maxlen=keep)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="azchaos-loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        run = LateRun(floor=self.tick)  # a tick as late as the tick itself: the loop runs at half speed or worse
        kept = False  # whether the current run is already the last stall kept
        while True:
            before = loop.time()
            await asyncio.sleep(self.tick)
            late = loop.time() - before - self.tick
            span = run.add(time.time(), late)
            if span is None:
                kept = False
            elif span[2] >= self.threshold:
                if kept:
                    self._stalls[-1] = LoopStall(*span)
                else:
                    self._stalls.append(LoopStall(*span))
                kept = True

    def stalls(self, since: float | None = None) -> list[LoopStall]:
        """The stalls that ended at or after ``since`` (wall clock), oldest first."""
        return [s for s in self._stalls if since is None or s.end >= since]


def block_loop(seconds: float) -> None:
    """Hold the event loop for ``seconds`` (``PUT /azchaos/v1/stalls``): how tests stall the emulator on purpose."""
    time.sleep(seconds)
