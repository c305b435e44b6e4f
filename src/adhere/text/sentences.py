"""Sentence and word tokenisation with IFEval's definitions, offline and without nltk.

IFEval counts sentences with nltk's English Punkt model (``sent_tokenize``) and, for
capital-word frequency, tokens with ``nltk.word_tokenize``. adhere gives the same
answers from its own implementations: Punkt in ``_punkt`` with the English
parameters shipped in ``punkt_english/`` (nothing is downloaded, no pickle is
loaded), and the Treebank word tokenizer in ``_treebank``. nltk itself is needed
only by the parity tests.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["clear_caches", "iter_punkt_sentences", "punkt_sentences", "treebank_words"]


def punkt_sentences(text: str) -> list[str]:
    """Sentences exactly as ``nltk.tokenize.sent_tokenize(text)`` (English) gives them."""
    from . import _punkt  # regex patterns and the model load on first use

    return [text[start:stop] for start, stop in _punkt.sentence_spans(text)]


def iter_punkt_sentences(text: str) -> Iterator[str]:
    """:func:`punkt_sentences`, one sentence at a time, split only as far as they are read."""
    from . import _punkt

    return (text[start:stop] for start, stop in _punkt.iter_sentence_spans(text))


def treebank_words(text: str) -> list[str]:
    """Tokens exactly as ``nltk.word_tokenize(text)`` gives them (English)."""
    from . import _treebank

    tokenize = _treebank.tokenize
    return [token for sentence in punkt_sentences(text) for token in tokenize(sentence)]


def clear_caches() -> None:
    """Forget memoised Punkt decisions and tokenised sentences (benchmarks time the work itself)."""
    from . import _punkt, _treebank

    _punkt.splitter().clear_caches()
    _treebank.clear_cache()
