"""DAPO's soft overlong punishment: a length penalty that ramps up inside a buffer before the hard limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from ..errors import SpecError
from ._base import Reward, RewardParams, Rollout, SampleReward, parse_params, reward_kind

__all__ = ["Overlong", "overlong_penalty"]


def overlong_penalty(length: int, max_length: int, buffer: int, penalty: float = 1.0) -> float:
    """DAPO's soft overlong punishment (Yu et al., 2025, eq. 13), scaled by ``penalty``.

    0 while ``length ≤ max_length − buffer``; then falls linearly to ``−penalty`` at
    ``max_length``; ``−penalty`` beyond it. (verl's ``dapo`` reward manager computes the
    same ramp, ``min(−(L − (max − buffer)) / buffer · penalty, 0)``.)
    """
    expected = max_length - buffer
    if length <= expected:
        return 0.0
    if length <= max_length:
        return (expected - length) / buffer * penalty
    return -penalty


class _OverlongParams(RewardParams):
    max_length: int = Field(20480, gt=0)
    buffer: int = Field(4096, gt=0)
    penalty: float = Field(1.0, ge=0)
    unit: Literal["tokens", "chars", "words"] = "tokens"


@dataclass(frozen=True)
class Overlong(SampleReward):
    """The overlong penalty of a rollout (≤ 0); add it to a task reward with ``sum``.

    ``unit="tokens"`` reads the completion length the trainer gave (TRL's
    ``completion_ids``); it is None when no length is known. ``"chars"`` and ``"words"``
    (whitespace-separated) measure the response text. Defaults are DAPO's:
    max 20480, buffer 4096, penalty 1.
    """

    max_length: int = 20480
    buffer: int = 4096
    penalty: float = 1.0
    unit: Literal["tokens", "chars", "words"] = "tokens"
    kind = "overlong"

    def one(self, rollout: Rollout) -> float | None:
        if self.unit == "tokens":
            length = rollout.length
        elif self.unit == "chars":
            length = len(rollout.response)
        else:
            length = len(rollout.response.split())
        if length is None:
            return None
        return overlong_penalty(length, self.max_length, self.buffer, self.penalty)

    def to_dict(self) -> Any:
        params = {"max_length": self.max_length, "buffer": self.buffer, "penalty": self.penalty, "unit": self.unit}
        return {"overlong": params}


@reward_kind("overlong")
def _parse_overlong(raw: Any, path: str) -> Reward:
    p = parse_params(_OverlongParams, raw, path, "overlong")
    if p.buffer > p.max_length:
        raise SpecError(f"buffer ({p.buffer}) must not exceed max_length ({p.max_length})", path)
    return Overlong(p.max_length, p.buffer, p.penalty, p.unit)
