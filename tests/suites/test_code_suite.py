"""The code suites' behaviour: responses, pairing, rows, summaries, the CLI run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adhere.errors import DatasetError
from adhere.run import EvalRequest, run_eval
from adhere.suites.base import Pair, ResponseRow, get_suite

DATA = Path(__file__).parents[2] / ".." / "shared" / "data"
HUMANEVAL = DATA / "humaneval" / "HumanEval.jsonl.gz"
MBPP_SANITIZED = DATA / "mbpp" / "sanitized-mbpp.json"


@pytest.fixture(scope="module")
def humaneval() -> Any:
    suite = get_suite("humaneval")
    suite.samples = suite.load(str(HUMANEVAL))
    return suite


def test_parse_response_shapes(humaneval: Any) -> None:
    r = humaneval.parse_response({"task_id": "HumanEval/0", "completion": "    return True\n"}, 1)
    assert r.key == "HumanEval/0" and not r.raw["whole"]
    r = humaneval.parse_response({"task_id": "HumanEval/0", "solution": "def f(): pass", "sample_index": 3}, 2)
    assert r.raw["whole"] and r.sample_index == 3
    bad_rows: list[dict[str, Any]] = [
        {"completion": "x"},
        {"task_id": "HumanEval/0"},
        {"task_id": True, "completion": "x"},
        {"task_id": "HumanEval/0", "completion": 3},
        {"task_id": "x", "completion": "y", "sample_index": -1},
    ]
    for bad in bad_rows:
        with pytest.raises(DatasetError):
            humaneval.parse_response(bad, 7)


def test_pairing_ranks_samples_and_reports_problems(humaneval: Any) -> None:
    rows = [
        humaneval.parse_response({"task_id": "HumanEval/1", "completion": "a"}, 1),
        humaneval.parse_response({"task_id": "HumanEval/1", "completion": "b"}, 2),
        humaneval.parse_response({"task_id": "HumanEval/999", "completion": "c"}, 3),
    ]
    pairs, problems = humaneval.pair(humaneval.samples[:3], rows)
    by_task = [(p.sample.key, p.response.sample_index if p.response else None) for p in pairs]
    assert by_task == [("HumanEval/0", None), ("HumanEval/1", 0), ("HumanEval/1", 1), ("HumanEval/2", None)]
    assert any("unknown task 'HumanEval/999'" in p for p in problems)
    assert any("'HumanEval/0' has no response" in p for p in problems)


def test_rows_and_summary(humaneval: Any) -> None:
    task = humaneval.samples[0]
    body = task.payload.canonical[len(task.prompt) :]
    responses = [body, "    return None\n", "```python\n" + task.payload.canonical + "\n```", "    return (\n"]
    pairs = [Pair(task, ResponseRow(text=t, key=task.key, sample_index=i, raw={"whole": False}))
             for i, t in enumerate(responses)]  # fmt: skip
    pairs.append(Pair(humaneval.samples[1], None))
    rows = list(humaneval.score(pairs))
    assert [r["passed"] for r in rows] == [True, False, True, False, False]
    assert [r["status"] for r in rows] == ["passed", "failed", "passed", "error", "failed"]
    first = rows[0]
    assert set(first) >= {"task_id", "sample", "passed", "status", "tests", "verdict"}
    assert all(t["status"] == "passed" and t["set"] == "base" for t in first["tests"])
    assert first["verdict"]["outcome"] == "pass" and first["verdict"]["children"][0]["check"] == "code.base"
    assert rows[3]["reason"].startswith("the program did not load: SyntaxError")
    assert rows[4]["reason"] == "no response for this task"
    summary = humaneval.summarize(rows)
    assert summary["pass@1"] == pytest.approx((2 / 4 + 0) / 2)
    assert summary["statuses"] == {"error": 1, "failed": 2, "passed": 2}


def test_unscorable_rows_stay_out_of_pass_at_k(humaneval: Any) -> None:
    rows = [
        {"task_id": "a", "sample": 0, "passed": True, "status": "passed"},
        {"task_id": "a", "sample": 1, "passed": None, "status": "unscorable"},
        {"task_id": "b", "sample": 0, "passed": False, "status": "failed"},
    ]
    summary = humaneval.summarize(rows)
    assert summary["unscorable"] == 1 and summary["pass@1"] == pytest.approx(0.5)


def test_mbpp_sanitized_runs_and_counts_its_rewrites() -> None:
    suite = get_suite("mbpp-sanitized")
    samples = suite.load(str(MBPP_SANITIZED))
    assert len(samples) == 427
    fallback = [s.key for s in samples if s.payload.rewrite.asserts]
    assert fallback == [596]  # compares with sys.getsizeof(...) of the sandbox's own objects
    s = samples[0]
    rows = list(suite.score([Pair(s, ResponseRow(text=s.payload.canonical, key=s.key, raw={"whole": True}))]))
    assert rows[0]["passed"] is True


def test_wrong_dataset_format_is_a_clear_error() -> None:
    with pytest.raises(DatasetError, match="no usable task"):
        get_suite("humaneval+").load(str(HUMANEVAL))
    with pytest.raises(DatasetError, match="lack the base/plus split"):
        get_suite("mbpp+").load(None)


def test_the_eval_command_writes_a_run(tmp_path: Path) -> None:
    responses = tmp_path / "responses.jsonl"
    rows = [json.loads(line) for line in __import__("gzip").open(HUMANEVAL, "rt")][:5]
    with responses.open("w") as f:
        for r in rows:
            f.write(json.dumps({"task_id": r["task_id"], "completion": r["canonical_solution"]}) + "\n")
            f.write(json.dumps({"task_id": r["task_id"], "completion": "    pass\n"}) + "\n")
    outcome = run_eval(EvalRequest("humaneval", tmp_path / "run", data=str(HUMANEVAL), responses=responses, limit=5))
    assert outcome.rows == 10 and outcome.summary["pass@1"] == pytest.approx(0.5)
    written = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert sorted((r["task_id"], r["sample"], r["passed"]) for r in written)[:2] == [
        ("HumanEval/0", 0, True), ("HumanEval/0", 1, False),
    ]  # fmt: skip
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["pass@1"] == pytest.approx(0.5)
