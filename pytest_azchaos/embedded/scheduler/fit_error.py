"""The FailedScheduling text, built as ``FitError.Error()`` builds it in v1.36.

``0/N nodes are available: <counts>.`` where every node adds its first failing filter's reasons,
each entry is ``"<count> <reason>"`` and the entries are sorted as plain strings (so ``"10 …"`` sorts
before ``"2 …"``). The PostFilter text follows after a space: ``no new claims to deallocate,
preemption: …`` normally (DRA's PostFilter runs first), or ``not found`` when a PreFilter rejected
the pod before DRA's PreFilter could store its state.
"""

from __future__ import annotations

from collections.abc import Mapping

from .model import Status

NO_NODES = "no nodes available to schedule pods"
NO_CLAIMS_TO_DEALLOCATE = "no new claims to deallocate"
PREFILTER_POSTFILTER = "not found"


def histogram(statuses: Mapping[str, Status]) -> list[str]:
    counts: dict[str, int] = {}
    for status in statuses.values():
        for reason in status.reasons:
            counts[reason] = counts.get(reason, 0) + 1
    return sorted(f"{count} {reason}" for reason, count in counts.items())


def fit_error(num_nodes: int, statuses: Mapping[str, Status], pre_filter_msg: str = "",
              post_filter_msg: str = "") -> str:
    message = f"0/{num_nodes} nodes are available:"
    if pre_filter_msg:
        message += f" {pre_filter_msg}."
    else:
        entries = histogram(statuses)
        if entries:
            message += f" {', '.join(entries)}."
    if post_filter_msg:
        message += f" {post_filter_msg}"
    return message
