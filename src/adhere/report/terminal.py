"""The report as rich tables in the terminal (the default output of ``adhere report``)."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from .build import Report, display_name, pct, pct_interval, signed_pct

__all__ = ["print_report"]

MAX_TERMINAL_CHECKS = 25
MAX_TERMINAL_FLIPS = 15


def _colour(value: float) -> str:
    if math.isnan(value):
        return "dim"
    return "green" if value >= 0.85 else "yellow" if value >= 0.6 else "red"


def print_report(report: Report, console: Console | None = None) -> None:
    console = console or Console()
    stats = report.stats
    facts = " · ".join(f"{k}: [bold]{v}[/]" for k, v in report.run.describe().items())
    console.print(f"[bold]{report.title}[/]\n{facts}")

    conf = round(stats.settings.get("confidence", 0.95) * 100)
    table = Table(title="Headline", title_justify="left")
    for col, justify in (
        ("metric", "left"),
        ("value", "right"),
        (f"{conf}% CI", "right"),
        ("prompts", "right"),
        ("judged", "right"),
        ("unscorable", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for m in stats.headline:
        value = m.interval.estimate
        table.add_row(
            display_name(m.name),
            f"[{_colour(value)}]{pct(value)}[/]",
            pct_interval(m.interval),
            str(m.units),
            f"{m.items:g}",
            str(m.excluded),
        )
    console.print(table)

    cmp, other = report.comparison, report.other
    if cmp is not None and other is not None:
        table = Table(
            title=f"A − B: {report.run.name} vs {other.name} ({cmp.common_units} common prompts)", title_justify="left"
        )
        for col in ("metric", "A", "B", "A − B", f"{conf}% CI", "p"):
            table.add_column(col, justify="left" if col == "metric" else "right")
        for mc in cmp.metrics:
            t = mc.test
            style = "green" if t.diff.low > 0 else "red" if t.diff.high < 0 else ""
            ci = "—" if math.isnan(t.diff.low) else f"{signed_pct(t.diff.low)} to {signed_pct(t.diff.high)}"
            p = "—" if math.isnan(t.p_value) else f"{t.p_value:.3g}"
            diff = f"[{style}]{signed_pct(t.diff.estimate)}[/]" if style else signed_pct(t.diff.estimate)
            table.add_row(display_name(mc.name), pct(t.a), pct(t.b), diff, ci, p)
        console.print(table)
        for label, flips, style in (("now passing in A", cmp.gained, "green"), ("now failing in A", cmp.lost, "red")):
            names = ", ".join(f.unit for f in flips[:MAX_TERMINAL_FLIPS])
            more = f" … (+{len(flips) - MAX_TERMINAL_FLIPS})" if len(flips) > MAX_TERMINAL_FLIPS else ""
            console.print(f"[{style}]{len(flips)} {label}[/]" + (f": {names}{more}" if flips else ""))

    if stats.checks:
        shown = stats.checks[:MAX_TERMINAL_CHECKS]
        title = "Per-check accuracy" + (
            f" (weakest {len(shown)} of {len(stats.checks)})" if len(shown) < len(stats.checks) else ""
        )
        table = Table(title=title, title_justify="left")
        for col in ("check", "accuracy", f"{conf}% CI", "pass", "fail", "unscorable"):
            table.add_column(col, justify="left" if col == "check" else "right")
        for c in shown:
            value = c.accuracy.estimate
            table.add_row(
                c.name,
                f"[{_colour(value)}]{pct(value)}[/]",
                pct_interval(c.accuracy),
                str(c.passed),
                str(c.failed),
                str(c.unscorable),
            )
        console.print(table)
    for field, groups in stats.groups.items():
        if groups:
            table = Table(title=f"By {field} ({display_name(groups[0].metric)})", title_justify="left")
            for col in (field, "value", f"{conf}% CI", "rows"):
                table.add_column(col, justify="left" if col == field else "right")
            for g in groups:
                table.add_row(g.value, pct(g.interval.estimate), pct_interval(g.interval), str(g.rows))
            console.print(table)
    if stats.curve:
        table = Table(title="pass@k", title_justify="left")
        for col in ("k", "pass@k", f"{conf}% CI"):
            table.add_column(col, justify="right")
        for point in stats.curve:
            table.add_row(str(point.k), pct(point.interval.estimate), pct_interval(point.interval))
        console.print(table)
    console.print(
        f"{report.total_failures} failed or unscorable samples"
        + ("; write --html or --markdown to browse them" if report.total_failures else "")
    )
    for problem in report.run.problems[:10]:
        console.print(f"[yellow]warning:[/] {problem}")
