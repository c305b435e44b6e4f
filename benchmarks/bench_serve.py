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
import json
import os
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT / ".." / "shared" / "data"
IFEVAL_DATA = SHARED / "ifeval" / "input_data.jsonl"
IFEVAL_RESPONSES = SHARED / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl"
HUMANEVAL = SHARED / "humaneval" / "HumanEval.jsonl.gz"
SAMPLES = SHARED / "evalplus" / "evalplus_greedy_samples_labeled.jsonl.gz"


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
    return out


def humaneval_ours_body(samples: Sequence[dict[str, Any]]) -> bytes:
    """HumanEval's own ``check(candidate)`` as an assert label; the response is the whole program."""
    wire = []
    for s in samples:
        p = s["problem"]
        label = {"tests": {"setup": p["test"], "asserts": [f"check({p['entry_point']})"]}}
        wire.append({"response": "```python\n" + s["solution"] + "\n```", "label": label})
    return json.dumps({"samples": wire}).encode()


def humaneval_baseline_body(samples: Sequence[dict[str, Any]]) -> bytes:
    wire = [{"problem": {**s["problem"], "prompt": ""}, "completion": s["solution"]} for s in samples]
    return json.dumps({"samples": wire}).encode()


@dataclass
class Result:
    rewards_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    client_cpu: float
    """The load generator's own CPU time over the wall time (1.0 = one core busy)."""


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

    async def client() -> None:
        nonlocal errors
        conn = Connection(host, port)
        try:
            while queue:
                body = bodies[queue.pop()]
                while True:
                    t0 = time.perf_counter()
                    status, _ = await asyncio.wait_for(conn.post(path, body), 600)
                    if status == 429:
                        await asyncio.sleep(0.01)
                        continue
                    latencies.append(time.perf_counter() - t0)
                    if status != 200:
                        errors += 1
                    break
        finally:
            await conn.close()

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    cpu = (time.process_time() - cpu0) / elapsed
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return Result(len(bodies) * per_request / elapsed, statistics.median(latencies) * 1e3, p99 * 1e3, errors, cpu)


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


def batches(samples: Sequence[dict[str, Any]], size: int, count: int) -> list[list[dict[str, Any]]]:
    out = []
    i = 0
    for _ in range(count):
        out.append([samples[(i + j) % len(samples)] for j in range(size)])
        i += size
    return out


def run_scenarios(
    title: str,
    samples: Sequence[dict[str, Any]],
    ours: tuple[str, Any],
    base: tuple[str, Any] | None,
    scenarios: Sequence[tuple[str, int, int, int]],
) -> None:
    ours_url, ours_body_fn = ours
    warm = batches(samples, 16, 4)
    asyncio.run(drive(ours_url, [ours_body_fn(b) for b in warm], 16, 2))
    if base is not None:
        asyncio.run(drive(base[0], [base[1](b) for b in warm], 16, 2))
    print(title)
    header = f"{'scenario':<10} {'clients':>7} | {'ours r/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'gen':>5} |"
    header += f" {'base r/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'gen':>5} | {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for name, size, count, clients in scenarios:
        chunks = batches(samples, size, count)
        mine = asyncio.run(drive(ours_url, [ours_body_fn(b) for b in chunks], size, clients))
        line = f"{name:<10} {clients:>7} | {mine.rewards_per_s:>9.0f} {mine.p50_ms:>7.1f} {mine.p99_ms:>7.1f}"
        line += f" {mine.client_cpu:>5.2f} |"
        if base is None:
            print(line + (f"  (errors: {mine.errors})" if mine.errors else ""), flush=True)
            continue
        theirs = asyncio.run(drive(base[0], [base[1](b) for b in chunks], size, clients))
        ratio = mine.rewards_per_s / theirs.rewards_per_s
        line += f" {theirs.rewards_per_s:>9.0f} {theirs.p50_ms:>7.1f} {theirs.p99_ms:>7.1f} {theirs.client_cpu:>5.2f}"
        line += f" | {ratio:>5.1f}x"
        if mine.errors or theirs.errors:
            line += f"  (errors: ours {mine.errors}, baseline {theirs.errors})"
        print(line, flush=True)
    print("gen: the load generator's CPU (cores) while driving that server.")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--suite", choices=["ifeval", "humaneval", "both"], default="both")
    ap.add_argument("--requests", type=int, default=400, help="single-sample requests per scenario")
    ap.add_argument("--batches", type=int, default=40, help="batched requests per scenario")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()

    ours_port, base_port = free_port(), free_port()
    ours_url = f"http://127.0.0.1:{ours_port}"
    base_url = f"http://127.0.0.1:{base_port}"
    serve_cmd = [sys.executable, "-m", "adhere.cli", "serve", "--port", str(ours_port)]
    procs = [start([*serve_cmd, "--workers", str(args.workers), "--max-inflight", "256"], ours_url)]
    if not args.skip_baseline:
        base_cmd = [sys.executable, str(HERE / "baseline_reward_server.py"), "--port", str(base_port)]
        procs.append(start(base_cmd, base_url))
    single = [("single", 1, args.requests, c) for c in (1, 16, 64)]
    batched = [(f"batch{args.batch_size}", args.batch_size, args.batches, c) for c in (1, 4, 16)]
    try:
        if args.suite in ("ifeval", "both"):
            run_scenarios(
                f"IFEval rewards (strict), 541 prompts cycled; adhere serve --workers {args.workers}",
                ifeval_samples(),
                (ours_url + "/v1/reward", ours_body),
                None if args.skip_baseline else (base_url + "/ifeval", baseline_body),
                [*single, *batched],
            )
        if args.suite in ("humaneval", "both"):
            run_scenarios(
                f"HumanEval code rewards, 984 real LLM programs cycled; adhere serve --workers {args.workers}",
                humaneval_samples(),
                (ours_url + "/v1/reward", humaneval_ours_body),
                None if args.skip_baseline else (base_url + "/humaneval", humaneval_baseline_body),
                [("single", 1, args.requests // 2, c) for c in (1, 16)]
                + [(f"batch{args.batch_size}", args.batch_size, max(4, args.batches // 4), c) for c in (1, 4)],
            )
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)


if __name__ == "__main__":
    main()
