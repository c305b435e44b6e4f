"""Retry policy and client-side pacing for HTTP model backends.

Only transient failures are retried: 408, 429 (honouring ``Retry-After``), 5xx,
timeouts, connection errors, truncated bodies and unparseable bodies. Everything
else (400, 401, 403, 404, 422, ...) is permanent: retrying a malformed or forbidden
request only burns quota. Backoff is exponential with jitter, so many workers that
failed together do not retry together.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from dataclasses import dataclass

__all__ = ["Pacer", "RetryPolicy", "is_transient_status", "parse_retry_after"]


def is_transient_status(status: int) -> bool:
    """True for HTTP statuses worth retrying: 408, 429 and every 5xx."""
    return status in (408, 429) or 500 <= status <= 599


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts and how long to wait between them.

    Attempt ``i`` (1-based) that failed transiently waits
    ``uniform(0.5, 1) * min(max_delay, base_delay * 2 ** (i - 1))`` seconds, or the
    server's ``Retry-After`` when given (capped at ``max_retry_after``, plus up to 10%).
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must be >= 0")

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt``. A ``Retry-After`` is honoured and
        stretched by up to 10% so that workers told the same time do not return together."""
        draw: float = (rng or random.Random()).uniform(0.5, 1.0)
        if retry_after is not None:
            return min(retry_after, self.max_retry_after) * (1.0 + (draw - 0.5) / 5)
        return draw * min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))


class Pacer:
    """Client-side rate limit plus a shared cool-down.

    ``rate`` spaces request starts at least ``1/rate`` seconds apart across all
    workers. A 429 with ``Retry-After`` calls :meth:`cool_down`, pausing *every*
    worker until then rather than letting the others keep hammering the server.
    """

    def __init__(self, rate: float | None = None) -> None:
        if rate is not None and rate <= 0:
            raise ValueError(f"rate must be > 0 requests/s, got {rate}")
        self.rate = rate
        self._next = 0.0
        self._resume_at = 0.0

    def cool_down(self, seconds: float) -> None:
        self._resume_at = max(self._resume_at, time.monotonic() + seconds)

    async def wait(self) -> None:
        while True:
            now = time.monotonic()
            slot = max(now, self._resume_at)
            if self.rate is not None:
                slot = max(slot, self._next)
                self._next = slot + 1.0 / self.rate
            if slot <= now:
                return
            await asyncio.sleep(slot - now)
            if time.monotonic() >= self._resume_at:  # a cool-down may have begun while we slept
                return
