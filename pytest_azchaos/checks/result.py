"""What a check returns: a verdict, a one-line summary, the evidence, and the key figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one conformance check (``check_id`` as in the catalogue: AZ-DRAIN, AZ-SRCIP ...)."""

    check_id: str
    passed: bool
    summary: str
    evidence: tuple[str, ...] = ()
    figures: dict[str, Any] = field(default_factory=dict)

    def message(self) -> str:
        """The failure message a user reads: verdict line, then the evidence, one item per line."""
        head = f"{self.check_id} {'passed' if self.passed else 'FAILED'}: {self.summary}"
        if not self.evidence:
            return head
        return head + "\n" + "\n".join(f"  - {line}" for line in self.evidence)


class CheckFailed(AssertionError):
    """A check did not pass; ``str()`` is the full message with evidence."""

    def __init__(self, result: CheckResult):
        super().__init__(result.message())
        self.result = result


def require(result: CheckResult) -> CheckResult:
    """Return ``result`` if it passed, else raise ``CheckFailed`` with its evidence."""
    if not result.passed:
        raise CheckFailed(result)
    return result
