"""Conversation checks: dialogue-level facts, and MultiTurnInstruct's answer metrics.

Two kinds live here:

* Checks on the **conversation** subject (``conversation.*``): they receive the whole
  dialogue (:class:`~adhere.subjects.Conversation`). A lone response is a dialogue of one
  exchange. To hold a constraint on every assistant turn ("from now on, answer in
  lowercase"), compose instead: ``{"each": "turns", "from": 2, "spec": ...}``.
* MultiTurnInstruct's per-item metrics (``answer.*``), judged on a turn's text against
  reference answers: ``matching_any`` (case-insensitive substring of any reference),
  ``not_matching_any`` (privacy: no reference leaks), ``matching_any_exact`` (the last
  "Answer: X"), ``list_iou`` (intersection over union of a comma list) and SQuAD's
  ``squad_em``/``squad_f1``. Each verdict's score is the metric's value.
"""

from __future__ import annotations

import collections
import re
import string
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from ..registry import Finding, NoParams, Params, check
from ..subjects import Conversation
from ..text.view import TextView
from ._common import CountRange, count_reason, short, within

Reference = Annotated[str, StringConstraints(min_length=1)]
_TAGS = ("conversation", "multiturn")


# -- dialogue checks -------------------------------------------------------------------------


class TurnsParams(CountRange):
    model_config = ConfigDict(json_schema_extra={"examples": [{"min": 2}, {"max": 1}]})


@check(
    "conversation.turns",
    params=TurnsParams,
    subject="conversation",
    tags=_TAGS,
    description="Number of assistant turns in the dialogue within [min, max].",
)
def turns(conv: Conversation, p: TurnsParams) -> Finding:
    n = len(conv.assistant_indices)
    return Finding(within(n, p), count_reason(n, "assistant turns", p), {"turns": n})


def _norm_turn(text: str) -> str:
    return " ".join(text.lower().split())


@check(
    "conversation.distinct_turns",
    params=NoParams,
    subject="conversation",
    tags=_TAGS,
    description="No assistant turn repeats an earlier one (case and spacing ignored): the model is not looping.",
)
def distinct_turns(conv: Conversation, p: NoParams) -> Finding:
    seen: dict[str, int] = {}
    for i, text in enumerate(conv.assistant_turns, start=1):
        key = _norm_turn(text)
        if key in seen:
            return Finding(False, f"turn {i} repeats turn {seen[key]}", {"turn": i, "repeats": seen[key]})
        seen[key] = i
    return Finding(True, f"{len(seen)} distinct assistant turns", {"turns": len(seen)})


# -- MultiTurnInstruct's answer metrics -------------------------------------------------------


class ReferencesParams(Params):
    references: Annotated[list[Reference], Field(min_length=1)] = Field(description="acceptable reference answers")
    model_config = ConfigDict(json_schema_extra={"examples": [{"references": ["Paris"]}]})


@check(
    "answer.matching_any",
    params=ReferencesParams,
    tags=(*_TAGS, "reference"),
    description="Some reference appears in the response (case-insensitive substring): matching_any.",
)
def matching_any(view: TextView, p: ReferencesParams) -> Finding:
    text = view.lower
    hits = [r for r in p.references if r.lower() in text]
    if hits:
        return Finding(True, f"contains {short(hits[0], 40)!r}", {"matched": hits})
    return Finding(False, f"contains none of {len(p.references)} reference(s)", {"matched": []})


@check(
    "answer.not_matching_any",
    params=ReferencesParams,
    tags=(*_TAGS, "reference", "privacy"),
    description="No reference appears in the response (case-insensitive): nothing secret leaks; "
    "MultiTurnInstruct's not_matching_any.",
)
def not_matching_any(view: TextView, p: ReferencesParams) -> Finding:
    text = view.lower
    leaks = [r for r in p.references if r.lower() in text]
    if leaks:
        return Finding(False, f"leaks {short(leaks[0], 40)!r}", {"leaked": leaks})
    return Finding(True, f"none of {len(p.references)} protected string(s) appears", {"leaked": []})


