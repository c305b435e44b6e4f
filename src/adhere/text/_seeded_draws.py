"""The random draws langdetect makes with ``random.Random`` seeded 0, in bulk.

langdetect (seed fixed) reseeds a ``random.Random`` with 0 for every text, then per
trial calls ``gauss(0.0, 1.0)`` once and ``choice(ngrams)`` once per iteration. With
the seed fixed, the Mersenne Twister output is one fixed sequence of 32-bit words, so
we generate it once and read it with numpy:

* ``choice(seq)`` of length ``n`` is ``_randbelow(n)``: take a word's top
  ``n.bit_length()`` bits, retry while the value is ``>= n``;
* ``random()`` is two words ``(a >> 5, b >> 6)`` scaled to 53 bits, and ``gauss``
  uses two ``random()`` calls for a pair of values, handing out the second on the
  next call.

That is how the running interpreter's ``random`` works today. It is an
implementation detail, so :func:`make_source` first replays a scripted sequence on a
real ``random.Random`` and uses the bulk reader only if every value agrees; otherwise
it falls back to driving a real ``random.Random`` (exact, slower).
"""

from __future__ import annotations

import math
import random
import threading
from typing import Protocol

import numpy as np

__all__ = ["BulkSource", "DrawSource", "make_source"]

_TWO_PI = 2.0 * math.pi
_INITIAL_WORDS = 1 << 15
_FIRST_SCAN = 1 << 10  # words classified per text at first: four typical trials (longer texts scan on)


class DrawSource(Protocol):
    """Draws of one ``random.Random`` reseeded per text (langdetect's call order)."""

    def start(self, n: int) -> None:
        """Reseed; the coming ``choice`` calls pick from ``n`` items."""

    def gauss(self) -> float:
        """``gauss(0.0, 1.0)``."""

    def peek(self, count: int) -> np.ndarray:
        """The next ``count`` choice indices, without consuming them."""

    def advance(self, count: int) -> None:
        """Consume ``count`` choice draws."""


