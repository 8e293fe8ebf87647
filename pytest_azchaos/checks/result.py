"""What a check returns: a verdict, a one-line summary, the evidence, and the key figures.

Three verdicts: ``passed``, ``failed`` (evidence about the cluster), and ``inconclusive``: our own side
failed while observing (an API request errored, the prober or the embedded cluster stalled), so the
observation says nothing about the cluster either way. An inconclusive result is never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["passed", "failed", "inconclusive"]

#: Where a failure message sends its reader: None is the page in the repository (docs/checks/<ID>.md), a URL
#: is a built copy of the site (``--azchaos-docs-url``, set once per session by the plugin).
_docs_url: str | None = None


def set_docs_url(url: str | None) -> None:
    """Point every check's failure message at the site under ``url`` (None: the repository's docs/ pages)."""
    global _docs_url
    _docs_url = url.rstrip("/") if url else None


def docs_page(check_id: str) -> str:
    """The page of ``check_id`` that its failure message ends with: ``docs/checks/AZ-DRAIN.md`` by default,
    ``<url>/checks/AZ-DRAIN/`` when a site URL is set. A flavour suffix (``AZ-DRAIN[Local]``) is dropped."""
    page = check_id.split("[", 1)[0].strip()
    return f"{_docs_url}/checks/{page}/" if _docs_url else f"docs/checks/{page}.md"


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
        """The message a user reads: verdict line, then the evidence, one item per line; a failed or
        inconclusive one ends with the check's documentation page (what it asserts, the fix)."""
        if self.inconclusive:
            head = f"{self.check_id} INCONCLUSIVE: {self.inconclusive}; observed: {self.summary}"
        else:
            head = f"{self.check_id} {'passed' if self.passed else 'FAILED'}: {self.summary}"
        lines = [head, *(f"  - {line}" for line in self.evidence)]
        if not self.passed:
            lines.append(f"  see {docs_page(self.check_id)}")
        return "\n".join(lines)

    def undecided(self, reason: str) -> CheckResult:
        """This result made inconclusive for ``reason`` (a pass is kept: what passed despite our trouble holds)."""
        if self.passed or not reason:
            return self
        return CheckResult(self.check_id, False, self.summary, self.evidence, self.figures, reason)

    def key_figure(self) -> str:
        """The one figure a reader of a report's overview wants first (see ``key_figure``)."""
        return key_figure(self.figures)

    def to_dict(self) -> dict[str, Any]:
        return {"check_id": self.check_id, "passed": self.passed, "verdict": self.verdict, "summary": self.summary,
                "inconclusive": self.inconclusive, "evidence": list(self.evidence), "figures": dict(self.figures),
                "key_figure": self.key_figure()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        return cls(d["check_id"], bool(d["passed"]), d["summary"], tuple(d.get("evidence") or ()),
                   dict(d.get("figures") or {}), d.get("inconclusive") or "")


def key_figure(figures: dict[str, Any]) -> str:
    """A short text of a check's key figures, chosen by which figures it carries (the same check id can be
    judged by different checks: AZ-OUTAGE is both a downtime and a rescheduling check).

    Downtime: failed requests and the longest failure window; rescheduling: time to recover; balance: the
    per-pod share spread; spread: the zone skew; anything else: its first few figures as ``name=value``.
    """
    f = figures
    if "failed_after_window" in f and "requests_after_window" in f:
        return (f"{f['failed_after_window']}/{f['requests_after_window']} requests failed after the "
                f"{_num(f.get('detection_window_s', '?'))} s detection window, longest failure window "
                f"{_num(f.get('longest_failure_window_s', 0))} s")
    if "failed_requests" in f and "requests" in f:
        text = f"{f['failed_requests']}/{f['requests']} requests failed"
        if f.get("failed_requests"):
            text += f", longest failure window {_num(f.get('longest_failure_window_s', 0))} s"
        return text
    if "time_to_recover_s" in f:
        ttr = f["time_to_recover_s"]
        head = (f"rescheduled in {_num(ttr)} s" if ttr is not None
                else f"not recovered after {_num(f.get('waited_s', 0))} s")
        return head + (f", {f['ready']}/{f['expected']} Ready" if "ready" in f and "expected" in f else "") + (
            f", skew {f['skew']}" if "skew" in f else "")
    if "max_deviation" in f:
        return (f"share spread ±{float(f['max_deviation']):.0%} of the mean "
                f"({f.get('min', '?')}..{f.get('max', '?')} requests per pod over {f.get('pods', '?')} pods)")
    if "skew" in f and "per_zone" in f:
        return f"zone skew {f['skew']} over {f.get('zones', '?')} zones ({f.get('pods', '?')} pods)"
    if "not_ready_elsewhere" in f:
        return (f"{f.get('zone', 'the zone')} NotReady after {_num(f.get('waited_s', '?'))} s, "
                f"{f['not_ready_elsewhere']} node(s) NotReady elsewhere")
    if "held_pods" in f and "problems" in f:
        return f"{f['problems']} problem(s) with {f['held_pods']} held StatefulSet pod(s)"
    if "held_pods" in f:
        return f"waited {_num(f.get('waited_s', '?'))} s for {f['held_pods']} held pod(s) to come back"
    if "violations" in f and "samples" in f:
        return f"{f['violations']} second writer(s) in {f['samples']} samples"
    if "new_pvs" in f:
        fate = (f["outcome"] if f.get("outcome") else "moved" if f.get("moved") else
                "Pending" if f.get("pending") else "not Pending")
        return f"pod {fate}, {f['new_pvs']} new PV(s)"
    if "exit_code" in f:
        return f"exit code {f['exit_code']}"
    if "in_cordoned_zone" in f:
        return f"{f['in_cordoned_zone']} of {f.get('new_pods', '?')} new pods in the cordoned zone"
    if "rewritten" in f:
        return f"{f['rewritten']} of {f.get('requests', '?')} client addresses rewritten"
    if "not_snat" in f:
        return f"{f['not_snat']} of {f.get('requests', '?')} requests not SNATed"
    if "mismatches" in f:
        return f"{f['mismatches']} mismatch(es)" + (f" of {f['volumes']} volumes" if "volumes" in f else
                                                    f" of {f['nodes']} nodes" if "nodes" in f else "")
    shown = [(k, v) for k, v in f.items() if isinstance(v, (int, float, str, bool)) or v is None][:3]
    return ", ".join(f"{k}={v}" for k, v in shown)


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


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
