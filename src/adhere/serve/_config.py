"""Server settings, from arguments or ``ADHERE_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["ServeConfig", "default_sandbox_active", "default_sandbox_workers"]


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def default_sandbox_workers(workers: int) -> int:
    """Sandbox zygotes per worker process: four per core over all workers, at least 2 each.

    More slots than cores on purpose: a program that loops until its time limit holds its
    slot for seconds (longer when the machine is busy: the sandbox does not count time a
    program waits for a CPU), and the other slots keep the programs that finish in
    milliseconds flowing meanwhile. Measured with bench_serve.py on 2 cores: 4 slots per
    worker beat 2 and 8 on HumanEval programs.
    """
    return max(2, (4 * (os.cpu_count() or 1)) // max(1, workers))


def default_sandbox_active(workers: int, slots: int) -> int:
    """Of a worker's sandbox slots, how many take jobs at any time: two per core over all
    workers. The rest are overflow (``LocalExecutor(active=...)``): they take a job only
    while other slots hold long ones (loops running to their limit).

    Fewer jobs in flight on the same cores cost less CPU each. Measured with
    ``bench_serve.py --suite humaneval --code-set canonical --only batch64:4
    --skip-baseline`` on 2 cores: two slots per worker beat four in 6 of 7 alternating
    runs (490-581 against 440-543 programs/s, p99 0.57-0.71 s against 0.98-1.19 s), while
    on the real LLM programs four beat two, their loops holding both slots of a worker.
    """
    return max(1, min(slots, (2 * (os.cpu_count() or 1)) // max(1, workers)))


@dataclass(frozen=True)
class ServeConfig:
    """How the reward server behaves under load.

    ``max_inflight`` bounds accepted requests being worked on or waiting; beyond it the
    server answers 429 with ``Retry-After`` instead of queueing without limit, so a
    trainer backs off rather than timing out. ``deadline_s`` caps a request's wall time;
    samples not judged by then come back unscorable (never 0).
    """

    workers: int = field(default_factory=lambda: _env_int("ADHERE_WORKERS", os.cpu_count() or 1))
    max_inflight: int = field(default_factory=lambda: _env_int("ADHERE_MAX_INFLIGHT", 64))
    max_body_bytes: int = field(default_factory=lambda: _env_int("ADHERE_MAX_BODY_BYTES", 16 * 1024 * 1024))
    max_batch: int = field(default_factory=lambda: _env_int("ADHERE_MAX_BATCH", 4096))
    deadline_s: float = field(default_factory=lambda: _env_float("ADHERE_DEADLINE_S", 60.0))
    retry_after_s: int = 1
    api_key: str | None = field(default_factory=lambda: os.environ.get("ADHERE_API_KEY") or None)
    sandbox_workers: int = field(default_factory=lambda: _env_int("ADHERE_SANDBOX_WORKERS", 0))
    """Sandbox zygotes per worker process (concurrent code jobs); 0: :func:`default_sandbox_workers`."""
    sandbox_active: int = field(default_factory=lambda: _env_int("ADHERE_SANDBOX_ACTIVE", 0))
    """Of those, how many take jobs at any time; 0: :func:`default_sandbox_active`."""
    min_chunk: int = 16
    max_chunk: int = 64
