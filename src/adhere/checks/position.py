"""Position checks: how a response starts and ends (an end phrase, quotes, a repeated prompt)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from ..registry import Finding, NoParams, Params, check
from ..text.view import TextView
from ._common import short


def _lower_stripped(view: TextView) -> str:
    # lower() never creates or removes whitespace or quotes, so stripping the memoised
    # lowercase text equals lowercasing the stripped text.
    return view.memo("position.lower_stripped", lambda: view.lower.strip())


class EndsWithParams(Params):
    phrase: Annotated[str, StringConstraints(min_length=1)]
    model_config = ConfigDict(json_schema_extra={"examples": [{"phrase": "Is there anything else I can help with?"}]})


@check(
    "position.ends_with",
    params=EndsWithParams,
    tags=("position", "ifeval"),
    description="The response ends with the phrase (case-insensitive; outer whitespace and double quotes ignored).",
)
def ends_with(view: TextView, p: EndsWithParams) -> Finding:
    phrase = p.phrase.strip().lower()
    tail = _lower_stripped(view).strip('"')
    if tail.endswith(phrase):
        return Finding(True, f"ends with {short(phrase)!r}", {})
    # An empty phrase always matches, so here len(phrase) > 0.
    return Finding(False, f"ends with {short(tail[-len(phrase) :])!r}; needs {short(phrase)!r}", {})


@check(
    "position.quoted",
    params=NoParams,
    tags=("position", "ifeval"),
    description='The whole response is wrapped in double quotation marks ("...").',
)
def quoted(view: TextView, p: NoParams) -> Finding:
    text = view.stripped
    if len(text) > 1 and text[0] == '"' and text[-1] == '"':
        return Finding(True, "wrapped in double quotes", {})
    ends = (text[:1], text[-1:]) if text else ("", "")
    return Finding(False, f"not wrapped in double quotes (starts with {ends[0]!r}, ends with {ends[1]!r})", {})


class RepeatPromptParams(Params):
    prompt: Annotated[str, StringConstraints(min_length=1)] | None = Field(
        default=None, description="the request to repeat; defaults to the sample's prompt"
    )
    model_config = ConfigDict(json_schema_extra={"examples": [{}, {"prompt": "Write a haiku about rust."}]})


@check(
    "position.repeats_prompt",
    params=RepeatPromptParams,
    tags=("position", "ifeval"),
    description="The response begins by repeating the request word for word (case-insensitive).",
)
def repeats_prompt(view: TextView, p: RepeatPromptParams) -> Finding:
    request = (p.prompt if p.prompt is not None else view.prompt).strip().lower()
    if not request:
        return Finding(None, "no prompt to compare with", {})
    if _lower_stripped(view).startswith(request):
        return Finding(True, "begins with the request repeated", {})
    return Finding(False, f"does not begin with the request {short(request, 50)!r}", {})
