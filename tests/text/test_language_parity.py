"""``adhere.text.language.detect`` gives langdetect 1.0.9's answers (seed 0), every one.

The reference runs in-process: a ``DetectorFactory`` loaded with the installed profiles
and seeded 0, the setup adhere used before it had its own detector. Besides the answer
we compare langdetect's averaged probabilities bit for bit (``_langdetect.vote`` with
all seven trials), which shows the floating-point path is the same, not just close.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException
from langdetect.utils.ngram import NGram

from adhere.text import _langdetect, _langdetect_model, _seeded_draws, language


@pytest.fixture(scope="module")
def factory() -> DetectorFactory:
    f = DetectorFactory()
    f.load_profile(PROFILES_DIRECTORY)
    f.set_seed(0)
    return f


def reference(factory: DetectorFactory, text: str) -> tuple[str | None, list[float] | None]:
    detector = factory.create()
    detector.append(text)
    try:
        answer = detector.detect()
    except LangDetectException:
        return None, None
    return str(answer), list(detector.langprob)


def mismatches(factory: DetectorFactory, texts: list[str], *, probabilities: bool = False) -> list[str]:
    """Texts where our answer (or, optionally, the full probabilities) differ."""
    bad = []
    for text in texts:
        language.clear_cache()
        expected, langprob = reference(factory, text)
        if language.detect(text) != expected:
            bad.append(text)
        elif probabilities and langprob is not None:
            ours, _ = _langdetect.vote(_langdetect.features(_langdetect.prepare(text)))
            if ours.tolist() != langprob:
                bad.append(text)
    return bad


def test_ifeval_responses_and_variants(factory: DetectorFactory, ifeval_corpus: list[str]) -> None:
    assert len(ifeval_corpus) > 2000
    expected = [reference(factory, text)[0] for text in ifeval_corpus]
    alone = []
    for text in ifeval_corpus:
        language.clear_cache()
        alone.append(language.detect(text))
    assert [t for t, e, a in zip(ifeval_corpus, expected, alone, strict=True) if a != e] == []
    # All together: n-grams found in joined passes, trials run side by side.
    language.clear_cache()
    together = language.detect_many(ifeval_corpus)
    assert [t for t, e, a in zip(ifeval_corpus, expected, together, strict=True) if a != e] == []
    # Answered from the memo the second time (same answers, in order, duplicates too).
    again = language.detect_many([*ifeval_corpus[:50], *ifeval_corpus[:50]])
    assert again == expected[:50] * 2


def test_ifeval_probabilities_bit_for_bit(factory: DetectorFactory, ifeval_responses: list[str]) -> None:
    assert mismatches(factory, ifeval_responses, probabilities=True) == []


def test_probabilities_side_by_side_bit_for_bit(
    factory: DetectorFactory, ifeval_responses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trials of many texts run in lockstep give langdetect's probabilities to the last bit."""
    assert _langdetect._SUMS_AGREE  # CPython 3.10/3.11: the lockstep path is the one tested here
    texts = [t for t in ifeval_responses if reference(factory, t)[1] is not None]
    expected = [reference(factory, t)[1] for t in texts]
    feats = _langdetect.features_many([_langdetect.prepare(t) for t in texts])
    voted = _langdetect.vote_many(feats)
    assert [t for t, (ours, _), e in zip(texts, voted, expected, strict=True) if ours.tolist() != e] == []
    # Stopping once certain gives the same answers as running every trial.
    assert _langdetect.answer_many(feats) == [_langdetect.decide(p) for p, _ in voted]
    # In groups (as many texts are split), with the last group below the lockstep size.
    size = next(n for n in range(10, 100) if 0 < len(feats) % n < _langdetect._LOCKSTEP_MIN)
    monkeypatch.setattr(_langdetect, "_LOCKSTEP_MAX", size)
    grouped = _langdetect.vote_many(feats)
    assert [t for t, (ours, _), e in zip(texts, grouped, expected, strict=True) if ours.tolist() != e] == []


