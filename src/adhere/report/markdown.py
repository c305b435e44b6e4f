"""The report as Markdown (GitHub-flavoured tables), for pull requests, issues and notebooks."""

from __future__ import annotations

import math

from .build import Report, display_name, pct, pct_interval, signed_pct

__all__ = ["render_markdown"]

MAX_MD_FAILURES = 50
MAX_MD_RESPONSE = 1_500


def _cell(value: object) -> str:
    """Table-safe text: pipes escaped, newlines folded."""
    return " ".join(str(value).replace("|", "\\|").split())


def _fence(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}text\n{text}\n{fence}"


def render_markdown(report: Report, *, max_failures: int = MAX_MD_FAILURES) -> str:
    stats = report.stats
    lines = [f"# {report.title}", ""]
    lines += [f"- **{_cell(k)}**: {_cell(v)}" for k, v in report.run.describe().items()]
    lines += ["", "## Headline", ""]
    conf = round(stats.settings.get("confidence", 0.95) * 100)
    lines += [f"| metric | value | {conf}% CI | prompts | judged | unscorable |", "|---|---:|---:|---:|---:|---:|"]
    for m in stats.headline:
        lines.append(
            f"| {_cell(display_name(m.name))} | {pct(m.interval.estimate)} | {pct_interval(m.interval)} "
            f"| {m.units} | {m.items:g} | {m.excluded} |"
        )
    lo, hi = stats.samples
    per = f"{lo}" if lo == hi else f"{lo}–{hi}"
    lines += [
        "",
        f"{stats.rows} rows, {stats.units} prompts, {per} samples per prompt; "
        f"{stats.unscorable_rows} unscorable rows (left out, never scored 0).",
    ]

    cmp, other = report.comparison, report.other
    if cmp is not None and other is not None:
        lines += ["", f"## Comparison: {_cell(report.run.name)} (A) vs {_cell(other.name)} (B)", ""]
        lines.append(
            f"Differences are A − B over {cmp.common_units} common prompts ({cmp.only_a} only in A, "
            f"{cmp.only_b} only in B); paired bootstrap interval, two-sided permutation test."
        )
        lines += ["", "| metric | A | B | A − B | 95% CI | p |", "|---|---:|---:|---:|---:|---:|"]
        for mc in cmp.metrics:
            t = mc.test
            ci = "—" if math.isnan(t.diff.low) else f"{signed_pct(t.diff.low)} to {signed_pct(t.diff.high)}"
            p = "—" if math.isnan(t.p_value) else f"{t.p_value:.3g}"
            diff = signed_pct(t.diff.estimate)
            lines.append(f"| {_cell(display_name(mc.name))} | {pct(t.a)} | {pct(t.b)} | {diff} | {ci} | {p} |")
        for title, flips in (("Now passing in A", cmp.gained), ("Now failing in A", cmp.lost)):
            lines += [
                "",
                f"**{title}** ({len(flips)}): " + (", ".join(f"`{_cell(f.unit)}`" for f in flips[:100]) or "none"),
            ]

    if stats.checks:
        has_loose = any(c.loose is not None for c in stats.checks)
        lines += ["", "## Per-check accuracy", ""]
        head = "| check | accuracy | 95% CI |" + (" loose |" if has_loose else "") + " pass | fail | unscorable |"
        lines += [head, "|---|---:|---:|" + ("---:|" if has_loose else "") + "---:|---:|---:|"]
        for c in stats.checks:
            loose = f" {pct(c.loose.estimate)} |" if has_loose and c.loose is not None else ""
            lines.append(
                f"| {_cell(c.name)} | {pct(c.accuracy.estimate)} | {pct_interval(c.accuracy)} |{loose}"
                f" {c.passed} | {c.failed} | {c.unscorable} |"
            )
    if len(stats.categories) >= 2:
        lines += ["", "## By category", "", "| category | accuracy | 95% CI | judged |", "|---|---:|---:|---:|"]
        for c in stats.categories:
            lines.append(f"| {_cell(c.name)} | {pct(c.accuracy.estimate)} | {pct_interval(c.accuracy)} | {c.judged} |")
    for field, groups in stats.groups.items():
        if groups:
            lines += [
                "",
                f"## By {field} ({display_name(groups[0].metric)})",
                "",
                f"| {field} | value | 95% CI | rows |",
                "|---|---:|---:|---:|",
            ]
            lines += [
                f"| {_cell(g.value)} | {pct(g.interval.estimate)} | {pct_interval(g.interval)} | {g.rows} |"
                for g in groups
            ]
    if stats.curve:
        lines += ["", "## pass@k", "", "| k | pass@k | 95% CI |", "|---:|---:|---:|"]
        lines += [f"| {p.k} | {pct(p.interval.estimate)} | {pct_interval(p.interval)} |" for p in stats.curve]

    lines += ["", f"## Failures ({report.total_failures})", ""]
    shown = report.failures[:max_failures]
    if not shown:
        lines.append("No failed or unscorable sample.")
    elif report.total_failures > len(shown):
        lines += [f"Showing the first {len(shown)}.", ""]
    for f in shown:
        lines += [f"### {f.outcome.upper()} `{_cell(f.unit)}` (sample {f.sample})", ""]
        lines += [f"- **{_cell(n)}** ({o}): {_cell(r) or 'no reason given'}" for n, o, r in f.items]
        text = f.response if len(f.response) <= MAX_MD_RESPONSE else f.response[:MAX_MD_RESPONSE] + "\n[…]"
        lines += ["", "<details><summary>response</summary>", "", _fence(text), "", "</details>", ""]
    s = stats.settings
    lines += [
        "",
        f"_Intervals: {conf}% percentile bootstrap over prompts, {s.get('n_resamples')} resamples, "
        f"seed {s.get('seed')}._",
        "",
    ]
    return "\n".join(lines)
