"""Generation throughput against an instant fake server: our client's overhead, measured.

The fake OpenAI-compatible server runs in its own process (``python -m
adhere.testing.fake_openai``) and answers at once, so what is measured is the client:
request building, HTTP, parsing, retries bookkeeping and the response cache. The anchor
is the least a client can do: a bare ``httpx.AsyncClient`` posting the same bodies with
the same concurrency (no retries, no cache, no error handling). Printed: generations per
second for the anchor, our client without cache, with a cold cache (every answer
written) and with a warm cache (a re-run or resume: every answer read back).

Run: python benchmarks/bench_generator.py [--n 3000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from adhere.models import GenParams, OpenAIGenerator, Request, ResponseCache


async def anchor(base_url: str, prompts: list[str], concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one(prompt: str, seed: int) -> str:
            async with gate:
                body = {"model": "fake", "messages": [{"role": "user", "content": prompt}], "seed": seed}
                r = await client.post(f"{base_url}/chat/completions", content=orjson.dumps(body))
                return str(orjson.loads(r.content)["choices"][0]["message"]["content"])

        started = time.perf_counter()
        await asyncio.gather(*(one(p, i) for i, p in enumerate(prompts)))
        return time.perf_counter() - started


async def ours(gen: OpenAIGenerator, prompts: list[str]) -> float:
    started = time.perf_counter()
    count = 0
    async for c in gen.stream((Request(p, 0, i) for i, p in enumerate(prompts)), GenParams(seed=0)):
        assert c.ok, c.error
        count += 1
    assert count == len(prompts)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "adhere.testing"], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        prompts = [f"prompt number {i}: write something" for i in range(args.n)]
        asyncio.run(anchor(base_url, prompts[:200], args.concurrency))  # warm up both ends
        t_anchor = asyncio.run(anchor(base_url, prompts, args.concurrency))
        plain = OpenAIGenerator("fake", base_url=base_url, concurrency=args.concurrency)
        t_plain = asyncio.run(ours(plain, prompts))
        with tempfile.TemporaryDirectory() as tmp:
            cache = ResponseCache(Path(tmp) / "cache.sqlite")
            cached = OpenAIGenerator("fake", base_url=base_url, concurrency=args.concurrency, cache=cache)
            t_cold = asyncio.run(ours(cached, prompts))
            t_warm = asyncio.run(ours(cached, prompts))
            cache.close()
    finally:
        server.terminate()
        server.wait(10)
    n = args.n
    print(f"{n} generations, concurrency {args.concurrency}, fake server in its own process")
    rows = [
        ("anchor: one httpx.AsyncClient, no retries/cache", t_anchor),
        ("adhere OpenAIGenerator, no cache", t_plain),
        ("adhere, cold cache (every answer written)", t_cold),
        ("adhere, warm cache (re-run/resume: all read)", t_warm),
    ]
    for label, seconds in rows:
        print(f"{label:<46} {seconds:6.2f} s {n / seconds:9.0f} gen/s   speed vs anchor {t_anchor / seconds:6.2f}x")


if __name__ == "__main__":
    main()
