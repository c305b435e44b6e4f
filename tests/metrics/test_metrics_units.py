"""Result rows → headline metrics, breakdowns and curves, checked against the suites'
own summaries and the published reference numbers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from adhere.metrics import headline_metrics, run_statistics
from adhere.metrics.breakdown import category_stats, check_stats, group_stats
from adhere.metrics.passk import summarize_pass_at_k
from adhere.metrics.stats import curve_ks
from adhere.metrics.units import detect_layout, primary_outcomes, row_failures


def by_name(rows: list[dict[str, Any]], summary: dict[str, Any] | None = None) -> dict[str, float]:
    return {m.name: m.value for m in headline_metrics(rows, summary)}


def test_ifeval_headline_equals_the_published_reference(ifeval_rows: list[dict[str, Any]]) -> None:
    values = by_name(ifeval_rows)
    assert detect_layout(ifeval_rows) == "instructions"
    assert round(values["prompt_strict"], 5) == 0.77079
    assert round(values["inst_strict"], 5) == 0.83693
    assert round(values["prompt_loose"], 5) == 0.79667
    assert round(values["inst_loose"], 5) == 0.85612


def test_ifeval_statistics_agree_with_the_suite_summary(ifeval_rows: list[dict[str, Any]]) -> None:
    from adhere.suites import get_suite

    summary = get_suite("ifeval").summarize(ifeval_rows)
    stats = run_statistics(ifeval_rows, summary, n_resamples=300)
    for name in ("prompt_strict", "inst_strict", "prompt_loose", "inst_loose"):
        metric = stats.metric(name)
        assert metric is not None and metric.interval.estimate == pytest.approx(summary[name])
        assert metric.interval.low < metric.interval.estimate < metric.interval.high
    assert stats.units == 541 and stats.rows == 541 and stats.unscorable_rows == 0
    per = summary["per_instruction"]
    assert {c.name for c in stats.checks} == set(per)
    for c in stats.checks:
        assert c.judged == per[c.name]["n"]
        assert c.accuracy.estimate == pytest.approx(per[c.name]["strict"])
        assert c.loose is not None and c.loose.estimate == pytest.approx(per[c.name]["loose"])
    # Worst check first; categories add up to all 834 instructions.
    assert [c.accuracy.estimate for c in stats.checks] == sorted(c.accuracy.estimate for c in stats.checks)
    assert sum(c.judged for c in stats.categories) == 834
    assert stats.curve == []  # one sample per prompt: no pass@k curve


def test_unscorable_rows_are_left_out_and_counted(ifeval_rows: list[dict[str, Any]]) -> None:
    rows = [dict(r) for r in ifeval_rows[:100]]
    failed_generation = {
        "key": "gen-error",
        "instructions": [{"id": "punctuation:no_comma", "strict": None, "loose": None, "reason": "HTTP 400"}],
        "verdict": {"check": "model.generate", "outcome": "unscorable", "score": None},
        "error": "HTTP 400: context too long",
    }
    metrics = {m.name: m for m in headline_metrics([*rows, failed_generation])}
    clean = {m.name: m for m in headline_metrics(rows)}
    for name, metric in metrics.items():
        assert metric.value == clean[name].value  # not folded into 0
        assert metric.excluded == 1 and "gen-error" not in metric.units
    assert row_failures(failed_generation, "instructions")[0] == (
        "model.generate",
        "unscorable",
        "HTTP 400: context too long",
    )


def test_several_samples_per_prompt_and_the_pass_curve(ifeval_rows: list[dict[str, Any]]) -> None:
    """Three 'samples' per prompt: the same rows with different strict flags."""
    rng = np.random.default_rng(0)
    rows = []
    for row in ifeval_rows[:200]:
        for sample in range(3):
            items = [{**i, "strict": bool(rng.random() < 0.8), "loose": True} for i in row["instructions"]]
            rows.append({**row, "sample": sample, "instructions": items})
    stats = run_statistics(rows, n_resamples=200)
    assert stats.samples == (3, 3) and stats.units == 200 and stats.rows == 600
    outcomes = primary_outcomes(rows)
    expected = summarize_pass_at_k(outcomes, (1, 2, 3))
    assert [p.k for p in stats.curve] == [1, 2, 3]
    for point in stats.curve:
        assert point.interval.estimate == pytest.approx(expected[f"pass@{point.k}"])
    assert stats.curve[0].interval.estimate == pytest.approx(stats.headline[0].interval.estimate)
    assert stats.curve[0].interval.estimate < stats.curve[2].interval.estimate


def code_rows(n_tasks: int = 30, n: int = 12, seed: int = 1) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(n_tasks):
        skill = rng.random()
        for s in range(n):
            passed = bool(rng.random() < skill)
            base = passed or bool(rng.random() < 0.3)
            rows.append(
                {
                    "task_id": f"HumanEval/{t}",
                    "sample": s,
                    "passed": passed,
                    "base_passed": base,
                    "status": "passed" if passed else "failed",
                    "tests": [],
                    "verdict": {
                        "check": "code.humaneval+",
                        "outcome": "pass" if passed else "fail",
                        "score": float(passed),
                    },
                }
            )
    return rows


def test_code_pass_at_k_equals_the_estimator_and_skips_unscorable() -> None:
    rows = code_rows()
    rows.append(
        {
            "task_id": "HumanEval/0",
            "sample": 99,
            "passed": None,
            "status": "unscorable",
            "verdict": {"check": "code", "outcome": "unscorable", "score": None},
        }
    )
    assert detect_layout(rows) == "code"
    metrics = {m.name: m for m in headline_metrics(rows)}
    flags = primary_outcomes(rows)
    assert len(flags["HumanEval/0"]) == 12
    expected = summarize_pass_at_k(flags, (1, 10, 100))
    assert set(expected) == {"pass@1", "pass@10"}
    assert metrics["pass@1"].value == pytest.approx(expected["pass@1"])
    assert metrics["pass@10"].value == pytest.approx(expected["pass@10"])
    assert metrics["pass@1"].excluded == 1
    assert "base_pass@1" in metrics and metrics["base_pass@1"].value >= metrics["pass@1"].value
    assert "pass@100" not in metrics
    stats = run_statistics(rows, n_resamples=200)
    assert [p.k for p in stats.curve] == list(range(1, 13))


def test_eff_at_k_from_efficiency_scores() -> None:
    rows = []
    for t in range(5):
        for s, e in enumerate([0.0, 0.25 * t, 0.5, 0.1]):
            rows.append({"task_id": t, "sample": s, "passed": e > 0, "efficiency": e})
    metrics = {m.name: m.value for m in headline_metrics(rows)}
    from adhere.metrics.effk import eff_at_k

    expected = np.mean([eff_at_k([0.0, 0.25 * t, 0.5, 0.1], 1) for t in range(5)])
    assert metrics["eff@1"] == pytest.approx(expected)


def test_muldimif_layout_matches_the_suite_summary() -> None:
    from adhere.suites.muldimif import muldimif_summary

    rng = np.random.default_rng(4)
    rows = []
    for i in range(120):
        cons = []
        for _ in range(int(rng.integers(1, 5))):
            outcome = str(rng.choice(["pass", "fail", "unscorable"], p=[0.6, 0.3, 0.1]))
            cat = str(rng.choice(["Length", "Format", "Content"]))
            cons.append(
                {
                    "category": cat,
                    "subcategory": "x",
                    "family": f"{cat.lower()}_x",
                    "outcome": outcome,
                    "reason": "synthetic",
                }
            )
        rows.append(
            {
                "key": i,
                "constraint_pattern": str(rng.choice(["Listing", "Example"])),
                "difficulty": f"Level {i % 4 + 1}",
                "constraints": cons,
                "verdict": {"check": "all", "outcome": "fail", "score": 0.0},
            }
        )
    summary = muldimif_summary(rows)
    values = by_name(rows)
    for name in ("overall", "macro", "micro"):
        assert values[name] == pytest.approx(summary[name])
    groups = group_stats(rows, n_resamples=100)
    assert set(groups) == {"constraint_pattern", "difficulty"}
    for g in groups["difficulty"]:
        assert g.metric == "overall"
        assert g.interval.estimate == pytest.approx(summary["level"][g.value]["overall"])
    assert [g.value for g in groups["difficulty"]] == ["Level 1", "Level 2", "Level 3", "Level 4"]
    cats = {c.name: c for c in category_stats(rows, n_resamples=100)}
    assert set(cats) == {"Length", "Format", "Content"}


def test_verdict_layout_and_boolean_summary_fields() -> None:
    rows = []
    for i in range(40):
        outcome = ["pass", "fail", "unscorable"][i % 3]
        leaf = {
            "check": "length.words",
            "outcome": outcome,
            "score": None if outcome == "unscorable" else 1.0,
            "reason": f"found {i} words",
        }
        other = {"check": "punctuation.no_comma", "outcome": "pass", "score": 1.0, "reason": "no commas"}
        rows.append(
            {
                "key": i,
                "strict": i % 2 == 0,
                "lenient": True,
                "verdict": {"check": "all", "outcome": outcome, "score": leaf["score"], "children": [leaf, other]},
            }
        )
    summary = {"n": 40, "strict": 0.5, "lenient": 1.0, "chance": 0.25}
    metrics = {m.name: m for m in headline_metrics(rows, summary)}
    assert detect_layout(rows) == "verdict"
    assert set(metrics) == {"pass_rate", "strict", "lenient"}
    assert metrics["pass_rate"].value == 14 / 27 and metrics["pass_rate"].excluded == 13
    assert metrics["strict"].value == 0.5 and metrics["lenient"].value == 1.0
    checks = {c.name: c for c in check_stats(rows, n_resamples=100)}
    assert (checks["length.words"].passed, checks["length.words"].failed, checks["length.words"].unscorable) == (
        14,
        13,
        13,
    )
    assert checks["punctuation.no_comma"].accuracy.estimate == 1.0
    failures = row_failures(rows[1], "verdict")
    assert failures == [("length.words", "fail", "found 1 words")]


def test_curve_ks() -> None:
    assert curve_ks(1) == [1]
    assert curve_ks(20) == list(range(1, 21))
    ks = curve_ks(200)
    assert ks[:10] == list(range(1, 11)) and ks[-1] == 200 and len(ks) < 25
    assert ks == sorted(set(ks))


def test_statistics_serialise_to_json(ifeval_rows: list[dict[str, Any]]) -> None:
    import orjson

    stats = run_statistics(ifeval_rows[:50], n_resamples=100)
    data = orjson.loads(orjson.dumps(stats.to_dict()))
    assert data["headline"][0]["name"] == "prompt_strict"
    assert data["settings"] == {"seed": 0, "n_resamples": 100, "confidence": 0.95, "method": "percentile"}
    assert not any(isinstance(v, float) and math.isnan(v) for v in data["headline"][0].values())
