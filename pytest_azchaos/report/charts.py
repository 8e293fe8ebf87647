"""Inline SVG charts of one test's evidence, on one clock (seconds since the test started): success rate
per zone, traffic share per zone, ready pods per zone and p99 latency, with the fault phases shaded, the
failed requests as marks and the checks' verdict times as lines. No scripts, no external assets.

Every chart has labelled axes with units, a title and a text description for screen readers, and zones
differ by dash pattern as well as colour, so the charts read in grey print too.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .series import UNKNOWN_ZONE, success_rate, traffic_share, zones_in

ZONE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")
ZONE_DASHES = ("", "6,3", "2,2", "8,3,2,3", "1,3", "10,4")
UNKNOWN_COLOR = "#7f7f7f"
FAIL_COLOR = "#d62728"
W, H, ML, MR, MT, MB = 900, 170, 64, 130, 24, 40
MAX_FAILED_MARKS = 2000
_NICE = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600)


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def nice_step(span: float, ticks: int = 10) -> float:
    """A tick step from ``_NICE`` giving at most about ``ticks`` ticks over ``span``."""
    for step in _NICE:
        if span / step <= ticks:
            return float(step)
    return float(_NICE[-1])


class Clock:
    """Maps seconds since the test started to x pixels, shared by all charts of a test."""

    def __init__(self, span: float):
        self.span = max(span, 1.0)

    def x(self, t: float) -> float:
        return ML + (W - ML - MR) * min(max(t, 0.0), self.span) / self.span


def zone_styles(zones: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Colour and dash pattern per zone, the same in every chart of a test (``unknown`` grey, dotted)."""
    styles: dict[str, tuple[str, str]] = {}
    known = [z for z in zones if z != UNKNOWN_ZONE]
    for i, zone in enumerate(known):
        styles[zone] = (ZONE_COLORS[i % len(ZONE_COLORS)], ZONE_DASHES[i % len(ZONE_DASHES)])
    if UNKNOWN_ZONE in zones:
        styles[UNKNOWN_ZONE] = (UNKNOWN_COLOR, "1,2")
    return styles


