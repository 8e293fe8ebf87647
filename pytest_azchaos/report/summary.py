"""The end-of-session summary: one line per check id with its verdict and key figure."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

_KEY_FIGURES = ("failed_requests", "time_to_recover_s", "requests", "skew", "offending", "pods")


def summary_lines(checks: list[tuple[str, Any]]) -> list[str]:
    by_id: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for nodeid, result in checks:
        by_id[result.check_id].append((nodeid, result))
    width = max(len(k) for k in by_id)
    lines = []
    for check_id in sorted(by_id):
        results = by_id[check_id]
        failed = [r for _, r in results if r.verdict == "failed"]
        unknown = [r for _, r in results if r.verdict == "inconclusive"]
        verdict = "FAIL" if failed else "INCONCLUSIVE" if unknown else "PASS"
        shown = (failed or unknown or [r for _, r in results])[0]
        figures = ", ".join(f"{k}={shown.figures[k]}" for k in _KEY_FIGURES if k in shown.figures)
        count = f"{len(results) - len(failed) - len(unknown)}/{len(results)} passed"
        if unknown:
            count += f", {len(unknown)} inconclusive"
        text = f"{shown.summary} (inconclusive: {shown.inconclusive})" if shown.inconclusive else shown.summary
        lines.append(f"{check_id.ljust(width)}  {verdict}  {count}  {text}" + (f"  [{figures}]" if figures else ""))
    return lines
