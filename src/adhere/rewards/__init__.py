"""Rewards for RL post-training: functions of verdict trees (and rollout groups) to ``float | None``.

``None`` means unscorable and is never folded into 0 here; each trainer adapter
(:mod:`adhere.integrations`) decides how its trainer sees it. Rewards are declared in
JSON/YAML like specs and compose::

    from adhere.rewards import parse_reward
    reward = parse_reward({"sum": ["binary", {"overlong": {"max_length": 4096, "buffer": 512}}]})
    reward(verdict)                       # one verdict → float | None
    reward.score_batch(rollouts)          # many rollouts, grouped by prompt for group rewards

Built-in kinds: ``binary``, ``fraction``, ``score``, ``select``, ``evidence``, ``weighted``,
``levels``, ``sum``, ``gated`` (G-RA), ``base_bonus`` (FIRM, presets ``cme``/``qma``), ``format_gate``,
``overlong`` (DAPO), ``acecode``, ``verpo``. See ``docs/rewards.md``.
"""

from ._base import REWARD_KINDS, Reward, RewardParams, Rollout, SampleReward, parse_reward, reward_kind
from ._batch import RewardItem, Scored, ascore_items, score_items, unscorable_rate
from ._code import AceCode, Verpo, VerpoResult, code_failure, degenerate_group_ratio, verpo, verpo_weights
from ._combine import FIRM_PRESETS, BaseBonus, FormatGate, Gated, Weighted
from ._length import Overlong, overlong_penalty
from ._outcome import Binary, Evidence, Fraction, Levels, Score, Select, find_part, units

__all__ = [
    "FIRM_PRESETS",
    "REWARD_KINDS",
    "AceCode",
    "BaseBonus",
    "Binary",
    "Evidence",
    "FormatGate",
    "Fraction",
    "Gated",
    "Levels",
    "Overlong",
    "Reward",
    "RewardItem",
    "RewardParams",
    "Rollout",
    "SampleReward",
    "Score",
    "Scored",
    "Select",
    "Verpo",
    "VerpoResult",
    "Weighted",
    "ascore_items",
    "code_failure",
    "degenerate_group_ratio",
    "find_part",
    "overlong_penalty",
    "parse_reward",
    "reward_kind",
    "score_items",
    "units",
    "unscorable_rate",
    "verpo",
    "verpo_weights",
]