def _frame(title: str, desc: str, y_label: str, y_max: float, clock: Clock,
           y_ticks: Sequence[float] = ()) -> list[str]:
    """The SVG's head, plot frame, axes with ticks and labels (x: time since test start in s)."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H + MT + MB}" width="100%" '
             f'role="img" aria-label="{_esc(title)}" font-family="sans-serif" font-size="11" class="chart">'
             f"<title>{_esc(title)}</title><desc>{_esc(desc)}</desc>",
             f'<text x="{ML}" y="14" font-weight="bold">{_esc(title)}</text>',
             f'<rect x="{ML}" y="{MT}" width="{W - ML - MR}" height="{H}" fill="none" stroke="#999"/>']
    step = nice_step(clock.span)
    t = 0.0
    while t <= clock.span + 1e-9:
        x = clock.x(t)
        parts.append(f'<line x1="{x:.1f}" y1="{MT + H}" x2="{x:.1f}" y2="{MT + H + 4}" stroke="#666"/>'
                     f'<text x="{x:.1f}" y="{MT + H + 15}" text-anchor="middle">{t:g}</text>')
        t += step
    parts.append(f'<text x="{ML + (W - ML - MR) / 2:.0f}" y="{MT + H + 32}" text-anchor="middle" '
                 'class="axis-label">time since test start (s)</text>')
    for value in y_ticks or [y_max * frac for frac in (0.0, 0.25, 0.5, 0.75, 1.0)]:
        y = MT + H - (value / y_max if y_max else 0) * H
        parts.append(f'<line x1="{ML - 4}" y1="{y:.1f}" x2="{ML}" y2="{y:.1f}" stroke="#666"/>'
                     f'<line x1="{ML}" y1="{y:.1f}" x2="{W - MR}" y2="{y:.1f}" stroke="#eee"/>'
                     f'<text x="{ML - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.3g}</text>')
    parts.append(f'<text transform="translate(14,{MT + H / 2:.0f}) rotate(-90)" text-anchor="middle" '
                 f'class="axis-label">{_esc(y_label)}</text>')
    return parts


def _phases(ev: Mapping[str, Any], clock: Clock, label: bool) -> list[str]:
    parts = []
    for p in ev.get("phases") or []:
        x0, x1 = clock.x(float(p["start"])), clock.x(float(p["end"]))
        parts.append(f'<rect x="{x0:.1f}" y="{MT}" width="{max(x1 - x0, 1):.1f}" height="{H}" fill="{FAIL_COLOR}" '
                     f'fill-opacity="0.10" stroke="{FAIL_COLOR}" stroke-opacity="0.4" stroke-dasharray="2,2">'
                     f'<title>fault {_esc(p["name"])}: {float(p["start"]):.1f}s to {float(p["end"]):.1f}s'
                     '</title></rect>')
        if label and x1 - x0 >= 60:  # a short phase (restore) keeps its name in the tooltip only
            parts.append(f'<text x="{x0 + 3:.1f}" y="{MT + 12}" fill="{FAIL_COLOR}">{_esc(p["name"])}</text>')
    return parts


def check_times(ev: Mapping[str, Any]) -> list[tuple[float, dict[str, Any]]]:
    """Each check with its verdict time in seconds since the test started (checks without ``at`` left out)."""
    started = ev.get("started")
    out = []
    for c in ev.get("checks") or []:
        if c.get("at") is not None and started is not None:
            out.append((float(c["at"]) - float(started), c))
    return out


def _checks(ev: Mapping[str, Any], clock: Clock, label: bool) -> list[str]:
    parts = []
    for i, (t, c) in enumerate(check_times(ev)):
        x = clock.x(t)
        verdict = c.get("verdict") or ("passed" if c.get("passed") else "failed")
        parts.append(f'<line x1="{x:.1f}" y1="{MT}" x2="{x:.1f}" y2="{MT + H}" stroke="#333" stroke-dasharray="4,3">'
                     f'<title>{_esc(c.get("check_id", "?"))} {_esc(verdict)} at {t:.1f}s</title></line>')
        if label:
            parts.append(f'<text x="{x - 3:.1f}" y="{MT + 24 + 12 * i}" text-anchor="end" fill="#333">'
                         f'{_esc(c.get("check_id", "?"))} {_esc(verdict)}</text>')
    return parts


def _legend(styles: Mapping[str, tuple[str, str]], extra: Sequence[tuple[str, str, str]] = ()) -> list[str]:
    parts = []
    entries = [(z, color, dash) for z, (color, dash) in styles.items()] + list(extra)
    for i, (name, color, dash) in enumerate(entries):
        y = MT + 10 + 15 * i
        parts.append(f'<line x1="{W - MR + 8}" y1="{y - 4}" x2="{W - MR + 30}" y2="{y - 4}" stroke="{color}" '
                     f'stroke-width="2" stroke-dasharray="{dash}"/>'
                     f'<text x="{W - MR + 34}" y="{y}">{_esc(name)}</text>')
    return parts


def _lines(series: Mapping[str, list[tuple[float, float]]], styles: Mapping[str, tuple[str, str]], clock: Clock,
           y_max: float, step_line: bool = False, width: float = 2) -> list[str]:
    parts = []
    for zone, points in series.items():
        if not points:
            continue
        color, dash = styles.get(zone, (UNKNOWN_COLOR, "1,2"))
        coords: list[str] = []
        prev_y: float | None = None
        for t, v in points:
            x, y = clock.x(t), MT + H - (v / y_max if y_max else 0) * H
            if step_line and prev_y is not None:
                coords.append(f"{x:.1f},{prev_y:.1f}")
            coords.append(f"{x:.1f},{y:.1f}")
            prev_y = y
        parts.append(f'<polyline points="{" ".join(coords)}" fill="none" stroke="{color}" stroke-width="{width}" '
                     f'stroke-dasharray="{dash}"><title>{_esc(zone)}</title></polyline>')
    return parts


def _failed_marks(ev: Mapping[str, Any], clock: Clock) -> list[str]:
    failed = ev.get("failed_requests") or []
    parts = []
    for r in failed[:MAX_FAILED_MARKS]:
        x = clock.x(float(r["t"]))
        what = " ".join(str(v) for v in (r.get("error"), f"HTTP {r['status']}" if r.get("status") else "",
                                         r.get("detail") or "") if v)
        parts.append(f'<line x1="{x:.1f}" y1="{MT + H - 14}" x2="{x:.1f}" y2="{MT + H}" stroke="{FAIL_COLOR}" '
                     f'stroke-width="1.5" class="failed-request"><title>failed request at {float(r["t"]):.3f}s to '
                     f'{_esc(r.get("target", "?"))}: {_esc(what)}</title></line>')
    return parts


def _describe_series(series: Mapping[str, list[tuple[float, float]]], unit: str) -> str:
    return "; ".join(f"{zone}: min {min(v for _, v in pts):.0f}{unit}, max {max(v for _, v in pts):.0f}{unit}"
                     for zone, pts in series.items() if pts) or "no data"


def success_chart(ev: Mapping[str, Any], clock: Clock, styles: Mapping[str, tuple[str, str]]) -> str:
    """Success rate per zone per second, overall success in black, failed requests as red marks."""
    buckets = ev.get("zone_buckets") or []
    series = success_rate(buckets)
    overall = [(float(b["t"]) + 0.5, 100.0 * b["ok"] / b["requests"]) for b in _overall(ev) if b["requests"]]
    failed = ev.get("failed_requests") or []
    desc = (f"Success rate per zone, percent per second. {_describe_series(series, '%')}. "
            f"{len(failed)} failed request(s), marked in red at the bottom.")
    parts = _frame("Success rate per zone", desc, "success rate (%)", 100.0, clock)
    parts += _phases(ev, clock, label=True)
    parts += _lines({"all zones": overall}, {"all zones": ("#000", "")}, clock, 100.0, width=3)
    parts += _lines(series, styles, clock, 100.0)
    parts += _failed_marks(ev, clock)
    parts += _checks(ev, clock, label=True)
    parts += _legend(styles, [("all zones", "#000", ""), ("failed request", FAIL_COLOR, ""),
                              ("check verdict", "#333", "4,3")])
    return "".join(parts) + "</svg>"


def client_zone_chart(ev: Mapping[str, Any], clock: Clock, styles: Mapping[str, tuple[str, str]]) -> str:
    """The in-cluster probers' success rate per zone they left from: each zone's own view of the cluster
    (Service by IP and by name, DNS lookups), on the same clock as the faults and the checks."""
    series = success_rate(ev.get("source_zone_buckets") or [])
    desc = (f"Success rate of the requests sent from inside the cluster, per zone they left from, percent per "
            f"second. {_describe_series(series, '%')}.")
    parts = _frame("Success rate from inside, per client zone", desc, "success rate (%)", 100.0, clock)
    parts += _phases(ev, clock, label=False) + _lines(series, styles, clock, 100.0) + _checks(ev, clock, label=False)
    parts += _legend(styles)
    return "".join(parts) + "</svg>"


def _overall(ev: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per-second totals from the zone buckets (the same requests as the per-zone lines), else the prober's
    own per-second buckets (evidence written before zone buckets existed)."""
    if not ev.get("zone_buckets"):
        return [{"t": b["t"], "requests": b["requests"], "ok": b["ok"]} for b in ev.get("buckets") or []]
    out = []
    for b in ev.get("zone_buckets") or []:
        out.append({"t": b["t"], "requests": sum(c["requests"] for c in b["zones"].values()),
                    "ok": sum(c["ok"] for c in b["zones"].values())})
    return out


