"""Copying checks: repeat the request with its first word changed, output an exact sentence,
copy a character span of the prompt."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from ..registry import Finding, Params, check
from ..text.view import TextView

_TAGS = ("copy", "ifbench")


class RequestParams(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"request": "Write a poem about rain."}]})

    request: str = Field(description="The request to repeat.")


@check(
    "copy.request_first_word_changed",
    params=RequestParams,
    tags=_TAGS,
    description="The response repeats `request` word for word except its first word, which must differ "
    "(nothing before or after).",
)
def request_first_word_changed(view: TextView, p: RequestParams) -> Finding:
    """Words are whitespace tokens; an exact copy fails. As in IFBench, only the text as a whole
    must differ, so a copy with changed spacing also passes."""
    if view.text == p.request:
        return Finding(False, "the response repeats the request unchanged")
    ok = p.request.split()[1:] == view.text.split()[1:]
    return Finding(ok, "repeats the request after its first word" if ok else "does not repeat the rest of the request")


class ExactParams(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "Only output this sentence here."}]})

    text: str = Field(description="The text the response must be (case-insensitive, outer whitespace ignored).")


@check(
    "copy.exact_text",
    params=ExactParams,
    tags=_TAGS,
    description="The response is exactly `text`, ignoring case and surrounding whitespace.",
)
def exact_text(view: TextView, p: ExactParams) -> Finding:
    ok = view.stripped.lower() == p.text.strip().lower()
    return Finding(ok, "the response is the required text" if ok else "the response differs from the required text")


class SpanParams(Params):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"source": "Copy part of this prompt.", "start": 5, "end": 11}]}
    )

    source: str = Field(description="The text to copy from (usually the prompt).")
    start: int = Field(ge=0, description="Index of the first character of the span.")
    end: int = Field(ge=0, description="Index of the last character of the span (inclusive).")


@check(
    "copy.char_span",
    params=SpanParams,
    tags=_TAGS,
    description="The response is `source[start..end]` (characters, both ends inclusive), ignoring case "
    "and surrounding whitespace.",
)
def char_span(view: TextView, p: SpanParams) -> Finding:
    span = p.source[p.start : p.end + 1]
    ok = view.stripped.lower() == span.strip().lower()
    return Finding(ok, f"the response {'is' if ok else 'is not'} the span {span!r}", {"span": span})