_ANSWER_RE = re.compile(r"Answer: (.+)")
_ANSWER_CHAR_RE = re.compile(r"Answer: (.+?)")


class ExactParams(ReferencesParams):
    reference_quirk: bool = Field(
        default=False,
        description="reproduce the reference implementation, whose lazy pattern keeps only the first character "
        "after 'Answer: ' (right for one-letter choices only)",
    )
    model_config = ConfigDict(json_schema_extra={"examples": [{"references": ["B"]}]})


@check(
    "answer.matching_any_exact",
    params=ExactParams,
    tags=(*_TAGS, "reference"),
    description="The last 'Answer: X' line's X equals some reference (case-insensitive, outer spaces ignored); "
    "MultiTurnInstruct's matching_any_exact.",
)
def matching_any_exact(view: TextView, p: ExactParams) -> Finding:
    found = (_ANSWER_CHAR_RE if p.reference_quirk else _ANSWER_RE).findall(view.text)
    if not found:
        return Finding(False, "no 'Answer: ' line", {"answer": None})
    answer = found[-1].strip()
    ok = any(answer.lower() == r.lower() for r in p.references)
    return Finding(ok, f"answered {short(answer, 40)!r}" + ("" if ok else "; not a reference"), {"answer": answer})


class IouParams(ReferencesParams):
    min: float = Field(default=1.0, ge=0.0, le=1.0, description="pass when the IoU is at least this")
    model_config = ConfigDict(json_schema_extra={"examples": [{"references": ["red", "green"], "min": 0.5}]})


def list_iou_value(response: str, references: list[str]) -> float:
    """MultiTurnInstruct's list IoU: the text after the first ': ' (up to the next ': ') is a
    ', '-separated set; references are a set; both lower-cased."""
    text = response.lower().strip()
    if ": " in text:
        text = text.split(": ")[1]
    got = set(text.split(", "))
    refs = {r.lower() for r in references}
    common = sum(1 for r in refs if r in got)
    return common / (len(got) + len(refs) - common)


@check(
    "answer.list_iou",
    params=IouParams,
    tags=(*_TAGS, "reference"),
    description="Intersection over union of the response's comma list and the references (score = IoU); "
    "passes at 'min'. MultiTurnInstruct's intersection_over_union.",
)
def list_iou(view: TextView, p: IouParams) -> Finding:
    iou = list_iou_value(view.text, list(p.references))
    return Finding(iou >= p.min - 1e-12, f"list IoU {iou:.3f}; passes at {p.min:g}", {"iou": iou}, score=iou)


def _squad_normalize(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


_PUNCT = frozenset(string.punctuation)


def squad_f1(prediction: str, gold: str) -> float:
    """SQuAD 2.0's token F1 (lower case, no punctuation or articles)."""
    pred, ref = _squad_normalize(prediction).split(), _squad_normalize(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    same = sum((collections.Counter(pred) & collections.Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


@check(
    "answer.squad_em",
    params=ReferencesParams,
    tags=(*_TAGS, "reference", "squad"),
    description="The response equals some reference after SQuAD normalisation (case, punctuation, articles, spaces).",
)
def squad_em(view: TextView, p: ReferencesParams) -> Finding:
    got = _squad_normalize(view.text)
    ok = any(got == _squad_normalize(r) for r in p.references)
    return Finding(ok, "exact match" if ok else f"{short(got, 40)!r} matches no reference", {})


class F1Params(ReferencesParams):
    min: float = Field(default=0.5, ge=0.0, le=1.0, description="pass when the best F1 is at least this [ours]")
    model_config = ConfigDict(json_schema_extra={"examples": [{"references": ["the Eiffel Tower"], "min": 0.5}]})


@check(
    "answer.squad_f1",
    params=F1Params,
    tags=(*_TAGS, "reference", "squad"),
    description="SQuAD token F1 against the best reference (score = F1); passes at 'min' (0.5 by default).",
)
def squad_f1_check(view: TextView, p: F1Params) -> Finding:
    best = max(squad_f1(view.text, r) for r in p.references)
    return Finding(best >= p.min - 1e-12, f"F1 {best:.3f}; passes at {p.min:g}", {"f1": best}, score=best)
