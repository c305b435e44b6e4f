"""``adhere report``: terminal tables, Markdown, JSON, comparisons and bad input, through the real CLI."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adhere.cli import app
from adhere.errors import DatasetError
from adhere.report import load_run

from .conftest import write_run

FAST = ["--resamples", "300", "--permutations", "500"]


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["report", *args])


def test_terminal_markdown_and_json_show_the_same_numbers(tmp_path: Path, reference_rows: list[dict[str, Any]]) -> None:
    run = write_run(tmp_path / "run", reference_rows)
    md, js = tmp_path / "out" / "r.md", tmp_path / "out" / "r.json"
    result = invoke(str(run), "--markdown", str(md), "--json", str(js), *FAST)
    assert result.exit_code == 0, result.output
    for value in ("77.1%", "83.7%", "79.7%", "85.6%"):
        assert value in result.output
        assert value in md.read_text()
    assert "124 failed or unscorable samples" in result.output
    markdown = md.read_text()
    assert "| Prompt-level strict | 77.1% |" in markdown
    assert "## Failures (124)" in markdown and "### FAIL `1001` (sample 0)" in markdown
    data = json.loads(js.read_text())
    headline = {m["name"]: m for m in data["statistics"]["headline"]}
    assert round(headline["prompt_strict"]["estimate"], 5) == 0.77079
    assert headline["prompt_strict"]["low"] < 0.77079 < headline["prompt_strict"]["high"]
    assert data["statistics"]["settings"]["n_resamples"] == 300
    assert data["run"]["model"] == "openai:gpt-4"


def test_compare_reports_paired_differences_and_flips(tmp_path: Path, reference_rows: list[dict[str, Any]]) -> None:
    worse = copy.deepcopy(reference_rows)
    broken = []
    for row in worse:
        if len(broken) < 30 and all(i["strict"] for i in row["instructions"]):
            row["instructions"][0]["strict"] = row["instructions"][0]["loose"] = False
            broken.append(str(row["key"]))
    a = write_run(tmp_path / "a", worse)
    b = write_run(tmp_path / "b", reference_rows)
    js = tmp_path / "cmp.json"
    md = tmp_path / "cmp.md"
    result = invoke(str(a), "--compare", str(b), "--json", str(js), "--markdown", str(md), *FAST)
    assert result.exit_code == 0, result.output
    assert "30 now failing in A" in result.output and "0 now passing in A" in result.output
    cmp = json.loads(js.read_text())["compare"]["comparison"]
    assert sorted(f["unit"] for f in cmp["lost"]) == sorted(broken)
    prompt = next(m for m in cmp["metrics"] if m["name"] == "prompt_strict")
    assert prompt["diff"]["estimate"] == pytest.approx(-30 / 541)
    assert prompt["diff"]["high"] < 0 and prompt["p_value"] < 0.01
    assert "| Prompt-level strict | 71.5% | 77.1% | -5.5 pp |" in md.read_text()


def test_a_killed_run_with_a_torn_last_line_still_reports(tmp_path: Path, reference_rows: list[dict[str, Any]]) -> None:
    run = write_run(tmp_path / "run", reference_rows[:50])
    with open(run / "results.jsonl", "a") as f:
        f.write(json.dumps(reference_rows[0]) + "\n")  # a duplicate of a row already there
        f.write('{"key": 9999, "instructions": [{"id": "x", "str')  # cut by SIGKILL
    data = load_run(run)
    assert len(data.rows) == 50
    assert any("duplicate" in p for p in data.problems) and any(":52:" in p for p in data.problems)
    result = invoke(str(run), *FAST)
    assert result.exit_code == 0 and "warning:" in result.output


def test_bad_input_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    result = invoke(str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "no results.jsonl" in result.output
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "results.jsonl").write_text("not json\n")
    result = invoke(str(tmp_path / "empty"))
    assert result.exit_code == 2 and "no result rows" in result.output
    with pytest.raises(DatasetError):
        load_run(tmp_path / "empty")


def test_report_on_a_real_run_of_the_demo_suite(tmp_path: Path) -> None:
    """``adhere eval demo`` writes a run; ``adhere report`` reads it and agrees with its summary."""
    out = tmp_path / "demo"
    made = CliRunner().invoke(app, ["eval", "demo", "--out", str(out)])
    assert made.exit_code == 0, made.output
    summary = json.loads((out / "summary.json").read_text())
    js = tmp_path / "demo.json"
    result = invoke(str(out), "--json", str(js), "--html", str(tmp_path / "demo.html"), *FAST)
    assert result.exit_code == 0, result.output
    data = json.loads(js.read_text())
    headline = {m["name"]: m for m in data["statistics"]["headline"]}
    assert headline["pass_rate"]["estimate"] == pytest.approx(summary["pass_rate"])
    assert data["failures"] == summary["failed"] + summary["unscorable"]
    assert data["run"]["suite"] == "demo"
