"""TextSuite: response rows in their common shapes, pairing by key or prompt, problems reported."""

from __future__ import annotations

import gc
import json
import re
from pathlib import Path
from typing import Any

import pytest

from adhere.errors import DatasetError
from adhere.run import read_responses
from adhere.spec import Spec
from adhere.suites.base import ResponseRow, Sample, Suite
from adhere.suites.text import SCORE_CHUNK, TextSuite, gc_paused

suite = TextSuite()


def _samples() -> list[Sample]:
    spec = Spec.parse({"check": "punctuation.no_comma"})
    return [Sample(1000, "Write a poem.", spec), Sample("b-7", "  Say hi.\n", spec), Sample(3, "Count.", spec)]


def test_it_is_a_suite() -> None:
    assert isinstance(suite, Suite)


@pytest.mark.parametrize(
    ("row", "text", "key", "prompt"),
    [
        ({"key": 1, "response": "r"}, "r", 1, None),
        ({"id": "abc", "completion": "c"}, "c", "abc", None),
        ({"prompt": "p", "output": "o"}, "o", None, "p"),
        ({"prompt": "p", "text": "t", "key": 0}, "t", 0, "p"),
        ({"key": 2, "response": "first", "completion": "second"}, "first", 2, None),  # response wins
        ({"key": 1, "id": 9, "response": ""}, "", 1, None),  # key wins over id; empty text is a text
    ],
)
def test_parse_response_accepts_common_shapes(row: dict[str, Any], text: str, key: Any, prompt: str | None) -> None:
    parsed = suite.parse_response(row, 4)
    assert (parsed.text, parsed.key, parsed.prompt, parsed.line, parsed.sample_index) == (text, key, prompt, 4, 0)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"key": 1}, "no response text"),
        ({"key": 1, "response": None}, "'response' must be a string"),
        ({"key": 1, "response": ["a"]}, "'response' must be a string"),
        ({"response": "r"}, "needs a 'key' (or 'id') or the 'prompt'"),
        ({"key": 1.5, "response": "r"}, "'key' must be an integer or a string"),
        ({"key": True, "response": "r"}, "'key' must be an integer or a string"),
        ({"prompt": 3, "response": "r"}, "'prompt' must be a string"),
        ({"key": 1, "response": "r", "sample_index": -1}, "'sample_index' must be a non-negative integer"),
    ],
)
def test_parse_response_rejects_unusable_rows(row: dict[str, Any], message: str) -> None:
    with pytest.raises(DatasetError, match=re.escape(message)) as info:
        suite.parse_response(row, 12)
    assert info.value.line == 12


def test_pairing_by_key_then_exact_then_stripped_prompt() -> None:
    samples = _samples()
    responses = [
        ResponseRow("by key", key="1000", line=1),  # keys compare by text form: "1000" is 1000
        ResponseRow("by stripped prompt", prompt="Say hi.", line=2),
        ResponseRow("unknown key, known prompt", key="zzz", prompt="Count.", line=3),
    ]
    pairs, problems = suite.pair(samples, responses)
    assert [(p.sample.key, p.response.text if p.response else None) for p in pairs] == [
        (1000, "by key"),
        ("b-7", "by stripped prompt"),
        (3, "unknown key, known prompt"),
    ]
    assert problems == []


def test_exact_prompt_beats_stripped_prompt() -> None:
    samples = [Sample("a", "Hi", None), Sample("b", " Hi ", None)]
    pairs, _ = suite.pair(samples, [ResponseRow("x", prompt=" Hi ", line=1), ResponseRow("y", prompt="Hi", line=2)])
    assert [(p.sample.key, p.response.text if p.response else None) for p in pairs] == [("a", "y"), ("b", "x")]


def test_unmatched_duplicate_and_missing_are_reported() -> None:
    samples = _samples()
    responses = [
        ResponseRow("first", key=1000, line=1),
        ResponseRow("second", key=1000, line=2),
        ResponseRow("stray", key="nope", line=3),
        ResponseRow("stray prompt", prompt="Who asked?", line=4),
    ]
    pairs, problems = suite.pair(samples, responses)
    assert [p.response.text if p.response else None for p in pairs] == ["first", None, None]
    assert problems == [
        "responses line 2: duplicate response for key 1000; keeping the first (line 1)",
        "responses line 3: no prompt matches key 'nope'; response ignored",
        "responses line 4: no prompt matches its prompt text; response ignored",
        "key 'b-7': no response; it fails",
        "key 3: no response; it fails",
    ]