class _Stream:
    """The 32-bit output words of ``random.Random(seed)``, grown on demand."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.words = np.empty(0, dtype=np.uint32)
        self.extend(_INITIAL_WORDS)

    def extend(self, at_least: int) -> None:
        with self._lock:
            if len(self.words) >= at_least:
                return
            more = max(at_least - len(self.words), len(self.words))
            bits = self._rng.getrandbits
            fresh = np.fromiter((bits(32) for _ in range(more)), dtype=np.uint32, count=more)
            self.words = np.concatenate([self.words, fresh])


class _BulkSource:
    """Reads the seeded word stream with numpy; one instance per detection.

    ``start`` classifies a prefix of the stream once (which words a ``choice`` over
    ``n`` items accepts, and the index each gives); ``peek`` and ``advance`` then only
    slice those arrays.
    """

    __slots__ = ("_acc_at", "_acc_val", "_gauss_next", "_k", "_n", "_pos", "_scanned", "_shift", "_stream")

    def __init__(self, stream: _Stream) -> None:
        self._stream = stream
        self._n = 1
        self._shift = 31
        self._pos = 0  # next unread word
        self._k = 0  # next unread accepted draw: the first at or after _pos
        self._scanned = 0
        self._gauss_next: float | None = None
        self._acc_at = np.empty(0, dtype=np.intp)
        self._acc_val = np.empty(0, dtype=np.intp)

    def start(self, n: int) -> None:
        if n < 1:
            raise ValueError(f"choice needs a non-empty sequence, got length {n}")
        self._n = n
        self._shift = 32 - n.bit_length()
        self._pos = self._k = 0
        self._gauss_next = None
        self._scan(_FIRST_SCAN)

    def _scan(self, words: int) -> None:
        """Classify the first ``words`` stream words."""
        stream = self._stream
        if words > len(stream.words):
            stream.extend(words)
        values = stream.words[:words] >> self._shift
        at = np.flatnonzero(values < self._n)
        self._acc_at = at
        self._acc_val = values[at].astype(np.intp)
        self._scanned = words

    def _random(self) -> float:
        words = self._stream.words
        at = self._pos
        if at + 2 > len(words):
            self._stream.extend(at + 2)
            words = self._stream.words
        self._pos = at + 2
        a = int(words[at]) >> 5
        b = int(words[at + 1]) >> 6
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0)

    def gauss(self) -> float:
        z = self._gauss_next
        self._gauss_next = None
        if z is None:
            x2pi = self._random() * _TWO_PI
            g2rad = math.sqrt(-2.0 * math.log(1.0 - self._random()))
            z = math.cos(x2pi) * g2rad
            self._gauss_next = math.sin(x2pi) * g2rad
            self._k = int(self._acc_at.searchsorted(self._pos))
        return 0.0 + z * 1.0

    def peek(self, count: int) -> np.ndarray:
        while self._k + count > len(self._acc_at):
            self._scan(2 * self._scanned)
            self._k = int(self._acc_at.searchsorted(self._pos))
        return self._acc_val[self._k : self._k + count]

    def advance(self, count: int) -> None:
        if count:
            self.peek(count)
            self._k += count
            self._pos = int(self._acc_at[self._k - 1]) + 1

    def fork(self) -> _BulkSource:
        """An independent reader at the same place of the stream (to read ahead)."""
        other = _BulkSource(self._stream)
        other._n, other._shift, other._pos, other._k = self._n, self._shift, self._pos, self._k
        other._scanned, other._gauss_next = self._scanned, self._gauss_next
        other._acc_at, other._acc_val = self._acc_at, self._acc_val  # replaced, never changed, on a rescan
        return other

    def state(self) -> tuple[int, int, float | None]:
        """Where the reader stands: equal states give equal draws from here on."""
        return self._pos, self._k, self._gauss_next


BulkSource = _BulkSource  # the fast reader, by its public name (detection in lockstep needs it)


class _RandomSource:
    """Fallback: a real ``random.Random``, driven call by call as langdetect does."""

    __slots__ = ("_n", "_rng", "_seed")

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._rng = random.Random()
        self._n = 1

    def start(self, n: int) -> None:
        self._rng.seed(self._seed)
        self._n = n

    def gauss(self) -> float:
        return self._rng.gauss(0.0, 1.0)

    def peek(self, count: int) -> np.ndarray:
        state = self._rng.getstate()
        seq = range(self._n)
        picks = [self._rng.choice(seq) for _ in range(count)]
        self._rng.setstate(state)
        return np.array(picks, dtype=np.intp)

    def advance(self, count: int) -> None:
        seq = range(self._n)
        for _ in range(count):
            self._rng.choice(seq)


_streams: dict[int, _Stream] = {}
_verdicts: dict[int, bool] = {}
_lock = threading.Lock()


def _agrees(stream: _Stream, seed: int) -> bool:
    """Replay a langdetect-like call script on a real Random and on the bulk reader."""
    real = random.Random()
    bulk = _BulkSource(stream)
    for n in (1, 2, 3, 7, 100, 255, 256, 257, 4097, 30001):
        real.seed(seed)
        bulk.start(n)
        seq = range(n)
        for trial, count in enumerate((1, 6, 11, 3, 40)):
            if real.gauss(0.0, 1.0) != bulk.gauss():
                return False
            expected = [real.choice(seq) for _ in range(count)]
            if bulk.peek(count).tolist() != expected:
                return False
            bulk.advance(count - trial % 2)
            if trial % 2:
                bulk.advance(1)
    return True


def make_source(seed: int) -> DrawSource:
    """A fresh draw source for one detection, the fast one when it is proven exact here."""
    with _lock:
        stream = _streams.get(seed)
        if stream is None:
            stream = _streams[seed] = _Stream(seed)
            _verdicts[seed] = _agrees(stream, seed)
    if _verdicts[seed]:
        return _BulkSource(stream)
    return _RandomSource(seed)
