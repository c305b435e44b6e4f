"""Differential test: allenai/IFBench's own checkers and ours on responses other than the sample.

For every prompt of ``IFBench_test.jsonl``, responses are derived from the sample response
(case changes, lines dropped or indented, punctuation removed, sentences reversed, another
prompt's answer, ...) and built to satisfy the prompt's constraints (the requested span, the
keyword in the requested place, the right CSV, ...), so both passing and failing branches are
exercised. Every strict and loose instruction verdict must be equal. The reference is loaded
from a snapshot of its repository (``benchmarks/ifbench_reference.py``); the test is skipped
with the reason when there is none. ``words:start_verb`` is left out: the reference needs
nltk tagger data that cannot be installed offline.
"""

from __future__ import annotations

import importlib.util
import json
import re
import string
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adhere.suites.ifbench import ifbench_spec

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".." / "shared" / "data" / "ifbench"


def _load_harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ifbench_reference", ROOT / "benchmarks" / "ifbench_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ifbench_reference"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference() -> tuple[ModuleType, ModuleType]:
    harness = _load_harness()
    if not (DATA / "IFBench_test.jsonl").is_file():
        pytest.skip(f"no IFBench data at {DATA}")
    try:
        lib = harness.load_reference()
    except (FileNotFoundError, OSError, ImportError) as exc:
        pytest.skip(f"the IFBench reference checkers cannot be obtained: {exc}")
    return harness, lib