def test_several_samples_per_prompt_are_kept_in_order() -> None:
    samples = _samples()[:1]
    responses = [ResponseRow(f"s{i}", key=1000, sample_index=i, line=i + 1) for i in (2, 0, 1)]
    pairs, problems = suite.pair(samples, responses)
    assert [p.response.sample_index for p in pairs if p.response] == [0, 1, 2] and problems == []


def test_default_scoring_judges_the_samples_spec() -> None:
    samples = _samples()
    pairs, _ = suite.pair(samples, [ResponseRow("No commas", key=1000), ResponseRow("One, two", key=3)])
    rows = list(suite.score(pairs))
    assert [r["verdict"]["outcome"] for r in rows] == ["pass", "fail", "fail"]
    assert rows[1] == {"key": "b-7", "prompt": "  Say hi.\n", "response": None, "verdict": rows[1]["verdict"]}
    assert rows[1]["verdict"]["reason"] == "no response"
    assert suite.summarize(rows) == {"n": 3, "passed": 1, "failed": 2, "unscorable": 0, "pass_rate": 1 / 3}
    assert suite.summarize([])["pass_rate"] is None  # nothing judged is not 0


def test_scoring_more_pairs_than_a_chunk_keeps_every_row_in_order_and_the_collector_as_it_was() -> None:
    samples = [Sample(i, f"p{i}", Spec.parse({"check": "punctuation.no_comma"})) for i in range(SCORE_CHUNK + 5)]
    responses = [ResponseRow("a, b" if i % 3 else "ab", key=i) for i in range(SCORE_CHUNK + 5)]
    pairs, _ = suite.pair(samples, responses)
    seen_enabled = []
    rows = []
    for row in suite.score(pairs):  # the consumer runs with the collector on: it is paused per chunk only
        seen_enabled.append(gc.isenabled())
        rows.append(row)
    assert [r["key"] for r in rows] == list(range(SCORE_CHUNK + 5))
    assert [r["verdict"]["outcome"] for r in rows] == ["pass" if i % 3 == 0 else "fail" for i in range(len(rows))]
    assert all(seen_enabled) and gc.isenabled()


def test_gc_paused_restores_the_callers_setting_even_on_errors() -> None:
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # the caller's choice stays
    finally:
        gc.enable()


def test_load_keeps_good_rows_and_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    lines = [
        json.dumps({"id": "x", "prompt": "No commas please.", "spec": {"check": "punctuation.no_comma"}}),
        "not json",
        json.dumps({"id": "y", "prompt": "P", "spec": {"check": "length.wrds", "params": {"min": 1}}}),
        json.dumps({"prompt": "no id", "spec": {"check": "punctuation.no_comma"}}),
        "",
        json.dumps({"id": "z", "prompt": "Q", "spec": {"check": "length.words", "params": {"min": 2}}}),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    text_suite = TextSuite()
    samples = text_suite.load(str(path))
    assert [s.key for s in samples] == ["x", "z"]
    problems = {e.line: str(e) for e in text_suite.problems}
    assert sorted(problems) == [2, 3, 4]
    assert "did you mean 'length.words'" in problems[3]
    assert all(p.startswith(f"{path}:") for p in problems.values())


def test_load_of_a_missing_file_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="cannot read"):
        TextSuite().load(str(tmp_path / "absent.jsonl"))
    with pytest.raises(DatasetError, match="no default data"):
        TextSuite().load(None)


def test_the_runner_reads_responses_through_the_suite(tmp_path: Path) -> None:
    path = tmp_path / "responses.jsonl"
    path.write_bytes(b'{"key": 1, "response": "ok"}\n{"key": 2\n{"id": 3, "output": "fine"}\n\xff\xfe\n')
    rows, problems = read_responses(suite, path)
    assert [(r.key, r.text, r.line) for r in rows] == [(1, "ok", 1), (3, "fine", 3)]
    assert [p.split(": ")[0] for p in problems] == [f"{path}:2", f"{path}:4"]
