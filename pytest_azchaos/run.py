"""A run: one pytest session (or one chaostoolkit experiment) against one cluster, with its id and seed."""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .report.progress import TerminalProgress


def new_run_id() -> str:
    """``azchaos-<UTC time>-<6 hex>``: sortable, unique, a valid object name and label value."""
    return f"azchaos-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


@dataclass
class Run:
    """This run's identity and shared helpers: ``run_id`` (labels, namespaces, ledgers), ``seed`` and
    ``rng`` (every random choice, reproducible with ``--azchaos-seed``), ``progress``, ``report_dir``."""

    run_id: str
    seed: int
    rng: random.Random
    progress: TerminalProgress
    report_dir: Path
    started: float = field(default_factory=time.time)

    @classmethod
    def start(cls, seed: int | None, progress: TerminalProgress, report_dir: Path) -> Run:
        """A new run with a fresh id, and ``seed`` (or a new one)."""
        seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        return cls(new_run_id(), seed, random.Random(seed), progress, report_dir)
