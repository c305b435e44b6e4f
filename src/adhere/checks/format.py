"""Format checks: JSON output, a <<title>>, Markdown highlights, a fixed answer option."""

from __future__ import annotations

import json
import re
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from ..registry import Finding, NoParams, Params, check
from ..text.view import TextView
from ._common import CountRange, count_reason, short, within

_TITLE_RE = re.compile(r"<<[^\n]+>>")


@check(
    "format.json",
    params=NoParams,
    tags=("format", "ifeval"),
    description="The whole response is one JSON value, optionally inside a ``` or ```json fence.",
)
def json_value(view: TextView, p: NoParams) -> Finding:
    body = (
        view.stripped.removeprefix("```json")
        .removeprefix("```Json")
        .removeprefix("```JSON")
        .removeprefix("```")
        .removesuffix("```")
        .strip()
    )
    try:
        json.loads(body)
    except RecursionError:
        return Finding(False, "not JSON we can parse: nested too deeply", {"json": False})
    except ValueError as exc:
        return Finding(False, f"not valid JSON: {short(str(exc), 80)}", {"json": False})
    return Finding(True, "the response is valid JSON", {"json": True})


@check(
    "format.title",
    params=NoParams,
    tags=("format", "ifeval"),
    description="The response has a title in double angular brackets, such as <<poem of joy>>.",
)
def title(view: TextView, p: NoParams) -> Finding:
    text = view.text
    if "<<" in text:
        for found in _TITLE_RE.findall(text):
            name = found.lstrip("<").rstrip(">").strip()
            if name:
                return Finding(True, f"title <<{short(name)}>>", {"title": short(name)})
    return Finding(False, "no <<title>> found", {})


class HighlightsParams(CountRange):
    model_config = ConfigDict(json_schema_extra={"examples": [{"min": 3}]})


@check(
    "format.highlights",
    params=HighlightsParams,
    tags=("format", "markdown", "ifeval"),
    description="Number of Markdown highlights (*text* or **text** within a line) within [min, max].",
)
def highlights(view: TextView, p: HighlightsParams) -> Finding:
    n = view.ifeval_highlight_count
    return Finding(within(n, p), count_reason(n, "highlighted sections", p), {"highlights": n})


class ChoiceParams(Params):
    options: Annotated[list[Annotated[str, StringConstraints(min_length=1)]], Field(min_length=1)]
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"options": ["My answer is yes.", "My answer is no.", "My answer is maybe."]}]}
    )


@check(
    "format.choice",
    params=ChoiceParams,
    tags=("format", "ifeval"),
    description="The response contains one of the given answer options verbatim.",
)
def choice(view: TextView, p: ChoiceParams) -> Finding:
    text = view.stripped
    for option in p.options:
        if option in text:
            return Finding(True, f"contains the option {short(option)!r}", {"option": option})
    return Finding(False, f"contains none of the {len(p.options)} options", {"option": None})
