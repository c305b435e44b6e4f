"""IFEval scoring speed: adhere against the reference checkers (lm-eval 0.4.13's ``ifeval`` task).

One command, from the repository root::

    python benchmarks/bench_ifeval.py

It prints, from one process and the same 541 GPT-4 responses:

* the scoring pass (strict + loose, every instruction of every response), several
  rounds after imports and a warm-up, for the reference checkers and for adhere,
  and the ratio;
* end-to-end wall time (interpreter start included, median of several runs) of
  ``adhere eval ifeval --data ... --responses ... --out DIR`` next to a reference-style
  CLI: a small script (this file with ``--reference-cli``) that runs lm-eval's
  checkers over the same files the way Google's ``evaluation_main`` does (read, strict,
  loose, write both result files, print the four accuracies).

The reference code is lm-eval 0.4.13 from PyPI: the wheel is downloaded once with
``pip download --no-deps`` into ``~/.cache/adhere-bench`` (``$ADHERE_BENCH_CACHE``) and
only its ``lm_eval/tasks/ifeval`` modules are imported, under an empty shim package, so
none of lm-eval's heavy dependencies is needed (``immutabledict`` is added the same way).
nltk's Punkt data comes from ``../shared/data/nltk_data`` (``NLTK_DATA``). Nothing of
lm-eval is copied into this repository.

The verdicts of both sides are compared in the same run (the two ``keywords:letter_frequency``
instructions for which lm-eval 0.4.13 draws a random letter are left out of the comparison).
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "data"
DATA = SHARED / "ifeval" / "input_data.jsonl"
RESPONSES = SHARED / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl"
NLTK_DATA = SHARED / "nltk_data"
CACHE = Path(os.environ.get("ADHERE_BENCH_CACHE", Path.home() / ".cache" / "adhere-bench"))
LM_EVAL = "lm-eval==0.4.13"
REFERENCE_MODULES = ("instructions.py", "instructions_registry.py", "instructions_util.py", "utils.py")
# lm-eval 0.4.13 still swaps a non a-z letter ('#', '!') for a random one in
# keywords:letter_frequency; these two instructions are therefore not comparable.
RNG_DEPENDENT_KEYS = {1122, 1129}


# -- the reference, set up from PyPI -----------------------------------------------------------


def _download(requirement: str, pattern: str) -> Path:
    found = sorted(CACHE.glob(pattern))
    if not found:
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", requirement, "-d", str(CACHE)],
            check=True,
        )
        found = sorted(CACHE.glob(pattern))
    if not found:
        raise SystemExit(f"could not download {requirement} into {CACHE}")
    return found[-1]


def reference_path() -> list[str]:
    """sys.path entries that make ``lm_eval.tasks.ifeval`` importable without lm-eval's dependencies."""
    wheel = _download(LM_EVAL, "lm_eval-0.4.13-*.whl")
    immutabledict = _download("immutabledict", "immutabledict-*.whl")
    shim = CACHE / "lm_eval_0.4.13_ifeval"
    pkg = shim / "lm_eval" / "tasks" / "ifeval"
    if not all((pkg / name).exists() for name in REFERENCE_MODULES):
        pkg.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as zf:
            for name in REFERENCE_MODULES:
                (pkg / name).write_bytes(zf.read(f"lm_eval/tasks/ifeval/{name}"))
        for init in (shim / "lm_eval", shim / "lm_eval" / "tasks", pkg):
            (init / "__init__.py").write_text("")  # empty shim packages: skip lm-eval's heavy __init__
    return [str(shim), str(immutabledict)]


def import_reference() -> Any:
    os.environ.setdefault("NLTK_DATA", str(NLTK_DATA.resolve()))
    for entry in reversed(reference_path()):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    return importlib.import_module("lm_eval.tasks.ifeval.utils")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    import json

    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def reference_inputs(ref: Any, data: Path, responses: Path) -> list[tuple[Any, str]]:
    by_prompt = {r["prompt"]: r["response"] for r in read_jsonl(responses)}
    inputs = []
    for row in read_jsonl(data):
        inp = ref.InputExample(
            key=row["key"], instruction_id_list=row["instruction_id_list"], prompt=row["prompt"], kwargs=row["kwargs"]
        )
        inputs.append((inp, by_prompt[row["prompt"]]))
    return inputs


def reference_pass(ref: Any, inputs: Sequence[tuple[Any, str]]) -> tuple[list[Any], list[Any], float, float]:
    t0 = time.perf_counter()
    strict = [ref.test_instruction_following_strict(inp, resp) for inp, resp in inputs]
    t1 = time.perf_counter()
    loose = [ref.test_instruction_following_loose(inp, resp) for inp, resp in inputs]
    t2 = time.perf_counter()
    return strict, loose, t1 - t0, t2 - t1


