"""Sentence and word tokenisation with IFEval's definitions, offline.

IFEval counts sentences with nltk's English Punkt model and (for capital-word
frequency) tokens with ``nltk.word_tokenize``. The Punkt parameters ship inside the
package (``punkt_english/``), so nothing is downloaded at run time and no pickle is
loaded. nltk is imported lazily: only responses that need sentences pay for it.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["punkt_sentences", "treebank_words"]

_MODEL_DIR = Path(__file__).with_name("punkt_english")
_lock = threading.Lock()


def _read_lines(name: str) -> list[str]:
    text = (_MODEL_DIR / name).read_text(encoding="utf-8")
    return [line for line in text.split("\n") if line]


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    with _lock:
        from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

        params = PunktParameters()
        params.abbrev_types = set(_read_lines("abbrev_types.txt"))
        params.sent_starters = set(_read_lines("sent_starters.txt"))
        params.collocations = {tuple(line.split("\t")) for line in _read_lines("collocations.tab")}
        ortho: defaultdict[str, int] = defaultdict(int)
        for line in _read_lines("ortho_context.tab"):
            key, value = line.split("\t")
            ortho[key] = int(value)
        params.ortho_context = ortho
        return PunktSentenceTokenizer(params)


def punkt_sentences(text: str) -> list[str]:
    """Sentences exactly as ``nltk.tokenize.sent_tokenize(text)`` (English) gives them."""
    return list(_tokenizer().tokenize(text))


@lru_cache(maxsize=1)
def _word_tokenizer() -> Any:
    from nltk.tokenize.destructive import NLTKWordTokenizer

    return NLTKWordTokenizer()


def treebank_words(text: str) -> list[str]:
    """Tokens exactly as ``nltk.word_tokenize(text)`` gives them (English)."""
    tok = _word_tokenizer()
    return [t for sent in punkt_sentences(text) for t in tok.tokenize(sent)]
