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

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT / ".." / "shared" / "data"
IFEVAL_DATA = SHARED / "ifeval" / "input_data.jsonl"
IFEVAL_RESPONSES = SHARED / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl"


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


@dataclass
class Result:
    rewards_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


async def drive(url: str, bodies: Sequence[bytes], per_request: int, concurrency: int) -> Result:
    """Send every body once with ``concurrency`` clients; 429s are retried after a pause."""
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(range(len(bodies))))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def worker() -> None:
            nonlocal errors
            while queue:
                body = bodies[queue.pop()]
                while True:
                    t0 = time.perf_counter()
                    r = await client.post(url, content=body, headers={"content-type": "application/json"})
                    if r.status_code == 429:
                        await asyncio.sleep(0.01)
                        continue
                    latencies.append(time.perf_counter() - t0)
                    if r.status_code != 200:
                        errors += 1
                    break

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return Result(len(bodies) * per_request / elapsed, statistics.median(latencies) * 1e3, p99 * 1e3, errors)


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--requests", type=int, default=400, help="single-sample requests per scenario")
    ap.add_argument("--batches", type=int, default=40, help="batched requests per scenario")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()

    samples = ifeval_samples()
    ours_port, base_port = free_port(), free_port()
    ours_url = f"http://127.0.0.1:{ours_port}"
    base_url = f"http://127.0.0.1:{base_port}"
    procs = [
        start(
            [
                sys.executable,
                "-m",
                "adhere.cli",
                "serve",
                "--port",
                str(ours_port),
                "--workers",
                str(args.workers),
                "--max-inflight",
                "256",
            ],
            ours_url,
        )
    ]
    if not args.skip_baseline:
        procs.append(
            start([sys.executable, str(HERE / "baseline_reward_server.py"), "--port", str(base_port)], base_url)
        )
    try:
        # Warm both (imports, caches, worker start-up) before measuring.
        warm = batches(samples, 64, 9)
        asyncio.run(drive(ours_url + "/v1/reward", [ours_body(b) for b in warm], 64, 2))
        if not args.skip_baseline:
            asyncio.run(drive(base_url + "/ifeval", [baseline_body(b) for b in warm], 64, 2))

        scenarios = [("single", 1, args.requests, c) for c in (1, 16, 64)]
        scenarios += [(f"batch{args.batch_size}", args.batch_size, args.batches, c) for c in (1, 4, 16)]
        print(f"IFEval rewards (strict), {len(samples)} prompts cycled; adhere serve --workers {args.workers}")
        header = f"{'scenario':<10} {'clients':>7} | {'ours r/s':>9} {'p50 ms':>7} {'p99 ms':>7} |"
        header += f" {'base r/s':>9} {'p50 ms':>7} {'p99 ms':>7} | {'ratio':>6}"
        print(header)
        print("-" * len(header))
        for name, size, count, clients in scenarios:
            chunks = batches(samples, size, count)
            ours = asyncio.run(drive(ours_url + "/v1/reward", [ours_body(b) for b in chunks], size, clients))
            line = f"{name:<10} {clients:>7} | {ours.rewards_per_s:>9.0f} {ours.p50_ms:>7.1f} {ours.p99_ms:>7.1f} |"
            if args.skip_baseline:
                print(line)
                continue
            base = asyncio.run(drive(base_url + "/ifeval", [baseline_body(b) for b in chunks], size, clients))
            ratio = ours.rewards_per_s / base.rewards_per_s
            line += f" {base.rewards_per_s:>9.0f} {base.p50_ms:>7.1f} {base.p99_ms:>7.1f} | {ratio:>5.1f}x"
            if ours.errors or base.errors:
                line += f"  (errors: ours {ours.errors}, baseline {base.errors})"
            print(line, flush=True)
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)


if __name__ == "__main__":
    main()
