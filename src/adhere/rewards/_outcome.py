"""Rewards read straight off a verdict tree: binary, fraction passed, score, a named part, a rating."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from ..errors import SpecError
from ..verdict import Verdict
from ._base import Reward, RewardParams, Rollout, SampleReward, parse_params, parse_reward, reward_kind

__all__ = ["Binary", "Evidence", "Fraction", "Levels", "Score", "Select", "find_part", "units"]

# Nodes whose children are not independent units of work: alternatives (any), a negation,
# IFEval's response variants (loose), a condition with its branch (when).
_NOT_UNITS = frozenset({"any", "not", "loose", "when"})


def units(verdict: Verdict) -> tuple[Verdict, ...]:
    """The units a verdict is made of: its instructions, checks or tests.

    Descends through single-child ``transform`` wrappers; the children of a conjunction
    (``all``, ``weighted``, ``each``, a code-test run, ...) are its units. A leaf, or a
    node whose children are alternatives or variants (``any``, ``not``, ``loose``,
    ``when``), is a single unit.
    """
    node = verdict
    while node.check == "transform" and len(node.children) == 1:
        node = node.children[0]
    if node.children and node.check not in _NOT_UNITS:
        return node.children
    return (node,)


def find_part(verdict: Verdict, name: str) -> Verdict | None:
    """The first sub-verdict (depth first, the root included) labelled ``name`` or checked by ``name``."""
    for v in verdict.walk():
        if v.evidence.get("label") == name:
            return v
    for v in verdict.walk():
        if v.check == name:
            return v
    return None


class _BinaryParams(RewardParams):
    pass_value: float = Field(1.0, alias="pass")
    fail_value: float = Field(0.0, alias="fail")


@dataclass(frozen=True)
class Binary(SampleReward):
    """``pass`` (1.0) when the verdict passes, ``fail`` (0.0) when it fails, None when unscorable."""

    pass_value: float = 1.0
    fail_value: float = 0.0
    kind = "binary"

    def one(self, rollout: Rollout) -> float | None:
        v = rollout.verdict
        if v.unscorable:
            return None
        return self.pass_value if v.passed else self.fail_value

    def to_dict(self) -> Any:
        params: dict[str, float] = {}
        if self.pass_value != 1.0:
            params["pass"] = self.pass_value
        if self.fail_value != 0.0:
            params["fail"] = self.fail_value
        return {"binary": params} if params else "binary"


@reward_kind("binary")
def _parse_binary(raw: Any, path: str) -> Reward:
    p = parse_params(_BinaryParams, raw, path, "binary")
    return Binary(p.pass_value, p.fail_value)


class _FractionParams(RewardParams):
    unscorable: Literal["none", "skip"] = "none"


@dataclass(frozen=True)
class Fraction(SampleReward):
    """The fraction of units (instructions, checks, tests: see :func:`units`) that pass.

    ``unscorable="none"`` (default): any unscorable unit makes the reward None, since the
    fraction would depend on it. ``"skip"``: unscorable units leave the denominator;
    None only when every unit is unscorable.
    """

    unscorable: Literal["none", "skip"] = "none"
    kind = "fraction"

    def one(self, rollout: Rollout) -> float | None:
        parts = units(rollout.verdict)
        judged = [u for u in parts if not u.unscorable]
        if not judged or (self.unscorable == "none" and len(judged) < len(parts)):
            return None
        return sum(u.passed for u in judged) / len(judged)

    def to_dict(self) -> Any:
        return "fraction" if self.unscorable == "none" else {"fraction": {"unscorable": self.unscorable}}


@reward_kind("fraction")
def _parse_fraction(raw: Any, path: str) -> Reward:
    return Fraction(parse_params(_FractionParams, raw, path, "fraction").unscorable)


@dataclass(frozen=True)
class Score(SampleReward):
    """The verdict's own score in [0, 1] (partial credit of ``weighted`` specs); None when unscorable."""

    kind = "score"

    def one(self, rollout: Rollout) -> float | None:
        return rollout.verdict.score

    def to_dict(self) -> Any:
        return "score"


