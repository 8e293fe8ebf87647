"""What every embedded controller shares: a store subscription and deferred, coalesced work."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable

from ..apiserver.store import Event, Store

log = logging.getLogger(__name__)


class Controller:
    """Subscribe to store events; ``enqueue`` keys; ``sync(key)`` runs soon after, once per key.

    Work never runs inside the store's commit (a listener must not write re-entrantly), and an
    exception in ``sync`` is recorded in ``errors`` instead of killing the loop.
    """

    name = "controller"

    def __init__(self, store: Store):
        self.store = store
        self._pending: set[Hashable] = set()
        self._scheduled = False
        self.errors: list[BaseException] = []
        store.add_listener(self.on_event)

    def on_event(self, ev: Event) -> None:
        raise NotImplementedError

    def enqueue(self, key: Hashable) -> None:
        self._pending.add(key)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._drain)

    def _drain(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, set()
        for key in sorted(pending, key=repr):
            try:
                self.sync(key)
            except Exception as e:  # recorded and logged; the next event retries
                log.exception("%s: sync %r failed", self.name, key)
                self.errors.append(e)

    def sync(self, key: Hashable) -> None:
        raise NotImplementedError
