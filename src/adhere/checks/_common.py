"""Shared parameter pieces for the built-in checks: count ranges, regex options, reasons.

Counting checks take an inclusive ``min``/``max`` range instead of a benchmark's own
wording (IFEval's "less than N" is ``max = N - 1``, "at least N" is ``min = N``), so one
check serves every benchmark and a range is one check, not two.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import NonNegativeInt, model_validator

from ..registry import Params

__all__ = [
    "CountRange",
    "compiled",
    "count_reason",
    "describe_range",
    "evidence",
    "plain",
    "regex_error",
    "short",
    "within",
]


class CountRange(Params):
    """An inclusive range for a count; give ``min``, ``max`` or both."""

    min: NonNegativeInt | None = None
    max: NonNegativeInt | None = None

    @model_validator(mode="after")
    def _check_range(self) -> CountRange:
        if self.min is None and self.max is None:
            raise ValueError("give 'min', 'max' or both (inclusive bounds)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min}) is greater than 'max' ({self.max})")
        return self


def within(n: int, p: CountRange) -> bool:
    """Whether ``n`` lies in the inclusive range of ``p``."""
    return (p.min is None or n >= p.min) and (p.max is None or n <= p.max)


def describe_range(p: CountRange) -> str:
    """'at least 3', 'at most 7', 'exactly 4' or 'between 2 and 5'."""
    if p.min is not None and p.max is not None:
        return f"exactly {p.min}" if p.min == p.max else f"between {p.min} and {p.max}"
    if p.min is not None:
        return f"at least {p.min}"
    return f"at most {p.max}"


def count_reason(n: int, unit: str, p: CountRange) -> str:
    """'found 212 words; needs at least 300'."""
    return f"found {n} {unit}; needs {describe_range(p)}"


@lru_cache(maxsize=1024)
def compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A compiled regex, cached: checks compile their parameters once, not per response."""
    return re.compile(pattern, flags)


def regex_error(pattern: str, flags: int = 0) -> str | None:
    """Why ``pattern`` is not a valid regular expression, or None when it is."""
    try:
        compiled(pattern, flags)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        return f"{pattern!r} is not a valid regular expression: {exc}"
    return None


_REGEX_SPECIAL = frozenset(".^$*+?{}[]\\|()")


def plain(pattern: str) -> bool:
    """Whether a regex pattern matches only its own text (no special characters).

    Such a pattern can only match where the text contains it, which allows cheap
    substring pre-checks before running the regex.
    """
    return _REGEX_SPECIAL.isdisjoint(pattern)


def short(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters for reasons and evidence."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def evidence(**values: Any) -> dict[str, Any]:
    """Evidence dict without None values."""
    return {k: v for k, v in values.items() if v is not None}
