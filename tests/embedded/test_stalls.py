"""The embedded cluster's loop-lag monitor: a loop starved a little on every tick is one stall with the time it
lost in all, as a single long hold is; an idle loop reports none."""

from __future__ import annotations

import asyncio
import time

from pytest_azchaos.embedded.stalls import LoopLagMonitor, LoopStall


async def _observe(hold_per_iteration: float, seconds: float) -> list[LoopStall]:
    """Run the monitor while every loop iteration holds the CPU ``hold_per_iteration`` seconds (0: idle)."""
    monitor = LoopLagMonitor()
    monitor.start()
    loop = asyncio.get_running_loop()
    since = time.time()
    end = loop.time() + seconds

    def busy() -> None:
        time.sleep(hold_per_iteration)  # the process gets no CPU meanwhile, as under a loaded machine
        if loop.time() < end:
            loop.call_soon(busy)

    if hold_per_iteration:
        loop.call_soon(busy)
    await asyncio.sleep(seconds + 0.2)
    await monitor.stop()
    return monitor.stalls(since)


def test_a_loop_late_a_little_on_every_tick_is_one_stall_with_the_time_it_lost() -> None:
    # Each tick comes about 0.08 s late: no single tick near STALL_MIN_LAG (0.2 s), 0.8 s lost over 1.5 s.
    stalls = asyncio.run(_observe(0.08, 1.5))
    assert stalls, "the starved loop reported no stall"
    longest = max(stalls, key=lambda s: s.lag)
    assert longest.lag >= 0.5 and longest.end - longest.start >= 1.0, stalls


def test_one_long_hold_is_a_stall_of_its_length() -> None:
    async def hold() -> list[LoopStall]:
        monitor = LoopLagMonitor()
        monitor.start()
        since = time.time()
        await asyncio.sleep(0.2)
        time.sleep(0.5)
        await asyncio.sleep(0.3)
        await monitor.stop()
        return monitor.stalls(since)

    stalls = asyncio.run(hold())
    assert len(stalls) == 1 and abs(stalls[0].lag - 0.5) < 0.15, stalls


def test_an_idle_loop_reports_no_stall() -> None:
    stalls = asyncio.run(_observe(0.0, 0.6))
    assert [s for s in stalls if s.lag >= 0.1] == [], stalls
