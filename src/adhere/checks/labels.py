"""Answer-label checks (the Atomic Instruction Gap): does the model answer with the label asked?

A multiple-choice item's options carry labels from one scheme — alphabetic (A, B, ...),
numeric (1, 2, ...) or Roman (I, II, ...). Two measurements:

* ``label.match`` — the response *is* the correct label. ``strict`` is exact equality
  (the paper's score); ``lenient`` forgives outer whitespace, one trailing period,
  wrapping parentheses or brackets, an ``Answer:`` prefix and letter case.
* ``label.fidelity`` — the response is *some* label of the allowed set (right or wrong):
  the model kept to the answer format at all.

Labels come from :func:`labels_for` (scheme and number of options) or are listed.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from ..registry import Finding, Params, check
from ..text.view import TextView
from ._common import short

Scheme = Literal["alpha", "numeric", "roman"]
Mode = Literal["strict", "lenient"]
SCHEMES: tuple[Scheme, ...] = ("alpha", "numeric", "roman")
_ROMAN = (
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
)


def roman(n: int) -> str:
    """``n`` (≥ 1) in Roman numerals."""
    out = []
    for value, sym in _ROMAN:
        while n >= value:
            out.append(sym)
            n -= value
    return "".join(out)


def _alpha(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(ord("A") + r) + s
    return s


def label(index: int, scheme: Scheme) -> str:
    """The label of option ``index`` (0-based): A/1/I for 0."""
    if index < 0:
        raise ValueError(f"option index must be >= 0, got {index}")
    if scheme == "alpha":
        return _alpha(index)
    if scheme == "numeric":
        return str(index + 1)
    return roman(index + 1)


def labels_for(n: int, scheme: Scheme) -> list[str]:
    """The labels of ``n`` options: ``labels_for(4, "roman") == ["I", "II", "III", "IV"]``."""
    return [label(i, scheme) for i in range(n)]


_PREFIX_RE = re.compile(r"^(?:the\s+)?(?:final\s+)?(?:answer|option|choice)\s*(?:is)?\s*[:\-]?\s*", re.IGNORECASE)


def lenient_form(text: str) -> str:
    """The lenient reading of an answer: outer spaces, an 'Answer:' prefix, one trailing
    period, wrapping (), [] or ** and letter case do not matter."""
    s = text.strip()
    s = _PREFIX_RE.sub("", s).strip()
    if s.endswith("."):
        s = s[:-1].rstrip()
    for open_, close in (("**", "**"), ("(", ")"), ("[", "]")):
        if len(s) > len(open_) + len(close) - 1 and s.startswith(open_) and s.endswith(close):
            s = s[len(open_) : -len(close)].strip()
    return s.upper()


def _matches(text: str, want: str, mode: Mode) -> bool:
    if mode == "strict":
        return text == want
    return lenient_form(text) == want.upper()


class MatchParams(Params):
    answer: Annotated[str, StringConstraints(min_length=1)] = Field(description="the correct label, e.g. 'C' or 'III'")
    mode: Mode = "strict"
    model_config = ConfigDict(json_schema_extra={"examples": [{"answer": "C"}, {"answer": "III", "mode": "lenient"}]})


@check(
    "label.match",
    params=MatchParams,
    tags=("labels", "choice"),
    description="The response is exactly the correct answer label (strict), or is after forgiving spaces, "
    "a trailing period, brackets, an 'Answer:' prefix and case (lenient).",
)
def match(view: TextView, p: MatchParams) -> Finding:
    ok = _matches(view.text, p.answer, p.mode)
    got = view.text if p.mode == "strict" else lenient_form(view.text)
    reason = f"answered {short(got, 30)!r}" + ("" if ok else f"; needs {p.answer!r} ({p.mode})")
    return Finding(ok, reason, {"answer": short(got, 60)})


class FidelityParams(Params):
    labels: list[Annotated[str, StringConstraints(min_length=1)]] | None = Field(
        default=None, description="the allowed labels; or give scheme and options"
    )
    scheme: Scheme | None = None
    options: int | None = Field(default=None, ge=1, le=702, description="number of options (with scheme)")
    mode: Mode = "lenient"
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"scheme": "roman", "options": 4}, {"labels": ["A", "B", "C", "D"]}]}
    )

    @model_validator(mode="after")
    def _allowed(self) -> FidelityParams:
        if self.labels is None and (self.scheme is None or self.options is None):
            raise ValueError("give 'labels', or 'scheme' with 'options'")
        if self.labels is not None and self.scheme is not None:
            raise ValueError("give 'labels' or 'scheme', not both")
        return self

    def allowed(self) -> list[str]:
        if self.labels is not None:
            return list(self.labels)
        assert self.scheme is not None and self.options is not None
        return labels_for(self.options, self.scheme)


@check(
    "label.fidelity",
    params=FidelityParams,
    tags=("labels", "choice"),
    description="The response is one of the allowed answer labels (lenient by default): the model kept to the "
    "label set, right or wrong.",
)
def fidelity(view: TextView, p: FidelityParams) -> Finding:
    allowed = p.allowed()
    ok = any(_matches(view.text, a, p.mode) for a in allowed)
    got = view.text if p.mode == "strict" else lenient_form(view.text)
    shown = ", ".join(allowed[:10]) + (", ..." if len(allowed) > 10 else "")
    return Finding(ok, f"answered {short(got, 30)!r}; allowed {shown}", {"answer": short(got, 60)})
