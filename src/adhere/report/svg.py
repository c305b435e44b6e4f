"""Inline SVG charts, written by hand: no plotting library, no fonts, nothing fetched.

Each function returns one ``<svg>`` element as a string, sized by ``viewBox`` so it
scales with the page. Every label is escaped; every mark carries a ``<title>`` tooltip
with its exact numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from ..metrics.bootstrap import Interval

__all__ = ["curve_chart", "diff_chart", "interval_bars"]

_FONT = 'font-family="system-ui, sans-serif" font-size="12"'
_LABEL_CHARS = 48
_CHAR_PX = 6.8  # average advance of a 12px sans-serif character, generous


def _label_width(labels: Sequence[str]) -> int:
    """Room for the longest (shortened) label, between 90 and 360 pixels."""
    longest = max((len(_short(label)) for label in labels), default=0)
    return int(min(360, max(90, longest * _CHAR_PX + 16)))


def _pct(value: float) -> str:
    return "—" if math.isnan(value) else f"{100 * value:.1f}%"


def _colour(value: float) -> str:
    if math.isnan(value):
        return "#9aa0a6"
    if value >= 0.85:
        return "#2e7d32"
    if value >= 0.6:
        return "#f9a825"
    return "#c62828"


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def interval_bars(items: Sequence[tuple[str, Interval]], *, width: int = 760, css_class: str = "bars") -> str:
    """Horizontal bars on a 0–100% axis, one per item, with the interval as a whisker."""
    label_w, right_pad, row_h, top = _label_width([label for label, _ in items]), 70, 22, 24
    plot_w = width - label_w - right_pad
    height = top + row_h * len(items) + 8

    def x(value: float) -> float:
        return label_w + plot_w * min(max(value, 0.0), 1.0)

    parts = [f'<svg class="{css_class}" viewBox="0 0 {width} {height}" width="100%" role="img" {_FONT}>']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        tx = x(tick)
        parts.append(f'<line x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{height - 6}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{tx:.1f}" y="{top - 10}" text-anchor="middle" fill="#555">{int(tick * 100)}%</text>')
    for i, (label, iv) in enumerate(items):
        y = top + i * row_h
        value = iv.estimate
        tip = escape(f"{label}: {_pct(value)} (95% CI {_pct(iv.low)} – {_pct(iv.high)})")
        parts.append(f"<g><title>{tip}</title>")
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" fill="#222">{escape(_short(label))}</text>'
        )
        if not math.isnan(value):
            parts.append(
                f'<rect x="{label_w}" y="{y + 4}" width="{x(value) - label_w:.1f}" height="{row_h - 8}" '
                f'fill="{_colour(value)}" opacity="0.85"/>'
            )
        if not math.isnan(iv.low):
            cy = y + row_h / 2
            parts.append(
                f'<line x1="{x(iv.low):.1f}" y1="{cy:.1f}" x2="{x(iv.high):.1f}" y2="{cy:.1f}" stroke="#111" '
                f'stroke-width="1.5"/>'
            )
            for end in (iv.low, iv.high):
                parts.append(
                    f'<line x1="{x(end):.1f}" y1="{cy - 5:.1f}" x2="{x(end):.1f}" y2="{cy + 5:.1f}" stroke="#111"/>'
                )
        parts.append(f'<text x="{width - right_pad + 6}" y="{y + 15}" fill="#222">{_pct(value)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def curve_chart(
    series: Sequence[tuple[str, Sequence[tuple[int, Interval]]]], *, width: int = 760, height: int = 320
) -> str:
    """pass@k against k (log axis past k = 20), one line and interval band per series."""
    colours = ("#1565c0", "#ef6c00", "#6a1b9a")
    left, right, top, bottom = 56, 20, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    ks = [k for _, points in series for k, _ in points]
    if not ks:
        return ""
    k_max = max(max(ks), 2)
    log = k_max > 20

    def x(k: float) -> float:
        if log:
            return left + plot_w * math.log(k) / math.log(k_max)
        return left + plot_w * (k - 1) / (k_max - 1)

    def y(v: float) -> float:
        return top + plot_h * (1 - min(max(v, 0.0), 1.0))

    parts = [f'<svg class="curve" viewBox="0 0 {width} {height}" width="100%" role="img" {_FONT}>']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        ty = y(tick)
        parts.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{width - right}" y2="{ty:.1f}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#555">{int(tick * 100)}%</text>')
    if log:
        x_ticks = sorted({1, *(10**e for e in range(1, int(math.log10(k_max)) + 1)), k_max})
    else:
        step = max(1, math.ceil((k_max - 1) / 10))
        x_ticks = sorted({*range(1, k_max + 1, step), k_max})
    for k in x_ticks:
        parts.append(f'<text x="{x(k):.1f}" y="{height - bottom + 18}" text-anchor="middle" fill="#555">{k}</text>')
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" fill="#333">k (samples drawn)</text>'
    )
    for s, (name, points) in enumerate(series):
        colour = colours[s % len(colours)]
        pts = [(k, iv) for k, iv in points if not math.isnan(iv.estimate)]
        if not pts:
            continue
        band = [(x(k), y(iv.high)) for k, iv in pts if not math.isnan(iv.high)]
        band += [(x(k), y(iv.low)) for k, iv in reversed(pts) if not math.isnan(iv.low)]
        if len(band) >= 4:
            poly = " ".join(f"{px:.1f},{py:.1f}" for px, py in band)
            parts.append(f'<polygon points="{poly}" fill="{colour}" opacity="0.15"/>')
        line = " ".join(f"{x(k):.1f},{y(iv.estimate):.1f}" for k, iv in pts)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for k, iv in pts:
            tip = escape(f"{name}: pass@{k} = {_pct(iv.estimate)} (95% CI {_pct(iv.low)} – {_pct(iv.high)})")
            dot = f'<circle cx="{x(k):.1f}" cy="{y(iv.estimate):.1f}" r="3.5" fill="{colour}">'
            parts.append(f"{dot}<title>{tip}</title></circle>")
        parts.append(f'<text x="{left + 10}" y="{top + 16 + 16 * s}" fill="{colour}">{escape(_short(name))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def diff_chart(items: Sequence[tuple[str, Interval]], *, width: int = 760) -> str:
    """A forest plot of differences (A − B) around a zero line, in percentage points."""
    label_w, right_pad, row_h, top = _label_width([label for label, _ in items]), 90, 24, 26
    plot_w = width - label_w - right_pad
    height = top + row_h * len(items) + 10
    finite = [abs(v) for _, iv in items for v in (iv.low, iv.high, iv.estimate) if not math.isnan(v)]
    span = max([0.01, *finite]) * 1.1

    def x(value: float) -> float:
        return label_w + plot_w * (value + span) / (2 * span)

    parts = [
        f'<svg class="diff" viewBox="0 0 {width} {height}" width="100%" role="img" {_FONT}>',
        f'<line x1="{x(0):.1f}" y1="{top - 8}" x2="{x(0):.1f}" y2="{height - 4}" stroke="#777" '
        'stroke-dasharray="4 3"/>',
    ]
    for tick in (-span, 0.0, span):
        parts.append(
            f'<text x="{x(tick):.1f}" y="{top - 12}" text-anchor="middle" fill="#555">{100 * tick:+.1f} pp</text>'
        )
    for i, (label, iv) in enumerate(items):
        y = top + i * row_h + row_h / 2
        tip = escape(f"{label}: {100 * iv.estimate:+.2f} pp (95% CI {100 * iv.low:+.2f} to {100 * iv.high:+.2f})")
        colour = "#2e7d32" if iv.low > 0 else "#c62828" if iv.high < 0 else "#555"
        parts.append(f"<g><title>{tip}</title>")
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 4:.1f}" text-anchor="end" fill="#222">{escape(_short(label))}</text>'
        )
        if not math.isnan(iv.low):
            parts.append(
                f'<line x1="{x(iv.low):.1f}" y1="{y:.1f}" x2="{x(iv.high):.1f}" y2="{y:.1f}" stroke="{colour}" '
                f'stroke-width="2"/>'
            )
        if not math.isnan(iv.estimate):
            parts.append(f'<circle cx="{x(iv.estimate):.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/>')
            parts.append(
                f'<text x="{width - right_pad + 8}" y="{y + 4:.1f}" fill="#222">{100 * iv.estimate:+.1f} pp</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
