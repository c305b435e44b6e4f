"""Our implementation of langdetect 1.0.9's ``Detector`` (seeded), answer for answer.

langdetect's algorithm (Nakatani Shuyo's language-detection, ported to Python):

1. *Append*: replace URLs and e-mail addresses by a space, compose Vietnamese letter +
   combining mark pairs, keep the first 10,000 characters and squeeze runs of spaces.
2. *Clean*: if non-Latin characters outnumber Latin ones more than two to one, drop
   the Latin letters (``'A' <= ch <= 'z'``; every character from U+0300 up counts as
   non-Latin, because langdetect compares a block number with a block name there).
3. *Features*: normalise each character (punctuation and digits become spaces, whole
   scripts collapse to one representative, ...), walk the text with a three-character
   window that restarts after each space and collect the 1-, 2- and 3-grams that are
   in some profile, skipping positions inside ALL-CAPS runs.
4. *Trials*: seven times, start from a uniform distribution over the languages, draw
   a smoothing ``alpha = 0.5 + gauss * 0.05``, then repeatedly draw a random feature
   and multiply each language's probability by ``alpha / 10000 + p(feature | lang)``;
   after the first draw and every fifth after it, normalise (divide by the sum) and
   stop once the largest probability exceeds 0.99999 or 1,000 iterations passed.
   Average the seven results.
5. *Answer*: the most probable language above 0.1, else ``"unknown"``.

Floating-point results must be identical, not close, because a stop one iteration
earlier shifts every later random draw. So every operation happens in langdetect's
order: products row by row (numpy's multiply-reduce over the draw axis is a left
fold), the normalising sum with the interpreter's own ``sum`` over Python floats in
language order, and the same divisions. Only the bookkeeping is faster: n-grams are
found with array operations (packed into integers, looked up in a hashed index),
random draws are read in bulk from the seeded stream (``_seeded_draws``), each
five-draw block is one numpy call, and the trials stop once no remaining trial can
change the answer (``answer``; ``vote`` without it reproduces the probabilities).
"""

from __future__ import annotations

import re
import threading
from typing import Any

import numpy as np

from ._langdetect_model import CODE_BITS, LangdetectModel, load_model
from ._seeded_draws import DrawSource, make_source
from .language import SEED

__all__ = ["SEED", "answer", "decide", "features", "model", "prepare", "vote"]

MAX_TEXT_LENGTH = 10_000
N_TRIAL = 7
ALPHA_DEFAULT = 0.5
ALPHA_WIDTH = 0.05
BASE_FREQ = 10_000
ITERATION_LIMIT = 1000
CONV_THRESHOLD = 0.99999
PROB_THRESHOLD = 0.1
UNKNOWN = "unknown"

_URL_RE = re.compile(r"https?://[-_.?&~;+=/#0-9A-Za-z]{1,2076}")
_MAIL_RE = re.compile(r"[-_.0-9A-Za-z]{1,64}@[-_0-9A-Za-z]{1,255}[-_.0-9A-Za-z]{1,255}")
_MAIL_BEFORE_AT = 64  # most characters a match can have before its "@"
_MAIL_AFTER_AT = 1 + 255 + 255  # "@" plus the two parts after it
_SPACES_RE = re.compile(" {2,}")
_LATIN_RE = re.compile("[A-z]")

_model: LangdetectModel | None = None
_model_lock = threading.Lock()


def model() -> LangdetectModel:
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                _model = load_model()
    return _model


# -- 1. append --------------------------------------------------------------------------------


def _strip_mail(text: str) -> str:
    """``_MAIL_RE.sub(" ", text)``, scanning only near each "@".

    Every match holds exactly one "@" (no part after the first admits one), at most 64
    characters before it and 510 after. A scan from ``pos`` therefore finds its next
    match, if any, starting within 64 characters before the next "@"; searching that
    window gives the same leftmost match as scanning everything, without the regex
    engine retrying all positions of long letter runs.
    """
    at = text.find("@")
    if at < 0:
        return text
    out: list[str] = []
    copied = 0  # text[:copied] is already in out
    pos = 0  # the scan resumes here
    while at >= 0:
        if at >= pos:
            start = max(pos, at - _MAIL_BEFORE_AT)
            m = _MAIL_RE.search(text, start, at + _MAIL_AFTER_AT)
            if m is not None and m.start() < at:
                out.append(text[copied : m.start()])
                out.append(" ")
                copied = pos = m.end()
        at = text.find("@", max(at + 1, pos))
    out.append(text[copied:])
    return "".join(out)


