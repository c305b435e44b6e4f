"""Answer-label checks and the label-adherence suite (relabelling, paradigms, scores)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adhere import Spec, SpecError
from adhere.checks.labels import label, labels_for, lenient_form, roman
from adhere.suites import get_suite
from adhere.suites.labels import LabelSuite, MCItem, build_prompt, relabel

MATCH: list[tuple[str, dict[str, Any], str, str]] = [
    ("strict-exact", {"answer": "C"}, "C", "pass"),
    ("strict-space", {"answer": "C"}, " C", "fail"),
    ("strict-period", {"answer": "C"}, "C.", "fail"),
    ("strict-case", {"answer": "iv"}, "IV", "fail"),
    ("lenient-space-period", {"answer": "C", "mode": "lenient"}, "  C.\n", "pass"),
    ("lenient-parens", {"answer": "III", "mode": "lenient"}, "(III)", "pass"),
    ("lenient-prefix", {"answer": "2", "mode": "lenient"}, "Answer: 2", "pass"),
    ("lenient-case", {"answer": "IV", "mode": "lenient"}, "iv", "pass"),
    ("lenient-bold", {"answer": "B", "mode": "lenient"}, "**B**", "pass"),
    ("lenient-wrong", {"answer": "B", "mode": "lenient"}, "C", "fail"),
    ("lenient-sentence", {"answer": "B", "mode": "lenient"}, "I think it is B", "fail"),
]


@pytest.mark.parametrize(("params", "response", "outcome"), [c[1:] for c in MATCH], ids=[c[0] for c in MATCH])
def test_label_match(params: dict[str, Any], response: str, outcome: str) -> None:
    assert Spec.parse({"check": "label.match", "params": params}).evaluate(response).outcome == outcome


FIDELITY: list[tuple[str, dict[str, Any], str, str]] = [
    ("roman-in", {"scheme": "roman", "options": 4}, "III", "pass"),
    ("roman-out", {"scheme": "roman", "options": 4}, "V", "fail"),
    ("alpha-letter-for-roman", {"scheme": "roman", "options": 4}, "C", "fail"),
    ("numeric-in", {"scheme": "numeric", "options": 10}, "10.", "pass"),
    ("listed", {"labels": ["yes", "no"]}, "No", "pass"),
    ("strict-listed", {"labels": ["yes", "no"], "mode": "strict"}, "No", "fail"),
]


@pytest.mark.parametrize(("params", "response", "outcome"), [c[1:] for c in FIDELITY], ids=[c[0] for c in FIDELITY])
def test_label_fidelity(params: dict[str, Any], response: str, outcome: str) -> None:
    assert Spec.parse({"check": "label.fidelity", "params": params}).evaluate(response).outcome == outcome


@pytest.mark.parametrize(
    ("params", "path", "message"),
    [
        ({}, "spec.params.answer", "Field required"),
        ({"answer": "A", "mode": "loose"}, "spec.params.mode", "strict"),
    ],
)
def test_invalid_match_params(params: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        Spec.parse({"check": "label.match", "params": params})
    assert err.value.path == path and message in str(err.value)


@pytest.mark.parametrize(
    "params",
    [{}, {"scheme": "roman"}, {"labels": ["A"], "scheme": "alpha", "options": 2}, {"scheme": "greek", "options": 4}],
)
def test_invalid_fidelity_params(params: dict[str, Any]) -> None:
    with pytest.raises(SpecError, match=r"spec\.params"):
        Spec.parse({"check": "label.fidelity", "params": params})


def test_label_schemes() -> None:
    assert labels_for(4, "alpha") == ["A", "B", "C", "D"]
    assert labels_for(10, "numeric")[-1] == "10"
    assert labels_for(10, "roman") == ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
    assert label(26, "alpha") == "AA" and roman(1994) == "MCMXCIV"
    assert lenient_form(" (b). ") == "B"
    with pytest.raises(ValueError):
        label(-1, "alpha")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_label_checks_never_raise(text: str) -> None:
    spec = Spec.parse(
        {
            "all": [
                {"check": "label.match", "params": {"answer": "IV", "mode": "lenient"}},
                {"check": "label.fidelity", "params": {"scheme": "alpha", "options": 10}},
            ]
        }
    )
    assert spec.evaluate(text).outcome in ("pass", "fail")


# -- relabelling and the suite ------------------------------------------------------------------------

ITEMS = [
    {"id": 1, "question": "2 + 2 = ?", "options": ["3", "4", "5", "6"], "answer": 1},
    {"id": 2, "question": "Capital of France?", "options": ["Rome", "Paris", "Oslo", "Bern"], "answer": "Paris"},
    {"id": 3, "question": "Largest planet?", "options": ["Mars", "Venus", "Jupiter", "Earth"], "answer": "C"},
    {"id": 4, "question": "Water boils at (C)?", "options": ["90", "100", "110", "120"], "answer": 1},
]


def test_relabel_and_prompts() -> None:
    item = MCItem(1, "2 + 2 = ?", ("3", "4", "5", "6"), 1)
    assert relabel(item, "roman") == (["I", "II", "III", "IV"], "II")
    explicit = build_prompt(item, "roman", "explicit")
    assert "II. 4" in explicit and "label of the correct option only (I, II, III, IV)" in explicit
    assert "label of" not in build_prompt(item, "roman", "none")
    removed = build_prompt(item, "numeric", "content_removed")
    assert "2. 4" not in removed and "\n2.\n" in removed
    shots = [MCItem(2, "Q2", ("a", "b"), 0), MCItem(3, "Q3", ("a", "b", "c"), 2), MCItem(4, "Q4", ("x", "y"), 1)]
    few = build_prompt(item, "alpha", "three_shot", shots)
    assert few.count("Answer:") == 4 and "Answer: C" in few and few.endswith("Answer:")


@pytest.mark.parametrize(
    "name", ["labels", "labels-roman-explicit", "labels-numeric-three_shot", "labels-alpha-content_removed"]
)
def test_suite_names(name: str) -> None:
    assert get_suite(name).name == name


def test_suite_scores(tmp_path: Path) -> None:
    data = tmp_path / "mc.jsonl"
    data.write_text(
        "".join(json.dumps(r) + "\n" for r in [*ITEMS, {"id": 5, "question": "?", "options": ["x"], "answer": 0}])
    )
    suite = LabelSuite("roman", "explicit")
    samples = suite.load(str(data))
    assert [s.meta["answer"] for s in samples] == ["II", "II", "III", "II"]
    assert len(suite.problems) == 1  # one option only
    answers = {1: "II", 2: "ii.", 3: "C", 4: "The answer is II"}
    responses = [suite.parse_response({"id": k, "response": v}, i) for i, (k, v) in enumerate(answers.items(), 1)]
    pairs, problems = suite.pair(samples, responses)
    assert not problems
    rows = list(suite.score(pairs))
    assert [(r["strict"], r["lenient"], r["fidelity"]) for r in rows] == [
        (True, True, True),
        (False, True, True),
        (False, False, False),
        (False, True, True),
    ]
    summary = suite.summarize(rows)
    assert summary == {
        "n": 4,
        "scheme": "roman",
        "paradigm": "explicit",
        "strict": 0.25,
        "lenient": 0.75,
        "fidelity": 0.75,
        "chance": 0.25,
    }


def test_suite_rejects_bad_options() -> None:
    with pytest.raises(ValueError, match="scheme"):
        LabelSuite("greek", "explicit")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="paradigm"):
        LabelSuite("alpha", "two_shot")  # type: ignore[arg-type]
