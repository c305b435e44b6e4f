"""The HTML report: self-contained, offline, escaped, and correct when a real browser renders it."""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adhere.cli import app
from adhere.report import build_report, load_run, render_html

from .conftest import needs_chromium, open_page, write_run

HOSTILE = '</pre><script>console.error("escaped badly")</script><img src="http://127.0.0.1:9/x.png">'


def improved(rows: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """A second run: the first ``n`` strictly failing prompts now follow every instruction."""
    out = copy.deepcopy(rows)
    fixed = 0
    for row in out:
        if fixed < n and not all(i["strict"] for i in row["instructions"]):
            for item in row["instructions"]:
                item["strict"] = item["loose"] = True
            fixed += 1
    return out


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory, reference_rows: list[dict[str, Any]]) -> Path:
    root = tmp_path_factory.mktemp("runs")
    rows = copy.deepcopy(reference_rows)
    failing = next(r for r in rows if not all(i["strict"] for i in r["instructions"]))
    failing["response"] += HOSTILE
    run = write_run(root / "gpt4", rows)
    base = write_run(root / "baseline", improved(reference_rows, 12))
    out = root / "report.html"
    result = CliRunner().invoke(
        app,
        [
            "report",
            str(run),
            "--compare",
            str(base),
            "--html",
            str(out),
            "--resamples",
            "500",
            "--permutations",
            "1000",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "data", "poster", "srcset") and value is not None:
                self.urls.append((tag, name, value))


def test_the_file_references_nothing_outside_itself(report_html: Path) -> None:
    text = report_html.read_text(encoding="utf-8")
    parser = _Links()
    parser.feed(text)
    assert parser.urls == [("link", "href", "data:,")]  # the empty favicon, nothing else
    assert "default-src 'none'" in text  # the browser enforces it too
    assert parser.tags.count("script") == 1  # ours; the hostile response's script is text
    assert "&lt;script&gt;console.error(&quot;escaped badly&quot;)" in text
    assert parser.tags.count("svg") >= 4  # headline forest, checks, categories, comparison


@needs_chromium
def test_chromium_renders_the_headline_numbers_without_errors_or_requests(report_html: Path) -> None:
    probe = """(() => {
        const list = document.querySelectorAll('details.failure');
        const select = document.getElementById('failure-check');
        select.value = 'punctuation:no_comma';
        select.dispatchEvent(new Event('change'));
        const visible = Array.from(list).filter(e => !e.hidden).length;
        const hostile = document.getElementById('failure-list').textContent.includes('escaped badly');
        return {total: list.length, visible: visible, hostile: hostile,
                shown: document.getElementById('failure-shown').textContent,
                cards: Array.from(document.querySelectorAll('.card .value')).map(e => e.textContent)};
    })()"""
    page = open_page(report_html, probe)
    assert page.errors == []
    assert page.requests == [report_html.resolve().as_uri()]  # the document itself, nothing else
    assert page.values["cards"] == ["77.1%", "83.7%", "79.7%", "85.6%"]
    for text in ("Prompt-level strict", "Instruction-level loose", "95% CI", "Comparison", "Failures (124)"):
        assert text in page.text
    # The comparison: the baseline fixed 12 prompts, so A − B is −12/541 = −2.2 pp.
    assert "-2.2 pp" in page.text and "Now failing in A (passed in B): 12" in page.text
    # The failure filter works in the browser and only keeps no_comma failures.
    assert page.values["total"] == 124
    assert 0 < page.values["visible"] < 124 and page.values["shown"] == str(page.values["visible"])
    assert page.values["hostile"] is True  # the hostile response is text in the page, never run


@needs_chromium
def test_the_browser_check_catches_errors_and_requests(tmp_path: Path) -> None:
    """The harness itself can fail: a page with a console error, an exception and a fetch."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!doctype html><html><head><meta charset="utf-8"><title>bad</title></head><body><p>hello</p>'
        '<img src="http://127.0.0.1:9/pixel.png"><script>console.error("boom"); undefinedFunction();</script>'
        "</body></html>"
    )
    page = open_page(bad)
    assert any("boom" in e for e in page.errors)
    assert any("undefinedFunction" in e for e in page.errors)
    assert "http://127.0.0.1:9/pixel.png" in page.requests
    assert page.text.strip() == "hello"


def test_report_is_deterministic_for_a_seed(tmp_path: Path, reference_rows: list[dict[str, Any]]) -> None:
    run = load_run(write_run(tmp_path / "r", reference_rows[:120]))
    first = render_html(build_report(run, n_resamples=200, seed=3))
    assert first == render_html(build_report(run, n_resamples=200, seed=3))
    assert first != render_html(build_report(run, n_resamples=200, seed=4))


def test_large_and_binary_responses_are_clipped_and_escaped(tmp_path: Path) -> None:
    rows = [
        {
            "key": i,
            "prompt": "p",
            "response": ("\x00\ufffd<b>" * 20_000) if i == 0 else "ok",
            "verdict": {
                "check": "length.words",
                "outcome": "fail" if i == 0 else "pass",
                "score": float(i != 0),
                "reason": "too long",
            },
        }
        for i in range(6)
    ]
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "results.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    html = render_html(build_report(load_run(tmp_path / "r"), n_resamples=100))
    assert "Response clipped for display." in html
    body = html.split("<main>")[1]
    assert "&lt;b&gt;" in body and "<b>" not in body.split("<h4>Response</h4>")[1]
    assert "\x00" not in html  # control characters are replaced, not sent to the browser
    assert len(html) < 200_000


def test_code_runs_get_a_pass_at_k_curve_and_a_comparison_of_curves(tmp_path: Path) -> None:
    import numpy as np

    def rows(shift: float) -> list[dict[str, Any]]:
        rng = np.random.default_rng(0)
        out = []
        for t in range(25):
            skill = min(1.0, rng.random() * 0.6 + shift)
            for s in range(10):
                passed = bool(rng.random() < skill)
                test = {"set": "base", "index": 0, "status": "passed" if passed else "failed", "reason": "wrong"}
                out.append(
                    {
                        "task_id": f"HumanEval/{t}",
                        "sample": s,
                        "passed": passed,
                        "status": test["status"],
                        "tests": [test],
                        "verdict": {
                            "check": "code.humaneval",
                            "outcome": "pass" if passed else "fail",
                            "score": float(passed),
                        },
                    }
                )
        return out

    for name, shift in (("a", 0.3), ("b", 0.0)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.jsonl").write_text("\n".join(json.dumps(r) for r in rows(shift)))
    report = build_report(load_run(tmp_path / "a"), load_run(tmp_path / "b"), n_resamples=200, n_permutations=300)
    html = render_html(report)
    assert [p.k for p in report.stats.curve] == list(range(1, 11))
    assert '<section id="curve">' in html and html.count("<polyline") == 2  # A and B
    names = [m.name for m in report.stats.headline]
    assert names == ["pass@1", "pass@10"]
    assert "base[0]" in html  # the failed test is named in the failure list
    parser = _Links()
    parser.feed(html)
    assert parser.urls == [("link", "href", "data:,")]
