"""Composition and control flow in the spec language: each/within/sequence/turn/when, item
kinds, conversation subjects; table-driven, with invalid specs naming their path."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adhere import Message, Response, Spec, SpecError
from adhere.items import ITEMS, item_views
from adhere.subjects import Conversation
from adhere.text.view import TextView

ENDS_Q = {"check": "position.ends_with", "params": {"phrase": "?"}}
NO_COMMA = {"check": "punctuation.no_comma"}
LOWER = {"check": "case.lowercase"}

BULLETS_5_3Q = "- Why?\n- How?\n- When?\n- Fine.\n- Done."
BULLETS_5_2Q = "- Why?\n- How?\n- Fine.\n- Done.\n- Ok."
SECTIONS = "# Intro\nHello there.\n\n## Body\nMore text?\n\n## End\nBye."
TABLE = "| Name | Price |\n|---|---|\n| Tea | 3 |\n| Coffee, hot | 4 |"

# (id, spec, response, expected outcome)
CASES: list[tuple[str, dict[str, Any], str | Response, str]] = [
    # counts over items
    ("3-of-5-bullets", {"each": "bullets", "spec": ENDS_Q, "min": 3, "of": 5}, BULLETS_5_3Q, "pass"),
    ("2-of-5-too-few", {"each": "bullets", "spec": ENDS_Q, "min": 3, "of": 5}, BULLETS_5_2Q, "fail"),
    ("of-mismatch", {"each": "bullets", "spec": ENDS_Q, "min": 1, "of": 4}, BULLETS_5_3Q, "fail"),
    ("at-most-1", {"each": "bullets", "spec": ENDS_Q, "max": 1}, BULLETS_5_3Q, "fail"),
    ("every-bullet", {"each": "list_items", "spec": ENDS_Q}, "- a?\n- b?", "pass"),
    ("each-none-pass", {"each": "bullets", "spec": ENDS_Q}, "no list here", "pass"),
    ("each-none-fail", {"each": "bullets", "spec": ENDS_Q, "if_none": "fail"}, "no list here", "fail"),
    ("each-none-unscorable", {"each": "bullets", "spec": ENDS_Q, "if_none": "unscorable"}, "none", "unscorable"),
    ("slice-from-2", {"each": "bullets", "spec": ENDS_Q, "from": 4}, BULLETS_5_2Q, "fail"),
    ("slice-to-2", {"each": "bullets", "spec": ENDS_Q, "to": 2}, BULLETS_5_2Q, "pass"),
    ("slice-last", {"each": "bullets", "spec": ENDS_Q, "from": -1}, "- a.\n- b?", "pass"),
    # each over structures
    ("sections", {"each": "sections", "spec": {"check": "length.sentences", "params": {"min": 1}}}, SECTIONS, "pass"),
    ("headings-no-comma", {"each": "headings", "spec": NO_COMMA}, SECTIONS, "pass"),
    ("table-cells", {"each": "table_cells", "spec": NO_COMMA}, TABLE, "fail"),
    ("table-column", {"each": "table_column:price", "spec": NO_COMMA}, TABLE, "pass"),
    ("code-blocks", {"each": "code_blocks", "spec": LOWER}, "```\nx = 1\n```\n```\nY\n```", "fail"),
    ("paragraphs", {"each": "paragraphs", "spec": ENDS_Q, "min": 1}, "A.\n\nB?", "pass"),
    ("entries-list", {"each": "entries", "spec": ENDS_Q}, "Intro\n- a?\n- b?", "pass"),
    ("entries-rows", {"each": "entries", "spec": NO_COMMA}, TABLE, "fail"),
    ("split", {"each": "split:^---$", "spec": ENDS_Q, "of": 2}, "a?\n---\nb?", "pass"),
    # within: joined items
    ("within-table", {"within": "table_cells", "spec": {"check": "length.words", "params": {"max": 5}}}, TABLE, "pass"),
    ("within-none", {"within": "tables", "spec": NO_COMMA}, "no table", "fail"),
    ("within-none-pass", {"within": "tables", "spec": NO_COMMA, "if_none": "pass"}, "no table", "pass"),
    # ordered sequences
    ("seq-ok", {"sequence": [ENDS_Q, {"not": ENDS_Q}], "over": "paragraphs"}, "Why?\n\nBecause.", "pass"),
    ("seq-order", {"sequence": [ENDS_Q, {"not": ENDS_Q}], "over": "paragraphs"}, "Because.\n\nWhy?", "fail"),
    ("seq-missing", {"sequence": [ENDS_Q, ENDS_Q], "over": "paragraphs"}, "Why?", "fail"),
    ("seq-extra", {"sequence": [ENDS_Q], "over": "paragraphs"}, "Why?\n\nMore?", "fail"),
    ("seq-extra-allowed", {"sequence": [ENDS_Q], "over": "paragraphs", "rest": "allow"}, "Why?\n\nMore.", "pass"),
    (
        "seq-markers",
        {
            "sequence": [{"check": "text.starts_with", "params": {"prefix": "Part 1"}}, ENDS_Q],
            "over": "split:(?=^Part )",
        },
        "Part 1: intro.\nPart 2: why?",
        "pass",
    ),
    ("seq-chain", {"sequence": [ENDS_Q, {"not": ENDS_Q}], "over": "paragraphs", "chain": True}, "No.\n\nYes.", "fail"),
    # when
    (
        "when-then",
        {"when": {"check": "keywords.include", "params": {"keywords": ["yes"]}}, "then": ENDS_Q, "otherwise": LOWER},
        "Yes, really?",
        "pass",
    ),
    (
        "when-otherwise",
        {"when": {"check": "keywords.include", "params": {"keywords": ["yes"]}}, "then": ENDS_Q, "otherwise": LOWER},
        "No Way.",
        "fail",
    ),
    (
        "when-table-used",
        {
            "when": {"check": "items.count", "params": {"items": "tables", "min": 1}},
            "then": {"check": "table.rows", "params": {"max": 1}},
        },
        TABLE,
        "fail",
    ),
    (
        "when-no-table",
        {
            "when": {"check": "items.count", "params": {"items": "tables", "min": 1}},
            "then": {"check": "table.rows", "params": {"max": 1}},
        },
        "prose only",
        "pass",
    ),
    # nesting: each inside each
    (
        "nested-each",
        {"each": "sections", "spec": {"each": "sentences", "spec": {"check": "length.words", "params": {"max": 3}}}},
        "# A\nOne two.\n# B\nThree four five six.",
        "fail",
    ),
]


@pytest.mark.parametrize(("spec", "response", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_composition(spec: dict[str, Any], response: str | Response, expected: str) -> None:
    parsed = Spec.parse(spec)
    verdict = parsed.evaluate(response)
    assert verdict.outcome == expected, verdict.reason
    assert Spec.parse(parsed.to_dict()).to_dict() == parsed.to_dict()


def test_each_reports_counts_and_partial_score() -> None:
    v = Spec.parse({"each": "bullets", "spec": ENDS_Q}).evaluate(BULLETS_5_3Q)
    assert v.failed
    assert v.evidence["items"] == 5 and v.evidence["passed"] == 3
    assert v.score == pytest.approx(0.6)
    assert len(v.children) == 5


# -- conversations ----------------------------------------------------------------------------

DIALOGUE = [
    Message("user", "Hi. From now on, answer in lowercase."),
    Message("assistant", "sure, i will."),
    Message("user", "What is the capital of France?"),
    Message("assistant", "paris."),
    Message("user", "And of Italy?"),
]


def _resp(last: str) -> Response:
    return Response(last, turns=DIALOGUE)


TURN_CASES: list[tuple[str, dict[str, Any], Response, str]] = [
    ("every-turn-kept", {"each": "turns", "spec": LOWER}, _resp("rome."), "pass"),
    ("every-turn-broken", {"each": "turns", "spec": LOWER}, _resp("Rome."), "fail"),
    (
        "from-turn-2",
        {"each": "turns", "from": 2, "spec": {"check": "length.words", "params": {"max": 1}}},
        _resp("rome."),
        "pass",
    ),
    (
        "turn-1",
        {"turn": 1, "spec": {"check": "keywords.include", "params": {"keywords": ["sure"]}}},
        _resp("rome."),
        "pass",
    ),
    (
        "turn-first",
        {"turn": "first", "spec": {"check": "answer.matching_any", "params": {"references": ["paris"]}}},
        _resp("x"),
        "fail",
    ),
    (
        "turn-2-paris",
        {"turn": 2, "spec": {"check": "answer.matching_any", "params": {"references": ["Paris"]}}},
        _resp("x"),
        "pass",
    ),
    (
        "turn-last",
        {"turn": "last", "spec": {"check": "answer.matching_any", "params": {"references": ["rome"]}}},
        _resp("Rome"),
        "pass",
    ),
    ("turn-missing", {"turn": 7, "spec": LOWER}, _resp("rome."), "unscorable"),
    ("turn-count", {"check": "conversation.turns", "params": {"min": 3, "max": 3}}, _resp("rome."), "pass"),
    (
        "privacy-all-turns",
        {"each": "turns", "spec": {"check": "answer.not_matching_any", "params": {"references": ["paris"]}}},
        _resp("rome"),
        "fail",
    ),
    ("distinct", {"check": "conversation.distinct_turns"}, _resp("paris."), "fail"),
    (
        "lone-response-is-one-turn",
        {"check": "conversation.turns", "params": {"min": 1, "max": 1}},
        Response("hi", "Say hi"),
        "pass",
    ),
]


@pytest.mark.parametrize(("spec", "response", "expected"), [c[1:] for c in TURN_CASES], ids=[c[0] for c in TURN_CASES])
def test_turns(spec: dict[str, Any], response: Response, expected: str) -> None:
    verdict = Spec.parse(spec).evaluate(response)
    assert verdict.outcome == expected, verdict.reason


def test_turn_views_carry_their_own_prompt_and_history() -> None:
    conv = _resp("rome.").conversation
    assert conv.assistant_turns == ["sure, i will.", "paris.", "rome."]
    view = conv.turn_view(1)
    assert view.text == "paris." and view.prompt == "What is the capital of France?"
    from adhere.subjects import conversation_of

    assert conversation_of(view).assistant_turns == ["sure, i will.", "paris."]


def test_conversation_from_messages_and_sharegpt() -> None:
    r = Response.from_messages(
        [
            {"from": "human", "value": "hi"},
            {"from": "gpt", "value": "hello"},
            {"role": "user", "content": "bye"},
            {"role": "assistant", "content": "ciao"},
        ]
    )
    assert r.text == "ciao" and r.prompt == "bye" and len(r.turns) == 3
    assert r.conversation.user_turns == ["hi", "bye"]
    with pytest.raises(ValueError, match="assistant"):
        Response.from_messages([{"role": "user", "content": "hi"}])
    with pytest.raises(ValueError, match="role"):
        Conversation.of([{"role": 1, "content": "x"}])


def test_item_views_carry_dialogue_into_items() -> None:
    view = _resp("rome.\n\nok.").view
    paras = item_views(view, "paragraphs")
    assert [p.text for p in paras] == ["rome.", "ok."]
    verdict = Spec.parse(
        {"each": "paragraphs", "spec": {"check": "conversation.turns", "params": {"min": 3}}}
    ).evaluate(view)
    assert verdict.passed


# -- invalid specs: clear errors naming the path ------------------------------------------------

INVALID: list[tuple[str, Any, str, str]] = [
    ("unknown-kind", {"each": "paragrafs", "spec": NO_COMMA}, "spec.each", "did you mean 'paragraphs'"),
    ("kind-not-str", {"each": 3, "spec": NO_COMMA}, "spec.each", "must be a string"),
    ("kind-needs-arg", {"each": "table_column", "spec": NO_COMMA}, "spec.each", "needs an argument"),
    ("kind-no-arg", {"each": "bullets:x", "spec": NO_COMMA}, "spec.each", "takes no argument"),
    ("bad-split", {"each": "split:(", "spec": NO_COMMA}, "spec.each", "invalid split pattern"),
    ("each-no-spec", {"each": "bullets"}, "spec", "needs a 'spec'"),
    ("each-min-gt-of", {"each": "bullets", "spec": NO_COMMA, "min": 6, "of": 5}, "spec", "greater than the number"),
    ("each-from-zero", {"each": "bullets", "spec": NO_COMMA, "from": 0}, "spec.from", "non-zero"),
    ("each-if-none", {"each": "bullets", "spec": NO_COMMA, "if_none": "maybe"}, "spec.if_none", "if_none"),
    ("each-extra-key", {"each": "bullets", "spec": NO_COMMA, "count": 3}, "spec", "unexpected key"),
    ("within-no-spec", {"within": "tables"}, "spec", "needs a 'spec'"),
    ("seq-no-over", {"sequence": [NO_COMMA]}, "spec", "needs 'over'"),
    ("seq-empty", {"sequence": [], "over": "paragraphs"}, "spec.sequence", "non-empty list"),
    ("seq-rest", {"sequence": [NO_COMMA], "over": "paragraphs", "rest": "maybe"}, "spec.rest", "forbid"),
    ("seq-chain", {"sequence": [NO_COMMA], "over": "paragraphs", "chain": "yes"}, "spec.chain", "true or false"),
    (
        "seq-deep",
        {"sequence": [NO_COMMA, {"check": "nope.nope"}], "over": "paragraphs"},
        "spec.sequence[1].check",
        "unknown check",
    ),
    ("turn-zero", {"turn": 0, "spec": NO_COMMA}, "spec.turn", "non-zero"),
    ("turn-word", {"turn": "middle", "spec": NO_COMMA}, "spec.turn", "'last'"),
    ("turn-no-spec", {"turn": 1}, "spec", "needs a 'spec'"),
    ("when-no-then", {"when": NO_COMMA}, "spec", "needs a 'then'"),
    (
        "nested-path",
        {"all": [NO_COMMA, {"each": "sections", "spec": {"within": "nope", "spec": NO_COMMA}}]},
        "spec.all[1].spec.within",
        "cannot iterate",
    ),
    (
        "items-count-kind",
        {"check": "items.count", "params": {"items": "bulets", "min": 1}},
        "spec.params.items",
        "did you mean",
    ),
    ("items-count-range", {"check": "items.count", "params": {"items": "bullets"}}, "spec.params", "min"),
    ("levels-empty", {"check": "markdown.heading_levels", "params": {}}, "spec.params", "give 'min'"),
    ("label-fidelity", {"check": "label.fidelity", "params": {"scheme": "roman"}}, "spec.params", "options"),
    (
        "iou-range",
        {"check": "answer.list_iou", "params": {"references": ["a"], "min": 2}},
        "spec.params.min",
        "less than or equal",
    ),
    (
        "refs-empty",
        {"check": "answer.matching_any", "params": {"references": []}},
        "spec.params.references",
        "at least 1",
    ),
]


@pytest.mark.parametrize(("spec", "path", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_specs_name_their_path(spec: Any, path: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        Spec.parse(spec)
    assert err.value.path == path
    assert message in str(err.value)


# -- never raise on arbitrary text ---------------------------------------------------------------

COMPOSED = Spec.parse(
    {
        "all": [
            {"each": kind, "spec": {"any": [ENDS_Q, NO_COMMA]}, "min": 0}
            for kind in sorted(ITEMS)
            if not ITEMS[kind].takes_arg
        ]
        + [
            {"within": "table_cells", "spec": {"check": "length.words", "params": {"max": 50}}, "if_none": "pass"},
            {"sequence": [ENDS_Q, LOWER], "over": "paragraphs", "rest": "allow", "chain": True},
            {"turn": "last", "spec": {"check": "markdown.heading_levels", "params": {"min": 1, "only": [1, 2]}}},
            {"each": "table_column:a", "spec": {"check": "table.rows", "params": {"max": 2}}},
            {"each": "split:\\n\\n", "spec": {"check": "json.depth", "params": {"max": 3}}},
            {"check": "xml.attributes", "params": {"max": 2, "require_xml": False}},
            {"check": "markdown.starts_with_heading", "params": {"level": 2}},
            {"check": "text.starts_with", "params": {"prefix": "#"}},
            {"check": "label.match", "params": {"answer": "IV", "mode": "lenient"}},
            {"check": "answer.list_iou", "params": {"references": ["a", "b"]}},
            {"check": "answer.squad_f1", "params": {"references": ["the cat"]}},
        ]
    }
)

_PIECES = [*list("ab #|->*`{}[]\":,.?!\n\t<>=/'X1"), "```", "| a | b |\n|---|---|\n", "## ", "</think>", "\n\n"]
markdownish = st.lists(st.sampled_from(_PIECES), max_size=80).map("".join)


@settings(max_examples=150, deadline=None)
@given(st.one_of(markdownish, st.text(max_size=120)))
def test_composed_specs_never_raise(text: str) -> None:
    verdict = COMPOSED.evaluate(text)
    assert verdict.outcome in ("pass", "fail", "unscorable")
    assert all("internal error" not in v.reason for v in verdict.walk())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["user", "assistant", "system"]), st.text(max_size=40)), max_size=6),
    st.text(max_size=40),
)
def test_turn_specs_never_raise_on_any_dialogue(messages: list[tuple[str, str]], last: str) -> None:
    response = Response(last, turns=[Message(r, c) for r, c in messages])
    for spec in (
        {"each": "turns", "spec": LOWER},
        {"turn": 2, "spec": NO_COMMA},
        {"check": "conversation.distinct_turns"},
    ):
        assert Spec.parse(spec).evaluate(response).outcome in ("pass", "fail", "unscorable")


def test_textview_item_kinds_registered_by_the_view_still_work() -> None:
    view = TextView("one.\ntwo.")
    assert [v.text for v in item_views(view, "lines")] == ["one.", "two."]