SHORT_TEXTS = [
    "YES", "NO", "OK", "สวัสดี", "Привет", "日本", "ça va", "hola amigo", "Γεια", "שלום", "abc", "THE END",
    "I AM", "x y z", "Ärger", "مرحبا", "안녕", "YES!!", "NO WAY",
]  # fmt: skip


@pytest.mark.parametrize("handover", [_langdetect._LOCKSTEP_MIN, 10, 30])
def test_trials_started_ahead_bit_for_bit(
    factory: DetectorFactory, handover: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Texts with few n-grams start all trials at once; the ones started from a wrong
    place (an earlier trial converged before the limit) are dropped and run again, and
    the last rows are handed over mid-trial. Every probability stays langdetect's."""
    monkeypatch.setattr(_langdetect, "_LOCKSTEP_MIN", handover)
    feats = _langdetect.features_many([_langdetect.prepare(t) for t in SHORT_TEXTS])
    assert sum(0 < len(f) <= _langdetect._AHEAD_FEATURES for f in feats) >= 10
    voted = _langdetect.vote_many(feats)
    expected = [reference(factory, t)[1] for t in SHORT_TEXTS]
    assert [t for t, (ours, _), e in zip(SHORT_TEXTS, voted, expected, strict=True) if ours.tolist() != e] == []
    answers = [reference(factory, t)[0] for t in SHORT_TEXTS]
    assert _langdetect.answer_many(feats) == answers


def test_features_of_joined_texts_equal_each_alone(ifeval_responses: list[str]) -> None:
    pieces = [*ifeval_responses[:60], *EDGE_TEXTS, "", "A", "AB CD", " x ", "ÉCOLE  ", "x"]
    prepared = [_langdetect.prepare(t) for t in pieces]
    rng = np.random.default_rng(0)
    for _ in range(60):
        group = [prepared[i] for i in rng.integers(0, len(prepared), size=int(rng.integers(1, 12)))]
        joined = _langdetect.features_many(group)
        alone = [_langdetect._joined_features([t])[0] for t in group]
        assert [a.tolist() for a in joined] == [a.tolist() for a in alone]
    assert _langdetect.features_many([]) == []
    assert [len(f) for f in _langdetect.features_many(["", "", "  "])] == [0, 0, 0]


@pytest.mark.slow
def test_ifbench_texts(factory: DetectorFactory, ifbench_corpus: list[str]) -> None:
    assert mismatches(factory, ifbench_corpus, probabilities=True) == []


@pytest.mark.slow
def test_muldimif_texts(factory: DetectorFactory, muldimif_corpus: list[str]) -> None:
    assert mismatches(factory, muldimif_corpus, probabilities=True) == []


# -- generated texts -----------------------------------------------------------------------------

SCRIPTS = {
    "latin": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "latin_ext": "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿąćęłńśźżčďěňřšťůžőűăâîșțşţğı",
    "vietnamese": "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ",
    "combining": "aeiouyAEIOUY\u0300\u0301\u0303\u0309\u0323",
    "cyrillic": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯіїєґ",
    "greek": "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώΑΒΓΔΕΖΗΘ",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهويیپچژکگ",
    "hebrew": "אבגדהוזחטיכלמנסעפצקרשת",
    "devanagari": "अआइईउऊएऐओऔकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह्ािीुूेैोौं",
    "thai": "กขคงจฉชซญดตถทธนบปผพฟภมยรลวศษสหอฮะาิีึืุู่้",
    "cjk": "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后"
    "小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现",
    "kana": "あいうえおかきくけこさしすせそたちつてとアイウエオカキクケコサシスセソ",
    "hangul": "가나다라마바사아자차카타파하한국어입니다",
    "punct": " .,;:!?'\"()[]{}<>-_/\\|@#$%^&*+=~`\n\t\r\u00a0\u2013\u2014\u201c\u201d\u00ab\u00bb",
    "digits": "0123456789",
    "controls": "\x00\x01\x07\x0b\x0c\x1c\x1d\x1e\x1f\x7f\x85\u200b\u2028\ufeff",
}

words = st.one_of(
    *(st.text(alphabet=chars, min_size=1, max_size=12) for chars in SCRIPTS.values()),
    st.sampled_from(
        [
            "http://example.com/a?b=c",
            "https://x.y/#frag",
            "mail@example.org",
            "a.b-c_d@host-name.example.com",
            "@@",
            "x@y",
            "U.S.A.",
            "NASA",
            "iPhone",
            "e.g.",
            "   ",
            "\n\n",
        ]
    ),
)
texts = st.lists(words, max_size=60).map(" ".join) | st.text(max_size=300)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_generated_texts(factory: DetectorFactory, text: str) -> None:
    assert mismatches(factory, [text], probabilities=True) == []


EDGE_TEXTS = [
    "",
    " ",
    "\n\t  \n",
    "12345 !!! ???",
    "a",
    "http://only.a.url/",
    "someone@example.com",
    "ALL CAPITALS SHOUTING HERE",
    "Ünïcödé ñ" * 3,
    "x" * 25_000,
    "The quick brown fox jumps over the lazy dog. " * 400,  # beyond the 10,000 limit
    "日本語のテキストです。" * 50 + " English words mixed in for good measure",
    "Xin chào, tôi là người Việt Nam. Tiếng Việt có nhiều dấu.",
    "Xin cha\u0300o, to\u0302i la\u0300 ngu\u031bo\u031b\u0300i Vie\u0323\u0302t",
    "\U00010400\U00010401\U00010402 \U00010428bc DEseret CAPS \U0001d400\U0001d401 the end",  # non-BMP upper case
    "\ud800 lone surrogates \udfff in the text",
]


@pytest.mark.parametrize("text", EDGE_TEXTS, ids=[f"edge{i}" for i in range(len(EDGE_TEXTS))])
def test_edge_texts(factory: DetectorFactory, text: str) -> None:
    assert mismatches(factory, [text], probabilities=True) == []


# -- the pieces ----------------------------------------------------------------------------------


def test_character_normalisation_matches_every_code_point() -> None:
    table = _langdetect.model().char_table
    differing = [cp for cp in range(0x110000) if chr(cp).translate(table) != NGram.normalize(chr(cp))]
    assert differing == []
    # The array form features() uses is the same map.
    as_array = _langdetect.model().norm_codes
    expected = np.arange(0x110000)
    expected[list(table)] = list(table.values())
    assert np.array_equal(as_array, expected)


MAIL_RE = re.compile(r"[-_.0-9A-Za-z]{1,64}@[-_0-9A-Za-z]{1,255}[-_.0-9A-Za-z]{1,255}")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["a", "Z", "0", ".", "-", "_", "@", " ", "é", "a" * 70, "b" * 300]), max_size=40))
def test_mail_removal_scans_only_near_at_signs(parts: list[str]) -> None:
    text = "".join(parts)
    assert _langdetect._strip_mail(text) == MAIL_RE.sub(" ", text)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 2**62), min_size=1, max_size=3000, unique=True), st.lists(st.integers(0, 2**62)))
def test_gram_index_is_an_exact_map(keys: list[int], others: list[int]) -> None:
    rows = np.arange(len(keys), dtype=np.int32)
    index = _langdetect_model.GramIndex(np.array(keys, dtype=np.int64), rows, bits=8)  # tiny: forces overflow
    expected = dict(zip(keys, rows.tolist(), strict=True))
    queries = keys + others
    found = index.lookup(np.array(queries, dtype=np.int64)).tolist()
    assert found == [expected.get(q, -1) for q in queries]


def test_fast_draws_are_proven_on_this_interpreter() -> None:
    source = _seeded_draws.make_source(_langdetect.SEED)
    assert type(source).__name__ == "_BulkSource"


def test_fallback_draws_give_the_same_probabilities(ifeval_responses: list[str]) -> None:
    for text in ifeval_responses[:40]:
        feats = _langdetect.features(_langdetect.prepare(text))
        if not len(feats):
            continue
        fast, _ = _langdetect.vote(feats)
        slow, _ = _langdetect.vote(feats, source=_seeded_draws._RandomSource(_langdetect.SEED))
        assert np.array_equal(fast, slow)


def test_no_features_is_none() -> None:
    assert language.detect("1234 5678 !!!") is None
    assert language.detect("") is None
