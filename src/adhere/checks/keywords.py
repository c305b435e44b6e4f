"""Keyword checks: words that must appear, must not appear, or appear a number of times.

Matching is case-insensitive by default. Keywords are literal text unless ``regex`` is
true; IFEval's reference treats its keywords as regular expressions, so the IFEval
suite sets ``regex: true`` (its keywords are plain words, where both agree).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from ..registry import Finding, Params, check
from ..text.view import TextView
from ._common import CountRange, compiled, count_reason, plain, regex_error, short, within

NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class _Matching(Params):
    case_sensitive: bool = False
    regex: bool = False

    @property
    def flags(self) -> int:
        return 0 if self.case_sensitive else re.IGNORECASE

    def pattern(self, text: str) -> str:
        return text if self.regex else re.escape(text)


def _surely_absent(view: TextView, keyword: str, p: _Matching) -> bool:
    """True when ``keyword`` cannot match, decided by a substring test (a cheap pre-check).

    Exact only in the cases it answers: ASCII text, an ASCII keyword with no regex
    syntax, case-insensitive matching (outside ASCII, regex case folding differs from
    ``str.lower``: the Kelvin sign matches 'k'). Otherwise it says False and the regex runs.
    """
    if p.case_sensitive or not view.text.isascii() or not keyword.isascii():
        return False
    if p.regex and not plain(keyword):
        return False
    return keyword.lower() not in view.lower


def _validate_patterns(texts: list[str], p: _Matching, wrap: str = "{}") -> None:
    if not p.regex:
        return
    for t in texts:
        err = regex_error(wrap.format(t), p.flags)
        if err:
            raise ValueError(err)


class IncludeParams(_Matching):
    keywords: Annotated[list[NonEmpty], Field(min_length=1)]
    model_config = ConfigDict(json_schema_extra={"examples": [{"keywords": ["river", "mountain"]}]})

    @model_validator(mode="after")
    def _valid(self) -> IncludeParams:
        _validate_patterns(self.keywords, self)
        return self


@check(
    "keywords.include",
    params=IncludeParams,
    tags=("keywords", "ifeval"),
    description="Every keyword appears somewhere in the response.",
)
def include(view: TextView, p: IncludeParams) -> Finding:
    text = view.text
    missing = [
        k for k in p.keywords if _surely_absent(view, k, p) or compiled(p.pattern(k), p.flags).search(text) is None
    ]
    if missing:
        shown = ", ".join(repr(short(k, 40)) for k in missing[:5])
        return Finding(False, f"missing {len(missing)} of {len(p.keywords)} keywords: {shown}", {"missing": missing})
    return Finding(True, f"all {len(p.keywords)} keywords found", {"missing": []})


class ForbiddenParams(_Matching):
    words: Annotated[list[NonEmpty], Field(min_length=1)]
    model_config = ConfigDict(json_schema_extra={"examples": [{"words": ["very", "really"]}]})

    @model_validator(mode="after")
    def _valid(self) -> ForbiddenParams:
        _validate_patterns(self.words, self, r"\b{}\b")
        return self


@check(
    "keywords.forbidden",
    params=ForbiddenParams,
    tags=("keywords", "ifeval"),
    description="None of the words appears as a whole word (between word boundaries).",
)
def forbidden(view: TextView, p: ForbiddenParams) -> Finding:
    text = view.text
    found = [
        w
        for w in p.words
        if not _surely_absent(view, w, p) and compiled(r"\b" + p.pattern(w) + r"\b", p.flags).search(text) is not None
    ]
    if found:
        shown = ", ".join(repr(short(w, 40)) for w in found[:5])
        return Finding(False, f"uses {len(found)} forbidden word(s): {shown}", {"found": found})
    return Finding(True, f"none of {len(p.words)} forbidden words used", {"found": []})


class CountParams(_Matching, CountRange):
    keyword: NonEmpty
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"keyword": "data", "min": 3}, {"keyword": "I", "max": 2}]}
    )

    @model_validator(mode="after")
    def _valid(self) -> CountParams:
        _validate_patterns([self.keyword], self)
        return self


@check(
    "keywords.count",
    params=CountParams,
    tags=("keywords", "ifeval"),
    description="Number of (non-overlapping) occurrences of a keyword within [min, max].",
)
def count(view: TextView, p: CountParams) -> Finding:
    if _surely_absent(view, p.keyword, p):
        n = 0
    else:
        n = sum(1 for _ in compiled(p.pattern(p.keyword), p.flags).finditer(view.text))
    return Finding(within(n, p), count_reason(n, f"occurrences of {short(p.keyword, 40)!r}", p), {"occurrences": n})


class LetterParams(CountRange):
    letter: str
    model_config = ConfigDict(json_schema_extra={"examples": [{"letter": "q", "min": 5}, {"letter": "z", "max": 1}]})

    @field_validator("letter")
    @classmethod
    def _one_letter(cls, v: str) -> str:
        if len(v) != 1 or len(v.lower()) != 1:
            raise ValueError(f"expected exactly one character, got {v!r}")
        return v


@check(
    "keywords.letter_count",
    params=LetterParams,
    tags=("keywords", "ifeval"),
    description="Occurrences of one character, ignoring case, within [min, max].",
)
def letter_count(view: TextView, p: LetterParams) -> Finding:
    letter = p.letter.lower()
    n = view.lower.count(letter)
    return Finding(within(n, p), count_reason(n, f"{letter!r} characters", p), {"occurrences": n})