def share_chart(ev: Mapping[str, Any], clock: Clock, styles: Mapping[str, tuple[str, str]]) -> str:
    """Share of each second's requests per zone."""
    series = traffic_share(ev.get("zone_buckets") or [])
    desc = f"Share of the requests per zone, percent per second. {_describe_series(series, '%')}."
    parts = _frame("Traffic share per zone", desc, "share of requests (%)", 100.0, clock)
    parts += _phases(ev, clock, label=False) + _lines(series, styles, clock, 100.0) + _checks(ev, clock, label=False)
    parts += _legend(styles)
    return "".join(parts) + "</svg>"


def ready_chart(ev: Mapping[str, Any], clock: Clock, styles: Mapping[str, tuple[str, str]]) -> str:
    """Ready pods per zone as the zone sampler saw them."""
    samples = ev.get("ready_pods_per_zone") or []
    zones = sorted({z for s in samples for z in s["ready"]})
    series = {z: [(float(s["t"]), float(s["ready"].get(z, 0))) for s in samples] for z in zones}
    peak = max((v for pts in series.values() for _, v in pts), default=0.0)
    step = max(1, math.ceil(peak / 5))
    y_max = float(step * max(1, math.ceil(peak / step)))
    desc = f"Ready pods per zone over time. {_describe_series(series, '')}."
    parts = _frame("Ready pods per zone", desc, "ready pods", y_max, clock,
                   [float(v) for v in range(0, int(y_max) + 1, step)])
    parts += _phases(ev, clock, label=False) + _lines(series, styles, clock, y_max, step_line=True)
    parts += _checks(ev, clock, label=False)
    parts += _legend({z: styles.get(z, (UNKNOWN_COLOR, "1,2")) for z in zones})
    return "".join(parts) + "</svg>"


