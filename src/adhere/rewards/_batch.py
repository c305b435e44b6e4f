"""The one core every trainer adapter is a thin translation of: (label, response) batches → rewards.

An adapter turns its trainer's call into :class:`RewardItem` objects, calls
:func:`score_items` (or :func:`ascore_items`), and turns each :class:`Scored` back into
what its trainer expects. Judging, grouping for group rewards and the per-row reward
override (a label's ``"reward"``) happen here, once.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from ..labels import Label, ajudge_labels, judge_labels
from ..verdict import Verdict
from ._base import Reward, Rollout

__all__ = ["RewardItem", "Scored", "ascore_items", "score_items", "unscorable_rate"]


@dataclass(frozen=True)
class RewardItem:
    """One response to reward: its label, text, prompt, token length and rollout group.

    ``group`` defaults to (prompt, label): the G samples of one GRPO prompt share it.
    """

    label: Label
    response: str
    prompt: str = ""
    length: int | None = None
    group: Hashable = None

    @property
    def group_key(self) -> Hashable:
        return self.group if self.group is not None else (self.prompt, self.label.key)


@dataclass(frozen=True)
class Scored:
    """A reward with the verdict tree it was computed from."""

    reward: float | None
    verdict: Verdict

    @property
    def unscorable(self) -> bool:
        """True when no reward could be computed (the trainer must not read it as 0)."""
        return self.reward is None

    @property
    def reason(self) -> str:
        """Why: the verdict's reason, with a note when the reward itself could not be computed."""
        if self.reward is None and not self.verdict.unscorable:
            return f"reward not computable from the verdict ({self.verdict.outcome}: {self.verdict.reason})"
        return self.verdict.reason


def _rewards(items: Sequence[RewardItem], verdicts: Sequence[Verdict], default: Reward) -> list[Scored]:
    rollouts = [
        Rollout(v, it.response, it.prompt, it.length, it.group_key) for it, v in zip(items, verdicts, strict=True)
    ]
    by_reward: dict[str, tuple[Reward, list[int]]] = {}
    keys: dict[int, str] = {}  # rows share reward objects (the default, a memoised label's): one key each
    for i, it in enumerate(items):
        reward = it.label.reward or default
        key = keys.get(id(reward))
        if key is None:
            key = keys[id(reward)] = json.dumps(reward.to_dict(), sort_keys=True, default=str)
        by_reward.setdefault(key, (reward, []))[1].append(i)
    values: list[float | None] = [None] * len(items)
    for reward, indices in by_reward.values():
        for i, value in zip(indices, reward.score_batch([rollouts[i] for i in indices]), strict=True):
            values[i] = value
    return [Scored(value, v) for value, v in zip(values, verdicts, strict=True)]


def score_items(items: Sequence[RewardItem], default: Reward, *, executor: object = None) -> list[Scored]:
    """Judge and reward a batch; a label's own reward overrides ``default`` for its row."""
    verdicts = judge_labels([(it.label, it.response, it.prompt) for it in items], executor=executor)
    return _rewards(items, verdicts, default)


async def ascore_items(items: Sequence[RewardItem], default: Reward, *, executor: object = None) -> list[Scored]:
    """:func:`score_items` for event loops (code tests awaited through the sandbox's async API)."""
    verdicts = await ajudge_labels([(it.label, it.response, it.prompt) for it in items], executor=executor)
    return _rewards(items, verdicts, default)


def unscorable_rate(scored: Sequence[Scored]) -> float:
    """The share of a batch that could not be rewarded (0.0 for an empty batch)."""
    return sum(s.unscorable for s in scored) / len(scored) if scored else 0.0
