"""A fault's span on a prober's time axis, for checks that judge only what happened during the fault."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def fault_window(prober: Any) -> Iterator[list[float | None]]:
    """``with fault_window(prober) as window:`` -> ``window == [start, end]`` in recording seconds."""
    span: list[float | None] = [prober.elapsed(), None]
    try:
        yield span
    finally:
        span[1] = prober.elapsed()


def settle(seconds: float) -> None:
    """Keep traffic flowing a little longer so the recovery is inside the recording."""
    time.sleep(seconds)
