"""Where a sandbox job's CPU goes, with and without this sandbox's two per-job levers.

One command::

    python benchmarks/bench_jobs.py

It runs HumanEval's 164 canonical solutions as code-test labels (``ADHERE_DEDUPE=0``: every
row runs, though they repeat) (the test file as setup,
``check(entry_point)`` as the assert, as ``adhere serve`` does for a code reward) through
``LocalExecutor(workers=2)``, three job shapes, each 1,024 jobs in one batch:

* ``trivial``: program ``pass``, assert ``pass`` (the sandbox's own cost);
* ``load``: the real program and test file, assert ``pass`` (plus compiling and loading them);
* ``full``: the real assert ``check(entry_point)`` (plus HumanEval's tests).

For each it prints jobs per second and, per job, the CPU of the zygotes and of their
children (from ``/proc``: the zygotes' own time and what they reaped) and their page faults,
with bytecode shipping on (the default: sources compiled in this process, see
``adhere.sandbox._compiled``) and off (``LocalExecutor(bytecode=False)``: compiled in each
child), from the same run. Then the latency of one job at a time (the 164 programs,
three passes) with spares on (the default) and off (``spares=False``). Last, what loading
the job's seccomp filter costs a forked child, laid out as the binary tree jobs load and
as libseccomp's default list (``_seccomp.compile_filter(tree=False)``): children of this
process that load it, against children that load nothing, taking turns in blocks.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adhere.labels import judge_labels, parse_label
from adhere.sandbox import LocalExecutor, _linux, _seccomp

HUMANEVAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "humaneval" / "HumanEval.jsonl.gz"
_TICK = os.sysconf("SC_CLK_TCK")

Item = tuple[Any, str, str]


def problems() -> list[dict[str, Any]]:
    with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def label(setup: str, assertion: str) -> Any:
    return parse_label({"tests": {"setup": setup, "asserts": [assertion], "timeout": 3.0}})


def shapes(probs: Sequence[dict[str, Any]]) -> dict[str, list[Item]]:
    trivial = label("", "pass")
    out = {
        "trivial": [(trivial, "```python\npass\n```", "") for _ in probs],
        "load": [(label(p["test"], "pass"), fence(p), "") for p in probs],
        "full": [(label(p["test"], f"check({p['entry_point']})"), fence(p), "") for p in probs],
    }
    return {name: (items * 7)[:1024] for name, items in out.items()}


def fence(p: dict[str, Any]) -> str:
    return "```python\n" + p["prompt"] + p["canonical_solution"] + "\n```"


def _stat(pid: int) -> tuple[float, float, int, int]:
    """(own CPU s, reaped children's CPU s, own minor faults, reaped children's minor faults)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0, 0.0, 0, 0
    own = (int(fields[11]) + int(fields[12])) / _TICK
    reaped = (int(fields[13]) + int(fields[14])) / _TICK
    return own, reaped, int(fields[7]), int(fields[8])


