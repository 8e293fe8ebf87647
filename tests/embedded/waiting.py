"""Bounded polling for tests: wait until a predicate holds, or fail with the last value seen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(fetch: Callable[[], T], ok: Callable[[T], bool], timeout: float = 10.0, interval: float = 0.05,
              what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    last = fetch()
    while not ok(last):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last seen: {last!r}")
        time.sleep(interval)
        last = fetch()
    return last
