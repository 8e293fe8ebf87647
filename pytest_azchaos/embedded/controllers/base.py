"""What every embedded controller shares: a store subscription and deferred, coalesced work."""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Hashable

from ..apiserver.store import Event, Store

log = logging.getLogger(__name__)


class Controller:
    """Subscribe to store events; ``enqueue`` keys; ``sync(key)`` runs soon after, once per key.

    Work never runs inside the store's commit (a listener must not write re-entrantly), and an
    exception in ``sync`` is recorded in ``errors`` instead of killing the loop. A large backlog
    (3000 pods to schedule) is worked off in slices of about ``SLICE_SECONDS``, yielding to the event
    loop in between, so the API server keeps answering and node heartbeats keep beating meanwhile.
    """

    name = "controller"
    SLICE_SECONDS = 0.1

    def __init__(self, store: Store):
        self.store = store
        self._pending: set[Hashable] = set()
        self._batch: collections.deque[Hashable] = collections.deque()  # taken from _pending, in key order
        self._scheduled = False
        self.errors: list[BaseException] = []
        store.add_listener(self.on_event)

    def on_event(self, ev: Event) -> None:
        raise NotImplementedError

    def enqueue(self, key: Hashable) -> None:
        self._pending.add(key)
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._drain)

    def _drain(self) -> None:
        self._scheduled = False
        if not self._batch:
            self._batch.extend(sorted(self._pending, key=repr))
            self._pending.clear()
        deadline = time.monotonic() + self.SLICE_SECONDS
        while self._batch:
            key = self._batch.popleft()
            self._pending.discard(key)  # enqueued again meanwhile: this sync covers it
            try:
                self.sync(key)
            except Exception as e:  # recorded and logged; the next event retries
                log.exception("%s: sync %r failed", self.name, key)
                self.errors.append(e)
            if time.monotonic() >= deadline:
                break
        if self._batch or self._pending:
            self._schedule()

    def sync(self, key: Hashable) -> None:
        raise NotImplementedError
