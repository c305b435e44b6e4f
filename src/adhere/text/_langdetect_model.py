"""langdetect 1.0.9's model, read from the installed package and shaped for fast use.

Our detector (``language.py``) reproduces langdetect's answers exactly, so it needs the
very data langdetect uses: the 55 language profiles (n-gram counts) and the character
classes of ``utils/messages.properties`` (the Vietnamese diacritic table and the CJK
kanji classes). Both are read from the installed ``langdetect`` distribution, our
pinned dependency; nothing is copied into this package.

What langdetect keeps as a dict of 55-float lists we keep as

* ``rows``: n-gram -> row number, and
* ``probs``: a ``(n_grams, n_langs)`` float64 matrix, the same values langdetect
  computes (``count / n_words[len - 1]``),

with the languages in ``os.listdir`` order of the profile directory, as langdetect
indexes them: that order fixes the order of every floating-point sum, so it must be
the same order on each machine.

The per-character normalisation (langdetect's ``NGram.normalize``) becomes one
``str.translate`` table, written here from the Unicode block ranges that langdetect
normalises.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

__all__ = ["LangdetectModel", "load_model"]

N_GRAM = 3


CODE_BITS = 21  # code points fit in 21 bits, so a 3-gram packs into 63 (see _pack_grams)
MAX_CODE = 0x10FFFF


class GramIndex:
    """Exact lookup of int64 n-gram keys -> profile rows, vectorised.

    A direct-mapped table under a multiplicative hash, about eight slots per key: a key
    lives in its slot if it got there first; the few that collided live in a small
    sorted array and their slots are flagged. A slot holds its key and, beside it, its
    row and flag, so a lookup reads one place in memory per key: a gather and a
    compare, plus one binary search (for all of them at once) of the misses that land
    on a flagged slot.
    """

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
    _FLAG = 1 << 32  # in a slot's second word, above the row
    _ROW_MASK = (1 << 31) - 1

    def __init__(self, keys: np.ndarray, rows: np.ndarray, bits: int | None = None) -> None:
        if bits is None:
            bits = max(8, len(keys).bit_length() + 3)
        self._shift = np.uint64(64 - bits)
        size = 1 << bits
        # Per slot: the key (-1: none; keys are >= 0), then the row | flag. A slot
        # without a key is never read for its row (its key matches nothing).
        if len(rows) and int(rows.max()) > self._ROW_MASK:
            raise ValueError("rows must fit in 31 bits")
        self._slots = np.zeros((size, 2), dtype=np.int64)
        self._slots[:, 0] = -1
        slots = self._slot(keys)
        taken, first = np.unique(slots, return_index=True)
        self._slots[taken, 0] = keys[first]
        self._slots[taken, 1] = rows[first]
        rest = np.delete(np.arange(len(keys)), first)
        order = np.argsort(keys[rest])
        self._overflow_keys = keys[rest][order]  # sorted, for a binary search
        self._overflow_rows = rows[rest][order]
        self._slots[slots[rest], 1] |= self._FLAG

    def _slot(self, keys: np.ndarray) -> np.ndarray:
        slots: np.ndarray = (keys.view(np.uint64) * self._MULTIPLIER) >> self._shift
        return slots

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Rows of ``keys`` (int64), -1 where a key is in no profile."""
        entries = self._slots.take(self._slot(keys), axis=0)
        second = entries[:, 1]
        found: np.ndarray = (second & self._ROW_MASK).astype(np.int32)
        missed = np.flatnonzero(entries[:, 0] != keys)
        if len(missed):
            found[missed] = -1
            if len(self._overflow_keys):
                probe = missed[second[missed] >= self._FLAG]
                wanted = keys[probe]
                at = np.minimum(np.searchsorted(self._overflow_keys, wanted), len(self._overflow_keys) - 1)
                hit = self._overflow_keys[at] == wanted
                found[probe[hit]] = self._overflow_rows[at[hit]]
        return found


@dataclass(frozen=True)
class LangdetectModel:
    """Everything the detector reads; built once per process."""

    langs: tuple[str, ...]
    probs: np.ndarray  # (n-gram rows, langs): langdetect's p(n-gram | language)
    char_table: dict[int, int]
    norm_codes: np.ndarray  # code point -> normalised code point (char_table as an array)
    vi_pattern: re.Pattern[str]
    vi_map: dict[str, str]
    unigram_rows: np.ndarray  # code point -> row of that 1-gram, or -1
    bigrams: GramIndex
    trigrams: GramIndex
    upper_bmp: np.ndarray  # str.isupper of every BMP code point


