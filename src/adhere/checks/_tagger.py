"""Part-of-speech tags for the first token of a response, offline.

IFBench's ``words:start_verb`` asks nltk's averaged perceptron tagger
(``averaged_perceptron_tagger_eng``) for the first token's tag. That model's data is not on
PyPI (nltk downloads it at run time), so adhere offers two offline taggers:

* ``nltk``: nltk's own tagger, used only when its data is already installed on the machine
  (``nltk.data.find`` never downloads). This reproduces IFBench exactly. The tag of the
  first token depends only on the first three tokens (the model's features look two words
  ahead), so only those are tagged.
* ``pattern``: the Brill-style Pattern tagger whose lexicon and rules ship inside the
  TextBlob wheel (``pip install 'adhere[pos]'``): no download, pure Python, ~1 MB.
  It tags sentence-initial imperatives as verbs more often than nltk's model does
  (nltk tags e.g. 'Build' and 'Conceive' as proper nouns there).

``auto`` takes ``nltk`` when its data is present, else ``pattern``; the verdict's evidence
names the tagger used, so a score always says which one judged it.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from ..errors import MissingExtraError, require

__all__ = ["TaggerUnavailable", "tag_first"]

_lock = threading.Lock()
_PATTERN_WINDOW = 12  # Brill rules look up to three tokens ahead; chains stay within this window


class TaggerUnavailable(Exception):
    """The requested tagger cannot run here (its data is not installed)."""


@lru_cache(maxsize=1)
def _nltk_tagger() -> Any:
    """nltk's perceptron tagger if nltk and its data are installed, else None (never downloads)."""
    try:
        import nltk
    except ImportError:
        return None
    try:
        nltk.data.find("taggers/averaged_perceptron_tagger_eng/")
    except LookupError:
        return None
    from nltk.tag.perceptron import PerceptronTagger

    with _lock:
        return PerceptronTagger(lang="eng")


@lru_cache(maxsize=1)
def _pattern_tagger() -> Any:
    """TextBlob's Pattern ``tag`` function, its lexicon loaded.

    Pattern opens its lexicon files without closing them; the load happens here, once, with
    that ResourceWarning silenced and the file objects collected on the spot.
    """
    require("textblob", "pos")
    import gc
    import warnings

    from textblob.en import tag  # type: ignore[import-untyped]

    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        tag("Load the lexicon .", tokenize=False)
        gc.collect()
    return tag


def _pattern_tag(tokens: list[str]) -> str:
    tagged = _pattern_tagger()(" ".join(tokens[:_PATTERN_WINDOW]), tokenize=False)
    return str(tagged[0][1]) if tagged else ""


def tag_first(tokens: list[str], tagger: str = "auto") -> tuple[str, str]:
    """(tagger used, Penn Treebank tag of ``tokens[0]``).

    Raises :class:`TaggerUnavailable` for ``tagger="nltk"`` without its data, and
    :class:`MissingExtraError` when the Pattern tagger is needed but TextBlob is absent.
    """
    if tagger in ("auto", "nltk"):
        model = _nltk_tagger()
        if model is not None:
            return "nltk", str(model.tag(tokens[:3])[0][1])
        if tagger == "nltk":
            raise TaggerUnavailable(
                "nltk's averaged_perceptron_tagger_eng data is not installed; "
                "install it, or use the bundled Pattern tagger (tagger='pattern', pip install 'adhere[pos]')"
            )
    try:
        return "pattern", _pattern_tag(tokens)
    except MissingExtraError:
        raise
    except ImportError as exc:  # pragma: no cover - a broken TextBlob install
        raise MissingExtraError("textblob", "pos") from exc
