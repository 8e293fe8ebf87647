"""Sections a test adds to its own report (``azchaos: <title>``): checks, evidence files, undo lines."""

from __future__ import annotations

import pytest

from .._stash import SECTIONS


def add_section(item: pytest.Item, title: str, text: str) -> None:
    """Add a section to ``item``'s report; shown with the test's failure or with ``-rA``."""
    item.stash.setdefault(SECTIONS, []).append((title, text))


def sections(item: pytest.Item) -> list[tuple[str, str]]:
    """The sections added to ``item`` so far, oldest first."""
    found = item.stash.get(SECTIONS, None)
    return list(found) if found else []
