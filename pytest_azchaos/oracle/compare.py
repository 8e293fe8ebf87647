"""Compare what a check observed with what the oracle predicted, and say so in the check's result.

A failure the oracle foresaw reads "... ; expected because <why>"; anything else that differs from the
prediction reads "... ; unexpected: the oracle predicted <what>". The figures keep ``predicted``,
``observed`` and ``agrees`` so a report (and a test) can read the agreement back.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .predict import Prediction


def because(prediction: Prediction) -> str:
    """The "because ..." half of the prediction's summary."""
    head, sep, tail = prediction.summary.partition(", because ")
    return tail if sep else head


def agreement(prediction: Prediction, *, recovered: bool | None = None, ready: int | None = None,
              pod: str | None = None, pod_outcome: str | None = None) -> bool:
    """Does the observation agree with the prediction? ``recovered``/``ready``: the workload's Ready replicas
    outside the lost zone; ``pod``/``pod_outcome``: one pod's observed fate (pending, terminating, stays, moves)."""
    agrees = True
    if recovered is not None:
        agrees = agrees and recovered == prediction.recovers
        if not recovered and ready is not None:
            agrees = agrees and ready == prediction.ready_after
    if pod is not None:
        expected = prediction.outcome_of(pod)
        agrees = agrees and expected is not None and expected.outcome == pod_outcome
    return agrees


def annotate(result: Any, prediction: Prediction | None, *, agrees: bool, observed: str) -> Any:
    """``result`` (a ``checks.CheckResult``) with the prediction compared: summary, evidence and figures."""
    if prediction is None:
        return result
    if getattr(result, "inconclusive", ""):
        figures = {**result.figures, "predicted": prediction.summary, "observed": observed, "agrees": None}
        return dataclasses.replace(result, figures=figures)
    if agrees:
        note = f"expected because {because(prediction)}" if not result.passed else "as the oracle predicted"
    else:
        note = f"unexpected: the oracle predicted {prediction.summary.removeprefix('expected ')}"
    figures = {**result.figures, "predicted": prediction.summary, "predicted_recovers": prediction.recovers,
               "observed": observed, "agrees": agrees}
    evidence = (*result.evidence, *[f"oracle: {line.strip()}" for line in prediction.lines()])
    return dataclasses.replace(result, summary=f"{result.summary}; {note}", evidence=evidence, figures=figures)
