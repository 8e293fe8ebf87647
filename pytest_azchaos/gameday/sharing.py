"""Which collected tests run when faults are shared (``--azchaos-share-faults``), pytest-free apart from the
markers it reads.

A test marked ``azchaos_shares(fault, covers=("test_az_drain.py", ...))`` judges the checks of the covered suite
modules over one shared fault. With sharing on, it runs and the covered modules' tests are deselected (only
when the covering test was collected, so running one suite module by hand never loses it); with sharing off,
the sharing tests are deselected and every suite injects its own fault.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

MARKER = "azchaos_shares"


def covered_modules(items: Sequence[Any]) -> set[str]:
    """What the collected sharing tests cover: suite module file names (``test_az_drain.py``: all its tests) or
    one parametrisation of one (``test_az_ebs_drain.py[partition]``: the tests whose id ends so)."""
    out: set[str] = set()
    for item in items:
        marker = item.get_closest_marker(MARKER)
        if marker is not None:
            out.update(marker.kwargs.get("covers", ()))
    return out


def is_covered(item: Any, covered: set[str]) -> bool:
    """Whether ``item`` is one of the ``covered`` tests (see ``covered_modules``)."""
    module = Path(str(item.path)).name
    if module in covered:
        return True
    name = str(getattr(item, "name", ""))
    return any(entry.startswith(module + "[") and name.endswith(entry[len(module):]) for entry in covered)


def split_shared(items: Sequence[Any], share: bool) -> tuple[list[Any], list[Any]]:
    """(tests to run, tests deselected) for ``share`` on or off (see the module docstring)."""
    if not share:
        return ([i for i in items if i.get_closest_marker(MARKER) is None],
                [i for i in items if i.get_closest_marker(MARKER) is not None])
    covered = covered_modules(items)
    keep: list[Any] = []
    dropped: list[Any] = []
    for item in items:
        shared = item.get_closest_marker(MARKER) is not None
        (dropped if not shared and is_covered(item, covered) else keep).append(item)
    return sorted(keep, key=_start_rank), dropped


#: Shared faults start first, the two that wait out pod eviction (outage, partition) apart: pytest-xdist hands
#: each worker consecutive items in its first batch, so outage, drain, partition puts the longest two on
#: different workers (the catalogue under ``realistic`` then takes about as long as its longest fault).
START_ORDER = {"outage": 0, "drain": 1, "partition": 2}


def _start_rank(item: Any) -> int:
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return len(START_ORDER)
    return START_ORDER.get(str(marker.kwargs.get("fault")), len(START_ORDER))
