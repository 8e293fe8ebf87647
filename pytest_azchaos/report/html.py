"""The session's HTML report, rendered from the same evidence dicts as the JSON files.

It opens with one overview table of every check in the run (verdict, key figure, what was expected,
link to its test), then one section per test: its charts (``charts``: success rate and traffic share
per zone, ready pods per zone, p99 latency, fault phases shaded, failed requests and check verdicts
marked on one clock), its checks beside what the oracle predicted, and its failed requests.
Self-contained (inline SVG and CSS, no scripts, no external assets), printable, and everything that
came from the cluster is escaped.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..checks.result import key_figure
from .charts import check_times, timeline_svg
from .evidence import safe_name
from .series import zone_totals

__all__ = ["anchor", "overview_rows", "render", "timeline_svg"]

MAX_FAILED_LISTED = 20
MAX_EVIDENCE_LINES = 12

_CSS = (
    "body{font-family:sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#111;line-height:1.4}"
    "section{border-top:1px solid #ccc;padding-top:1em;margin-top:1.5em}"
    "td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}"
    "table{border-collapse:collapse;margin:.5em 0}caption{text-align:left;font-weight:bold;padding:.3em 0}"
    ".passed{color:#1a7f1a}.failed{color:#c00}.inconclusive{color:#8a5a00}.skipped{color:#555}"
    ".verdict{font-weight:bold;white-space:nowrap}figure.chart{margin:.5em 0}svg.chart{max-width:100%;height:auto}"
    ".judged{display:flex;gap:1.5em;flex-wrap:wrap}.judged>div{flex:2 1 500px}.judged>aside{flex:1 1 260px;"
    "border-left:3px solid #1f77b4;padding-left:.8em}a{color:#0645ad}"
    "@media print{body{max-width:none;margin:0}section{break-inside:avoid-page}figure.chart{break-inside:avoid}"
    "a[href^='#']{color:inherit;text-decoration:none}details{display:block}details>*{display:block}}"
)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def anchor(nodeid: str) -> str:
    """The id of a test's section (what the overview links to)."""
    return "test-" + safe_name(nodeid)


def _verdict(c: Mapping[str, Any]) -> str:
    return str(c.get("verdict") or ("passed" if c.get("passed") else "failed"))


def _expected(c: Mapping[str, Any]) -> str:
    """What a check result says was expected: its ``expected`` or ``prediction`` text, else the oracle's
    ``predicted`` figure (``oracle.compare.annotate``) with whether the observation agreed."""
    figures = c.get("figures") or {}
    text = str(c.get("expected") or c.get("prediction") or figures.get("predicted") or "")
    agrees = figures.get("agrees")
    if text and agrees is not None:
        text += " (observed as predicted)" if agrees else f" (unexpected: observed {figures.get('observed', '?')})"
    return text


def _detail(d: Any) -> str:
    """One line of a prediction's details: text as it is, an oracle pod prediction as its terminal line."""
    if not isinstance(d, Mapping):
        return str(d)
    if "pod" in d and "outcome" in d:
        where = f" -> {d['to_zone']}" if d.get("to_zone") else ""
        when = f" at ~{float(d['after_s']):.0f}s" if d.get("after_s") is not None else ""
        return (f"{d['pod']} ({d.get('controller') or 'no controller'}, {d.get('node') or 'unscheduled'}): "
                f"{d['outcome']}{where}{when}: {d.get('reason', '')}")
    return ", ".join(f"{k}={v}" for k, v in d.items())


def _skip_verdict(reason: str) -> tuple[str, str]:
    """``skipped`` with its reason, or ``inconclusive`` for the plugin's own 'our side failed' skips."""
    text = reason.removeprefix("Skipped: ")
    if text.startswith("azchaos INCONCLUSIVE:"):
        return "inconclusive", text.removeprefix("azchaos INCONCLUSIVE:").strip()
    return "skipped", text


def overview_rows(evidences: Sequence[Mapping[str, Any]],
                  skipped: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, str]]:
    """One row per check in the run (``check``, ``verdict``, ``reason``, ``figure``, ``expected``, ``test``,
    ``href``); a test with no check gets one row (``check`` empty) saying how it ended."""
    skips = {s["test"]: _skip_verdict(str(s.get("reason") or "")) for s in skipped}
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for ev in evidences:
        test = str(ev.get("test", ""))
        seen.add(test)
        for c in ev.get("checks") or []:
            verdict = _verdict(c)
            rows.append({"check": str(c.get("check_id", "")), "verdict": verdict,
                         "reason": str(c.get("inconclusive") or "") if verdict == "inconclusive" else "",
                         "figure": str(c.get("key_figure") or key_figure(c.get("figures") or {})),
                         "expected": _expected(c), "test": test, "href": "#" + anchor(test)})
        if test in skips:
            verdict, reason = skips[test]
            rows.append({"check": "", "verdict": verdict, "reason": reason, "figure": "", "expected": "",
                         "test": test, "href": "#" + anchor(test)})
        elif not ev.get("checks"):
            outcome = str(ev.get("outcome") or "")
            rows.append({"check": "", "verdict": outcome or "unknown",
                         "reason": "no check was recorded" if outcome == "failed" else "", "figure": "",
                         "expected": "", "test": test, "href": "#" + anchor(test)})
    for test, (verdict, reason) in skips.items():
        if test not in seen:
            rows.append({"check": "", "verdict": verdict, "reason": reason, "figure": "", "expected": "",
                         "test": test, "href": "#" + anchor(test)})
    return rows


