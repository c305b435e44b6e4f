"""The report as one self-contained HTML file that works offline.

Inline CSS, a few lines of inline JavaScript (filtering the failure list; the page is
complete without it), charts as inline SVG. Nothing is fetched: a Content Security
Policy of ``default-src 'none'`` makes that a property the browser enforces, and the
favicon is an empty data URL so the browser does not go looking for one. Every piece
of run data (prompts, responses, reasons) is HTML-escaped.
"""

from __future__ import annotations

import json
import math
from html import escape

from .. import __version__
from ..metrics.stats import MetricStat
from .build import Failure, Report, display_name, pct, pct_interval, signed_pct
from .svg import curve_chart, diff_chart, interval_bars

__all__ = ["render_html"]

MAX_CHART_CHECKS = 80

_CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#fff; --soft:#f6f8fa;
        --pass:#2e7d32; --fail:#c62828; --unsc:#b26a00; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       color:var(--fg); background:var(--bg); }
header, main, footer { max-width:1100px; margin:0 auto; padding:0 20px; }
header { padding-top:20px; }
h1 { font-size:22px; margin:0 0 6px; }
h2 { font-size:17px; margin:28px 0 10px; padding-bottom:4px; border-bottom:1px solid var(--line); }
.facts { color:var(--muted); display:flex; flex-wrap:wrap; gap:4px 16px; margin:0; padding:0; list-style:none; }
.facts b { color:var(--fg); font-weight:600; }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(200px, 1fr)); gap:12px; }
.card { border:1px solid var(--line); border-radius:8px; padding:12px 14px; background:var(--soft); }
.card .name { color:var(--muted); font-size:13px; }
.card .value { font-size:28px; font-weight:650; margin:2px 0; }
.card .ci, .card .n { color:var(--muted); font-size:12px; }
table { border-collapse:collapse; width:100%; margin:8px 0; font-size:13px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:var(--soft); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.pass { color:var(--pass); } .fail { color:var(--fail); } .unscorable { color:var(--unsc); }
.note { color:var(--muted); font-size:13px; }
.toolbar { display:flex; gap:8px; align-items:center; flex-wrap:wrap; margin:8px 0; }
.toolbar input, .toolbar select, .toolbar button { font:inherit; padding:4px 8px;
       border:1px solid var(--line); border-radius:6px; background:#fff; }
details.failure { border:1px solid var(--line); border-radius:8px; margin:6px 0; background:#fff; }
details.failure > summary { cursor:pointer; padding:8px 12px; list-style-position:inside; }
details.failure[open] > summary { border-bottom:1px solid var(--line); background:var(--soft); }
details.failure .body { padding:8px 12px; }
.tag { display:inline-block; font-size:11px; padding:1px 6px; border-radius:10px;
       background:#eef1f4; margin:0 4px 0 0; }
.tag.fail { background:#fde8e8; } .tag.unscorable { background:#fff3d6; }
pre { white-space:pre-wrap; word-break:break-word; background:var(--soft); border:1px solid var(--line);
      border-radius:6px; padding:8px 10px; max-height:420px; overflow:auto;
      font:12px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
ul.reasons { margin:6px 0; padding-left:18px; }
ul.reasons li { margin:2px 0; }
svg { max-width:100%; height:auto; }
footer { color:var(--muted); font-size:12px; padding:24px 20px 40px; }
"""

_JS = """
'use strict';
(function () {
  var list = document.getElementById('failure-list');
  if (!list) { return; }
  var items = Array.prototype.slice.call(list.querySelectorAll('details.failure'));
  var text = document.getElementById('failure-filter');
  var check = document.getElementById('failure-check');
  var shown = document.getElementById('failure-shown');
  function apply() {
    var q = text.value.toLowerCase();
    var c = check.value;
    var count = 0;
    items.forEach(function (el) {
      var okText = !q || el.getAttribute('data-search').indexOf(q) !== -1;
      var okCheck = !c || JSON.parse(el.getAttribute('data-checks')).indexOf(c) !== -1;
      el.hidden = !(okText && okCheck);
      if (!el.hidden) { count += 1; }
    });
    shown.textContent = String(count);
  }
  text.addEventListener('input', apply);
  check.addEventListener('change', apply);
  document.getElementById('expand-all').addEventListener('click', function () {
    items.forEach(function (el) { if (!el.hidden) { el.open = true; } });
  });
  document.getElementById('collapse-all').addEventListener('click', function () {
    items.forEach(function (el) { el.open = false; });
  });
  apply();
})();
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _card(m: MetricStat) -> str:
    excluded = f" · {m.excluded} unscorable left out" if m.excluded else ""
    return (
        f'<div class="card" data-metric="{_e(m.name)}">'
        f'<div class="name" title="{_e(m.description)}">{_e(display_name(m.name))}</div>'
        f'<div class="value">{pct(m.interval.estimate)}</div>'
        f'<div class="ci">{round(m.interval.confidence * 100)}% CI {pct_interval(m.interval)}</div>'
        f'<div class="n">{m.units} prompts · {m.items:g} judged{excluded}</div>'
        "</div>"
    )


def _headline(report: Report) -> str:
    stats = report.stats
    parts = ['<section id="headline"><h2>Headline</h2><div class="cards">']
    parts.extend(_card(m) for m in stats.headline)
    parts.append("</div>")
    if stats.headline:
        parts.append(interval_bars([(display_name(m.name), m.interval) for m in stats.headline], css_class="forest"))
    notes = [f"{stats.rows} rows over {stats.units} prompts"]
    lo, hi = stats.samples
    notes.append(f"{lo} sample{'s' if lo != 1 else ''} per prompt" if lo == hi else f"{lo}–{hi} samples per prompt")
    if stats.unscorable_rows:
        notes.append(f"{stats.unscorable_rows} unscorable rows (left out of every metric, never counted as 0)")
    parts.append(f'<p class="note">{_e("; ".join(notes))}.</p></section>')
    return "".join(parts)


def _checks(report: Report) -> str:
    checks = report.stats.checks
    if not checks:
        return ""
    has_loose = any(c.loose is not None for c in checks)
    shown = checks[:MAX_CHART_CHECKS]
    parts = ['<section id="checks"><h2>Per-check accuracy</h2>']
    if len(checks) > len(shown):
        parts.append(
            f'<p class="note">Chart shows the {len(shown)} weakest of {len(checks)} checks; the table has all.</p>'
        )
    parts.append(interval_bars([(f"{c.name} ({c.judged})", c.accuracy) for c in shown]))
    head = "<th>check</th><th>category</th><th class=num>accuracy</th><th class=num>95% CI</th>"
    if has_loose:
        head += "<th class=num>loose</th>"
    head += "<th class=num>pass</th><th class=num>fail</th><th class=num>unscorable</th>"
    parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>")
    for c in checks:
        loose = f"<td class=num>{pct(c.loose.estimate)}</td>" if has_loose and c.loose is not None else ""
        parts.append(
            f"<tr><td>{_e(c.name)}</td><td>{_e(c.category)}</td><td class=num>{pct(c.accuracy.estimate)}</td>"
            f"<td class=num>{pct_interval(c.accuracy)}</td>{loose}<td class=num>{c.passed}</td>"
            f"<td class=num>{c.failed}</td><td class=num>{c.unscorable}</td></tr>"
        )
    parts.append("</tbody></table></section>")
    return "".join(parts)


def _categories(report: Report) -> str:
    stats = report.stats
    if len(stats.categories) < 2 and not stats.groups:
        return ""
    parts = ['<section id="categories"><h2>By category</h2>']
    if len(stats.categories) >= 2:
        parts.append(interval_bars([(f"{c.name} ({c.judged})", c.accuracy) for c in stats.categories]))
    for field, groups in stats.groups.items():
        if not groups:
            continue
        metric = display_name(groups[0].metric)
        parts.append(f"<h3>{_e(field)} <span class=note>({_e(metric)})</span></h3>")
        parts.append(interval_bars([(f"{g.value} ({g.rows})", g.interval) for g in groups]))
    parts.append("</section>")
    return "".join(parts)


def _curve(report: Report) -> str:
    series = []
    if report.stats.curve:
        series.append((report.run.name, [(p.k, p.interval) for p in report.stats.curve]))
    if report.other_stats is not None and report.other_stats.curve and report.other is not None:
        series.append((report.other.name, [(p.k, p.interval) for p in report.other_stats.curve]))
    if not series:
        return ""
    parts = ['<section id="curve"><h2>pass@k</h2>', curve_chart(series)]
    parts.append(
        "<table><thead><tr><th class=num>k</th><th class=num>pass@k</th><th class=num>95% CI</th></tr></thead><tbody>"
    )
    for p in report.stats.curve:
        parts.append(
            f"<tr><td class=num>{p.k}</td><td class=num>{pct(p.interval.estimate)}</td>"
            f"<td class=num>{pct_interval(p.interval)}</td></tr>"
        )
    parts.append("</tbody></table>")
    parts.append(
        '<p class="note">Unbiased pass@k over each prompt\'s samples; a sample passes when it meets'
        " the suite's main criterion.</p></section>"
    )
    return "".join(parts)


def _prompt_snippet(report: Report, unit: str) -> str:
    prompt = report.prompts.get(unit, "")
    return prompt if len(prompt) <= 160 else prompt[:159] + "…"


def _comparison(report: Report) -> str:
    cmp, other = report.comparison, report.other
    if cmp is None or other is None:
        return ""
    a, b = report.run.name, other.name
    parts = [f'<section id="compare"><h2>Comparison: {_e(a)} (A) vs {_e(b)} (B)</h2>']
    parts.append(
        f'<p class="note">Differences are A − B over the {cmp.common_units} prompts scored in both runs'
        f" ({cmp.only_a} only in A, {cmp.only_b} only in B). Paired bootstrap interval"
        f" and two-sided permutation test ({cmp.settings.get('n_permutations')} permutations).</p>"
    )
    parts.append(
        "<table><thead><tr><th>metric</th><th class=num>A</th><th class=num>B</th><th class=num>A − B</th>"
        "<th class=num>95% CI</th><th class=num>p</th></tr></thead><tbody>"
    )
    for m in cmp.metrics:
        t = m.test
        ci = "—" if math.isnan(t.diff.low) else f"{signed_pct(t.diff.low)} to {signed_pct(t.diff.high)}"
        p = "—" if math.isnan(t.p_value) else f"{t.p_value:.3g}"
        parts.append(
            f'<tr data-metric="{_e(m.name)}"><td>{_e(display_name(m.name))}</td><td class=num>{pct(t.a)}</td>'
            f"<td class=num>{pct(t.b)}</td><td class=num>{signed_pct(t.diff.estimate)}</td>"
            f"<td class=num>{ci}</td><td class=num>{p}</td></tr>"
        )
    parts.append("</tbody></table>")
    if cmp.metrics:
        parts.append(diff_chart([(display_name(m.name), m.test.diff) for m in cmp.metrics]))
    for title, flips, css in (
        (f"Now passing in A (failed in B): {len(cmp.gained)}", cmp.gained, "pass"),
        (f"Now failing in A (passed in B): {len(cmp.lost)}", cmp.lost, "fail"),
    ):
        parts.append(f'<h3 class="{css}">{_e(title)}</h3>')
        if not flips:
            parts.append('<p class="note">None.</p>')
            continue
        parts.append(
            "<table><thead><tr><th>prompt</th><th class=num>A pass rate</th><th class=num>B pass rate</th>"
            "<th>text</th></tr></thead><tbody>"
        )
        for f in flips:
            parts.append(
                f"<tr><td>{_e(f.unit)}</td><td class=num>{pct(f.rate_a, 0)}</td><td class=num>{pct(f.rate_b, 0)}</td>"
                f"<td>{_e(_prompt_snippet(report, f.unit))}</td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append("</section>")
    return "".join(parts)


def _failure(f: Failure) -> str:
    names = [name for name, _, _ in f.items]
    search = " ".join([f.unit, f.prompt, f.response, *names, *(r for _, _, r in f.items)]).lower()
    tags = "".join(f'<span class="tag {_e(o)}">{_e(n)}</span>' for n, o, _ in f.items[:6])
    more = f'<span class="tag">+{len(f.items) - 6}</span>' if len(f.items) > 6 else ""
    reasons = "".join(
        f'<li><span class="{_e(o)}">{_e(o.upper())}</span> <b>{_e(n)}</b>: {_e(r) or "<i>no reason given</i>"}</li>'
        for n, o, r in f.items
    )
    clipped = '<p class="note">Response clipped for display.</p>' if f.clipped else ""
    response = _e(f.response) if f.response else "<i>(empty response)</i>"
    return (
        f'<details class="failure" data-search="{_e(search)}" data-checks="{_e(json.dumps(names))}">'
        f'<summary><span class="{_e(f.outcome)}">{_e(f.outcome.upper())}</span> <b>{_e(f.unit)}</b>'
        f" · sample {f.sample} {tags}{more}</summary>"
        f'<div class="body"><ul class="reasons">{reasons or "<li>no failed check recorded</li>"}</ul>'
        f"<h4>Prompt</h4><pre>{_e(f.prompt) or '<i>(not recorded)</i>'}</pre>"
        f"<h4>Response</h4><pre>{response}</pre>{clipped}</div></details>"
    )


def _failures(report: Report) -> str:
    parts = [f'<section id="failures"><h2>Failures ({report.total_failures})</h2>']
    if not report.failures:
        parts.append('<p class="note">No failed or unscorable sample.</p></section>')
        return "".join(parts)
    if report.total_failures > len(report.failures):
        parts.append(f'<p class="note">Showing the first {len(report.failures)} of {report.total_failures}.</p>')
    names = sorted({n for f in report.failures for n, _, _ in f.items})
    options = "".join(f'<option value="{_e(n)}">{_e(n)}</option>' for n in names)
    parts.append(
        '<div class="toolbar"><input id="failure-filter" type="search" placeholder="Filter by text…" '
        'aria-label="Filter failures by text">'
        '<select id="failure-check" aria-label="Filter failures by check">'
        f'<option value="">all checks</option>{options}</select>'
        '<button id="expand-all" type="button">expand</button><button id="collapse-all" type="button">collapse</button>'
        f'<span class="note"><span id="failure-shown">{len(report.failures)}</span> shown</span></div>'
    )
    parts.append('<div id="failure-list">')
    parts.extend(_failure(f) for f in report.failures)
    parts.append("</div></section>")
    return "".join(parts)


def render_html(report: Report) -> str:
    """The whole report as one HTML document (a string; write it with UTF-8)."""
    facts = "".join(f"<li>{_e(k)}: <b>{_e(v)}</b></li>" for k, v in report.run.describe().items())
    settings = report.stats.settings
    problems = ""
    if report.run.problems:
        items = "".join(f"<li>{_e(p)}</li>" for p in report.run.problems[:50])
        problems = f'<section id="problems"><h2>Problems reading the run</h2><ul>{items}</ul></section>'
    body = "".join(
        [
            _headline(report),
            _comparison(report),
            _checks(report),
            _categories(report),
            _curve(report),
            _failures(report),
            problems,
        ]
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>adhere report · {_e(report.title)}</title><style>{_CSS}</style></head><body>"
        f'<header><h1>{_e(report.title)}</h1><ul class="facts">{facts}</ul></header>'
        f"<main>{body}</main>"
        f"<footer>Made by adhere {_e(__version__)}. Intervals: {int(settings.get('confidence', 0.95) * 100)}% "
        f"percentile bootstrap over prompts, {settings.get('n_resamples')} resamples, seed {settings.get('seed')}."
        " Unscorable samples are left out of every number and counted, never scored 0.</footer>"
        f"<script>{_JS}</script></body></html>\n"
    )
