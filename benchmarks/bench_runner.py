"""End-to-end throughput of ``adhere eval ifeval --model``: generate, verify, write.

The fake OpenAI-compatible server runs in its own process (``python -m adhere.testing``)
and answers at once, so what is measured is the runner's overhead: requests, HTTP,
IFEval verification of every response, and the durable (fsynced) appends of
``generations.jsonl`` and ``results.jsonl``. There is no outside anchor for this; the
reference line is the bare fake server + our client (the same requests streamed and
dropped: no verification, no files), i.e. the ceiling the runner can approach.
The target is at least 500 generations/s end to end.

Run: python benchmarks/bench_runner.py [--prompts 541] [--n 4] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from adhere.models import GenParams, OpenAIGenerator, Request
from adhere.run import EvalRequest
from adhere.run.generate import GenerateOptions, run_generate
from adhere.suites import get_suite

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ifeval" / "input_data.jsonl"


async def bare_client(base_url: str, prompts: list[tuple[int, str]], n: int, concurrency: int) -> float:
    gen = OpenAIGenerator("fake", base_url=base_url, concurrency=concurrency)
    requests = (Request(p, i, k) for k, p in prompts for i in range(n))
    started = time.perf_counter()
    count = 0
    async for c in gen.stream(requests, GenParams(seed=0)):
        assert c.ok, c.error
        count += 1
    assert count == len(prompts) * n
    return time.perf_counter() - started


def runner(base_url: str, data: Path, out: Path, n: int, concurrency: int, cache: Path | None) -> float:
    options = GenerateOptions("openai:fake", base_url=base_url, n=n, concurrency=concurrency, cache=cache)
    started = time.perf_counter()
    outcome = run_generate(EvalRequest("ifeval", out, data=str(data)), options)
    seconds = time.perf_counter() - started
    assert outcome.rows == outcome.scored, outcome
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=541)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "adhere.testing"], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp = Path(tmp_dir)
            data = tmp / "ifeval.jsonl"
            data.write_bytes(b"\n".join(DATA.read_bytes().splitlines()[: args.prompts]) + b"\n")
            samples = get_suite("ifeval").load(str(data))
            prompts = [(s.key, s.prompt) for s in samples]
            asyncio.run(bare_client(base_url, prompts[:50], 1, args.concurrency))  # warm up both ends
            runner(base_url, data, tmp / "warmup", 1, args.concurrency, None)  # imports, check caches
            t_ref = asyncio.run(bare_client(base_url, prompts, args.n, args.concurrency))
            t_plain = runner(base_url, data, tmp / "plain", args.n, args.concurrency, None)
            t_cold = runner(base_url, data, tmp / "cold", args.n, args.concurrency, tmp / "cache.sqlite")
            t_warm = runner(base_url, data, tmp / "warm", args.n, args.concurrency, tmp / "cache.sqlite")
    finally:
        server.terminate()
        server.wait(10)
    total = len(prompts) * args.n
    print(f"{total} generations ({len(prompts)} IFEval prompts x n={args.n}), concurrency {args.concurrency}, ")
    print("fake server in its own process answering at once; target >= 500 gen/s end to end")
    rows = [
        ("reference: fake server + client only (no verify/write)", t_ref),
        ("adhere runner: generate+verify+write, no cache", t_plain),
        ("adhere runner, cold cache (CLI default)", t_cold),
        ("adhere runner, warm cache (re-run: all cache hits)", t_warm),
    ]
    for label, seconds in rows:
        print(f"{label:<56} {seconds:6.2f} s {total / seconds:8.0f} gen/s   vs reference {t_ref / seconds:5.2f}x")


if __name__ == "__main__":
    main()
