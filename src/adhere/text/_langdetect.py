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

import itertools
import re
import threading
from typing import Any

import numpy as np

from ._langdetect_model import CODE_BITS, LangdetectModel, load_model
from ._seeded_draws import BulkSource, DrawSource, make_source
from .language import SEED

__all__ = [
    "SEED",
    "answer",
    "answer_many",
    "decide",
    "features",
    "features_many",
    "model",
    "prepare",
    "vote",
    "vote_many",
]

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
    return features_many([text])[0]


_JOIN_CHARS = 16_384  # texts joined per pass: the arrays stay in cache and off mmap


def features_many(texts: list[str]) -> list[np.ndarray]:
    """:func:`features` of several prepared texts, joined into few passes."""
    out: list[np.ndarray] = []
    group: list[str] = []
    size = 0
    for text in texts:
        if group and size + len(text) > _JOIN_CHARS:
            out += _joined_features(group)
            group, size = [], 0
        group.append(text)
        size += len(text) + 2
    if group:
        out += _joined_features(group)
    return out


def _joined_features(texts: list[str]) -> list[np.ndarray]:
    """:func:`features` of each text, from one pass over them joined.

    The texts are joined, each after the two spaces that stand in before a text, so
    every character sees the same two characters before it as in its own text. The
    only n-grams the joining adds start at the first space after a text (the 2- and
    3-gram reaching back into that text); their positions are left out.
    """
    m = model()
    joined = "".join("  " + text for text in texts)
    codes = m.norm_codes[np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")]
    if len(codes) <= 2 * len(texts):  # nothing but the joining spaces
        return [np.empty(0, dtype=np.int32) for _ in texts]
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
    if len(texts) == 1:
        return [grams[wanted]]
    # Position j counts from the first character; text i's characters end before ends[i].
    lengths = np.fromiter(map(len, texts), dtype=np.intp, count=len(texts))
    ends = np.cumsum(lengths + 2) - 2
    wanted[ends[:-1]] = False  # the first joining space after each text but the last
    taken = np.flatnonzero(wanted)  # (position, n) flattened, in order
    found = grams.reshape(-1)[taken]
    bounds = [0, *np.searchsorted(taken, 3 * ends).tolist()]
    return [found[lo:hi] for lo, hi in itertools.pairwise(bounds)]


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
    if not len(feats):
        raise ValueError("langdetect has no features to vote on (it raises 'No features in text.')")
    d = _Detection(feats, make_source(SEED) if source is None else source)
    _run(d, stop_when_decided)
    return d.langprob, d.decided


class _Detection:
    """One text's detection in progress: the trials done and the one under way.

    Between blocks a trial is fully described by its smoothing ``weight``, the draws
    made so far (``done``) and the normalised distribution after the last block
    (``p``; unused while ``done`` is 0, when the trial starts from the uniform one).
    """

    __slots__ = ("decided", "done", "feats", "langprob", "p", "source", "trial", "underway", "weight")

    def __init__(self, feats: np.ndarray, source: DrawSource) -> None:
        self.feats = feats
        self.source = source
        source.start(len(feats))
        self.langprob = np.zeros(len(model().langs))
        self.trial = 0  # trials finished
        self.underway = False  # a trial has started (its alpha is drawn)
        self.weight = 0.0
        self.done = 0
        self.p: np.ndarray | None = None
        self.decided: int | None = None

    def begin_trial(self) -> None:
        alpha = ALPHA_DEFAULT + self.source.gauss() * ALPHA_WIDTH
        self.weight = alpha / BASE_FREQ
        self.done = 0
        self.underway = True

    def end_trial(self, final: np.ndarray, stop_when_decided: bool) -> bool:
        """Add a finished trial's distribution; True when no trial is left to run."""
        self.source.advance(self.done)
        self.langprob += final / N_TRIAL
        self.underway = False
        trial = self.trial
        self.trial = trial + 1
        if stop_when_decided and _FIRST_DECIDABLE <= trial < N_TRIAL - 1:
            self.decided = _margin_decides(self.langprob, N_TRIAL - 1 - trial)
            if self.decided is not None:
                return True
        return self.trial >= N_TRIAL


def _run(d: _Detection, stop_when_decided: bool) -> None:
    """Finish ``d`` one text at a time: each five-draw block is one numpy call."""
    m = model()
    probs = m.probs
    n_langs = len(m.langs)
    feats = d.feats
    source = d.source
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
    uniform = 1.0 / n_langs
    lead = 0
    while d.trial < N_TRIAL:
        if not d.underway:
            d.begin_trial()
        weight = d.weight
        done = d.done
        if done == 0:
            probs.take(feats[source.peek(_CHUNK + 1)], axis=0, out=factors)
            factors += weight
            # The first block is one draw (uniform * factor), later blocks five; each ends
            # with normalising.
            multiply(factors[0], uniform, p)
            done = r = 1
        else:  # resume after a block (a batch handed this text over)
            buf[0] = d.p
            refill = buf[1 : _CHUNK + 1]
            probs.take(feats[source.peek(done + _CHUNK)[done:]], axis=0, out=refill)
            refill += weight
            mul_reduce(windows[0], 0, None, p)
            done += block
            r = block
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
        d.done = done
        if d.end_trial(rows[r], stop_when_decided):
            return


# -- 4b. many texts in lockstep ------------------------------------------------------------

_LOCKSTEP_MIN = 6  # below this many texts a step costs more than a text alone
_AHEAD_FEATURES = 8  # texts with at most this many n-grams start all their trials at once
_LOCKSTEP_MAX = 512  # texts per lockstep run: its arrays stay small (a step's factors: 1.1 MB)
_ROW_DRAWS = 121  # draws gathered per text at a time (24 blocks and the first draw)


def _sums_agree() -> bool:
    """Whether numpy's sum down the language axis equals the interpreter's ``sum``.

    Summed down an axis that is not the fast one, numpy adds one term at a time in
    order (pairwise summation is only used along the fast axis). The interpreter's
    ``sum`` does the same where it is a plain left fold of doubles (CPython before
    3.12; 3.12 compensates rounding). Both are checked on a sum that tells the three
    orders apart, not assumed: the batch path is used only if they agree.
    """
    probe = [0.0] * 55
    probe[0], probe[4], probe[8] = 1e100, 1.0, -1e100  # left fold 0.0; pairwise or compensated 1.0
    column = np.add.reduce(np.repeat(np.array(probe)[:, None], _LOCKSTEP_MIN, axis=1), axis=0)
    return sum(probe) == 0.0 and bool((column == 0.0).all())


_SUMS_AGREE = _sums_agree()


class _Trial:
    """One trial of one text, run as a row of the lockstep.

    It reads its own copy of the text's draw source, placed where the trial starts
    (``before``: the source's state before the trial's ``gauss``). A trial started
    ahead of time assumes the trials before it ran to the iteration limit; its result
    counts only if the text's source, once those trials are done, stands at ``before``.
    """

    __slots__ = ("before", "d", "number", "source", "weight")

    def __init__(self, d: _Detection, number: int, source: Any = None) -> None:
        self.d = d
        self.number = number
        if source is None:  # the text's own next trial, on its own source
            d.begin_trial()
            self.before: tuple[int, int, float | None] | None = None
            self.source: Any = d.source
            self.weight = d.weight
        else:
            self.before = source.state()
            self.source = source
            self.weight = (ALPHA_DEFAULT + source.gauss() * ALPHA_WIDTH) / BASE_FREQ


def _bulk(d: _Detection) -> BulkSource:
    """The text's draw source as the bulk reader (the only kind a lockstep runs on)."""
    assert isinstance(d.source, BulkSource)
    return d.source


def _trials_ahead(d: _Detection) -> list[_Trial]:
    """Every trial of ``d`` at once, each assuming the ones before ran to the limit."""
    trials = [_Trial(d, 0, _bulk(d).fork())]
    for number in range(1, N_TRIAL):
        source = trials[-1].source.fork()
        source.advance(ITERATION_LIMIT + 1)
        trials.append(_Trial(d, number, source))
    return trials


def _lockstep(ds: list[_Detection], stop_when_decided: bool) -> None:
    """Run many detections at once: one numpy call per operation for all of them.

    Each row is one trial of one text. Each step advances every row by one block (one
    draw at a trial's start, five after), with the very same floating-point
    operations as :func:`_run`: the factors ``p(feature) + weight``, their left-fold
    product starting from the distribution (padding factors of exactly 1.0 for
    one-draw blocks), the left-fold sum over the languages in order (down the language
    axis, see :func:`_sums_agree`), the division and the maximum. A finished trial is
    then replayed on its text's source and adds ``distribution / 7`` to the text's
    average, in trial order. Texts with few n-grams rarely converge, so their trials
    each run the full 1,001 draws, one after another: those start all seven trials at
    once, each assuming the ones before ran to the limit, and a trial whose assumption
    fails is dropped and run again from the right place. Texts leave when finished;
    the last few are finished one at a time (:func:`_run`).
    """
    m = model()
    probs = m.probs
    n_langs = len(m.langs)
    uniform = 1.0 / n_langs
    jobs: list[_Trial | None] = []
    for d in ds:
        if len(d.feats) <= _AHEAD_FEATURES:
            jobs += _trials_ahead(d)
        else:
            jobs.append(_Trial(d, 0))
    pending: dict[int, dict[int, tuple[np.ndarray, int, Any]]] = {id(d): {} for d in ds}  # finished, not yet counted
    k = len(jobs)
    width = _ROW_DRAWS
    dist = np.empty((n_langs, k))  # per row (column): normalised distribution after the last block
    weights = np.empty((k, n_langs))  # per row: the trial's smoothing weight, repeated
    offset = np.zeros(k, dtype=np.intp)  # draws of the trial before rows[i, 0]
    at = np.zeros(k, dtype=np.intp)  # the next draw's column in rows
    rows = np.empty((k, width), dtype=np.intp)  # profile rows of the coming draws
    flat_rows = rows.reshape(-1)
    block_cols = np.arange(k) * width + np.arange(_BLOCK)[:, None]  # (draw, row) -> flat_rows
    last_start = width - _BLOCK
    block = _BLOCK
    conv_threshold = CONV_THRESHOLD
    iteration_limit = ITERATION_LIMIT
    multiply = np.multiply
    add = np.add
    divide = np.divide
    starting: list[int] = []  # rows whose next block is a trial's first (one draw)

    running: dict[int, list[_Trial]] = {id(d): [] for d in ds}  # each text's rows
    row_of: dict[_Trial, int] = {}

    def place(i: int, job: _Trial) -> None:
        jobs[i] = job
        row_of[job] = i
        weights[i] = job.weight
        offset[i] = at[i] = 0
        rows[i] = job.d.feats[job.source.peek(width)]
        dist[:, i] = uniform
        starting.append(i)

    def count(d: _Detection) -> bool:
        """Count d's finished trials in order; True when d needs no more trials."""
        results = pending[id(d)]
        while d.trial in results:
            final, draws, before = results.pop(d.trial)
            if _bulk(d).state() != before:  # started from the wrong place: run it again
                return False
            d.begin_trial()
            d.done = draws
            if d.end_trial(final, stop_when_decided):
                return True
        return d.trial >= N_TRIAL

    for i, job in enumerate(jobs):
        assert job is not None
        if job.before is not None:
            running[id(job.d)].append(job)
        place(i, job)
    furthest = 0  # at least max(at)
    longest = 0  # at least the most draws of a trial under way
    while len(jobs) >= _LOCKSTEP_MIN:
        if furthest > last_start:  # some rows are out of gathered draws: fetch the next ones
            for i in np.flatnonzero(at > last_start).tolist():
                job = jobs[i]
                assert job is not None
                start = int(offset[i] + at[i])
                rows[i] = job.d.feats[job.source.peek(start + width)[start:]]
                offset[i] = start
                at[i] = 0
            furthest = int(at.max())
        factors = probs.take(flat_rows.take(block_cols + at), axis=0)  # (draw, row, language)
        factors += weights
        at += block
        if starting:
            first = np.array(starting)
            factors[1:, first] = 1.0
            at[first] -= block - 1
            starting = []
        furthest += block
        longest += block
        factors[0] *= dist.T
        product = np.ascontiguousarray(multiply.reduce(factors, axis=0).T)  # (language, row)
        divide(product, add.reduce(product, axis=0), out=dist)
        stop = dist.max(axis=0) > conv_threshold
        if longest > iteration_limit:
            draws = offset + at
            stop |= draws > iteration_limit
            longest = int(draws.max())
        stopped = np.flatnonzero(stop).tolist()
        if not stopped:
            continue
        dropped = False
        for i in stopped:  # a few per step: one row at a time
            job = jobs[i]
            if job is None:  # dropped earlier in this step
                continue
            d = job.d
            if job.before is None:  # the text's own trial: count it now, go on in this row
                d.done = int(offset[i] + at[i])
                if d.end_trial(dist[:, i], stop_when_decided):
                    jobs[i] = None
                    dropped = True
                else:
                    place(i, _Trial(d, d.trial))
                continue
            jobs[i] = None
            dropped = True
            mine = running[id(d)]
            mine.remove(job)
            results = pending[id(d)]
            results[job.number] = (dist[:, i].copy(), int(offset[i] + at[i]), job.before)
            if count(d):
                gone = list(mine)
            else:
                here = _bulk(d).state()
                if any(other.number == d.trial and other.before == here for other in mine):
                    gone = []
                else:  # the trials started ahead assumed a run to the limit that did not happen
                    gone = list(mine)
                    results.clear()
                    place(i, _Trial(d, d.trial))  # from here on, its own trials one by one
            for other in gone:
                jobs[row_of[other]] = None
            running[id(d)] = [other for other in mine if other not in gone]
        if dropped and any(job is None for job in jobs):
            keep = np.array([r for r, job in enumerate(jobs) if job is not None], dtype=np.intp)
            relabel = np.full(len(jobs), -1)
            relabel[keep] = np.arange(len(keep))
            starting = [int(relabel[i]) for i in starting if relabel[i] >= 0]
            jobs = [jobs[r] for r in keep.tolist()]
            row_of = {job: r for r, job in enumerate(jobs) if job is not None}
            dist, weights = np.ascontiguousarray(dist[:, keep]), weights[keep]
            offset, at, rows = offset[keep], at[keep], rows[keep]
            flat_rows = rows.reshape(-1)
            block_cols = np.arange(len(jobs)) * width + np.arange(_BLOCK)[:, None]
    # Hand the rest over to _run: each unfinished text resumes its current trial if a
    # row runs it from the right place, else starts that trial afresh.
    current: dict[int, int] = {}
    for r, job in enumerate(jobs):
        if job is not None and job.number == job.d.trial and (job.before is None or job.before == _bulk(job.d).state()):
            current[id(job.d)] = r
    for d in ds:
        if d.decided is not None or d.trial >= N_TRIAL:
            continue
        r = current.get(id(d), -1)
        if r >= 0:
            job = jobs[r]
            if job is not None and job.before is not None:
                d.begin_trial()  # the source catches up with the trial started ahead
            d.done = int(offset[r] + at[r])
            d.p = dist[:, r].copy()
        else:
            d.underway = False
        _run(d, stop_when_decided)


def vote_many(feats_list: list[np.ndarray], *, stop_when_decided: bool = False) -> list[tuple[np.ndarray, int | None]]:
    """:func:`vote` for several non-empty feature sequences, computed together."""
    if any(not len(f) for f in feats_list):
        raise ValueError("langdetect has no features to vote on (it raises 'No features in text.')")
    out: list[tuple[np.ndarray, int | None]] = []
    for start in range(0, len(feats_list), _LOCKSTEP_MAX):
        group = [_Detection(f, make_source(SEED)) for f in feats_list[start : start + _LOCKSTEP_MAX]]
        if _SUMS_AGREE and len(group) >= _LOCKSTEP_MIN and all(isinstance(d.source, BulkSource) for d in group):
            _lockstep(group, stop_when_decided)
        else:
            for d in group:
                _run(d, stop_when_decided)
        out += [(d.langprob, d.decided) for d in group]
    return out


def answer_many(feats_list: list[np.ndarray]) -> list[str]:
    """:func:`answer` for several non-empty feature sequences, computed together."""
    langs = model().langs
    return [
        langs[decided] if decided is not None else decide(langprob)
        for langprob, decided in vote_many(feats_list, stop_when_decided=True)
    ]


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
