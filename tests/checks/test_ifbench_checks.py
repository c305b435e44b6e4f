"""IFBench-family checks: their meaning, the reference quirks they keep, bad parameters,
the POS tagger's offline behaviour, and never raising on arbitrary text."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adhere.errors import SpecError
from adhere.registry import REGISTRY
from adhere.spec import Spec
from adhere.suites.ifbench import IFBENCH_CHECKS, clean_kwargs, ifbench_spec, instruction_node
from adhere.text.view import TextView


def outcome(check: str, response: str, params: dict[str, Any]) -> str:
    return Spec.parse({"check": check, "params": params}).evaluate(response).outcome


CASES: list[tuple[str, dict[str, Any], str, str]] = [
    # (check, params, text, expected outcome)
    ("count.unique_words", {"min": 3}, "a A b", "fail"),
    ("count.unique_words", {"min": 3}, "a b ...", "pass"),  # '...' trims to '' and counts (IFBench)
    ("count.conjunctions", {"min": 2}, "and And,", "pass"),  # raw tokens are distinct (IFBench)
    ("count.conjunctions", {"min": 2}, "and and", "fail"),
    ("count.person_names", {"min": 2}, "Emma met Liam", "pass"),
    ("count.person_names", {"min": 2}, "Emma met Emmanuel", "fail"),
    ("count.numbers", {"exactly": 2}, "3.5 and 1,000", "pass"),  # punctuation deleted first
    ("count.pronouns", {"min": 3}, "she/her/hers", "pass"),
    ("count.keyword_tally", {"keywords": [["cat", 2]]}, "cat catalog", "pass"),  # substrings
    ("count.punctuation_marks", {}, "Hi, there; look: done. Wow?! Yes!", "fail"),  # '?!' is not also '?'
    ("count.punctuation_marks", {}, "Hi, there; look: done. Wow?! Yes! Why?", "pass"),
    ("ratio.stop_words", {"max_percent": 50}, "the cat sat", "pass"),
    ("ratio.stop_words", {"max_percent": 30}, "the cat sat", "fail"),
    ("ratio.sentence_types", {}, "No end marks at all", "pass"),  # 0 == 2 * 0 (IFBench)
    ("ratio.sentence_types", {}, "One. Two. Three?", "pass"),
    ("ratio.sentence_types", {}, "One. Three?", "fail"),
    ("ratio.sentence_types_balanced", {}, "A. B? C!", "pass"),
    ("ratio.sentence_types_balanced", {}, "A. B?", "fail"),
    ("ratio.trigram_overlap", {"reference": "abcdef", "percent": 100}, "abcd", "pass"),  # character trigrams
    ("words.alphabet_chain", {}, "Yes, zebras always bite.", "pass"),
    ("words.alphabet_chain", {}, "1 apple", "fail"),
    ("words.few_vowels", {}, "a cat sat", "pass"),
    ("words.few_vowels", {}, "a cat\nsat", "fail"),
    ("words.consonant_clusters", {}, "strong myths", "pass"),
    ("words.consonant_clusters", {}, "strong idea", "fail"),
    ("words.palindromes", {"min": 2}, "level, radar!", "pass"),
    ("words.prime_lengths", {}, "to be, or", "pass"),
    ("words.prime_lengths", {}, "a", "fail"),
    ("words.max_repeats", {"max": 1}, "Go go", "fail"),
    ("words.no_shared_initials", {}, "big cat dog", "pass"),
    ("words.syllable_parity_alternates", {}, "cat water cat", "pass"),
    ("words.japanese_every_nth", {"n": 2}, "word 日本 word 12", "pass"),  # numbers are exempt
    ("words.japanese_every_nth", {"n": 2}, "word word", "fail"),
    ("sentences.alliteration_grows", {}, "No. Big bad. Silly small snake.", "pass"),
    ("sentences.word_step", {"step": 1}, "Go. Go on. Go on now.", "pass"),
    ("sentences.chain_last_first", {}, "I like cats. Cats like me.", "pass"),
    ("sentences.equal_length", {}, "Abc. Def. Ghi.", "pass"),
    ("paragraphs.same_first_last_word", {}, "go far and go\n\nstop now, stop", "pass"),
    ("paragraphs.same_first_last_word", {}, "go far, go,", "pass"),  # outer punctuation trimmed
    ("keywords.in_sentence", {"keyword": "cat", "sentence": 2}, "A dog. A cat.", "pass"),
    ("keywords.in_sentence", {"keyword": "cat", "sentence": 2}, "A cat. A dog.", "fail"),
    ("keywords.at_word", {"keyword": "cat", "sentence": 1, "word": 2}, "A, cat sat.", "pass"),
    ("keywords.second_and_penultimate", {"keyword": "red"}, "A red hat, red it.", "pass"),  # '.' counts as last
    ("keywords.second_and_penultimate", {"keyword": "red"}, "A red hat, red.", "fail"),
    ("format.nested_brackets", {"min_depth": 3}, "([{x}])", "pass"),
    ("format.nested_brackets", {"min_depth": 3}, "([{x)", "fail"),
    ("format.nested_quotes", {"min_depth": 3}, '"a \'b "c" b\' a"', "pass"),
    ("format.one_of_options", {"options": "yes/no/maybe"}, "Yes.", "pass"),
    ("format.one_of_options", {"options": "a), b), c), d)"}, "a) ", "fail"),  # letters match exactly
    ("format.word_per_line", {}, "one\ntwo", "pass"),
    ("format.emoji_endings", {}, "Hi 😀. Bye 👋", "pass"),
    ("format.emoji_endings", {}, "Hi. Bye 👋", "fail"),
    ("format.indent_stairs", {}, "a\n b\n  c", "pass"),
    ("format.indent_stairs", {}, "a\n b\n b", "fail"),
    ("format.quote_then_explanation", {}, '"a" means A.', "pass"),
    ("format.quote_then_explanation", {}, 'It is "a"', "fail"),
    ("format.custom_bullets", {"marker": "SEP"}, "SEP a\nSEP b", "pass"),
    ("format.italic_thesis", {}, "<i>Claim.</i> Support.", "pass"),
    ("format.italic_thesis", {}, "<i>Claim.</i>", "fail"),
    ("format.sub_bullets", {}, "no stars at all", "pass"),  # vacuous (IFBench)
    ("format.sub_bullets", {}, "* a\n* b\n  - c", "fail"),
    ("format.prose_then_bullets", {}, "One. Two.\n* a\n* b", "pass"),
    ("format.prose_then_bullets", {}, "One.\n\nTwo.\n* a\n* b", "fail"),  # blank line ends the prose
    ("format.title_case", {}, "The Cat Is Here", "pass"),
    ("format.title_case", {}, "The Cat Cannot", "fail"),  # 'Cannot' -> 'Can' 'not'
    ("format.template_markers", {}, "My Answer: a My Conclusion: b Future Outlook: c", "pass"),
    ("format.no_whitespace", {}, "a\u00a0b", "fail"),
    ("copy.request_first_word_changed", {"request": "Write a poem now"}, "Compose a poem now", "pass"),
    ("copy.request_first_word_changed", {"request": "Write a poem now"}, "Write a poem now", "fail"),
    ("copy.exact_text", {"text": "Only this."}, "  only THIS. ", "pass"),
    ("copy.char_span", {"source": "Hello world", "start": 0, "end": 4}, "hello", "pass"),  # both ends inclusive
    ("task.number_sequence", {}, "14,21,28,35,42,49", "pass"),
    ("task.reversed_words", {}, "eagle bald the is it", "pass"),
    ("task.reversed_characters", {}, "ELGAE DLAB", "pass"),
    ("task.date_list", {}, "1800-02-30", "fail"),
    ("task.date_list", {}, "1800-02-29, 1805-00-99", "pass"),  # month 00 skips the day check (IFBench)
    ("task.csv_table", {"header": ["a", "b"], "rows": 1}, "a,b\n1,2", "pass"),
    ("task.csv_all_quoted", {"header": ["a", "b"], "rows": 1}, '"a"\t"b"\n"1"\t', "fail"),  # empty field
    ("sentences.alphabet_openings", {"count": 2}, "Apples fall. Bears roar.", "pass"),
]


@pytest.mark.parametrize(
    ("check", "params", "text", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_check_meaning(check: str, params: dict[str, Any], text: str, expected: str) -> None:
    assert outcome(check, text, params) == expected


def test_every_ifbench_id_maps_to_a_registered_check() -> None:
    assert len(IFBENCH_CHECKS) == 58 == len(_PARAMS)
    assert all(check_id in REGISTRY for check_id in IFBENCH_CHECKS.values())
    assert IFBENCH_CHECKS["count:word_count_range"] == "length.words"  # IFEval's check, reused


def test_dense_kwargs_are_cleaned() -> None:
    dense = dict.fromkeys(("N", "word", "keyword", "percentage", "options"))
    dense.update(word="cat", N=2.0)
    assert clean_kwargs(dense) == {"word": "cat", "N": 2}
    node = instruction_node("sentence:keyword", dense)
    assert node.to_dict() == {
        "check": "keywords.in_sentence",
        "params": {"keyword": "cat", "sentence": 2},
        "label": "sentence:keyword",
    }


@pytest.mark.parametrize(
    ("iid", "kwargs", "message"),
    [
        ("sentence:keyword", {"word": "cat"}, "missing ['N']"),
        ("sentence:keyword", {"word": "cat", "N": 2.5}, "sentence"),
        ("sentence:keyword", {"word": "cat", "N": 2, "sep": "-"}, "unexpected kwarg(s) ['sep']"),
        ("count:numbers", {"N": -1}, "greater than or equal to 0"),
        ("count:number", {}, "did you mean 'count:numbers'"),
    ],
)
def test_bad_instructions_are_refused_with_the_place(iid: str, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as info:
        ifbench_spec([iid], [kwargs], where="key 7: ")
    assert message in str(info.value) and "key 7: " in str(info.value)


def test_blank_responses_fail_strict_and_loose() -> None:
    verdict = ifbench_spec(["format:sub-bullets"], [{}]).evaluate("  \n ")
    assert verdict.outcome == "fail" and verdict.children[0].children[0].outcome == "fail"


def test_start_verb_uses_a_named_offline_tagger() -> None:
    verdict = Spec.parse({"check": "words.start_verb"}).evaluate("Build a bridge.")
    assert verdict.outcome == "pass" and verdict.evidence["tagger"] in ("nltk", "pattern")
    assert Spec.parse({"check": "words.start_verb"}).evaluate("The bridge is long.").outcome == "fail"


def test_start_verb_without_a_tagger_is_unscorable_with_an_install_hint() -> None:
    code = (
        "import sys; sys.modules['textblob'] = None\n"
        "import nltk; nltk.data.path[:] = []\n"
        "from adhere.spec import Spec\n"
        "v = Spec.parse({'check': 'words.start_verb', 'params': {'tagger': 'pattern'}}).evaluate('Build it.')\n"
        "print(v.outcome, '|', v.reason)\n"
        "v = Spec.parse({'check': 'words.start_verb', 'params': {'tagger': 'nltk'}}).evaluate('Build it.')\n"
        "print(v.outcome, '|', v.reason)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0].startswith("unscorable |") and "pip install 'adhere[pos]'" in out[0]
    assert out[1].startswith("unscorable |") and "averaged_perceptron_tagger_eng" in out[1]


# One parameter set for each of the 58 IFBench ids (their kwargs shaped as in the test set).
_KWARGS: dict[str, dict[str, Any]] = {
    "count:word_count_range": {"min_words": 3.0, "max_words": 9.0},
    "count:unique_word_count": {"N": 5.0},
    "ratio:stop_words": {"percentage": 20.0},
    "count:conjunctions": {"small_n": 2.0},
    "count:person_names": {"N": 2.0},
    "ratio:overlap": {"reference_text": "a quick fox.", "percentage": 20.0},
    "count:numbers": {"N": 2.0},
    "format:options": {"options": "yes/no/maybe"},
    "count:words_japanese": {"N": 3.0},
    "words:repeats": {"small_n": 2.0},
    "sentence:keyword": {"word": "fox", "N": 2.0},
    "count:pronouns": {"N": 3.0},
    "sentence:increment": {"small_n": 1.0},
    "format:list": {"sep": "-"},
    "count:keywords_multiple": {f"keyword{i}": w for i, w in enumerate("abcde", start=1)},
    "words:keywords_specific_position": {"keyword": "fox", "n": 1, "m": 2},
    "words:words_position": {"keyword": "fox"},
    "repeat:repeat_change": {"prompt_to_repeat": "Write a poem."},
    "repeat:repeat_span": {"prompt_to_repeat": "abc def", "n_start": 0, "n_end": 3},
}
_PARAMS = [instruction_node(iid, _KWARGS.get(iid, {})) for iid in IFBENCH_CHECKS]

_MARKUP = st.sampled_from(
    [*list("*-\n \t.,;:!?\"'()[]{}<>|#0123456789"), "?!", "<i>", "</em>", "Question 1", "😀", "ΣΟΣ", "İ"]
)
_TEXT = st.lists(st.one_of(st.characters(), _MARKUP, st.text(max_size=6)), max_size=80).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT)
def test_ifbench_checks_never_raise(text: str) -> None:
    view = TextView(text)
    for node in _PARAMS:
        found = node.info.fn(view, node.params)  # directly: an exception must surface here
        assert found.ok in (True, False, None) and found.reason