def reference_cli(data: Path, responses: Path, out: Path) -> None:
    """What Google's evaluation_main does, with lm-eval's checkers: read, strict, loose, write, report."""
    import json

    ref = import_reference()
    inputs = reference_inputs(ref, data, responses)
    out.mkdir(parents=True, exist_ok=True)
    for mode, fn in (
        ("strict", ref.test_instruction_following_strict),
        ("loose", ref.test_instruction_following_loose),
    ):
        results = [fn(inp, resp) for inp, resp in inputs]
        with open(out / f"eval_results_{mode}.jsonl", "w", encoding="utf-8") as f:
            for r in results:
                f.write(json.dumps(r.__dict__, ensure_ascii=False) + "\n")
        flat = [x for r in results for x in r.follow_instruction_list]
        prompt_acc = sum(r.follow_all_instructions for r in results) / len(results)
        print(f"{mode}: prompt-level {prompt_acc:.5f}, instruction-level {sum(flat) / len(flat):.5f}")


# -- adhere --------------------------------------------------------------------------------------


def adhere_pairs(data: Path, responses: Path) -> tuple[Any, Callable[[], Any]]:
    """The IFEval suite and a function giving fresh pairs (new response objects, no memo carried over)."""
    from adhere.run import read_responses
    from adhere.suites import get_suite

    suite = get_suite("ifeval")
    samples = suite.load(str(data))

    def fresh() -> Any:
        rows, problems = read_responses(suite, responses)
        pairs, pair_problems = suite.pair(samples, rows)
        assert not problems and not pair_problems, (problems, pair_problems)
        return pairs

    return suite, fresh


def clear_text_caches() -> None:
    """Forget everything adhere memoised about particular texts (language answers, word
    features, per-text lru caches), keeping loaded models: every timed round then does
    the full work on these responses, as a fresh process would. The reference has no
    such caches, so this keeps the comparison honest."""
    for name, module in list(sys.modules.items()):
        if not name.startswith("adhere.") or module is None:
            continue
        for obj in list(vars(module).values()):
            params = getattr(obj, "cache_parameters", None)
            if callable(params) and params().get("maxsize") != 1:  # maxsize 1: a loaded model
                obj.cache_clear()
    language = sys.modules.get("adhere.text.language")
    clear = getattr(language, "clear_cache", None)
    if callable(clear):
        clear()
    words = getattr(sys.modules.get("adhere.text._langdetect"), "_word_cache", None)
    if isinstance(words, dict):
        words.clear()


def adhere_pass(suite: Any, pairs: Any) -> tuple[list[dict[str, Any]], float]:
    t0 = time.perf_counter()
    rows = list(suite.score(pairs))
    return rows, time.perf_counter() - t0


def compare(
    inputs: Sequence[tuple[Any, str]], ref_strict: list[Any], ref_loose: list[Any], rows: list[dict[str, Any]]
) -> tuple[int, int]:
    """(verdicts compared, disagreements) over every strict and loose instruction verdict, except the
    letter-frequency instructions for which lm-eval 0.4.13 draws a random letter."""
    by_key = {r["key"]: r for r in rows}
    compared = mismatches = 0
    for (inp, _), s, lo in zip(inputs, ref_strict, ref_loose, strict=True):
        ours = by_key[inp.key]["instructions"]
        for i, instruction_id in enumerate(inp.instruction_id_list):
            if inp.key in RNG_DEPENDENT_KEYS and instruction_id == "keywords:letter_frequency":
                continue
            compared += 2
            mismatches += (ours[i]["strict"] != s.follow_instruction_list[i]) + (
                ours[i]["loose"] != lo.follow_instruction_list[i]
            )
    return compared, mismatches


# -- end to end ----------------------------------------------------------------------------------


