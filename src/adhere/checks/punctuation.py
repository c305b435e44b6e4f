"""Punctuation checks."""

from __future__ import annotations

from ..registry import Finding, NoParams, check
from ..text.view import TextView


@check(
    "punctuation.no_comma",
    params=NoParams,
    tags=("punctuation", "ifeval"),
    description="The response contains no comma (',').",
)
def no_comma(view: TextView, p: NoParams) -> Finding:
    n = view.text.count(",")
    return Finding(n == 0, "no commas" if n == 0 else f"found {n} comma(s); none allowed", {"commas": n})