def package_dir() -> Path:
    """The installed ``langdetect`` package directory (found without importing it)."""
    spec = importlib.util.find_spec("langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("langdetect is not installed; it is a core dependency of adhere (langdetect==1.0.9)")
    return Path(next(iter(spec.submodule_search_locations)))


def read_messages(path: Path) -> dict[str, str]:
    """``messages.properties`` as langdetect reads it: ``key=value`` with ``\\uXXXX`` escapes."""
    out: dict[str, str] = {}
    with open(path, encoding="ascii") as fh:
        for line in fh:
            key, _, value = line.strip().partition("=")
            out[key] = value.encode().decode("unicode_escape")
    return out


@dataclass(frozen=True)
class _Grams:
    """Every profile's 1- to 3-grams as packed keys, one row per distinct n-gram."""

    langs: tuple[str, ...]
    probs: np.ndarray  # (rows, langs)
    keys: dict[int, np.ndarray]  # n -> sorted distinct keys of the n-grams
    first_row: dict[int, int]  # n -> row of keys[n][0]; rows follow key order


def _pack_grams(grams: list[str], lengths: np.ndarray) -> np.ndarray:
    """n-grams (lengths 1 to 3) as int64 keys ``c0 << 42 | c1 << 21 | c2`` (shorter: fewer terms).

    ``features`` packs the n-grams of a text the same way, so keys compare directly.
    """
    codes = np.frombuffer("".join(grams).encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.int64)
    starts = np.cumsum(lengths) - lengths
    keys = np.zeros(len(grams), dtype=np.int64)
    for i in range(N_GRAM):
        longer = np.flatnonzero(lengths > i)
        keys[longer] = (keys[longer] << CODE_BITS) | codes[starts[longer] + i]
    return keys


def _load_profiles(directory: Path) -> _Grams:
    # langdetect numbers the profiles in directory-listing order, skipping dot-files
    # and non-files; the listing order is the order of every later sum.
    profiles: list[tuple[str, dict[str, int], list[int]]] = []
    for name in os.listdir(directory):
        if name.startswith("."):
            continue
        path = directory / name
        if not path.is_file():
            continue
        data = orjson.loads(path.read_bytes())
        profiles.append((str(data["name"]), data["freq"], [int(n) for n in data["n_words"]]))
    langs = tuple(name for name, _, _ in profiles)
    if len(set(langs)) != len(langs):
        raise ValueError("langdetect profiles name the same language twice")

    # Only 1- to 3-grams get probabilities (and only those can be looked up).
    parts: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {1: [], 2: [], 3: []}
    for index, (_, freq, n_words) in enumerate(profiles):
        grams = list(freq)
        lengths = np.fromiter(map(len, grams), dtype=np.intp, count=len(grams))
        counts = np.fromiter(freq.values(), dtype=np.float64, count=len(grams))
        usable = (lengths >= 1) & (lengths <= N_GRAM)
        if not usable.all():
            keep = np.flatnonzero(usable)
            grams = [grams[i] for i in keep.tolist()]
            lengths, counts = lengths[keep], counts[keep]
        keys = _pack_grams(grams, lengths)
        # langdetect: 1.0 * count / n_words[len - 1], one float division each
        probs = counts / np.array(n_words, dtype=np.float64)[lengths - 1]
        for n in parts:
            sel = lengths == n
            parts[n].append((keys[sel], np.full(int(sel.sum()), index), probs[sel]))

    distinct: dict[int, np.ndarray] = {}
    first_row: dict[int, int] = {}
    placed: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    total = 0
    for n, chunks in parts.items():
        keys = np.concatenate([k for k, _, _ in chunks])
        distinct[n], inverse = np.unique(keys, return_inverse=True)
        first_row[n] = total
        placed.append(
            (inverse + total, np.concatenate([c for _, c, _ in chunks]), np.concatenate([p for _, _, p in chunks]))
        )
        total += len(distinct[n])
    table = np.zeros((total, len(langs)), dtype=np.float64)
    for at, column, values in placed:
        table[at, column] = values
    return _Grams(langs=langs, probs=table, keys=distinct, first_row=first_row)


# Unicode blocks that langdetect's NGram.normalize rewrites (inclusive code point ranges).
_LATIN1 = (0x0080, 0x00FF)
_LATIN_EXT_B = (0x0180, 0x024F)
_GENERAL_PUNCT = (0x2000, 0x206F)
_ARABIC = (0x0600, 0x06FF)
_LATIN_EXT_ADDITIONAL = (0x1E00, 0x1EFF)
_HIRAGANA = (0x3040, 0x309F)
_KATAKANA = (0x30A0, 0x30FF)
_BOPOMOFO = ((0x3100, 0x312F), (0x31A0, 0x31BF))
_CJK = (0x4E00, 0x9FFF)
_HANGUL = (0xAC00, 0xD7AF)
_SPACE = 0x20


def build_char_table(messages: dict[str, str]) -> dict[int, int]:
    """``str.translate`` table equal to langdetect's per-character ``NGram.normalize``."""
    table: dict[int, int] = {}
    for cp in range(0x80):
        ch = chr(cp)
        if ch < "A" or "Z" < ch < "a" or ch > "z":
            table[cp] = _SPACE
    for ch in messages["NGram.LATIN1_EXCLUDE"]:
        if _LATIN1[0] <= ord(ch) <= _LATIN1[1]:
            table[ord(ch)] = _SPACE
    table[0x0219] = 0x015F  # Romanian s/t with comma below -> with cedilla
    table[0x021B] = 0x0163
    for cp in range(_GENERAL_PUNCT[0], _GENERAL_PUNCT[1] + 1):
        table[cp] = _SPACE
    table[0x06CC] = 0x064A  # Farsi yeh -> Arabic yeh
    for cp in range(0x1EA0, _LATIN_EXT_ADDITIONAL[1] + 1):
        table[cp] = 0x1EC3
    for cp in range(_HIRAGANA[0], _HIRAGANA[1] + 1):
        table[cp] = 0x3042
    for cp in range(_KATAKANA[0], _KATAKANA[1] + 1):
        table[cp] = 0x30A2
    for lo, hi in _BOPOMOFO:
        for cp in range(lo, hi + 1):
            table[cp] = 0x3105
    kanji_keys = [key for key in messages if key.startswith("NGram.KANJI_")]
    for key in kanji_keys:  # file order: a later class would win, as in langdetect
        chars = messages[key]
        for ch in chars:
            if _CJK[0] <= ord(ch) <= _CJK[1]:
                table[ord(ch)] = ord(chars[0])
    for cp in range(_HANGUL[0], _HANGUL[1] + 1):
        table[cp] = 0xAC00
    # Identity entries cost a lookup for nothing.
    return {k: v for k, v in table.items() if k != v}


def build_vietnamese(messages: dict[str, str]) -> tuple[re.Pattern[str], dict[str, str]]:
    """Vietnamese normalisation: letter + combining mark -> precomposed letter."""
    letters = messages["TO_NORMALIZE_VI_CHARS"]
    marks = messages["DMARK_CLASS"]
    tables = [messages[f"NORMALIZED_VI_CHARS_{ord(mark):04X}"] for mark in marks]
    mapping: dict[str, str] = {}
    for m, mark in enumerate(marks):
        for a, letter in enumerate(letters):  # first position wins, like str.find
            mapping.setdefault(letter + mark, tables[m][a])
    pattern = re.compile("([" + letters + "])([" + marks + "])")
    return pattern, mapping


def _gram_tables(grams: _Grams) -> tuple[np.ndarray, GramIndex, GramIndex]:
    rows = {n: np.arange(len(keys), dtype=np.int32) + grams.first_row[n] for n, keys in grams.keys.items()}
    unigram_rows = np.full(MAX_CODE + 1, -1, dtype=np.int32)
    unigram_rows[grams.keys[1]] = rows[1]
    return unigram_rows, GramIndex(grams.keys[2], rows[2]), GramIndex(grams.keys[3], rows[3])


def load_model() -> LangdetectModel:
    base = package_dir()
    messages = read_messages(base / "utils" / "messages.properties")
    grams = _load_profiles(base / "profiles")
    vi_pattern, vi_map = build_vietnamese(messages)
    unigram_rows, bigrams, trigrams = _gram_tables(grams)
    char_table = build_char_table(messages)
    norm_codes = np.arange(MAX_CODE + 1, dtype=np.uint32)
    norm_codes[np.fromiter(char_table, dtype=np.intp)] = np.fromiter(char_table.values(), dtype=np.uint32)
    return LangdetectModel(
        langs=grams.langs,
        probs=grams.probs,
        char_table=char_table,
        norm_codes=norm_codes,
        vi_pattern=vi_pattern,
        vi_map=vi_map,
        unigram_rows=unigram_rows,
        bigrams=bigrams,
        trigrams=trigrams,
        upper_bmp=np.array([chr(cp).isupper() for cp in range(0x10000)], dtype=bool),
    )
