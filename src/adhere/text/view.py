"""``TextView``: one response, analysed once.

Ten checks on one response tokenise it once: every analysis is computed on first
use and memoised on the view. Checks read text only through a view. Where a
reference benchmark defines a unit its own way (IFEval's words and sentences), the
view offers that definition by name, so parity never forks the logic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

from . import language as _language
from . import sentences as _sentences

__all__ = ["TextView"]

T = TypeVar("T")
_WORD_RE = re.compile(r"\w+")
_FENCE_RE = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
_BLANK_LINE_RE = re.compile(r"\n\s*\n")
_BULLET_RE = re.compile(r"^\s*(?:[*+-]|\d+[.)])\s+(.*)$", re.MULTILINE)


class TextView:
    """Memoised analyses of one text. Cheap to build; pay only for what is read."""

    __slots__ = ("__dict__", "_memo", "prompt", "text")

    def __init__(self, text: str, prompt: str = "") -> None:
        self.text = text
        self.prompt = prompt
        self._memo: dict[Any, Any] = {}

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """Memoise a check-specific derived value under ``key`` (hashable)."""
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._memo[key] = compute()
            return value

    # -- basic forms ----------------------------------------------------------------
    @cached_property
    def stripped(self) -> str:
        return self.text.strip()

    @cached_property
    def lower(self) -> str:
        return self.text.lower()

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    # -- words and sentences ----------------------------------------------------------
    @cached_property
    def words(self) -> list[str]:
        """Runs of word characters (``\\w+``): IFEval's word definition."""
        return _WORD_RE.findall(self.text)

    @cached_property
    def word_count(self) -> int:
        return len(self.words)

    @cached_property
    def sentences(self) -> list[str]:
        """Sentences by nltk's English Punkt model: IFEval's sentence definition."""
        return _sentences.punkt_sentences(self.text)

    @cached_property
    def treebank_tokens(self) -> list[str]:
        """Tokens as ``nltk.word_tokenize`` gives them (IFEval's capital-word count)."""
        return _sentences.treebank_words(self.text)

    # -- structure ----------------------------------------------------------------------
    @cached_property
    def paragraphs(self) -> list[str]:
        """Non-empty blocks separated by blank lines."""
        return [p.strip() for p in _BLANK_LINE_RE.split(self.text) if p.strip()]

    @cached_property
    def bullets(self) -> list[str]:
        """The text of Markdown list items (``*``, ``-``, ``+`` or ``1.``)."""
        return _BULLET_RE.findall(self.text)

    @cached_property
    def code_blocks(self) -> list[str]:
        """Bodies of fenced Markdown code blocks, in order."""
        return _FENCE_RE.findall(self.text)

    # -- language -------------------------------------------------------------------------
    @cached_property
    def language(self) -> str | None:
        """langdetect's answer (seed 0), or None where it cannot tell."""
        return _language.detect(self.text)

    def items(self, kind: str) -> list[str]:
        """The items ``each`` iterates over; ``kind`` is one of :data:`ITEM_KINDS`."""
        getter = ITEM_KINDS.get(kind)
        if getter is None:
            raise KeyError(kind)
        return getter(self)


ITEM_KINDS: dict[str, Callable[[TextView], list[str]]] = {
    "paragraphs": lambda v: v.paragraphs,
    "sentences": lambda v: v.sentences,
    "lines": lambda v: [line for line in v.lines if line.strip()],
    "bullets": lambda v: v.bullets,
    "code_blocks": lambda v: v.code_blocks,
}
