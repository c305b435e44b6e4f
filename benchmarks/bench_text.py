"""Text analysis speed: adhere's detector and tokenizers against langdetect and nltk.

One command, from the repository root::

    python benchmarks/bench_text.py            # --rounds N (default 3)

On IFEval's 541 GPT-4 responses and the 8 loose variants of each (the texts IFEval's
loose mode scores), in one process, it times

* ``language.detect`` against langdetect 1.0.9 (``DetectorFactory`` seeded 0),
* ``sentences.punkt_sentences`` against ``nltk.tokenize.sent_tokenize``,
* ``sentences.treebank_words`` against ``nltk.word_tokenize``,

and prints per-call means, best of the rounds, with the ratio. Times are CPU time of
this process (``time.process_time``): the machine is shared, and wall time there
mostly measures the other processes. adhere is timed three
ways: *cold* (its memo caches emptied before every call: the algorithm alone),
*corpus* (caches emptied once, then the distinct texts in order: a first pass over a
batch) and *loose workload* (all 541 x 8 variant calls, duplicates included, caches
emptied once: what IFEval's strict + loose scoring asks for). The references have no
caches, so their time is the same in every mode. Every answer is compared in the same
run. Then it times importing each side in a fresh interpreter (median of several),
with and without loading the models.

nltk reads its Punkt model from ``../shared/data/nltk_data`` (``NLTK_DATA``); adhere
reads nothing outside its package and langdetect's installed profiles.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "data"
RESPONSES = SHARED / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl"
NLTK_DATA = SHARED / "nltk_data"
os.environ["NLTK_DATA"] = str(NLTK_DATA.resolve())

sys.path.insert(0, str(ROOT / "src"))

from adhere.spec import _variant_texts  # noqa: E402
from adhere.text import language, sentences  # noqa: E402


def corpus() -> tuple[list[str], list[str]]:
    """(distinct texts, every variant call in order) for the 541 responses."""
    with open(RESPONSES, encoding="utf-8") as fh:
        responses = [json.loads(line)["response"] for line in fh if line.strip()]
    calls = [text for response in responses for text in _variant_texts(response).values()]
    return list(dict.fromkeys(calls)), calls


def clear_caches() -> None:
    language.clear_cache()
    sentences.clear_caches()


def best_of(rounds: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def per_call_us(seconds: float, calls: int) -> str:
    return f"{seconds / calls * 1e6:8.1f} us"


def compare(
    name: str, ours: Callable[[str], Any], theirs: Callable[[str], Any], texts: list[str], calls: list[str], rounds: int
) -> None:
    ours(texts[0]), theirs(texts[0])  # warm-up: models loaded, regexes compiled
    differing = sum(ours(t) != theirs(t) for t in texts)

    def cold() -> None:
        for text in texts:
            clear_caches()
            ours(text)

    def first_pass() -> None:
        clear_caches()
        for text in texts:
            ours(text)

    def workload() -> None:
        clear_caches()
        for text in calls:
            ours(text)

    def reference() -> None:
        for text in texts:
            theirs(text)

    ref = best_of(rounds, reference)
    c = best_of(rounds, cold)
    f = best_of(rounds, first_pass)
    w = best_of(rounds, workload)
    ref_workload = ref / len(texts) * len(calls)
    print(f"{name}: {len(texts)} distinct texts, {len(calls)} variant calls, answers differing: {differing}")
    print(f"  reference            {per_call_us(ref, len(texts))}")
    print(f"  adhere cold          {per_call_us(c, len(texts))}   x{ref / c:5.1f}")
    print(f"  adhere corpus        {per_call_us(f, len(texts))}   x{ref / f:5.1f}")
    print(
        f"  loose workload total  reference {ref_workload * 1e3:7.1f} ms   adhere {w * 1e3:7.1f} ms"
        f"   x{ref_workload / w:5.1f}"
    )


def import_time(code: str, runs: int = 5) -> float:
    """Median CPU time a fresh interpreter spends running ``code`` (its imports included)."""
    probe = f"import time; t0 = time.process_time(); {code}; print(time.process_time() - t0)"

    def run() -> float:
        out = subprocess.run(
            [sys.executable, "-c", probe],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        return float(out.stdout.strip().splitlines()[-1])

    return statistics.median(run() for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts, calls = corpus()

    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
    from langdetect.lang_detect_exception import LangDetectException
    from nltk.tokenize import sent_tokenize, word_tokenize

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)

    def langdetect_detect(text: str) -> str | None:
        detector = factory.create()
        detector.append(text)
        try:
            return str(detector.detect())
        except LangDetectException:
            return None

    print(f"Python {sys.version.split()[0]}; CPU time of this process, best of {args.rounds} rounds\n")
    compare("detect (langdetect 1.0.9, seed 0)", language.detect, langdetect_detect, texts, calls, args.rounds)
    compare("sentences (nltk sent_tokenize)", sentences.punkt_sentences, sent_tokenize, texts, calls, args.rounds)
    compare("words (nltk word_tokenize)", sentences.treebank_words, word_tokenize, texts, calls, args.rounds)

    print("\nimport in a fresh interpreter (CPU time, median of 5):")
    rows = [
        ("adhere.text.language + sentences", "import adhere.text.language, adhere.text.sentences"),
        ("  ... and first calls (models loaded)", "from adhere.text import language as l, sentences as s; "
         "l.detect('Hello there, world.'); s.treebank_words('Hello there. World.')"),
        ("langdetect + nltk.tokenize", "import langdetect, nltk.tokenize"),
        ("  ... and first calls (models loaded)", "from langdetect.detector_factory import DetectorFactory as F, "
         "PROFILES_DIRECTORY as P; f=F(); f.load_profile(P); f.set_seed(0); d=f.create(); "
         "d.append('Hello there, world.'); d.detect(); import nltk.tokenize as tk; "
         "tk.word_tokenize('Hello there. World.')"),
    ]  # fmt: skip
    for label, code in rows:
        print(f"  {label:40s} {import_time(code) * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