def _verdict_cell(verdict: str, reason: str) -> str:
    label = {"failed": "FAILED", "inconclusive": "INCONCLUSIVE"}.get(verdict, verdict)
    text = f'<span class="verdict {_e(verdict)}">{_e(label)}</span>'
    return text + (f": {_e(reason)}" if reason else "")


def overview_table(evidences: Sequence[Mapping[str, Any]], skipped: Sequence[Mapping[str, Any]] = ()) -> str:
    rows = overview_rows(evidences, skipped)
    counts: dict[str, int] = {}
    for r in rows:
        verdict = r["verdict"] if r["check"] else f"test(s) {r['verdict']} without a check"
        counts[verdict] = counts.get(verdict, 0) + 1
    tally = ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda kv: (" " in kv[0], kv[0])))
    tally = tally or "no checks"
    body = "".join(
        f'<tr><th scope="row">{_e(r["check"]) or "—"}</th><td>{_verdict_cell(r["verdict"], r["reason"])}</td>'
        f'<td>{_e(r["figure"]) or "—"}</td><td>{_e(r["expected"]) or "—"}</td>'
        f'<td><a href="{_e(r["href"])}">{_e(r["test"])}</a></td></tr>' for r in rows)
    return (f'<table id="overview"><caption>Every check in this run ({_e(tally)})</caption>'
            '<thead><tr><th scope="col">check</th><th scope="col">verdict</th><th scope="col">key figure</th>'
            '<th scope="col">expected</th><th scope="col">test</th></tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _checks_table(ev: Mapping[str, Any]) -> str:
    at = {id(c): t for t, c in check_times(ev)}
    rows = []
    for c in ev.get("checks") or []:
        evidence = c.get("evidence") or []
        items = "".join(f"<li>{_e(line)}</li>" for line in evidence[:MAX_EVIDENCE_LINES])
        if len(evidence) > MAX_EVIDENCE_LINES:
            items += f"<li>… {len(evidence) - MAX_EVIDENCE_LINES} more in the JSON</li>"
        expected = _expected(c)
        when = f"{at[id(c)]:.1f}" if id(c) in at else "—"
        verdict = _verdict(c)
        rows.append(
            f'<tr><th scope="row">{_e(c.get("check_id"))}</th>'
            f'<td>{_verdict_cell(verdict, str(c.get("inconclusive") or "") if verdict == "inconclusive" else "")}</td>'
            f'<td>{when}</td><td>{_e(c.get("key_figure") or key_figure(c.get("figures") or {})) or "—"}</td>'
            f'<td>{_e(c.get("summary"))}'
            + (f'<p class="expected">expected: {_e(expected)}</p>' if expected else "")
            + (f"<ul>{items}</ul>" if items else "") + "</td></tr>")
    if not rows:
        return "<p>No check was recorded.</p>"
    return ('<table class="checks"><caption>Checks</caption><thead><tr><th scope="col">check</th>'
            '<th scope="col">verdict</th><th scope="col">at (s)</th><th scope="col">key figure</th>'
            '<th scope="col">summary and evidence</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")


def _predictions(ev: Mapping[str, Any]) -> str:
    predictions = ev.get("predictions") or []
    if not predictions:
        return ""
    items = []
    for p in predictions:
        lines = [_detail(d) for d in p.get("details") or []]
        lines += [f"remedy: {p['remedy']}"] if p.get("remedy") else []
        lines += [f"note: {n}" for n in p.get("notes") or []]
        details = "".join(f"<li>{_e(line)}</li>" for line in lines)
        summary = str(p.get("summary") or "")
        summary = summary if summary.startswith("expected") else f"expected: {summary}"
        fault = f"<strong>{_e(p['fault'])}</strong>: " if p.get("fault") else ""
        items.append(f"<li>{fault}{_e(summary)}" + (f"<ul>{details}</ul>" if details else "") + "</li>")
    return ('<aside aria-label="what the oracle predicted"><h3>What the oracle predicted</h3>'
            f'<ul>{"".join(items)}</ul></aside>')


def _zone_totals(ev: Mapping[str, Any]) -> str:
    totals = zone_totals(ev.get("zone_buckets") or [])
    if not totals:
        return ""
    cells = "".join(f"<tr><th scope='row'>{_e(z)}</th><td>{n}</td><td>{n - ok}</td>"
                    f"<td>{100.0 * ok / n if n else 0:.2f}%</td></tr>" for z, (n, ok) in totals.items())
    return ('<table class="zones"><caption>Requests per zone (load-balancer address zone, else the serving '
            "pod's zone)</caption><thead><tr><th scope='col'>zone</th><th scope='col'>requests</th>"
            f"<th scope='col'>failed</th><th scope='col'>succeeded</th></tr></thead><tbody>{cells}</tbody></table>")


def _client_zone_totals(ev: Mapping[str, Any]) -> str:
    rows = ev.get("source_zone_table") or []
    if not rows:
        return ""
    cells = "".join(f"<tr><th scope='row'>{_e(r['zone'])}</th><td>{_e(r['kind'])}</td><td>{_e(r['requests'])}</td>"
                    f"<td>{_e(r['failed'])}</td></tr>" for r in rows)
    return ('<table class="zones"><caption>Requests from inside the cluster per zone they left from (in-cluster '
            "probers)</caption><thead><tr><th scope='col'>client zone</th><th scope='col'>what</th>"
            f"<th scope='col'>requests</th><th scope='col'>failed</th></tr></thead><tbody>{cells}</tbody></table>")


def _failed_list(ev: Mapping[str, Any]) -> str:
    failed = ev.get("failed_requests") or []
    if not failed:
        return ""
    items = "".join(
        f"<li>t={float(r['t']):.3f}s {_e(r.get('target'))} {_e(r.get('error'))}"
        + (f" HTTP {_e(r['status'])}" if r.get("status") else "")
        + (f" zone {_e(r['lb_zone'])}" if r.get("lb_zone") else "")
        + (f" pod {_e(r['pod'])}" if r.get("pod") else "")
        + (f" from {_e(r['source_zone'])} ({_e(r.get('kind'))})" if r.get("source_zone") else "")
        + f": {_e(r.get('detail'))}</li>"
        for r in failed[:MAX_FAILED_LISTED])
    more = f"<li>… {len(failed) - MAX_FAILED_LISTED} more in the JSON</li>" if len(failed) > MAX_FAILED_LISTED else ""
    return f"<h3>{len(failed)} failed request(s)</h3><ul>{items}{more}</ul>"


def _section(ev: Mapping[str, Any], skip: tuple[str, str] | None) -> str:
    test = str(ev.get("test", ""))
    outcome, reason = skip if skip else (str(ev.get("outcome") or ""), "")
    failed = ev.get("failed_requests") or []
    phases = ", ".join(f"{_e(p['name'])} {float(p['start']):.1f}s–{float(p['end']):.1f}s"
                       for p in ev.get("phases") or [])
    notes = "".join(f"<li>{_e(n)}</li>" for n in ev.get("notes") or [])
    head = (f'<section id="{_e(anchor(test))}"><h2>{_e(test)} '
            f'<span class="verdict {_e(outcome)}">{_e(outcome)}</span></h2>'
            + (f"<p>{_e(outcome)}: {_e(reason)}</p>" if reason else ""))
    if "requests_total" not in ev and not ev.get("checks"):  # a test skipped before it had evidence
        return head + "</section>"
    return (head + f'<p>{_e(ev.get("requests_total", 0))} requests, {len(failed)} failed; faults: {phases or "none"}'
            "</p>" + timeline_svg(ev) + _zone_totals(ev) + _client_zone_totals(ev)
            + f'<div class="judged"><div>{_checks_table(ev)}</div>{_predictions(ev)}</div>'
            + _failed_list(ev) + (f"<h3>Notes</h3><ul>{notes}</ul>" if notes else "")
            + '<p><a href="#overview">back to the overview</a></p></section>')


def render(evidences: Sequence[Mapping[str, Any]], title: str = "pytest-azchaos report",
           skipped: Sequence[Mapping[str, Any]] = ()) -> str:
    """The whole report. ``skipped``: ``{"test", "reason"}`` of tests that were skipped (with or without
    evidence); the plugin's own inconclusive skips ("azchaos INCONCLUSIVE: ...") show as inconclusive."""
    skips = {str(s["test"]): _skip_verdict(str(s.get("reason") or "")) for s in skipped}
    sections = [_section(ev, skips.get(str(ev.get("test", "")))) for ev in evidences]
    have = {str(ev.get("test", "")) for ev in evidences}
    sections += [_section({"test": test}, verdict) for test, verdict in skips.items() if test not in have]
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{_CSS}</style></head>"
        f"<body><header><h1>{_e(title)}</h1><p>Generated {stamp}. Times are seconds since each test started; "
        "the same clock places the fault phases (shaded red), the failed requests (red marks) and each check's "
        "verdict (dashed line). A request counts in the zone of the load-balancer address it used, else in "
        "its serving pod's zone.</p></header><main>"
        + overview_table(evidences, skipped) + "".join(sections) + "</main></body></html>")
