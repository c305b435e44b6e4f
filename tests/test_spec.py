"""The spec engine's core forms: check, all, any, not, weighted, when, loose, transform.

Table-driven: outcomes (three of them, propagated honestly), invalid specs (the error
names the path), serialisation (``to_dict`` parses back to the same tree) and the
JSON / YAML / file entry points. The item-iterating forms (each, within, sequence,
turn) are covered by ``test_spec_composition.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adhere import Spec, SpecError, TextView
from adhere.spec import IFEVAL_VARIANTS

NO_COMMA = {"check": "punctuation.no_comma"}
QUOTED = {"check": "position.quoted"}
WORDS_3 = {"check": "length.words", "params": {"min": 3}}
UNKNOWN = {"check": "position.repeats_prompt"}  # unscorable without a prompt
PS = {"check": "structure.postscript", "params": {"marker": "P.S."}}

# (id, spec, response, expected outcome)
CASES: list[tuple[str, Any, str, str]] = [
    ("check-pass", NO_COMMA, "no commas", "pass"),
    ("check-fail", NO_COMMA, "a, b", "fail"),
    ("check-unscorable", UNKNOWN, "text", "unscorable"),
    ("all-pass", {"all": [NO_COMMA, WORDS_3]}, "one two three", "pass"),
    ("all-fail", {"all": [NO_COMMA, WORDS_3]}, "one, two, three", "fail"),
    ("all-fail-beats-unknown", {"all": [NO_COMMA, UNKNOWN]}, "a, b", "fail"),
    ("all-unknown", {"all": [NO_COMMA, UNKNOWN]}, "a b", "unscorable"),
    ("any-pass", {"any": [NO_COMMA, QUOTED]}, '"a, b"', "pass"),
    ("any-fail", {"any": [NO_COMMA, QUOTED]}, "a, b", "fail"),
    ("any-pass-beats-unknown", {"any": [UNKNOWN, NO_COMMA]}, "a b", "pass"),
    ("any-unknown", {"any": [UNKNOWN, NO_COMMA]}, "a, b", "unscorable"),
    ("not-pass", {"not": NO_COMMA}, "a, b", "pass"),
    ("not-fail", {"not": NO_COMMA}, "a b", "fail"),
    ("not-unknown", {"not": UNKNOWN}, "a b", "unscorable"),
    (
        "weighted-pass",
        {"weighted": [{"weight": 3, "spec": NO_COMMA}, {"weight": 1, "spec": QUOTED}], "pass_at": 0.75},
        "a b",
        "pass",
    ),
    (
        "weighted-fail",
        {"weighted": [{"weight": 1, "spec": NO_COMMA}, {"weight": 3, "spec": QUOTED}], "pass_at": 0.75},
        "a b",
        "fail",
    ),
    ("weighted-unknown", {"weighted": [{"spec": NO_COMMA}, {"spec": UNKNOWN}]}, "a b", "unscorable"),
    ("when-then", {"when": QUOTED, "then": NO_COMMA}, '"a, b"', "fail"),
    ("when-no-branch", {"when": QUOTED, "then": NO_COMMA}, "a, b", "pass"),
    ("when-otherwise", {"when": QUOTED, "then": NO_COMMA, "otherwise": WORDS_3}, "a b", "fail"),
    ("when-unknown", {"when": UNKNOWN, "then": NO_COMMA}, "a b", "unscorable"),
    ("loose-as-is", {"loose": PS}, "Hi.\nP.S. bye", "pass"),
    # the first line is a preamble: only the variant without it is quoted
    ("loose-no-first-line", {"loose": QUOTED}, 'Sure:\n"the answer"', "pass"),
    ("loose-strict-only", {"loose": QUOTED, "variants": ["as_is"]}, 'Sure:\n"the answer"', "fail"),
    ("loose-no-stars", {"loose": {"check": "keywords.include", "params": {"keywords": ["ab"]}}}, "*a*b*", "pass"),
    ("loose-empty", {"loose": {"not": NO_COMMA}}, "  \n ", "fail"),  # empty variants never pass
    ("transform-strip-think", {"transform": "strip_think", "spec": NO_COMMA}, "<think>a, b</think>ok", "pass"),
    ("transform-unknown-child", {"transform": "lower", "spec": UNKNOWN}, "X", "unscorable"),
]


@pytest.mark.parametrize(("spec", "text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_outcome(spec: Any, text: str, expected: str) -> None:
    verdict = Spec.parse(spec).evaluate(text)
    assert verdict.outcome == expected, verdict.reason
    assert (verdict.score is None) == (expected == "unscorable")


@pytest.mark.parametrize("spec", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_to_dict_parses_back_to_the_same_tree(spec: Any) -> None:
    once = Spec.parse(spec).to_dict()
    assert Spec.parse(once).to_dict() == once
    assert Spec.parse(json.dumps(spec)).to_dict() == once


def test_loose_verdict_keeps_the_as_is_verdict_first() -> None:
    verdict = Spec.parse({"loose": QUOTED, "label": "startend:quotation"}).evaluate('Sure:\n"the answer"')
    assert verdict.passed and verdict.evidence == {"variant": "no_first_line", "label": "startend:quotation"}
    assert verdict.children[0].check == "position.quoted" and verdict.children[0].failed
    failing = Spec.parse({"loose": QUOTED}).evaluate("plain")
    assert failing.failed and len(failing.children) == len(IFEVAL_VARIANTS)


def test_variants_share_views_and_analyses() -> None:
    view = TextView("Intro line\nA sentence. Another one.\nLast line")
    spec = Spec.parse({"all": [{"loose": {"check": "length.sentences", "params": {"min": 9}}}, {"loose": WORDS_3}]})
    spec.evaluate(view)
    first = {k: v for k, v in view._memo.items() if isinstance(k, tuple) and k[0] == "loose.view"}
    spec.evaluate(view)  # a second pass builds no new variant views
    assert {k: v for k, v in view._memo.items() if isinstance(k, tuple) and k[0] == "loose.view"} == first


# (id, spec, path of the error, part of the message)
INVALID: list[tuple[str, Any, str, str]] = [
    ("not-object", ["punctuation.no_comma"], "spec", "must be an object"),
    ("no-kind", {"params": {}}, "spec", "needs exactly one of"),
    ("two-kinds", {"check": "punctuation.no_comma", "not": NO_COMMA}, "spec", "found check, not"),
    ("unknown-check", {"check": "length.wrds"}, "spec.check", "did you mean 'length.words'"),
    ("bad-param-type", {"check": "length.words", "params": {"min": "ten"}}, "spec.params.min", "valid integer"),
    ("negative-param", {"check": "length.words", "params": {"min": -1}}, "spec.params.min", "greater than or equal"),
    ("no-bounds", {"check": "length.words", "params": {}}, "spec.params", "give 'min', 'max' or both"),
    ("min-gt-max", {"check": "length.words", "params": {"min": 5, "max": 2}}, "spec.params", "greater than 'max'"),
    ("unknown-param", {"check": "punctuation.no_comma", "params": {"strict": True}}, "spec.params.strict", "Extra"),
    ("params-not-object", {"check": "punctuation.no_comma", "params": [1]}, "spec.params", "must be an object"),
    (
        "bad-regex",
        {"check": "keywords.include", "params": {"keywords": ["("], "regex": True}},
        "spec.params",
        "not a valid regular expression",
    ),
    (
        "bad-letter",
        {"check": "keywords.letter_count", "params": {"letter": "ab", "min": 1}},
        "spec.params.letter",
        "exactly one character",
    ),
    ("bad-language", {"check": "language.is", "params": {"language": "French"}}, "spec.params.language", "pattern"),
    (
        "nth-beyond",
        {"check": "structure.paragraph_first_word", "params": {"nth": 3, "word": "a", "paragraphs": 2}},
        "spec.params",
        "beyond",
    ),
    ("label-type", {"check": "punctuation.no_comma", "label": 3}, "spec.label", "label must be a string"),
    ("extra-key", {"not": NO_COMMA, "spec": NO_COMMA}, "spec", "unexpected key"),
    ("all-empty", {"all": []}, "spec.all", "non-empty list"),
    (
        "deep-path",
        {"all": [NO_COMMA, {"any": [{"not": {"check": "nope.nope"}}]}]},
        "spec.all[1].any[0].not.check",
        "unknown check",
    ),
    ("weighted-empty", {"weighted": []}, "spec.weighted", "non-empty list"),
    ("weighted-item", {"weighted": [NO_COMMA]}, "spec.weighted[0]", "{weight, spec}"),
    ("weighted-negative", {"weighted": [{"weight": -1, "spec": NO_COMMA}]}, "spec.weighted[0].weight", "non-negative"),
    ("weighted-zero", {"weighted": [{"weight": 0, "spec": NO_COMMA}]}, "spec.weighted", "not all be zero"),
    ("pass-at", {"weighted": [{"spec": NO_COMMA}], "pass_at": 2}, "spec.pass_at", "[0, 1]"),
    ("loose-variant", {"loose": NO_COMMA, "variants": ["as_is", "upside_down"]}, "spec.variants", "drawn from"),
    ("loose-child", {"loose": {"check": "length.words", "params": {"max": "x"}}}, "spec.loose.params.max", "integer"),
    ("transform-unknown", {"transform": "shout", "spec": NO_COMMA}, "spec.transform", "unknown transform"),
    ("transform-no-spec", {"transform": "lower"}, "spec", "needs a 'spec'"),
]


@pytest.mark.parametrize(("spec", "path", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_spec_names_the_path(spec: Any, path: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        Spec.parse(spec)
    assert info.value.path == path, str(info.value)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_yaml_text_and_files(tmp_path: Path) -> None:
    yaml_text = "all:\n  - check: punctuation.no_comma\n  - check: length.words\n    params: {max: 3}\n"
    assert Spec.parse(yaml_text).evaluate("one two").passed
    path = tmp_path / "spec.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    assert Spec.parse(path).check_ids() == ["length.words", "punctuation.no_comma"]
    with pytest.raises(SpecError, match="neither valid JSON nor YAML"):
        Spec.parse("all: [unclosed")
    with pytest.raises(SpecError, match="cannot read spec file"):
        Spec.parse(tmp_path / "missing.json")