def zygotes(root: int) -> list[int]:
    """The long-lived sandbox processes below ``root`` (spares and jobs excluded)."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    parent[int(entry)] = int(f.read().rsplit(b")", 1)[1].split()[1])
            except OSError:
                continue
    found = []
    for pid in parent:
        p = pid
        while p in parent and p not in (root, 0, 1):
            p = parent[p]
        if p == root and pid != root:
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() != "adhere-spare":
                        found.append(pid)
            except OSError:
                continue
    return found


def throughput(items: Sequence[Item], bytecode: bool) -> dict[str, float]:
    with LocalExecutor(workers=2, bytecode=bytecode) as ex:
        judge_labels(items[:64], executor=ex)  # warm: zygotes up, caches filled
        procs = zygotes(os.getpid())
        before = {p: _stat(p) for p in procs}
        t0 = time.perf_counter()
        verdicts = judge_labels(items, executor=ex)
        wall = time.perf_counter() - t0
        after = {p: _stat(p) for p in procs}
    n = len(items)
    d = [sum(after[p][k] - before[p][k] for p in procs) / n for k in range(4)]
    assert all(v.passed for v in verdicts), "a canonical solution did not pass"
    return {"rate": n / wall, "zygote_ms": d[0] * 1e3, "child_ms": d[1] * 1e3, "zf": d[2], "cf": d[3]}


def latency(items: Sequence[Item], spares: bool, passes: int = 3) -> tuple[float, float]:
    with LocalExecutor(workers=2, spares=spares) as ex:
        judge_labels(items[:16], executor=ex)
        took = []
        for _ in range(passes):
            for item in items:
                time.sleep(0.001)  # a client's think time: the zygote is idle between jobs
                t0 = time.perf_counter()
                judge_labels([item], executor=ex)
                took.append(time.perf_counter() - t0)
    took.sort()
    return statistics.median(took) * 1e3, statistics.mean(took) * 1e3


def _children_cpu(load: _linux.PreparedFilter | None, n: int) -> float:
    """Mean CPU (s) of ``n`` children forked from here that load ``load`` (or nothing) and exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            try:
                _linux.prctl(_linux.PR_SET_NO_NEW_PRIVS, 1)
                if load is not None:
                    load.install()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / n


def seccomp_load(blocks: int = 20, per_block: int = 100) -> dict[str, float] | None:
    """Mean ms of CPU a child spends loading the job filter, per layout (None without seccomp).

    Children that load nothing, the tree and the list take turns in blocks, so drift in the
    machine's load falls on all three alike."""
    if not _linux.IS_LINUX or not _seccomp.available():
        return None
    variants = {
        "bare": None,
        "tree": _linux.PreparedFilter(_seccomp.compile_filter(allow_processes=False, tree=True)),
        "list": _linux.PreparedFilter(_seccomp.compile_filter(allow_processes=False, tree=False)),
    }
    total = dict.fromkeys(variants, 0.0)
    for _ in range(blocks):
        for name, prepared in variants.items():
            total[name] += _children_cpu(prepared, per_block) / blocks
    return {name: (total[name] - total["bare"]) * 1e3 for name in ("tree", "list")}


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    os.environ["ADHERE_DEDUPE"] = "0"  # every job runs: repeated rows would otherwise share one run
    probs = problems()
    cases = shapes(probs)
    print(f"bench_jobs: 2 zygotes, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(
        f"{'shape':<8} {'bytecode':<9} {'jobs/s':>7} {'zygote ms':>10} {'child ms':>9} {'faults z':>9} {'faults c':>9}"
    )
    rates: dict[str, dict[bool, float]] = {}
    for name, items in cases.items():
        for bytecode in (True, False):
            r = throughput(items, bytecode)
            rates.setdefault(name, {})[bytecode] = r["rate"]
            print(
                f"{name:<8} {('on' if bytecode else 'off'):<9} {r['rate']:>7.0f} {r['zygote_ms']:>10.3f}"
                f" {r['child_ms']:>9.3f} {r['zf']:>9.0f} {r['cf']:>9.0f}"
            )
    for name, pair in rates.items():
        print(f"{name}: bytecode on/off {pair[True] / pair[False]:.2f}x jobs/s")
    on, off = latency(cases["full"][:164], True), latency(cases["full"][:164], False)
    print(f"one job at a time (164 canonical, 3 passes): spares on p50 {on[0]:.2f} ms mean {on[1]:.2f} ms;"
          f" off p50 {off[0]:.2f} ms mean {off[1]:.2f} ms; p50 {off[0] / on[0]:.2f}x")  # fmt: skip
    load = seccomp_load()
    if load is None:
        print("seccomp filter load: no seccomp here")
    else:
        print(f"seccomp filter load per child (over a fork that loads nothing): tree {load['tree']:.3f} ms,"
              f" list {load['list']:.3f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
