"""Affix checks: how a response (or an item of it) begins.

``position.ends_with`` covers endings; this family adds the opening identifier that
MulDimIF's "Start identifier" constraints ask for ("The answer must start with the
identifier 'List of Models:'").
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from ..registry import Finding, Params, check
from ..text.view import TextView
from ._common import short

_LEADING_MARKUP_RE = re.compile(r"^(?:\s|#{1,6}\s|>\s?|[*_`~]+|[-+*]\s|\d+[.)]\s)+")


class StartsWithParams(Params):
    prefix: Annotated[str, StringConstraints(min_length=1)]
    case_sensitive: bool = False
    ignore_markup: bool = Field(
        default=True, description="skip leading whitespace and Markdown markers (#, >, *, _, list bullets)"
    )
    model_config = ConfigDict(json_schema_extra={"examples": [{"prefix": "List of Models:"}, {"prefix": "P"}]})


@check(
    "text.starts_with",
    params=StartsWithParams,
    tags=("position", "muldimif"),
    description="The response begins with the prefix (case-insensitive; leading Markdown markers skipped by default).",
)
def starts_with(view: TextView, p: StartsWithParams) -> Finding:
    text = view.text.lstrip()
    if p.ignore_markup:
        text = _LEADING_MARKUP_RE.sub("", text)
    head, want = text[: len(p.prefix)], p.prefix
    ok = head == want if p.case_sensitive else head.lower() == want.lower()
    reason = f"starts with {short(head)!r}" + ("" if ok else f"; needs {short(want)!r}")
    return Finding(ok, reason, {})
