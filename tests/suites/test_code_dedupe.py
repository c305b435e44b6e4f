"""Code suites run each distinct (task, program) once and queue the longest jobs first:
the rows must be exactly those of running every sample itself, in file order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adhere.sandbox import Job, LocalExecutor, dedupe_default
from adhere.suites.base import Pair, ResponseRow
from adhere.suites.code import CodeSuite, HumanEvalPlusSuite, HumanEvalSuite

DATA = Path(__file__).parents[2] / ".." / "shared" / "data"
HUMANEVAL = DATA / "humaneval" / "HumanEval.jsonl.gz"
HUMANEVAL_PLUS = DATA / "evalplus" / "HumanEvalPlus-v0.1.10.jsonl.gz"
PLUS_TASKS = ("HumanEval/0", "HumanEval/2", "HumanEval/15", "HumanEval/53")


class _RecordingExecutor(LocalExecutor):
    """The real pool, remembering the order jobs were handed to it."""

    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[Job] = []

    def submit(self, job: Job) -> Any:
        self.submitted.append(job)
        return super().submit(job)


@pytest.fixture(scope="module")
def pool() -> Any:
    with _RecordingExecutor() as ex:
        yield ex


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    """A row without what differs between two runs of the same program: durations, and the
    tests after a set's first failure (the child goes on until the stop request reaches it)."""
    out = {k: v for k, v in row.items() if k not in ("tests", "verdict")}
    tests, stopped = [], set()
    for t in row["tests"]:
        if t["set"] not in stopped:
            tests.append((t["set"], t["index"], t["status"], t.get("reason", "")))
        if t["status"] != "passed":
            stopped.add(t["set"])
    out["tests"] = tests
    out["children"] = [(c["check"], c["outcome"], c["evidence"]["status"]) for c in row["verdict"].get("children", [])]
    return out


def _suite(cls: type[CodeSuite], pool: Any, data: Path, dedupe: bool) -> tuple[Any, dict[Any, Any]]:
    suite = cls(executor=pool, dedupe=dedupe)
    return suite, {s.key: s for s in suite.load(str(data))}


def _programs(sample: Any) -> list[tuple[str, bool]]:
    """(text, whole) responses for one task; some spell the same program two ways."""
    prompt, canonical = sample.prompt, sample.payload.canonical
    body = canonical[len(prompt) :]
    return [
        (body, False),
        (canonical, True),  # the same program as `body` after extraction
        ("```python\n" + canonical + "\n```", True),
        ("    return None\n", False),
        ("    return (\n", False),
        ("    raise ValueError('no')\n", False),
    ]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choices=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 5)), min_size=1, max_size=14))
def test_shared_runs_give_the_rows_of_separate_runs(pool: Any, choices: list[tuple[int, int]]) -> None:
    """HumanEval (base tests): any mix of repeated and distinct programs over three tasks."""
    on, samples = _suite(HumanEvalSuite, pool, HUMANEVAL, dedupe=True)
    off, _ = _suite(HumanEvalSuite, pool, HUMANEVAL, dedupe=False)
    tasks = [samples[f"HumanEval/{i}"] for i in (0, 4, 7)]
    pairs = []
    for i, (t, p) in enumerate(choices):
        text, whole = _programs(tasks[t])[p]
        pairs.append(Pair(tasks[t], ResponseRow(text=text, key=tasks[t].key, sample_index=i, raw={"whole": whole})))
    pairs.append(Pair(tasks[0], None))  # no response: no job, still a row
    rows_on, rows_off = list(on.score(pairs)), list(off.score(pairs))
    assert [_comparable(r) for r in rows_on] == [_comparable(r) for r in rows_off]
    assert [(r["task_id"], r["sample"]) for r in rows_on] == [(p.sample.key, i) for i, p in enumerate(pairs[:-1])] + [
        ("HumanEval/0", 0)
    ]
    distinct = {(p.sample.key, on.program_for(p.sample.payload, p.response)) for p in pairs if p.response}
    assert on.executed == len(distinct) and off.executed == len(pairs) - 1
    assert on.shared == len(pairs) - 1 - len(distinct) and off.shared == 0


def test_plus_suite_shares_runs_and_queues_the_longest_first(pool: Any) -> None:
    on, samples = _suite(HumanEvalPlusSuite, pool, HUMANEVAL_PLUS, dedupe=True)
    off, _ = _suite(HumanEvalPlusSuite, pool, HUMANEVAL_PLUS, dedupe=False)
    pairs: list[Pair] = []
    for key in PLUS_TASKS:
        sample = samples[key]
        for text, whole in _programs(sample)[:4]:
            rank = sum(p.sample.key == key for p in pairs)
            pairs.append(Pair(sample, ResponseRow(text=text, key=key, sample_index=rank, raw={"whole": whole})))
    on.prepare([samples[key].payload for key in PLUS_TASKS])  # reference runs, when not cached yet
    start = len(pool.submitted)
    rows_on = list(on.score(pairs))
    submitted = pool.submitted[start:]
    rows_off = list(off.score(pairs))
    assert [_comparable(r) for r in rows_on] == [_comparable(r) for r in rows_off]
    assert [r["base_passed"] and r["plus_passed"] for r in rows_on] == [True, True, True, False] * len(PLUS_TASKS)
    # the canonical program three ways (two extract to the same bytes) + `return None`
    distinct = {(p.sample.key, on.program_for(p.sample.payload, p.response)) for p in pairs if p.response}
    assert len(distinct) < len(pairs)
    assert on.executed == 2 * len(distinct) == len(submitted)
    assert off.executed == 2 * len(pairs)
    expected = [on._expected[job.label][1 if job.tests is on._plus_tests[job.label][1] else 0] for job in submitted]
    assert expected == sorted(expected, reverse=True) and expected[0] > expected[-1]


def test_dedupe_default_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADHERE_DEDUPE", raising=False)
    assert dedupe_default() is True
    for off in ("0", "false", "No", " off "):
        monkeypatch.setenv("ADHERE_DEDUPE", off)
        assert dedupe_default() is False
        assert HumanEvalSuite().dedupe is False
    monkeypatch.setenv("ADHERE_DEDUPE", "1")
    assert HumanEvalPlusSuite().dedupe is True
