"""Retry policy, Retry-After parsing and client-side pacing."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from adhere.models.retry import Pacer, RetryPolicy, is_transient_status, parse_retry_after


@pytest.mark.parametrize(
    ("status", "transient"),
    [
        (408, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (599, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (409, False),
        (422, False),
        (301, False),
    ],
)
def test_only_transient_statuses_are_retried(status: int, transient: bool) -> None:
    assert is_transient_status(status) is transient


def test_retry_after_seconds_and_http_dates() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now=now.timestamp()) == pytest.approx(30.0)


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
    rng = random.Random(0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)]:
        waits = [policy.delay(attempt, rng=rng) for _ in range(200)]
        assert ceiling * 0.5 <= min(waits) and max(waits) <= ceiling
        assert max(waits) - min(waits) > ceiling * 0.3  # jittered, not fixed
    told = [policy.delay(1, retry_after=4.0, rng=rng) for _ in range(100)]
    assert min(told) >= 4.0 * 0.9 and max(told) <= 4.0 * 1.1
    assert policy.delay(1, retry_after=1e6, rng=rng) <= policy.max_retry_after * 1.1
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_pacer_spaces_starts_and_shares_a_cool_down() -> None:
    async def starts(pacer: Pacer, n: int) -> list[float]:
        out: list[float] = []

        async def one() -> None:
            await pacer.wait()
            out.append(time.monotonic())

        await asyncio.gather(*(one() for _ in range(n)))
        return sorted(out)

    paced = asyncio.run(starts(Pacer(rate=50), 6))
    assert paced[-1] - paced[0] >= 5 / 50 - 0.01
    cooled = Pacer()
    cooled.cool_down(0.2)
    began = time.monotonic()
    times = asyncio.run(starts(cooled, 3))
    assert min(times) - began >= 0.19
    with pytest.raises(ValueError, match="rate"):
        Pacer(rate=0)