def latency_chart(ev: Mapping[str, Any], clock: Clock) -> str:
    """The p99 latency per second over all requests."""
    buckets = ev.get("buckets") or []
    points = [(float(b["t"]) + 0.5, float(b.get("p99") or 0) * 1000) for b in buckets]
    peak = max((v for _, v in points), default=0.0)
    y_max = peak * 1.1 if peak else 1.0
    desc = f"p99 latency per second in milliseconds, peak {peak:.0f} ms."
    parts = _frame("p99 latency", desc, "p99 latency (ms)", y_max, clock)
    parts += _phases(ev, clock, label=False)
    parts += _lines({"p99": points}, {"p99": ("#555", "")}, clock, y_max) + _checks(ev, clock, label=False)
    return "".join(parts) + "</svg>"


def timeline_svg(ev: Mapping[str, Any]) -> str:
    """Every chart of one test, on one clock (inline SVG elements, one per chart)."""
    span = float(ev.get("duration_s") or 1.0)
    span = max([span] + [t for t, _ in check_times(ev)])
    clock = Clock(span)
    ready_zones = sorted({z for s in ev.get("ready_pods_per_zone") or [] for z in s["ready"]})
    client_zones = zones_in(ev.get("source_zone_buckets") or [])
    styles = zone_styles(sorted(set(zones_in(ev.get("zone_buckets") or [])) | set(ready_zones) | set(client_zones),
                                key=lambda z: (z == UNKNOWN_ZONE, z)))
    charts = []
    if ev.get("zone_buckets") or ev.get("buckets"):
        charts.append(success_chart(ev, clock, styles))
    if ev.get("zone_buckets"):
        charts.append(share_chart(ev, clock, styles))
    if ev.get("source_zone_buckets"):
        charts.append(client_zone_chart(ev, clock, styles))
    if ev.get("ready_pods_per_zone"):
        charts.append(ready_chart(ev, clock, styles))
    if ev.get("buckets"):
        charts.append(latency_chart(ev, clock))
    return "".join(f'<figure class="chart">{c}</figure>' for c in charts)