def _jsonl(name: str) -> list[dict[str, Any]]:
    with open(DATA / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _rows_and_responses() -> tuple[list[dict[str, Any]], dict[str, str]]:
    rows = _jsonl("IFBench_test.jsonl")
    table: dict[str, str] = {}
    for r in _jsonl("sample_output.jsonl"):
        table[r["prompt"]] = r["response"]
        table.setdefault(r["prompt"].strip(), r["response"])
    return rows, {row["key"]: table.get(row["prompt"], table.get(row["prompt"].strip(), "")) for row in rows}


def _perturbations(text: str, other: str) -> Iterator[str]:
    lines = text.split("\n")
    yield text.lower()
    yield text.upper()
    yield string.capwords(text, " ")
    yield "Sure! Here it is:\n" + text + "\n*Hope this helps*"
    yield "\n".join(lines[1:])
    yield text.translate(str.maketrans("", "", string.punctuation))
    yield " ".join(reversed(re.split(r"(?<=[.!?])\s+", text)))
    yield text[: max(1, len(text) * 2 // 5)]
    yield "\n".join(" " * i + line.strip() for i, line in enumerate(lines) if line.strip())
    yield "\n".join(text.split())
    yield other
    yield "   "


def _constructed(row: dict[str, Any]) -> Iterator[str]:
    """Responses built to meet (or nearly meet) each constraint of the prompt."""
    for iid, raw in zip(row["instruction_id_list"], row["kwargs"], strict=True):
        kw = {k: v for k, v in raw.items() if v is not None}
        n = int(kw["N"]) if "N" in kw else 3
        if iid == "repeat:repeat_span":
            span = kw["prompt_to_repeat"][kw["n_start"] : kw["n_end"] + 1]
            yield span
            yield " " + span.upper() + " "
            yield span + "."
        elif iid == "repeat:repeat_change":
            words = kw["prompt_to_repeat"].split()
            yield " ".join(["Please", *words[1:]])
            yield kw["prompt_to_repeat"]
        elif iid == "repeat:repeat_simple":
            yield "only output this sentence here, ignore all other requests."
            yield "Only output this sentence here, ignore all other requests"
        elif iid == "format:options":
            opts = re.split(r"/|or|,", kw["options"])
            yield opts[0].strip()
            yield opts[-1].strip() + "."
        elif iid == "count:keywords_multiple":
            parts = [(kw[f"keyword{i}"] + " ") * c for i, c in zip(range(1, 6), (1, 2, 3, 5, 7), strict=True)]
            yield "".join(parts)
            yield "".join(parts) + kw["keyword1"]
        elif iid == "sentence:keyword":
            sents = [f"Sentence number {i} is here." for i in range(1, n + 2)]
            sents[n - 1] = f"This one holds {kw['word']}."
            yield " ".join(sents)
            yield " ".join(sents[: n - 1])
        elif iid == "words:keywords_specific_position":
            sents = ["Filler words only here." for _ in range(kw["n"])]
            words = [f"w{i}" for i in range(1, kw["m"] + 2)]
            words[kw["m"] - 1] = kw["keyword"]
            sents[kw["n"] - 1] = ", ".join(words) + "."
            yield " ".join(sents)
        elif iid == "words:words_position":
            yield f"The {kw['keyword']} cat sat on the mat, {kw['keyword']} indeed."
            yield f"A {kw['keyword']} thing {kw['keyword']} end"
        elif iid == "count:words_japanese":
            yield " ".join("日本" if (i + 1) % n == 0 else f"word{i}" for i in range(3 * n))
        elif iid == "count:numbers":
            yield " ".join(f"{i}.5," for i in range(n))
        elif iid == "count:word_count_range":
            yield " ".join(["word"] * int(kw["min_words"]))
        elif iid == "count:unique_word_count":
            yield " ".join(f"w{i}, W{i}" for i in range(n))
        elif iid == "count:person_names":
            yield "Emma, Liam and Sophia met Noah, Ava, Lucas, Mia, Leo, Zoe, Ella, Jacob, Nora, Aria and Ryan."
        elif iid in ("count:conjunctions", "words:repeats", "count:pronouns"):
            yield "And so, yet or nor for but AND, And. I and you, she/her/hers, they and we, it: this and that."
        elif iid == "ratio:overlap":
            yield kw["reference_text"]
            yield kw["reference_text"][: len(kw["reference_text"]) // 3] + " totally different words follow here"
        elif iid == "sentence:increment":
            step = int(kw["small_n"])
            yield " ".join(" ".join(["go"] * (2 + i * step)) + "." for i in range(4))
        elif iid == "format:list":
            yield f"{kw['sep']} apples\n{kw['sep']} pears"
    yield from _FIXED


_FIXED = [
    "Apple bakes cakes daily, every Friday. Great!",
    "Zebras always bite cats.",
    "Strong crypts flyby. Myths spy. Brr nth.",
    "level radar civic kayak refer rotor madam stats tenet sagas racecar level radar",
    "Hi, there; look: done. Wow?! Yes!",
    "((a [b {c (d (e) f) g} h] i))",
    'He said "she said \'they said "no" ok\' fine" done',
    "to be is an ox or we go at it",
    "a)",
    "yes",
    "Maybe.",
    "one\ntwo\nthree\n\nfour",
    "I love it 😀. Sure 👍! Done 🎉",
    "Cats sit. Dogs ran. Owls fly.",
    "Run fast, then rest. Rest now or later. Later we talk.",
    "stop at the stop\ngo on, go\n\nwe rise we",
    "Here\n  there\n    everywhere\n\n      beyond",
    '"To be" is a question. "Or not" ends here',
    "<i>Thesis here.</i> Then more text follows.",
    "<em>Thesis</em> and more",
    "* Item one\n  - sub a\n* Item two\n  - sub b",
    "First sentence here. Second one too.\n* bullet one\n* bullet two",
    "First sentence here.\n\nSecond one.\n* bullet",
    "14, 21, 28, 35, 42, 49",
    "Question 1: Which movement?\nA. Dada\nB. Cubism\nC. Pop\nD. Op\nE. Land\n"
    "Question 2: Who painted it, really?\nA. X\nB. Y\nC. Z\nD. W\nE. V\n"
    "Question 3: Which year was it painted, exactly?\nA. 1\nB. 2\nC. 3\nD. 4\nE. 5\n"
    "Question 4: Which city hosted the first big show of that art?\nA. a\nB. b\nC. c\nD. d\nE. e",
    "Zimbabwe\nZambia\nUganda\nTunisia\nTogo",
    "eagle bald the is it",
    "Elgae dlab eht si tI",
    "Reykjavik, Helsinki, Oslo, Tallinn, Stockholm, Riga, Moscow, Copenhagen, Vilnius, Minsk, Dublin, Berlin, "
    "Amsterdam, Warsaw, London, Brussels, Prague, Luxembourg, Paris, Vienna, Bratislava, Budapest, Vaduz, "
    "Chisinau, Bern, Ljubljana, Zagreb",
    "ID,Country,City,Year,Count\n" + "\n".join(f"{i},France,Paris,2020,{i}" for i in range(7)),
    "ProductID,Category,Brand,Price,Stock\n" + "\n".join(f'{i},Toys,"Acme & Co",9.99,{i}' for i in range(14)),
    '"StudentID"\t"Subject"\t"Grade"\t"Semester"\t"Score"\n'
    + "\n".join(f'"{i}"\t"Math"\t"A"\t"Fall"\t"90"' for i in range(3)),
    "1796-04-12, 1805-12-02, 1815-06-18",
    "1796-04-31",
    "The Cat Sat On A Mat",
    "The Cat sat On A Mat Cannot",
    "My Answer: yes My Conclusion: fine Future Outlook: good",
    "NoWhitespaceHere!",
    "Alphabetical bears cannot dance elegantly.",
    "\n".join(["Zimbabwe", *sorted((f"Land {i:03d}" for i in range(60)), reverse=True)]),
    " ".join(f"{chr(65 + i)}nimals live here." for i in range(26)),
]


def _compare(
    lib: ModuleType, harness: ModuleType, row: dict[str, Any], response: str, seen: dict[str, set[bool]] | None = None
) -> list[str]:
    ref = harness.reference_verdicts(lib, row, response)
    if ref is None:
        return []
    verdict = ifbench_spec(row["instruction_id_list"], row["kwargs"]).evaluate(response)
    out = []
    for i, node in enumerate(verdict.children):
        ours = (node.children[0].passed if node.children else node.passed, node.passed)
        theirs = (ref[0][i], ref[1][i])
        if seen is not None:
            seen.setdefault(row["instruction_id_list"][i], set()).update(theirs)
        if ours != theirs:
            out.append(
                f"key {row['key']} {row['instruction_id_list'][i]} ours={ours} ref={theirs} on {response[:80]!r}"
            )
    return out


def test_perturbed_and_constructed_responses_match_the_reference(
    reference: tuple[ModuleType, ModuleType],
) -> None:
    harness, lib = reference
    rows, responses = _rows_and_responses()
    mismatches: list[str] = []
    seen: dict[str, set[bool]] = {}
    compared = 0
    for i, row in enumerate(rows):
        if "words:start_verb" in row["instruction_id_list"]:
            continue
        other = responses[rows[(i + 1) % len(rows)]["key"]]
        for response in [*_perturbations(responses[row["key"]], other), *_constructed(row)]:
            mismatches += _compare(lib, harness, row, response, seen)
            compared += 1
    assert compared > 300 * 12
    assert not mismatches, "\n".join(mismatches[:20])
    # Both branches of every constraint were exercised (the reference said pass and fail).
    assert len(seen) == 57
    assert {iid for iid, outcomes in seen.items() if outcomes != {True, False}} == set()


_CHARS = st.sampled_from(
    [*list(" \n\n\t.,;:!?*-\"'()[]{}<>/|#0123456789aeiouAEIOUbcdxyzXYZ"), "?!", "<i>", "</i>", "Question 1:", "😀"]
)
_WORDS = st.sampled_from(["the", "The", "and", "eagle", "bald", "level", "Emma", "I", "it", "日本", "Zimbabwe"])
_TEXT = st.lists(st.one_of(_CHARS, _WORDS, st.text(max_size=4)), max_size=60).map("".join)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(text=_TEXT, index=st.integers(0, 299))
def test_random_texts_match_the_reference(reference: tuple[ModuleType, ModuleType], text: str, index: int) -> None:
    harness, lib = reference
    row = _jsonl_cache()[index]
    if "words:start_verb" in row["instruction_id_list"]:
        return
    assert not _compare(lib, harness, row, text)


_CACHE: list[list[dict[str, Any]]] = []


def _jsonl_cache() -> list[dict[str, Any]]:
    if not _CACHE:
        _CACHE.append(_jsonl("IFBench_test.jsonl"))
    return _CACHE[0]
