"""IFEval on bad input: clear errors naming the place, or verdicts; never a crash.

* unknown instruction ids get a "did you mean";
* missing, mistyped, out-of-range or unexpected kwargs raise SpecError naming the path
  (where the reference would draw a random value, adhere refuses);
* a dataset file with malformed lines keeps every good row and reports each bad one
  with its line number; a row whose kwargs are bad is kept as an unscorable result;
* empty, whitespace-only, huge, binary and invalid-UTF-8 responses all get verdicts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adhere.errors import SpecError
from adhere.suites.base import Pair, ResponseRow, Sample, get_suite
from adhere.suites.ifeval import IFEVAL_CHECKS, IFEvalItem, IFEvalSuite, ifeval_spec

# One instruction of every kind, with kwargs as the dataset writes them.
ALL_KWARGS: dict[str, dict[str, Any]] = {
    "change_case:capital_word_frequency": {"capital_frequency": 3, "capital_relation": "less than"},
    "change_case:english_capital": {},
    "change_case:english_lowercase": {},
    "combination:repeat_prompt": {"prompt_to_repeat": "Write a story."},
    "combination:two_responses": {},
    "detectable_content:number_placeholders": {"num_placeholders": 2},
    "detectable_content:postscript": {"postscript_marker": "P.S."},
    "detectable_format:constrained_response": {},
    "detectable_format:json_format": {},
    "detectable_format:multiple_sections": {"section_spliter": "SECTION", "num_sections": 2},
    "detectable_format:number_bullet_lists": {"num_bullets": 3},
    "detectable_format:number_highlighted_sections": {"num_highlights": 2},
    "detectable_format:title": {},
    "keywords:existence": {"keywords": ["story", "time"]},
    "keywords:forbidden_words": {"forbidden_words": ["bad", "worse"]},
    "keywords:frequency": {"keyword": "story", "frequency": 2, "relation": "at least"},
    "keywords:letter_frequency": {"letter": "q", "let_frequency": 3, "let_relation": "less than"},
    "language:response_language": {"language": "fr"},
    "length_constraints:nth_paragraph_first_word": {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
    "length_constraints:number_paragraphs": {"num_paragraphs": 3},
    "length_constraints:number_sentences": {"num_sentences": 10, "relation": "less than"},
    "length_constraints:number_words": {"num_words": 300, "relation": "at least"},
    "punctuation:no_comma": {},
    "startend:end_checker": {"end_phrase": "Any other questions?"},
    "startend:quotation": {},
}


def test_the_table_covers_every_ifeval_id() -> None:
    assert set(ALL_KWARGS) == set(IFEVAL_CHECKS) and len(IFEVAL_CHECKS) == 25


def _error(ids: list[Any], kwargs: Any) -> str:
    with pytest.raises(SpecError) as info:
        ifeval_spec(ids, kwargs, where="key 1000: ")
    return str(info.value)


WORDS = "length_constraints:number_words"
BAD_KWARGS: list[tuple[str, list[Any], Any, str]] = [
    # id, instruction ids, kwargs, the error starts with
    ("unknown-id", ["keywords:existance"], [{}], "key 1000: instruction_id_list[0]: unknown IFEval instruction id"),
    ("missing", [WORDS], [{"relation": "at least"}], "key 1000: kwargs[0].num_words: missing"),
    (
        "mistyped",
        ["punctuation:no_comma", WORDS],
        [{}, {"relation": "at least", "num_words": "300"}],
        "key 1000: kwargs[1].num_words: expected a non-negative integer, got str '300'",
    ),
    ("bool", [WORDS], [{"relation": "at least", "num_words": True}], "key 1000: kwargs[0].num_words: expected"),
    ("negative", [WORDS], [{"relation": "at least", "num_words": -1}], "key 1000: kwargs[0].num_words: expected"),
    ("fraction", [WORDS], [{"relation": "at least", "num_words": 2.5}], "key 1000: kwargs[0].num_words: expected"),
    (
        "relation",
        [WORDS],
        [{"relation": "more than", "num_words": 3}],
        "key 1000: kwargs[0].relation: expected 'less than' or 'at least'",
    ),
    (
        "less-than-zero",
        [WORDS],
        [{"relation": "less than", "num_words": 0}],
        "key 1000: kwargs[0].num_words: 'less than 0'",
    ),
    (
        "keywords-type",
        ["keywords:existence"],
        [{"keywords": "story"}],
        "key 1000: kwargs[0].keywords: expected a non-empty list",
    ),
    (
        "keywords-empty",
        ["keywords:existence"],
        [{"keywords": []}],
        "key 1000: kwargs[0].keywords: expected a non-empty list",
    ),
    ("keyword-regex", ["keywords:existence"], [{"keywords": ["(unclosed"]}], "key 1000: kwargs[0]"),
    (
        "letter-long",
        ["keywords:letter_frequency"],
        [{"letter": "ab", "let_frequency": 2, "let_relation": "at least"}],
        "key 1000: kwargs[0].letter: expected a single visible character",
    ),
    (
        "nth-too-big",
        ["length_constraints:nth_paragraph_first_word"],
        [{"num_paragraphs": 2, "nth_paragraph": 3, "first_word": "so"}],
        "key 1000: kwargs[0].nth_paragraph: must be between",
    ),
    ("language", ["language:response_language"], [{"language": "English"}], "key 1000: kwargs[0].language"),
    ("extra", ["punctuation:no_comma"], [{"num_words": 3}], "key 1000: kwargs[0]: unexpected kwarg(s) ['num_words']"),
    ("kwargs-not-object", ["punctuation:no_comma"], ["x"], "key 1000: kwargs[0]: expected an object of kwargs"),
    (
        "kwargs-count",
        ["punctuation:no_comma", "startend:quotation"],
        [{}],
        "key 1000: kwargs: expected one kwargs object",
    ),
    ("no-ids", [], [], "key 1000: instruction_id_list: expected a non-empty list"),
    (
        "end-phrase-blank",
        ["startend:end_checker"],
        [{"end_phrase": "  "}],
        "key 1000: kwargs[0].end_phrase: expected a non-empty",
    ),
]


@pytest.mark.parametrize(("ids", "kwargs", "starts"), [c[1:] for c in BAD_KWARGS], ids=[c[0] for c in BAD_KWARGS])
def test_bad_ids_and_kwargs_name_the_path(ids: list[Any], kwargs: Any, starts: str) -> None:
    assert _error(ids, kwargs).startswith(starts)


def test_unknown_ids_suggest_the_intended_one() -> None:
    assert "did you mean 'keywords:existence'?" in _error(["keywords:existance"], [{}])
    assert "did you mean 'detectable_format:json_format'" in _error(["detectable_format:json"], [{}])


def test_missing_kwargs_are_refused_not_randomised() -> None:
    # The reference draws a random threshold here; a score must not depend on that.
    assert "adhere refuses" in _error(["length_constraints:number_sentences"], [{"relation": "at least"}])


def test_hugging_face_style_kwargs_with_nulls_are_accepted() -> None:
    padded = {k: None for kw in ALL_KWARGS.values() for k in kw}
    kwargs = [{**padded, **kw} for kw in ALL_KWARGS.values()]
    spec = ifeval_spec(list(ALL_KWARGS), kwargs)
    assert len(spec.root.walk().__next__().children) == 25  # type: ignore[attr-defined]


def _write(path: Path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_a_dataset_with_bad_lines_keeps_every_good_row(tmp_path: Path) -> None:
    good = {"key": 1, "prompt": "Say hi.", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}
    bad_kwargs = {"key": 3, "prompt": "P3", "instruction_id_list": [WORDS], "kwargs": [{"num_words": "x"}]}
    data = _write(
        tmp_path / "input.jsonl",
        [
            json.dumps(good),
            '{"key": 2, "prompt": "broken',  # line 2: malformed JSON
            json.dumps(bad_kwargs),  # line 3: kept, unscorable
            json.dumps({"key": 4, "instruction_id_list": []}),  # line 4: no prompt
            "[1, 2]",  # line 5: not an object
            json.dumps({**good, "key": 5, "prompt": "Say bye."}),
            json.dumps({**good, "prompt": "again"}),  # line 7: duplicate key 1
        ],
    )
    suite = get_suite("ifeval")
    assert isinstance(suite, IFEvalSuite)
    samples = suite.load(data)
    assert [s.key for s in samples] == [1, 3, 5]
    lines = sorted(e.line for e in suite.problems)  # type: ignore[misc]
    assert lines == [2, 3, 4, 5, 7]
    assert all(str(e).startswith(f"{data}:") for e in suite.problems)
    assert "key 3: kwargs[0].num_words" in str(next(e for e in suite.problems if e.line == 3))

    responses = [ResponseRow("Hi there.", key=1), ResponseRow("Whatever", key=3), ResponseRow("Bye, now.", key=5)]
    pairs, problems = suite.pair(samples, responses)
    assert problems == []
    rows = list(suite.score(pairs))
    assert [r["instructions"][0]["strict"] for r in rows] == [True, None, False]
    assert rows[1]["verdict"]["outcome"] == "unscorable" and "num_words" in rows[1]["verdict"]["reason"]
    summary = suite.summarize(rows)
    assert summary["n"] == 2 and summary["unscorable"] == 1 and summary["prompt_strict"] == 0.5


def test_an_unmatched_prompt_fails_every_instruction() -> None:
    spec = ifeval_spec(list(ALL_KWARGS), list(ALL_KWARGS.values()))
    sample = Sample(9, "P", IFEvalItem(tuple(ALL_KWARGS), spec))
    row = IFEvalSuite().score_pair(Pair(sample, None))
    assert row["response"] is None and row["verdict"]["outcome"] == "fail"
    assert all(
        i == {"id": i["id"], "strict": False, "loose": False, "reason": "no response"} for i in row["instructions"]
    )


def _score_all_kinds(text: str) -> list[dict[str, Any]]:
    spec = ifeval_spec(list(ALL_KWARGS), list(ALL_KWARGS.values()))
    sample = Sample(1, "Write a story.", IFEvalItem(tuple(ALL_KWARGS), spec))
    row = IFEvalSuite().score_pair(Pair(sample, ResponseRow(text=text, key=1)))
    json.dumps(row)  # the row is plain JSON
    assert len(row["instructions"]) == 25
    return list(row["instructions"])


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\t \r\n", "\u3000\u2003"], ids=["empty", "spaces", "mixed", "unicode-spaces"]
)
def test_blank_responses_fail_every_instruction(text: str) -> None:
    for inst in _score_all_kinds(text):
        assert inst["strict"] is False and inst["loose"] is False, inst
        assert inst["reason"] == "the response is empty"


BINARY = bytes(range(256)) * 40 + b"\xff\xfe\x00\xc3\x28 story time \xe2\x82"


@pytest.mark.parametrize(
    "text",
    [
        BINARY.decode("utf-8", errors="replace"),
        BINARY.decode("latin-1"),
        "\x00" * 10_000,
        "\ud800 lone surrogate \udfff",
    ],
    ids=["invalid-utf8-replaced", "latin1", "nul-bytes", "surrogates"],
)
def test_binary_responses_get_verdicts(text: str) -> None:
    for inst in _score_all_kinds(text):
        assert isinstance(inst["strict"], bool) and isinstance(inst["loose"], bool), inst


def _large(size: int) -> str:
    return ("Once upon a time, a story began. Then it went on, and on!\n\n* point\n" * (size // 60 + 1))[:size]


def _check_large(size: int) -> None:
    results = {i["id"]: i for i in _score_all_kinds(_large(size))}
    assert results["length_constraints:number_words"]["strict"] is True
    assert results["punctuation:no_comma"]["strict"] is False
    assert results["length_constraints:number_sentences"]["strict"] is False
    assert all(isinstance(i["strict"], bool) for i in results.values())


def test_a_5_mb_response_gets_verdicts() -> None:
    _check_large(5_000_000)
