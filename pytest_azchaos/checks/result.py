"""What a check returns: a verdict, a one-line summary, the evidence, and the key figures.

Three verdicts: ``passed``, ``failed`` (evidence about the cluster), and ``inconclusive``: our own side
failed while observing (an API request errored, the prober or the embedded cluster stalled), so the
observation says nothing about the cluster either way. An inconclusive result is never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["passed", "failed", "inconclusive"]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one conformance check (``check_id`` as in the catalogue: AZ-DRAIN, AZ-SRCIP ...)."""

    check_id: str
    passed: bool
    summary: str
    evidence: tuple[str, ...] = ()
    figures: dict[str, Any] = field(default_factory=dict)
    #: Why the observation cannot be judged (our side failed); empty for a real verdict.
    inconclusive: str = ""

    @property
    def verdict(self) -> Verdict:
        if self.inconclusive:
            return "inconclusive"
        return "passed" if self.passed else "failed"

    def message(self) -> str:
        """The message a user reads: verdict line, then the evidence, one item per line."""
        if self.inconclusive:
            head = f"{self.check_id} INCONCLUSIVE: {self.inconclusive}; observed: {self.summary}"
        else:
            head = f"{self.check_id} {'passed' if self.passed else 'FAILED'}: {self.summary}"
        if not self.evidence:
            return head
        return head + "\n" + "\n".join(f"  - {line}" for line in self.evidence)

    def undecided(self, reason: str) -> CheckResult:
        """This result made inconclusive for ``reason`` (a pass is kept: what passed despite our trouble holds)."""
        if self.passed or not reason:
            return self
        return CheckResult(self.check_id, False, self.summary, self.evidence, self.figures, reason)

    def to_dict(self) -> dict[str, Any]:
        return {"check_id": self.check_id, "passed": self.passed, "verdict": self.verdict, "summary": self.summary,
                "inconclusive": self.inconclusive, "evidence": list(self.evidence), "figures": dict(self.figures)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        return cls(d["check_id"], bool(d["passed"]), d["summary"], tuple(d.get("evidence") or ()),
                   dict(d.get("figures") or {}), d.get("inconclusive") or "")


class CheckFailed(AssertionError):
    """A check did not pass; ``str()`` is the full message with evidence."""

    def __init__(self, result: CheckResult):
        super().__init__(result.message())
        self.result = result


class CheckInconclusive(Exception):
    """A check could not be judged because our side failed; ``str()`` says why, with the evidence."""

    def __init__(self, result: CheckResult):
        super().__init__(result.message())
        self.result = result


def require(result: CheckResult) -> CheckResult:
    """Return ``result`` if it passed; raise ``CheckInconclusive`` or ``CheckFailed`` with its evidence."""
    if result.inconclusive:
        raise CheckInconclusive(result)
    if not result.passed:
        raise CheckFailed(result)
    return result
