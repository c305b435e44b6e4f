"""Language detection with langdetect 1.0.9's answers (seed 0), computed faster.

IFEval's ``language:response_language`` asks langdetect which language a response is
in. langdetect samples n-grams at random; with its seed fixed at 0 the answer is a
deterministic function of the text. ``detect`` returns exactly that answer, from our
own implementation of the algorithm (``_langdetect``) over langdetect's installed
profiles, several times faster than langdetect itself. ``None`` stands for
langdetect's ``LangDetectException`` (no usable n-gram; IFEval then counts the
instruction as followed). langdetect's ``"unknown"`` (no language above 0.1) is
returned as is.

``detect_many`` answers several texts at once (the same answers): their n-grams are
found in one pass and their random trials run side by side, one numpy call per step
for all of them. A suite that knows which responses will be asked calls it first; the
answers are remembered, so the checks' own ``detect`` calls then cost a look-up.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable

__all__ = ["SEED", "clear_cache", "detect", "detect_many"]

SEED = 0  # langdetect's seed; _langdetect (numpy, the profiles) loads on first use
_CACHE_SIZE = 4096
_NO_ANSWER = ""  # cached for texts without n-grams (detect returns None)
# Two memos of the same answers: by the text itself, and by its n-gram sequence (the
# answer depends on that alone, so texts that differ only in punctuation, digits or
# markup, like IFEval's loose variants, share one computation).
_by_text: OrderedDict[bytes, str] = OrderedDict()
_by_features: OrderedDict[bytes, str] = OrderedDict()
_cache_lock = threading.Lock()


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=20).digest()


def _get(cache: OrderedDict[bytes, str], key: bytes) -> str | None:
    with _cache_lock:
        answer = cache.get(key)
        if answer is not None:
            cache.move_to_end(key)
        return answer


def _put(cache: OrderedDict[bytes, str], key: bytes, answer: str) -> None:
    with _cache_lock:
        cache[key] = answer
        cache.move_to_end(key)
        if len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)


def detect(text: str) -> str | None:
    """The language code langdetect (seed 0) gives ``text``; ``None`` if it cannot tell.

    >>> detect("This is plainly an English sentence about the weather.")
    'en'
    """
    return detect_many([text])[0]


def detect_many(texts: Iterable[str]) -> list[str | None]:
    """:func:`detect` of each text, computed together (same answers, less time)."""
    texts = list(texts)
    answers: list[str | None] = [None] * len(texts)
    text_keys = [_digest(t.encode("utf-8", "surrogatepass")) for t in texts]
    todo: dict[bytes, list[int]] = {}  # text key -> positions still without an answer
    for i, key in enumerate(text_keys):
        known = _get(_by_text, key)
        if known is not None:
            answers[i] = known or None
        else:
            todo.setdefault(key, []).append(i)
    if not todo:
        return answers

    from . import _langdetect

    firsts = [places[0] for places in todo.values()]
    feats = _langdetect.features_many([_langdetect.prepare(texts[i]) for i in firsts])
    runs: dict[bytes, list[int]] = {}  # feature key -> indices into firsts still to run
    results: list[str] = [_NO_ANSWER] * len(firsts)
    feature_keys: list[bytes | None] = []
    for j, f in enumerate(feats):
        if not len(f):
            feature_keys.append(None)
            continue
        key = _digest(f.tobytes())
        feature_keys.append(key)
        known = _get(_by_features, key)
        if known is not None:
            results[j] = known
        else:
            runs.setdefault(key, []).append(j)
    if runs:
        order = list(runs.values())
        for js, answer in zip(order, _langdetect.answer_many([feats[js[0]] for js in order]), strict=True):
            for j in js:
                results[j] = answer
    for j, (places, result) in enumerate(zip(todo.values(), results, strict=True)):
        fkey = feature_keys[j]
        if fkey is not None:
            _put(_by_features, fkey, result)
        _put(_by_text, text_keys[places[0]], result)
        for i in places:
            answers[i] = result or None
    return answers


def clear_cache() -> None:
    """Forget memoised answers (benchmarks measure the computation itself)."""
    with _cache_lock:
        _by_text.clear()
        _by_features.clear()