def prepare(text: str) -> str:
    """The text langdetect's ``Detector`` holds after ``append`` and ``cleaning_text``."""
    m = model()
    if "://" in text:
        text = _URL_RE.sub(" ", text)
    text = _strip_mail(text)
    if not text.isascii():
        vi = m.vi_map
        text = m.vi_pattern.sub(lambda g: vi[g.group()], text)
    text = text[:MAX_TEXT_LENGTH]
    if "  " in text:
        text = _SPACES_RE.sub(" ", text)
    if not text.isascii():
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        latin = int(np.count_nonzero((codes >= 0x41) & (codes <= 0x7A)))
        non_latin = int(np.count_nonzero(codes >= 0x300))
        if latin * 2 < non_latin:
            text = _LATIN_RE.sub("", text)
    return text


# -- 3. features ------------------------------------------------------------------------------

_SPACE = 0x20


def _upper(codes: np.ndarray, upper_bmp: np.ndarray) -> np.ndarray:
    """``str.isupper`` of each code point (a table for the BMP, Python beyond it)."""
    if codes.max() <= 0xFFFF:
        upper: np.ndarray = upper_bmp[codes]
        return upper
    upper = upper_bmp[np.minimum(codes, 0xFFFF)]
    beyond = np.flatnonzero(codes > 0xFFFF)
    upper[beyond] = [chr(cp).isupper() for cp in codes[beyond].tolist()]
    return upper