def run_once(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the child's) of one run of ``cmd``."""
    with tempfile.TemporaryDirectory() as tmp:
        full = [c.replace("{OUT}", str(Path(tmp) / "out")) for c in cmd]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(full, capture_output=True, env=env)
        took = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(full)} failed:\n{proc.stderr.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return took, cpu


def adhere_command() -> list[str]:
    script = Path(sys.executable).with_name("adhere")
    return [str(script)] if script.exists() else [sys.executable, "-m", "adhere.cli"]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--responses", type=Path, default=RESPONSES)
    parser.add_argument("--rounds", type=int, default=5, help="timed scoring passes per side (after a warm-up)")
    parser.add_argument("--cli-runs", type=int, default=7, help="end-to-end runs per CLI")
    parser.add_argument("--reference-cli", type=Path, metavar="OUT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reference_cli is not None:
        reference_cli(args.data, args.responses, args.reference_cli)
        return

    print(f"IFEval, {args.data.name} + {args.responses.name}; python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    t0 = time.perf_counter()
    ref = import_reference()
    ref_import = time.perf_counter() - t0
    inputs = reference_inputs(ref, args.data, args.responses)

    t0 = time.perf_counter()
    suite, fresh_pairs = adhere_pairs(args.data, args.responses)
    ours_import = time.perf_counter() - t0

    # warm-up of both (model loading, lazy imports), then alternating timed rounds
    ref_strict, ref_loose, _, _ = reference_pass(ref, inputs)
    rows, _ = adhere_pass(suite, fresh_pairs())
    ref_times: list[tuple[float, float]] = []
    our_times: list[float] = []
    cached_times: list[float] = []
    for _ in range(args.rounds):
        ref_strict, ref_loose, ts, tl = reference_pass(ref, inputs)
        ref_times.append((ts, tl))
        pairs = fresh_pairs()
        clear_text_caches()
        rows, t = adhere_pass(suite, pairs)
        our_times.append(t)
        cached_times.append(adhere_pass(suite, fresh_pairs())[1])  # same texts again, caches warm
    compared, mismatches = compare(inputs, ref_strict, ref_loose, rows)
    n_inst = sum(len(inp.instruction_id_list) for inp, _ in inputs)

    ref_total = statistics.median(s + lo for s, lo in ref_times)
    ours = statistics.median(our_times)
    print(f"\nscoring pass, strict + loose, {len(inputs)} responses / {n_inst} instructions, median of {args.rounds}:")
    print(
        f"  reference (lm-eval 0.4.13) {ref_total * 1e3:8.1f} ms"
        f"   (strict {statistics.median(s for s, _ in ref_times) * 1e3:.1f} + "
        f"loose {statistics.median(lo for _, lo in ref_times) * 1e3:.1f}; import {ref_import:.2f} s)"
    )
    detail = f"min {min(our_times) * 1e3:.1f}; import {ours_import:.2f} s"
    print(f"  adhere                     {ours * 1e3:8.1f} ms   ({detail})")
    print(f"  speed-up                   {ref_total / ours:8.1f}x")
    print("  (adhere's per-text caches are cleared before every timed round; loaded models are kept.")
    print(
        f"   The same texts scored again with those caches warm: {statistics.median(cached_times) * 1e3:.1f} ms, "
        f"{ref_total / statistics.median(cached_times):.1f}x; not the headline: real runs see new texts.)"
    )
    print(f"  verdicts compared: {compared} of {2 * n_inst} (the others are random in lm-eval)")
    print(f"  disagreements: {mismatches}")

    env = {**os.environ, "NLTK_DATA": str(NLTK_DATA.resolve())}
    data, responses = str(args.data), str(args.responses)
    ours_cmd = [*adhere_command(), "eval", "ifeval", "--data", data, "--responses", responses, "--out", "{OUT}"]
    ref_cmd = [sys.executable, str(Path(__file__).resolve()), "--reference-cli", "{OUT}", "--data", data,
               "--responses", responses]  # fmt: skip
    ours_cli: list[tuple[float, float]] = []
    ref_cli: list[tuple[float, float]] = []
    for _ in range(args.cli_runs):  # alternate, so both sides meet the same machine
        ours_cli.append(run_once(ours_cmd))
        ref_cli.append(run_once(ref_cmd, env))
    print(f"\nend to end (interpreter start included), {args.cli_runs} runs each, wall median / min, CPU median:")
    for name, runs in (("reference-style CLI", ref_cli), ("adhere eval ifeval", ours_cli)):
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(
            f"  {name:<26} {statistics.median(walls):6.2f} s / {min(walls):.2f} s   CPU {statistics.median(cpus):.2f} s"
            f"   (runs: {_fmt(walls)})"
        )
    ref_wall = statistics.median(w for w, _ in ref_cli)
    our_wall = statistics.median(w for w, _ in ours_cli)
    print(f"  speed-up                   {ref_wall / our_wall:6.1f}x")
    if shutil.which("nproc") and os.getloadavg()[0] > 1.0:
        print(f"\nnote: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus; timings are noisy")


def _fmt(times: list[float]) -> str:
    return " ".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    main()
