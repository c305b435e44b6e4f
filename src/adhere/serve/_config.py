"""Server settings, from arguments or ``ADHERE_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["ServeConfig"]


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


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
    chunk: int = 32
