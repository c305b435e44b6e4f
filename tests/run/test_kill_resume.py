"""kill -9 in the middle of ``adhere eval``, then ``--resume``: nothing lost, nothing duplicated.

A real CLI process scores a few thousand demo-format samples with small batches (many
durable writes), is SIGKILLed at several points, is resumed each time, and its final
results must equal those of an uninterrupted run, row for row (order-normalised).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from adhere.suites.demo import DEMO_FILE

COPIES = 30  # 30 x the demo samples


def big_demo(path: Path) -> int:
    rows = [orjson.loads(line) for line in DEMO_FILE.read_bytes().splitlines()]
    with path.open("wb") as f:
        for i in range(COPIES):
            for r in rows:
                f.write(orjson.dumps({**r, "key": f"{r['key']}#{i}"}) + b"\n")
    return COPIES * len(rows)


def command(data: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "adhere.cli", "eval", "demo", "--data", str(data), "--out", str(out), *extra]


def env() -> dict[str, str]:
    return {**os.environ, "ADHERE_PROGRESS": "0", "NO_COLOR": "1"}


def count_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def run_and_kill(cmd: list[str], results: Path, at_least: int, total: int) -> int:
    """Start ``cmd``, SIGKILL it once ``results`` has ``at_least`` lines; return the lines left."""
    log = results.parent.parent / "stderr.log"
    with log.open("wb") as err, subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=err) as proc:
        try:
            deadline = time.monotonic() + 120
            while count_lines(results) < at_least and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            assert proc.poll() is None, f"the run ended before it could be killed: {log.read_text()}"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == -signal.SIGKILL
    left = count_lines(results)
    assert left < total, "killed too late to test anything"
    return left


def sorted_lines(path: Path) -> list[bytes]:
    return sorted(path.read_bytes().splitlines())


def test_kill9_at_several_points_then_resume_equals_uninterrupted_run(tmp_path: Path) -> None:
    data = tmp_path / "big.jsonl"
    total = big_demo(data)

    full = tmp_path / "full"
    done = subprocess.run(command(data, full), env=env(), capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr

    out = tmp_path / "killed"
    results = out / "results.jsonl"
    seen: list[int] = []
    # small fixed batches: hundreds of durable writes to land between
    first = run_and_kill(command(data, out, "--batch-size", "7"), results, 1, total)
    seen.append(first)
    for target in (total // 3, (2 * total) // 3):
        left = run_and_kill(command(data, out, "--resume", "--batch-size", "7"), results, target, total)
        assert left >= seen[-1]  # a resumed run never loses what was there
        seen.append(left)

    # and what a kill inside a write leaves: half a line at the end
    tail = results.read_bytes()
    results.write_bytes(tail + tail[: tail.index(b"\n")][:50])

    final = subprocess.run(command(data, out, "--resume", "--json"), env=env(), capture_output=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert b"cut off an incomplete last line" in final.stderr

    assert sorted_lines(results) == sorted_lines(full / "results.jsonl")
    assert count_lines(results) == total
    assert (out / "summary.json").read_bytes() == (full / "summary.json").read_bytes()
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert len(manifest["resumed"]) == 3