@reward_kind("score")
def _parse_score(raw: Any, path: str) -> Reward:
    parse_params(RewardParams, raw, path, "score")
    return Score()


@dataclass(frozen=True)
class Select(Reward):
    """Apply a reward to one named part of the verdict tree (a spec node's ``label`` or a check id).

    A missing part is unscorable: the inner reward sees an unscorable verdict.
    """

    part: str
    reward: Reward
    kind = "select"

    def score_group(self, rollouts: Sequence[Rollout]) -> list[float | None]:
        subs = []
        for r in rollouts:
            found = find_part(r.verdict, self.part)
            if found is None:
                found = Verdict.of("select", None, f"the verdict has no part named {self.part!r}")
            subs.append(r.with_verdict(found))
        return self.reward.score_group(subs)

    def parts(self) -> Iterator[Reward]:
        yield self.reward

    def to_dict(self) -> Any:
        return {"select": {"part": self.part, "reward": self.reward.to_dict()}}


@reward_kind("select")
def _parse_select(raw: Any, path: str) -> Reward:
    if not isinstance(raw, dict) or not isinstance(raw.get("part"), str) or "reward" not in raw:
        raise SpecError(f"expected {{'part': <label or check id>, 'reward': <reward>}}, got {raw!r}", path)
    extra = set(raw) - {"part", "reward"}
    if extra:
        raise SpecError(f"unexpected key(s) {sorted(extra)}; 'select' takes 'part' and 'reward'", path)
    return Select(raw["part"], parse_reward(raw["reward"], f"{path}.reward"))


class _EvidenceParams(RewardParams):
    key: str
    low: float = 1.0
    high: float = 5.0


@dataclass(frozen=True)
class Evidence(SampleReward):
    """A number from the verdict's evidence (a judge's 1–5 rating), mapped to [0, 1] by (s − low)/(high − low).

    FIRM maps its 1–5 scores this way (METHODS.md: "(s − 1)/4" [ours]); values outside
    [low, high] are clipped. Unscorable verdicts and missing or non-numeric values give None.
    """

    key: str
    low: float = 1.0
    high: float = 5.0
    kind = "evidence"

    def one(self, rollout: Rollout) -> float | None:
        v = rollout.verdict
        value = v.evidence.get(self.key)
        if v.unscorable or isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return min(1.0, max(0.0, (float(value) - self.low) / (self.high - self.low)))

    def to_dict(self) -> Any:
        return {"evidence": {"key": self.key, "low": self.low, "high": self.high}}


@reward_kind("evidence")
def _parse_evidence(raw: Any, path: str) -> Reward:
    p = parse_params(_EvidenceParams, raw, path, "evidence")
    if p.high <= p.low:
        raise SpecError(f"high ({p.high}) must be greater than low ({p.low})", path)
    return Evidence(p.key, p.low, p.high)


@dataclass(frozen=True)
class Levels(SampleReward):
    """A value per category of the verdict's evidence: ordered outcome levels.

    G-RA's software-task outcome is one: ``{"key": "patch", "values": {"none": -1,
    "empty": -0.5, "failing": 0, "passing": 1}}`` ([ours]). A category not in ``values``,
    a missing key or an unscorable verdict gives None.
    """

    key: str
    values: tuple[tuple[str, float], ...]
    kind = "levels"

    def one(self, rollout: Rollout) -> float | None:
        v = rollout.verdict
        if v.unscorable or self.key not in v.evidence:
            return None
        return dict(self.values).get(str(v.evidence[self.key]))

    def to_dict(self) -> Any:
        return {"levels": {"key": self.key, "values": dict(self.values)}}


class _LevelsParams(RewardParams):
    key: str
    values: dict[str, float] = Field(min_length=1)


@reward_kind("levels")
def _parse_levels(raw: Any, path: str) -> Reward:
    p = parse_params(_LevelsParams, raw, path, "levels")
    return Levels(p.key, tuple(p.values.items()))
