"""IFBench scoring speed: adhere against allenai/IFBench's own checkers, in one run.

One command, from the repository root::

    python benchmarks/bench_ifbench.py [--rounds 5]

Both sides score the 300 prompts of ``IFBench_test.jsonl`` with the repository's
``sample_output.jsonl`` responses, strict then loose, every instruction of every prompt,
after imports and a warm-up round; the median of ``--rounds`` rounds is printed for each,
with the ratio. The reference is IFBench's ``evaluation_lib`` (see ``ifbench_reference.py``
for how it is loaded offline: nothing of it is copied into this repository). Its
``words:start_verb`` checker raises here (nltk's tagger data cannot be downloaded), so those
6 prompts end early on the reference side, which only flatters the reference.

The verdicts of both sides are compared in the same run (every strict and loose instruction
verdict, except the 6 the reference could not judge). The load average printed last says how
busy the machine was (other jobs slow both sides, not always equally).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ifbench_reference import IFBENCH_DATA, load_reference, reference_verdicts

DATA = IFBENCH_DATA / "IFBench_test.jsonl"
RESPONSES = IFBENCH_DATA / "sample_output.jsonl"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def responses_by_prompt(rows: list[dict[str, Any]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for r in rows:
        table[r["prompt"]] = r["response"]
        table.setdefault(r["prompt"].strip(), r["response"])
    return table


def reference_round(lib: Any, data: list[dict[str, Any]], table: dict[str, str]) -> tuple[list[Any], float]:
    t0 = time.perf_counter()
    out = []
    for row in data:
        response = table.get(row["prompt"], table.get(row["prompt"].strip()))
        out.append(reference_verdicts(lib, row, response))
    return out, time.perf_counter() - t0


def adhere_round(suite: Any, samples: Any, responses: Path) -> tuple[list[dict[str, Any]], float]:
    from adhere.run import read_responses

    rows, _ = read_responses(suite, responses)
    pairs, _ = suite.pair(samples, rows)  # fresh responses: no analysis carried over between rounds
    t0 = time.perf_counter()
    scored = list(suite.score(pairs))
    return scored, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    data = read_jsonl(DATA)
    table = responses_by_prompt(read_jsonl(RESPONSES))
    lib = load_reference()

    from adhere.suites import get_suite

    suite = get_suite("ifbench")
    samples = suite.load(str(DATA))

    reference_round(lib, data, table)  # warm-up (imports, Punkt, caches)
    adhere_round(suite, samples, RESPONSES)
    ref_times, our_times = [], []
    ref_out: list[Any] = []
    ours: list[dict[str, Any]] = []
    for _ in range(args.rounds):
        ref_out, t = reference_round(lib, data, table)
        ref_times.append(t)
        ours, t = adhere_round(suite, samples, RESPONSES)
        our_times.append(t)

    compared = mismatches = unjudged = 0
    for row, ref, mine in zip(data, ref_out, ours, strict=True):
        if ref is None:
            unjudged += len(row["instruction_id_list"])
            continue
        for (strict, loose), inst in zip(zip(*ref, strict=True), mine["instructions"], strict=True):
            compared += 2
            mismatches += (inst["strict"] != strict) + (inst["loose"] != loose)

    ref_t, our_t = statistics.median(ref_times), statistics.median(our_times)
    print(f"IFBench, 300 prompts / 344 instructions, strict + loose, median of {args.rounds} warm rounds")
    print(f"  reference (allenai/IFBench evaluation_lib): {ref_t * 1000:8.1f} ms")
    print(f"  adhere (IFBenchSuite.score):                {our_t * 1000:8.1f} ms")
    print(f"  speed-up: {ref_t / our_t:.1f}x")
    print(f"  verdicts compared: {compared}, mismatches: {mismatches}")
    print(f"  instructions the reference could not judge: {unjudged}")
    print(f"  load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
