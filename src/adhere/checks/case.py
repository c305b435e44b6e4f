"""Letter-case checks: all lowercase, all capitals, and how many words are in capitals."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ConfigDict, Field

from ..registry import Finding, Params, check
from ..text.view import TextView
from ._common import CountRange, count_reason, describe_range, within
from .language import LANGUAGE_CODE


class CaseParams(Params):
    language: str | None = Field(
        default=None,
        pattern=LANGUAGE_CODE,
        description="also require this language (langdetect; undetectable text passes, as in IFEval)",
    )
    model_config = ConfigDict(json_schema_extra={"examples": [{}, {"language": "en"}]})


#: Each case check's case test: a cheap necessary condition, decided before any language
#: detection (``checks.language.asks_language`` reads it too).
CASE_TESTS: dict[str, Callable[[str], bool]] = {"case.lowercase": str.islower, "case.uppercase": str.isupper}


def _case(view: TextView, p: CaseParams, ok: bool, want: str) -> Finding:
    # The case test is a cheap necessary condition: language detection runs only after it passes.
    if not ok:
        return Finding(False, f"not all {want}", {"case": False})
    if p.language is None:
        return Finding(True, f"all {want}", {"case": True})
    found = view.language
    if found is None:
        return Finding(True, f"all {want}; language undetectable, counted as followed (IFEval rule)", {"case": True})
    lang_ok = found == p.language
    reason = f"all {want}, language {found!r}" + ("" if lang_ok else f"; needs {p.language!r}")
    return Finding(lang_ok, reason, {"case": True, "detected": found})


@check(
    "case.lowercase",
    params=CaseParams,
    tags=("case", "ifeval"),
    description="Every cased letter is lowercase (and there is one); optionally in a given language.",
)
def lowercase(view: TextView, p: CaseParams) -> Finding:
    return _case(view, p, CASE_TESTS["case.lowercase"](view.text), "lowercase")


@check(
    "case.uppercase",
    params=CaseParams,
    tags=("case", "ifeval"),
    description="Every cased letter is a capital (and there is one); optionally in a given language.",
)
def uppercase(view: TextView, p: CaseParams) -> Finding:
    return _case(view, p, CASE_TESTS["case.uppercase"](view.text), "capitals")


class CapitalWordsParams(CountRange):
    model_config = ConfigDict(json_schema_extra={"examples": [{"min": 3}, {"max": 4}]})


@check(
    "case.capital_words",
    params=CapitalWordsParams,
    tags=("case", "ifeval"),
    description="Number of all-capital words (nltk word tokens) within [min, max].",
)
def capital_words(view: TextView, p: CapitalWordsParams) -> Finding:
    bounds = view.capital_word_bounds
    if bounds is not None:
        low, high = bounds
        # Decide from the bounds when they settle it; otherwise tokenise.
        if within(low, p) and within(high, p):
            return Finding(
                True, f"found {_span(low, high)} all-capital words; needs {describe_range(p)}", _ev(low, high)
            )
        if (p.min is not None and high < p.min) or (p.max is not None and low > p.max):
            return Finding(
                False, f"found {_span(low, high)} all-capital words; needs {describe_range(p)}", _ev(low, high)
            )
    n = view.capital_word_count
    return Finding(within(n, p), count_reason(n, "all-capital words", p), {"capital_words": n})


def _span(low: int, high: int) -> str:
    return str(low) if low == high else f"between {low} and {high}"


def _ev(low: int, high: int) -> dict[str, int]:
    return {"capital_words_min": low, "capital_words_max": high}
