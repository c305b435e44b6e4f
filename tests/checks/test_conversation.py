"""Dialogue checks and MultiTurnInstruct's answer metrics, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adhere import Message, Response, Spec, SpecError
from adhere.checks.conversation import list_iou_value, squad_f1

CASES: list[tuple[str, str, dict[str, Any], str, str, float | None]] = [
    # id, check, params, response, outcome, score
    ("any-hit", "answer.matching_any", {"references": ["Paris", "paris, france"]}, "It is PARIS.", "pass", 1.0),
    ("any-miss", "answer.matching_any", {"references": ["Rome"]}, "It is Paris.", "fail", 0.0),
    ("privacy-kept", "answer.not_matching_any", {"references": ["4111-1111"]}, "I cannot share that.", "pass", 1.0),
    ("privacy-leak", "answer.not_matching_any", {"references": ["hunter2"]}, "The password is Hunter2.", "fail", 0.0),
    (
        "exact-last",
        "answer.matching_any_exact",
        {"references": ["B"]},
        "Answer: A\nOn reflection... Answer: B",
        "pass",
        1.0,
    ),
    ("exact-line", "answer.matching_any_exact", {"references": ["Blue whale"]}, "Answer: blue whale ", "pass", 1.0),
    ("exact-wrong", "answer.matching_any_exact", {"references": ["B"]}, "Answer: C", "fail", 0.0),
    ("exact-none", "answer.matching_any_exact", {"references": ["B"]}, "I think B", "fail", 0.0),
    # the reference's lazy pattern keeps one character: 'Blue whale' never matches, 'B...' does
    (
        "exact-quirk",
        "answer.matching_any_exact",
        {"references": ["B"], "reference_quirk": True},
        "Answer: Blue",
        "pass",
        1.0,
    ),
    ("iou-full", "answer.list_iou", {"references": ["red", "green"]}, "Colors: green, red", "pass", 1.0),
    ("iou-half", "answer.list_iou", {"references": ["red", "green"], "min": 0.5}, "Colors: red, blue", "fail", 1 / 3),
    ("iou-threshold", "answer.list_iou", {"references": ["a", "b"], "min": 0.3}, "x: a, c", "pass", 1 / 3),
    ("em", "answer.squad_em", {"references": ["The Eiffel Tower"]}, "eiffel tower!", "pass", 1.0),
    ("em-miss", "answer.squad_em", {"references": ["Eiffel Tower"]}, "the tower", "fail", 0.0),
    ("f1", "answer.squad_f1", {"references": ["the big red barn"]}, "a red barn", "pass", 0.8),
    ("f1-low", "answer.squad_f1", {"references": ["big red barn"], "min": 0.9}, "red barn", "fail", 0.8),
]


@pytest.mark.parametrize(
    ("check", "params", "response", "outcome", "score"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_answer_metrics(check: str, params: dict[str, Any], response: str, outcome: str, score: float | None) -> None:
    verdict = Spec.parse({"check": check, "params": params}).evaluate(response)
    assert verdict.outcome == outcome, verdict.reason
    assert verdict.score == pytest.approx(score)


def test_metric_values_match_the_definitions() -> None:
    # IoU: the part after the first ': ' is a ', ' list; 1 common of 2 + 2 - 1
    assert list_iou_value("My list: red, blue", ["red", "green"]) == pytest.approx(1 / 3)
    assert list_iou_value("red, green", ["Green", "RED"]) == 1.0
    # SQuAD: articles and punctuation do not count; precision 1, recall 2/3
    assert squad_f1("red barn.", "the big red barn") == pytest.approx(0.8)
    assert squad_f1("", "") == 1.0 and squad_f1("a", "x") == 0.0


DIALOGUE = [
    Message("system", "You are helpful."),
    Message("user", "From now on answer in lowercase. Name a fruit."),
    Message("assistant", "apple"),
    Message("user", "Another?"),
    Message("assistant", "apple"),
]


@pytest.mark.parametrize(
    ("spec", "last", "outcome"),
    [
        ({"check": "conversation.turns", "params": {"min": 3}}, "pear", "pass"),
        ({"check": "conversation.turns", "params": {"max": 2}}, "pear", "fail"),
        ({"check": "conversation.distinct_turns"}, "pear", "fail"),
        ({"each": "turns", "from": 2, "spec": {"check": "case.lowercase"}}, "pear", "pass"),
        ({"each": "turns", "from": 2, "spec": {"check": "case.lowercase"}}, "Pear", "fail"),
        ({"turn": -2, "spec": {"check": "answer.matching_any", "params": {"references": ["apple"]}}}, "pear", "pass"),
    ],
)
def test_dialogue_checks(spec: dict[str, Any], last: str, outcome: str) -> None:
    verdict = Spec.parse(spec).evaluate(Response(last, turns=DIALOGUE))
    assert verdict.outcome == outcome, verdict.reason


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"check": "answer.matching_any"}, "spec.params.references"),
        ({"check": "answer.matching_any", "params": {"references": [""]}}, "spec.params.references.0"),
        ({"check": "answer.squad_f1", "params": {"references": ["x"], "min": -1}}, "spec.params.min"),
        ({"check": "conversation.turns", "params": {}}, "spec.params"),
        ({"check": "answer.matching_any_exact", "params": {"references": ["B"], "quirk": True}}, "spec.params.quirk"),
    ],
)
def test_invalid_params_name_the_path(spec: dict[str, Any], path: str) -> None:
    with pytest.raises(SpecError) as err:
        Spec.parse(spec)
    assert err.value.path == path


ALL = Spec.parse(
    {
        "all": [
            {"check": "answer.matching_any", "params": {"references": ["x"]}},
            {"check": "answer.not_matching_any", "params": {"references": ["x"]}},
            {"check": "answer.matching_any_exact", "params": {"references": ["x"]}},
            {"check": "answer.matching_any_exact", "params": {"references": ["x"], "reference_quirk": True}},
            {"check": "answer.list_iou", "params": {"references": ["x", "y"]}},
            {"check": "answer.squad_em", "params": {"references": ["x"]}},
            {"check": "answer.squad_f1", "params": {"references": ["the x"]}},
            {"check": "conversation.turns", "params": {"min": 1}},
            {"check": "conversation.distinct_turns"},
        ]
    }
)


@settings(max_examples=150, deadline=None)
@given(
    st.text(max_size=200), st.lists(st.tuples(st.sampled_from(["user", "assistant"]), st.text(max_size=30)), max_size=4)
)
def test_never_raise(text: str, turns: list[tuple[str, str]]) -> None:
    verdict = ALL.evaluate(Response(text, turns=[Message(r, c) for r, c in turns]))
    assert all("internal error" not in v.reason for v in verdict.walk())
