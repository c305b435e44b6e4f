"""Structure checks: paragraphs, bullet points, sections, placeholders, postscripts, alternatives.

The units follow IFEval's definitions (see :class:`~adhere.text.view.TextView`), quirks
included, so a general check and the IFEval instruction it serves always agree.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import ConfigDict, Field, PositiveInt, StringConstraints, model_validator

from ..registry import Finding, Params, check
from ..text.view import TextView
from ._common import CountRange, compiled, count_reason, plain, regex_error, short, within

NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class ParagraphsParams(CountRange):
    model_config = ConfigDict(json_schema_extra={"examples": [{"min": 3, "max": 3}]})


@check(
    "structure.paragraphs",
    params=ParagraphsParams,
    tags=("structure", "ifeval"),
    description="Number of paragraphs separated by the Markdown divider *** within [min, max]; "
    "two dividers with nothing between them fail.",
)
def paragraphs(view: TextView, p: ParagraphsParams) -> Finding:
    pieces = view.divider_paragraphs
    n = len(pieces)
    last = n - 1
    for i, piece in enumerate(pieces):
        if not piece.strip():
            if i in (0, last):
                n -= 1
            else:
                return Finding(False, f"an empty paragraph between *** dividers (piece {i + 1})", {"empty_at": i + 1})
    return Finding(within(n, p), count_reason(n, "paragraphs", p), {"paragraphs": n})


class FirstWordParams(Params):
    nth: PositiveInt = Field(description="which paragraph (1 = first)")
    word: NonEmpty = Field(description="the word it must start with (case-insensitive)")
    paragraphs: PositiveInt | None = Field(default=None, description="also require exactly this many paragraphs")
    model_config = ConfigDict(json_schema_extra={"examples": [{"nth": 2, "word": "However", "paragraphs": 3}]})

    @model_validator(mode="after")
    def _nth_in_range(self) -> FirstWordParams:
        if self.paragraphs is not None and self.nth > self.paragraphs:
            raise ValueError(f"'nth' ({self.nth}) is beyond 'paragraphs' ({self.paragraphs})")
        return self


_FIRST_WORD_RE = re.compile(r"[^.,?!'\"]*")


@check(
    "structure.paragraph_first_word",
    params=FirstWordParams,
    tags=("structure", "position", "ifeval"),
    description="Paragraphs are separated by blank lines ('\\n\\n'); the nth starts with the given word "
    "(and, if given, there are exactly that many paragraphs).",
)
def paragraph_first_word(view: TextView, p: FirstWordParams) -> Finding:
    pieces = view.blank_line_paragraphs
    n = sum(1 for piece in pieces if piece.strip())
    if p.nth > n:
        return Finding(False, f"found {n} paragraphs; paragraph {p.nth} does not exist", {"paragraphs": n})
    # Positions count empty pieces too (as the reference does), so an empty one can be "the nth".
    para = pieces[p.nth - 1].strip()
    if not para:
        return Finding(False, f"paragraph {p.nth} is empty", {"paragraphs": n})
    token = para.split(maxsplit=1)[0].lstrip("'").lstrip('"')
    m = _FIRST_WORD_RE.match(token)
    first = m.group(0) if m else ""
    # Lowercased letter by letter, as the reference does: only the Greek final sigma
    # differs from str.lower(), which would make it 'ς' at the end of a word.
    first = "".join(ch.lower() for ch in first) if "Σ" in first else first.lower()
    want = p.word.lower()
    evidence = {"paragraphs": n, "first_word": short(first, 40)}
    if first != want:
        return Finding(False, f"paragraph {p.nth} starts with {short(first, 40)!r}; needs {want!r}", evidence)
    if p.paragraphs is not None and n != p.paragraphs:
        return Finding(False, f"found {n} paragraphs; needs exactly {p.paragraphs}", evidence)
    return Finding(True, f"paragraph {p.nth} starts with {want!r}", evidence)


class BulletsParams(CountRange):
    model_config = ConfigDict(json_schema_extra={"examples": [{"min": 3, "max": 3}]})


@check(
    "structure.bullets",
    params=BulletsParams,
    tags=("structure", "markdown", "ifeval"),
    description="Number of bullet points (lines starting with '* ' or '-') within [min, max].",
)
def bullets(view: TextView, p: BulletsParams) -> Finding:
    n = view.ifeval_bullet_count
    return Finding(within(n, p), count_reason(n, "bullet points", p), {"bullets": n})


class PlaceholdersParams(CountRange):
    model_config = ConfigDict(json_schema_extra={"examples": [{"min": 2}]})


@check(
    "structure.placeholders",
    params=PlaceholdersParams,
    tags=("structure", "ifeval"),
    description="Number of square-bracket placeholders such as [address] within [min, max].",
)
def placeholders(view: TextView, p: PlaceholdersParams) -> Finding:
    n = view.placeholder_count
    return Finding(within(n, p), count_reason(n, "placeholders", p), {"placeholders": n})


class SectionsParams(CountRange):
    splitter: NonEmpty = Field(description="the word that opens a section, followed by its number")
    regex: bool = False
    model_config = ConfigDict(json_schema_extra={"examples": [{"splitter": "Section", "min": 3}]})

    @model_validator(mode="after")
    def _valid(self) -> SectionsParams:
        if self.regex:
            err = regex_error(self.pattern)
            if err:
                raise ValueError(err)
        return self

    @property
    def literal(self) -> bool:
        """Whether the splitter matches only itself (no regex syntax)."""
        return not self.regex or plain(self.splitter)

    @property
    def pattern(self) -> str:
        word = self.splitter if self.regex else re.escape(self.splitter)
        return r"\s?" + word + r"\s?\d+\s?"


@check(
    "structure.sections",
    params=SectionsParams,
    tags=("structure", "ifeval"),
    description="Number of sections opened by '<splitter> <number>' (e.g. 'Section 2') within [min, max].",
)
def sections(view: TextView, p: SectionsParams) -> Finding:
    rx = compiled(p.pattern)
    if p.literal:
        n = _count_literal_sections(rx, view.text, p.splitter)
    else:
        # As the reference counts pieces of re.split: a capturing group in a regex splitter
        # adds pieces, so each match counts 1 + groups.
        n = sum(1 for _ in rx.finditer(view.text)) * (1 + rx.groups)
    return Finding(within(n, p), count_reason(n, f"{short(p.splitter, 30)!r} sections", p), {"sections": n})


def _count_literal_sections(rx: re.Pattern[str], text: str, splitter: str) -> int:
    """``len(list(rx.finditer(text)))`` for ``\\s?<splitter>\\s?\\d+\\s?`` with a literal splitter.

    A match starts at an occurrence of the splitter or one character before it, so the
    regex is tried (anchored) only there, leftmost first, as ``finditer`` would find
    them; the unanchored scan is slow because the pattern starts with ``\\s?``.
    """
    n = pos = 0
    while (i := text.find(splitter, pos)) >= 0:
        m = rx.match(text, i - 1) if i > pos else None
        if m is None:
            m = rx.match(text, i)
        if m is None:
            pos = i + 1
            continue
        n += 1
        pos = m.end()
    return n


class PostscriptParams(Params):
    marker: NonEmpty = Field(description="what opens the postscript, e.g. 'P.S.' or 'P.P.S'")
    regex: bool = False
    model_config = ConfigDict(json_schema_extra={"examples": [{"marker": "P.S."}, {"marker": "P.P.S"}]})

    @model_validator(mode="after")
    def _valid(self) -> PostscriptParams:
        if self.regex:
            err = regex_error(self.pattern, re.MULTILINE)
            if err:
                raise ValueError(err)
        return self

    @property
    def needle(self) -> str | None:
        """Text every match contains (in the lowercased response), or None if unknown."""
        if self.marker in ("P.P.S", "P.S."):
            return "p."
        if not self.regex or plain(self.marker):
            return self.marker.lower()
        return None

    @property
    def pattern(self) -> str:
        # 'P.S.' and 'P.P.S' also match with a space after each dot ("p. s."), as in IFEval.
        if self.marker == "P.P.S":
            return r"\s*p\.\s?p\.\s?s.*$"
        if self.marker == "P.S.":
            return r"\s*p\.\s?s\..*$"
        body = self.marker.lower()
        return r"\s*" + (body if self.regex else re.escape(body)) + r".*$"


@check(
    "structure.postscript",
    params=PostscriptParams,
    tags=("structure", "ifeval"),
    description="The response contains a postscript opened by the marker (case-insensitive), e.g. 'P.S.'.",
)
def postscript(view: TextView, p: PostscriptParams) -> Finding:
    if p.needle is not None and p.needle not in view.lower:  # cheap necessary condition
        return Finding(False, f"no postscript starting with {short(p.marker, 30)!r}", {})
    m = compiled(p.pattern, re.MULTILINE).search(view.lower)
    if m is None:
        return Finding(False, f"no postscript starting with {short(p.marker, 30)!r}", {})
    return Finding(True, f"postscript found: {short(m.group(0).strip())!r}", {"postscript": short(m.group(0).strip())})


class TwoResponsesParams(Params):
    separator: NonEmpty = "******"
    model_config = ConfigDict(json_schema_extra={"examples": [{}, {"separator": "---"}]})


@check(
    "structure.two_responses",
    params=TwoResponsesParams,
    tags=("structure", "ifeval"),
    description="Exactly two different, non-empty responses separated by the separator (default ******).",
)
def two_responses(view: TextView, p: TwoResponsesParams) -> Finding:
    parts = view.text.split(p.separator)
    last = len(parts) - 1
    valid: list[str] = []
    for i, part in enumerate(parts):
        if part.strip():
            valid.append(part)
        elif i not in (0, last):
            return Finding(False, f"an empty response between separators (part {i + 1})", {"parts": len(parts)})
    if len(valid) != 2:
        return Finding(False, f"found {len(valid)} responses; needs exactly 2", {"responses": len(valid)})
    if valid[0].strip() == valid[1].strip():
        return Finding(False, "the two responses are identical", {"responses": 2})
    return Finding(True, "two different responses", {"responses": 2})
