"""kill -9 in the middle of ``adhere eval --model``, then ``--resume``: nothing lost, nothing twice.

A real CLI process generates IFEval responses from the fake server on loopback (a few
milliseconds per answer, so each run lasts seconds), is SIGKILLed at five random
points (seeded), is resumed each time, and must end with the same ``results.jsonl``
(order-normalised, byte for byte) as an uninterrupted run, and with every generation
recorded exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest

from adhere.testing import FakeModelServer, Reply, SeenRequest
from adhere.testing.fake_openai import default_text

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ifeval" / "input_data.jsonl"
PROMPTS, N, KILLS = 150, 3, 5


def env(cache: Path) -> dict[str, str]:
    return {**os.environ, "ADHERE_PROGRESS": "0", "NO_COLOR": "1", "ADHERE_CACHE_DIR": str(cache)}


def count_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def slow_answer(request: SeenRequest) -> Reply:
    temperature = request.body.get("temperature")
    return Reply.ok(default_text(request.prompt, request.seed, temperature), delay=0.02)


@pytest.mark.skipif(not DATA.exists(), reason="shared IFEval data absent")
def test_kill9_at_random_points_then_resume_equals_uninterrupted_run(tmp_path: Path) -> None:
    data = tmp_path / "ifeval.jsonl"
    data.write_bytes(b"\n".join(DATA.read_bytes().splitlines()[:PROMPTS]) + b"\n")
    total = PROMPTS * N
    with FakeModelServer(responder=slow_answer) as server:

        def command(out: Path, *extra: str) -> list[str]:
            return [
                sys.executable, "-m", "adhere.cli", "eval", "ifeval", "--data", str(data),
                "--model", "openai:fake", "--base-url", server.base_url, "-n", str(N), "--seed", "3",
                "--temperature", "0.7", "--concurrency", "4", "--out", str(out), *extra,
            ]  # fmt: skip

        full = tmp_path / "full"
        done = subprocess.run(command(full), env=env(tmp_path / "c1"), capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr

        out = tmp_path / "killed"
        results = out / "results.jsonl"
        rng = random.Random(20261126)
        targets = sorted(rng.sample(range(1, total // 2), KILLS))
        seen = [0]
        for i, target in enumerate(targets):
            target = max(target, seen[-1] + 1)  # each run makes some progress before it dies
            cmd = command(out, *(("--resume",) if i else ()))
            log = tmp_path / f"stderr{i}.log"
            with (
                log.open("wb") as err,
                subprocess.Popen(cmd, env=env(tmp_path / "c2"), stdout=subprocess.DEVNULL, stderr=err) as proc,
            ):
                deadline = time.monotonic() + 120
                while count_lines(results) < target and proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.002)
                time.sleep(rng.uniform(0, 0.05))  # anywhere: mid-request, mid-score, mid-write
                assert proc.poll() is None, f"the run ended before kill {i}: {log.read_text()}"
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
            assert proc.returncode == -signal.SIGKILL
            left = count_lines(results)
            assert seen[-1] <= left < total  # a resumed run never loses what was there
            seen.append(left)

        final = subprocess.run(
            command(out, "--resume", "--json"), env=env(tmp_path / "c2"), capture_output=True, timeout=300
        )
        assert final.returncode == 0, final.stderr

    print("rows on disk after each kill:", seen[1:], "of", total)
    assert seen[-1] > seen[1], seen  # the kills landed at different points of real progress
    assert sorted(results.read_bytes().splitlines()) == sorted((full / "results.jsonl").read_bytes().splitlines())
    assert count_lines(results) == total
    assert (out / "summary.json").read_bytes() == (full / "summary.json").read_bytes()
    gens = [orjson.loads(line) for line in (out / "generations.jsonl").read_bytes().splitlines()]
    assert Counter((g["key"], g["sample"]) for g in gens) == Counter(
        (g["key"], g["sample"])
        for g in (orjson.loads(line) for line in (full / "generations.jsonl").read_bytes().splitlines())
    )
    assert max(Counter((g["key"], g["sample"]) for g in gens).values()) == 1
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert 1 <= len(manifest["resumed"]) <= KILLS  # a run killed while starting up has not written it yet
