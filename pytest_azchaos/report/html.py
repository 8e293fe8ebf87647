"""The session's HTML report: per test, a timeline of success rate and latency with the fault phases
shaded, ready pods per zone below, the checks' verdicts and the failed requests. Self-contained
(inline SVG, no scripts, no external assets), so it opens anywhere and can be attached to CI.
"""

from __future__ import annotations

import html
import time
from typing import Any

ZONE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")
W, H1, H2, ML, MR, MT = 900, 220, 130, 60, 60, 20


def _x(t: float, span: float) -> float:
    return ML + (W - ML - MR) * (t / span if span else 0)


def timeline_svg(ev: dict[str, Any]) -> str:
    """Success rate and p99 latency per second (top), ready pods per zone (bottom), phases shaded."""
    span = max(ev.get("duration_s") or 1.0, 1.0)
    buckets = ev.get("buckets") or []
    samples = ev.get("ready_pods_per_zone") or []
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H1 + H2 + 3 * MT + 20}" '
             'font-family="sans-serif" font-size="11">']
    top, bottom = MT, MT * 2 + H1
    # fault phases
    for p in ev.get("phases") or []:
        x0, x1 = _x(p["start"], span), _x(p["end"], span)
        parts.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 1):.1f}" height="{H1 + H2 + MT}" '
                     'fill="#d62728" fill-opacity="0.12"/>')
        parts.append(f'<text x="{x0 + 3:.1f}" y="{top + 12}" fill="#d62728">{html.escape(p["name"])}</text>')
    # axes
    for y0, h, label in ((top, H1, "success %"), (bottom, H2, "ready pods")):
        parts.append(f'<rect x="{ML}" y="{y0}" width="{W - ML - MR}" height="{h}" fill="none" stroke="#999"/>')
        parts.append(f'<text x="4" y="{y0 + h / 2:.0f}">{label}</text>')
    for s in range(0, int(span) + 1, max(1, int(span / 10) or 1)):
        x = _x(s, span)
        parts.append(f'<text x="{x:.0f}" y="{bottom + H2 + 14}" text-anchor="middle">{s}s</text>')
    # success rate and latency
    if buckets:
        max_lat = max((b.get("p99") or 0) for b in buckets) * 1000 or 1.0
        pts, lat = [], []
        for b in buckets:
            x = _x(b["t"] + 0.5, span)
            rate = b["ok"] / b["requests"] if b["requests"] else 1.0
            pts.append(f"{x:.1f},{top + H1 - rate * H1:.1f}")
            lat.append(f"{x:.1f},{top + H1 - ((b.get('p99') or 0) * 1000 / max_lat) * H1:.1f}")
        parts.append(f'<polyline points="{" ".join(lat)}" fill="none" stroke="#7f7f7f" stroke-dasharray="3,2"/>')
        parts.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="#2ca02c" stroke-width="2"/>')
        parts.append(f'<text x="{W - MR + 4}" y="{top + 10}" fill="#7f7f7f">p99 {max_lat:.0f} ms</text>')
        parts.append(f'<text x="{W - MR + 4}" y="{top + H1}" fill="#7f7f7f">0 ms</text>')
        for b in buckets:
            if b["ok"] < b["requests"]:
                x = _x(b["t"], span)
                parts.append(f'<rect x="{x:.1f}" y="{top + H1 - 4}" width="{max(_x(1, span) - ML, 1):.1f}" '
                             'height="4" fill="#d62728"/>')
    # ready pods per zone
    if samples:
        zones = sorted({z for s in samples for z in s["ready"]})
        peak = max(max(s["ready"].values() or [0]) for s in samples) or 1
        for i, zone in enumerate(zones):
            color = ZONE_COLORS[i % len(ZONE_COLORS)]
            pts = []
            for s in samples:
                n = s["ready"].get(zone, 0)
                pts.append(f"{_x(s['t'], span):.1f},{bottom + H2 - (n / peak) * (H2 - 10):.1f}")
            parts.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{color}" stroke-width="2"/>')
            parts.append(f'<text x="{W - MR + 4}" y="{bottom + 14 + 14 * i}" fill="{color}">'
                         f'{html.escape(zone)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render(evidences: list[dict[str, Any]], title: str = "pytest-azchaos report") -> str:
    rows = []
    for ev in evidences:
        checks = "".join(
            f'<tr><td>{html.escape(c["check_id"])}</td><td class="{"pass" if c["passed"] else "fail"}">'
            f'{"PASS" if c["passed"] else "FAIL"}</td><td>{html.escape(c["summary"])}'
            + ("<ul>" + "".join(f"<li>{html.escape(e)}</li>" for e in c["evidence"][:12]) + "</ul>"
               if c["evidence"] else "") + "</td></tr>"
            for c in ev.get("checks") or [])
        failed = ev.get("failed_requests") or []
        failed_html = ""
        if failed:
            items = "".join(f"<li>t={r['t']:.3f}s {html.escape(str(r['target']))} {html.escape(str(r['error']))}: "
                            f"{html.escape(str(r['detail']))}</li>" for r in failed[:20])
            more = f"<li>… {len(failed) - 20} more in the JSON</li>" if len(failed) > 20 else ""
            failed_html = f"<h4>{len(failed)} failed request(s)</h4><ul>{items}{more}</ul>"
        phases = ", ".join(f"{html.escape(p['name'])} {p['start']:.1f}s–{p['end']:.1f}s"
                           for p in ev.get("phases") or [])
        rows.append(
            f'<section><h2>{html.escape(ev["test"])} <span class="{ev.get("outcome", "")}">'
            f'{html.escape(ev.get("outcome", ""))}</span></h2>'
            f'<p>{ev.get("requests_total", 0)} requests, {len(failed)} failed; faults: {phases or "none"}</p>'
            f"{timeline_svg(ev)}"
            + (f"<table><tr><th>check</th><th>verdict</th><th>evidence</th></tr>{checks}</table>" if checks else "")
            + failed_html + "</section>")
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:1000px}section{border-top:1px solid #ccc;"
        "padding-top:1em;margin-top:1.5em}td,th{border:1px solid #ddd;padding:4px;vertical-align:top}"
        "table{border-collapse:collapse}.pass,.passed{color:#2ca02c}.fail,.failed{color:#d62728}"
        f"</style></head><body><h1>{html.escape(title)}</h1><p>generated {stamp}; green: success rate per "
        "second, grey dashed: p99 latency, red bands: fault phases, red ticks: seconds with failures; below: "
        "ready pods per zone.</p>" + "".join(rows) + "</body></html>")
