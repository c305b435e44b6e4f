"""Comparing two runs: paired tests per metric and the exact list of flipped prompts."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from adhere.metrics import compare_runs, headline_metrics


def with_flags(rows: list[dict[str, Any]], strict_for: dict[Any, bool]) -> list[dict[str, Any]]:
    out = copy.deepcopy(rows)
    for row in out:
        if row["key"] in strict_for:
            for item in row["instructions"]:
                item["strict"] = item["loose"] = strict_for[row["key"]]
    return out


def test_flips_are_exactly_the_changed_prompts(ifeval_rows: list[dict[str, Any]]) -> None:
    base = ifeval_rows
    strict_pass = {r["key"]: all(i["strict"] for i in r["instructions"]) for r in base}
    failing = [k for k, ok in strict_pass.items() if not ok][:7]
    passing = [k for k, ok in strict_pass.items() if ok][:3]
    new = with_flags(base, {**dict.fromkeys(failing, True), **dict.fromkeys(passing, False)})
    cmp = compare_runs(new, base, n_permutations=2000, n_resamples=500)
    assert sorted(f.unit for f in cmp.gained) == sorted(str(k) for k in failing)
    assert sorted(f.unit for f in cmp.lost) == sorted(str(k) for k in passing)
    assert all(f.a == "pass" and f.b == "fail" for f in cmp.gained)
    assert cmp.common_units == 541 and cmp.only_a == cmp.only_b == 0
    prompt = next(m for m in cmp.metrics if m.name == "prompt_strict")
    assert prompt.test.diff.estimate == pytest.approx(4 / 541)
    assert prompt.test.a - prompt.test.b == pytest.approx(4 / 541)
    assert prompt.test.n_units == 541
    assert 0 < prompt.test.p_value <= 1
    assert cmp.settings["direction"] == "A - B"


def test_comparison_uses_only_common_prompts(ifeval_rows: list[dict[str, Any]]) -> None:
    a = ifeval_rows[:300]
    b = ifeval_rows[100:]
    cmp = compare_runs(a, b, n_permutations=500, n_resamples=200)
    assert (cmp.common_units, cmp.only_a, cmp.only_b) == (200, 100, 241)
    prompt = next(m for m in cmp.metrics if m.name == "prompt_strict")
    assert prompt.test.n_units == 200
    assert prompt.test.diff.estimate == 0 and prompt.test.p_value == 1.0
    assert cmp.gained == [] and cmp.lost == []
    # The paired values are those of the common prompts, not of each whole run.
    common = headline_metrics(ifeval_rows[100:300])[0].value
    assert prompt.test.a == pytest.approx(common)


def test_majority_rule_with_several_samples() -> None:
    def rows(flags: dict[str, list[bool]]) -> list[dict[str, Any]]:
        return [
            {"task_id": t, "sample": s, "passed": f, "verdict": {"check": "c", "outcome": "pass" if f else "fail"}}
            for t, fs in flags.items()
            for s, f in enumerate(fs)
        ]

    a = rows({"t1": [True, True, False], "t2": [False, False, True], "t3": [True, False], "t4": [True, True, True]})
    b = rows({"t1": [False, False, False], "t2": [True, True, True], "t3": [False, False], "t4": [True, True, False]})
    cmp = compare_runs(a, b, n_permutations=200, n_resamples=100)
    assert [f.unit for f in cmp.gained] == ["t1"]
    assert [f.unit for f in cmp.lost] == ["t2"]  # t3 is mixed in A: not a flip
    flip = cmp.gained[0]
    assert (flip.rate_a, flip.rate_b, flip.samples_a, flip.samples_b) == (2 / 3, 0.0, 3, 3)
    names = [m.name for m in cmp.metrics]
    assert names == ["pass@1"]  # k = 1, 10, 100 where every task has k samples: only 1