def features(text: str) -> np.ndarray:
    """Profile rows of the n-grams langdetect extracts from prepared ``text``, in order.

    langdetect's window restarts after every space, so at each character ``c`` (with
    ``b`` and ``a`` the two before it, spaces standing in before the text) it takes
    the 1-gram ``c`` unless ``c`` is a space, the 2-gram ``bc`` unless both are
    spaces, and the 3-gram ``abc`` unless ``b`` is a space (the window restarted
    there); nothing at all where ``c`` and ``b`` are both upper case (inside an
    ALL-CAPS run). Of those, the n-grams in some profile, in that order.
    """
    m = model()
    codes = np.frombuffer(("  " + text.translate(m.char_table)).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if len(codes) <= 2:
        return np.empty(0, dtype=np.int32)
    wide = codes.astype(np.int64)
    b, c = wide[1:-1], wide[2:]
    space = codes == _SPACE
    space_b, space_c = space[1:-1], space[2:]
    upper = _upper(codes[1:], m.upper_bmp)
    caps = upper[1:] & upper[:-1]  # inside an ALL-CAPS run langdetect takes nothing here
    bigram = (b << CODE_BITS) | c  # packed as _langdetect_model packs profile n-grams
    grams = np.empty((len(c), 3), dtype=np.int32)
    grams[:, 0] = m.unigram_rows[c]
    grams[:, 1] = m.bigrams.lookup(bigram)
    grams[:, 2] = m.trigrams.lookup((wide[:-2] << 2 * CODE_BITS) | bigram)
    wanted = np.empty((len(c), 3), dtype=bool)
    np.logical_or(space_c, caps, out=wanted[:, 0])
    np.logical_or(space_b & space_c, caps, out=wanted[:, 1])
    np.logical_or(space_b, caps, out=wanted[:, 2])
    np.logical_not(wanted, out=wanted)
    wanted &= grams >= 0
    return grams[wanted]


# -- 4. trials --------------------------------------------------------------------------------

_CHUNK = 60  # draws gathered per numpy call: twelve five-draw blocks
_BLOCK = 5
_LEADS = 0.6  # a share above this makes a value the unique maximum, whatever the rounding
# After t trials a leader has at most t/7 and the rest can still gain (7 - t)/7, so no
# answer is certain before four trials (index 3).
_FIRST_DECIDABLE = (N_TRIAL - 1) // 2


class _Workspace(threading.local):
    """Per-thread buffer: row ``r`` holds the distribution, rows after it the factors."""

    def __init__(self) -> None:
        self.width = 0

    def ensure(self, width: int) -> None:
        if self.width == width:
            return
        self.width = width
        self.buf = np.empty((_CHUNK + 2, width))
        self.rows = list(self.buf)
        self.windows = [self.buf[r : r + _BLOCK + 1] for r in range(_CHUNK + 2)]
        self.factors = self.buf[1 : _CHUNK + 2]
        self.p = np.empty(width)


_work = _Workspace()


def _margin_decides(langprob: np.ndarray, trials_left: int) -> int | None:
    """The language index no remaining trial can dethrone, if there is one.

    Each trial adds at most ``1 / 7`` to a language's average (its distribution sums
    to one), and additions never lower a sum. So a leader that is above the 0.1
    threshold and ahead of every other language by more than ``trials_left / 7``
    (plus a slack far above any rounding error) is langdetect's final answer whatever
    the remaining trials draw.
    """
    values = langprob.tolist()
    best = max(values)
    lead = int(values.index(best))
    runner_up = max(values[:lead] + values[lead + 1 :], default=0.0)
    if best > PROB_THRESHOLD and best > runner_up + trials_left / N_TRIAL + 1e-9:
        return lead
    return None


def vote(
    feats: np.ndarray, *, stop_when_decided: bool = False, source: DrawSource | None = None
) -> tuple[np.ndarray, int | None]:
    """langdetect's averaged language probabilities for a non-empty feature sequence.

    Returns ``(langprob, decided)``. With ``stop_when_decided`` the trials stop as soon
    as the answer is certain (see :func:`_margin_decides`); ``decided`` is then that
    answer's language index and ``langprob`` is partial. Otherwise all seven trials
    run, ``langprob`` equals langdetect's to the last bit, and ``decided`` is ``None``.
    ``source`` replaces the seeded draws (tests run the fallback source through it).
    """
    m = model()
    probs = m.probs
    n_langs = len(m.langs)
    n = len(feats)
    if not n:
        raise ValueError("langdetect has no features to vote on (it raises 'No features in text.')")
    if source is None:
        source = make_source(SEED)
    source.start(n)
    w = _work
    w.ensure(n_langs)
    buf, rows, windows, p, factors = w.buf, w.rows, w.windows, w.p, w.factors
    mul_reduce: Any = np.multiply.reduce  # called positionally (out=p) for speed
    divide = np.divide
    multiply = np.multiply
    conv_threshold = CONV_THRESHOLD
    iteration_limit = ITERATION_LIMIT
    block = _BLOCK
    leads = _LEADS
    last_window = _CHUNK + 1 - _BLOCK
    langprob = np.zeros(n_langs)
    uniform = 1.0 / n_langs
    lead = 0
    for trial in range(N_TRIAL):
        alpha = ALPHA_DEFAULT + source.gauss() * ALPHA_WIDTH
        weight = alpha / BASE_FREQ
        probs.take(feats[source.peek(_CHUNK + 1)], axis=0, out=factors)
        factors += weight
        # The first block is one draw (uniform * factor), later blocks five; each ends
        # with normalising.
        multiply(factors[0], uniform, p)
        done = r = 1
        while True:
            values = p.tolist()
            total = sum(values)
            divide(p, total, rows[r])
            top = values[lead]
            if not top > leads * total:
                top = max(values)
                lead = values.index(top)
            if top / total > conv_threshold or done > iteration_limit:
                break
            if r > last_window:  # out of gathered factors: fetch the next ones
                buf[0] = rows[r]
                r = 0
                refill = buf[1 : _CHUNK + 1]
                probs.take(feats[source.peek(done + _CHUNK)[done:]], axis=0, out=refill)
                refill += weight
            mul_reduce(windows[r], 0, None, p)
            done += block
            r += block
        source.advance(done)
        langprob += divide(rows[r], N_TRIAL, p)
        if stop_when_decided and _FIRST_DECIDABLE <= trial < N_TRIAL - 1:
            decided = _margin_decides(langprob, N_TRIAL - 1 - trial)
            if decided is not None:
                return langprob, decided
    return langprob, None


def decide(langprob: np.ndarray) -> str:
    """The language langdetect's ``detect`` returns for these (complete) probabilities."""
    best = int(np.argmax(langprob))  # first of equals, as the stable sort keeps them
    if not langprob[best] > PROB_THRESHOLD:
        return UNKNOWN
    return model().langs[best]


def answer(feats: np.ndarray) -> str:
    """langdetect's ``detect`` for a non-empty feature sequence, stopping when certain."""
    langprob, decided = vote(feats, stop_when_decided=True)
    if decided is not None:
        return model().langs[decided]
    return decide(langprob)
