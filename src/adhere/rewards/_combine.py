"""Combinators: a reward of rewards (weighted sum, G-RA gated accumulation, FIRM base-and-bonus, format gate).

Each combinator scores its parts on the whole group first, then combines value by value,
so group rewards (VeRPO) can sit inside any of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import SpecError
from ..spec import Spec
from ..subjects import Response
from ..verdict import Verdict
from ._base import Reward, Rollout, _finite, parse_reward, reward_kind
from ._outcome import find_part

__all__ = ["FIRM_PRESETS", "BaseBonus", "FormatGate", "Gated", "Weighted"]


def _number(raw: Any, path: str, *, low: float | None = None, high: float | None = None) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise SpecError(f"expected a number, got {type(raw).__name__} {raw!r}", path)
    value = float(raw)
    if (low is not None and value < low) or (high is not None and value > high):
        raise SpecError(f"expected a number in [{low}, {high}], got {raw!r}", path)
    return value


def _keys(raw: Any, allowed: set[str], required: set[str], path: str, kind: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise SpecError(f"'{kind}' takes an object with keys {sorted(allowed)}, got {type(raw).__name__}", path)
    extra = set(raw) - allowed
    if extra:
        raise SpecError(f"unexpected key(s) {sorted(extra)}; '{kind}' takes {sorted(allowed)}", path)
    missing = required - set(raw)
    if missing:
        raise SpecError(f"'{kind}' needs {sorted(missing)}", path)
    return raw


# -- weighted sum ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Weighted(Reward):
    """Σ wᵢ·Rᵢ (divided by Σ wᵢ when ``normalize``). None when any part is None."""

    rewards: tuple[Reward, ...]
    weights: tuple[float, ...]
    normalize: bool = False
    kind = "weighted"

    def score_group(self, rollouts: Sequence[Rollout]) -> list[float | None]:
        columns = [r.score_group(rollouts) for r in self.rewards]
        total = sum(self.weights) if self.normalize else 1.0
        out: list[float | None] = []
        for values in zip(*columns, strict=True):
            known = [v for v in values if v is not None]
            if len(known) < len(values):
                out.append(None)
            else:
                out.append(_finite(sum(w * v for w, v in zip(self.weights, known, strict=True)) / total))
        return out

    def parts(self) -> Iterator[Reward]:
        return iter(self.rewards)

    def to_dict(self) -> Any:
        if not self.normalize and all(w == 1.0 for w in self.weights):
            return {"sum": [r.to_dict() for r in self.rewards]}
        items = [{"weight": w, "reward": r.to_dict()} for w, r in zip(self.weights, self.rewards, strict=True)]
        return {"weighted": {"parts": items, "normalize": True} if self.normalize else items}


@reward_kind("weighted")
def _parse_weighted(raw: Any, path: str) -> Reward:
    normalize = False
    items = raw
    if isinstance(raw, Mapping):
        _keys(raw, {"parts", "normalize"}, {"parts"}, path, "weighted")
        items = raw["parts"]
        path = f"{path}.parts"
        normalize = raw.get("normalize", False)
        if not isinstance(normalize, bool):
            raise SpecError(f"normalize must be true or false, got {normalize!r}", f"{path}.normalize")
    if not isinstance(items, list) or not items:
        raise SpecError("expected a non-empty list of {weight, reward}", path)
    rewards: list[Reward] = []
    weights: list[float] = []
    for i, item in enumerate(items):
        ipath = f"{path}[{i}]"
        item = _keys(item, {"weight", "reward"}, {"reward"}, ipath, "weighted")
        weights.append(_number(item.get("weight", 1.0), f"{ipath}.weight"))
        rewards.append(parse_reward(item["reward"], f"{ipath}.reward"))
    if normalize and sum(weights) <= 0:
        raise SpecError("normalized weights must sum to a positive number", path)
    return Weighted(tuple(rewards), tuple(weights), normalize)


@reward_kind("sum")
def _parse_sum(raw: Any, path: str) -> Reward:
    if not isinstance(raw, list) or not raw:
        raise SpecError(f"expected a non-empty list of rewards, got {raw!r}", path)
    parts = tuple(parse_reward(item, f"{path}[{i}]") for i, item in enumerate(raw))
    return Weighted(parts, (1.0,) * len(parts))


# -- G-RA: gated reward accumulation ---------------------------------------------------------------


@dataclass(frozen=True)
class Gated(Reward):
    """Gated Reward Accumulation (G-RA): R = Σᵢ Rᵢ · Πⱼ₍ₐᵦₒᵥₑ ᵢ₎ 1[Rⱼ ≥ δⱼ].

    Parts are in priority order, highest first. A part counts only while every part
    above it reached its threshold. The value is None only when a part that counts is
    None: once a gate closes, the parts below it cannot change the reward.
    """

    rewards: tuple[Reward, ...]
    thresholds: tuple[float | None, ...]
    kind = "gated"

    def score_group(self, rollouts: Sequence[Rollout]) -> list[float | None]:
        columns = [r.score_group(rollouts) for r in self.rewards]
        out: list[float | None] = []
        for values in zip(*columns, strict=True):
            total: float | None = 0.0
            for value, threshold in zip(values, self.thresholds, strict=True):
                if value is None:
                    total = None
                    break
                total = (total or 0.0) + value
                if threshold is not None and value < threshold:
                    break
            out.append(total)
        return out

    def parts(self) -> Iterator[Reward]:
        return iter(self.rewards)

    def to_dict(self) -> Any:
        items: list[dict[str, Any]] = []
        for r, t in zip(self.rewards, self.thresholds, strict=True):
            items.append({"reward": r.to_dict()} if t is None else {"reward": r.to_dict(), "threshold": t})
        return {"gated": items}


@reward_kind("gated")
def _parse_gated(raw: Any, path: str) -> Reward:
    if not isinstance(raw, list) or not raw:
        raise SpecError("expected a non-empty list of {reward, threshold} in priority order", path)
    rewards: list[Reward] = []
    thresholds: list[float | None] = []
    for i, item in enumerate(raw):
        ipath = f"{path}[{i}]"
        last = i == len(raw) - 1
        item = _keys(item, {"reward", "threshold"}, {"reward"} if last else {"reward", "threshold"}, ipath, "gated")
        rewards.append(parse_reward(item["reward"], f"{ipath}.reward"))
        t = item.get("threshold")
        thresholds.append(None if t is None else _number(t, f"{ipath}.threshold"))
    return Gated(tuple(rewards), tuple(thresholds))


# -- FIRM: base and bonus ---------------------------------------------------------------------------

FIRM_PRESETS: dict[str, float] = {"cme": 0.6, "qma": 0.4}
"""FIRM's floors. CME (editing): Execution·(0.6 + 0.4·Consistency).
QMA (generation): InstructionFollowing·(0.4 + 0.6·Quality)."""


@dataclass(frozen=True)
class BaseBonus(Reward):
    """FIRM's gate-and-modulate combiner: R = base · (floor + (1 − floor) · bonus).

    The base gates (a failed base gives 0 whatever the bonus; a plain weighted sum was
    reward-hacked by maximising the bonus alone), the bonus modulates between ``floor``
    and 1. None when the base is None, or when the base is non-zero and the bonus None.
    """

    base: Reward
    bonus: Reward
    floor: float
    preset: str | None = None
    kind = "base_bonus"

    def score_group(self, rollouts: Sequence[Rollout]) -> list[float | None]:
        bases = self.base.score_group(rollouts)
        bonuses = self.bonus.score_group(rollouts)
        out: list[float | None] = []
        for b, m in zip(bases, bonuses, strict=True):
            if b is None:
                out.append(None)
            elif b == 0.0:
                out.append(0.0)
            elif m is None:
                out.append(None)
            else:
                out.append(_finite(b * (self.floor + (1.0 - self.floor) * m)))
        return out

    def parts(self) -> Iterator[Reward]:
        yield self.base
        yield self.bonus

    def to_dict(self) -> Any:
        d: dict[str, Any] = {"base": self.base.to_dict(), "bonus": self.bonus.to_dict()}
        if self.preset is not None:
            d["preset"] = self.preset
        else:
            d["floor"] = self.floor
        return {"base_bonus": d}


@reward_kind("base_bonus")
def _parse_base_bonus(raw: Any, path: str) -> Reward:
    raw = _keys(raw, {"base", "bonus", "floor", "preset"}, {"base", "bonus"}, path, "base_bonus")
    if ("floor" in raw) == ("preset" in raw):
        raise SpecError(f"give exactly one of 'floor' (a number in [0, 1]) or 'preset' ({sorted(FIRM_PRESETS)})", path)
    preset = raw.get("preset")
    if preset is not None:
        if preset not in FIRM_PRESETS:
            raise SpecError(f"unknown preset {preset!r}; choose one of {sorted(FIRM_PRESETS)}", f"{path}.preset")
        floor = FIRM_PRESETS[preset]
    else:
        floor = _number(raw["floor"], f"{path}.floor", low=0.0, high=1.0)
    return BaseBonus(
        parse_reward(raw["base"], f"{path}.base"), parse_reward(raw["bonus"], f"{path}.bonus"), floor, preset
    )


# -- format gate -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormatGate(Reward):
    """The inner reward when the response has the required format, else a fixed ``fail`` value.

    The format is either a spec evaluated on the response (``spec``) or a named part of
    the verdict tree (``part``). An unscorable format verdict gives None.
    """

    reward: Reward
    fail: float = 0.0
    spec: Spec | None = None
    part: str | None = None
    kind = "format_gate"

    def _format_verdict(self, rollout: Rollout) -> Verdict:
        if self.spec is not None:
            return self.spec.evaluate(Response(rollout.response, rollout.prompt))
        found = find_part(rollout.verdict, self.part or "")
        return found or Verdict.of("format_gate", None, f"the verdict has no part named {self.part!r}")

    def score_group(self, rollouts: Sequence[Rollout]) -> list[float | None]:
        inner = self.reward.score_group(rollouts)
        out: list[float | None] = []
        for r, value in zip(rollouts, inner, strict=True):
            fmt = self._format_verdict(r)
            if fmt.unscorable:
                out.append(None)
            else:
                out.append(value if fmt.passed else self.fail)
        return out

    def parts(self) -> Iterator[Reward]:
        yield self.reward

    def to_dict(self) -> Any:
        d: dict[str, Any] = {"reward": self.reward.to_dict(), "fail": self.fail}
        if self.spec is not None:
            d["spec"] = self.spec.to_dict()
        else:
            d["part"] = self.part
        return {"format_gate": d}


@reward_kind("format_gate")
def _parse_format_gate(raw: Any, path: str) -> Reward:
    raw = _keys(raw, {"reward", "fail", "spec", "part"}, {"reward"}, path, "format_gate")
    if ("spec" in raw) == ("part" in raw):
        raise SpecError("give exactly one of 'spec' (checked on the response) or 'part' (a label in the verdict)", path)
    spec: Spec | None = None
    if "spec" in raw:
        try:
            spec = Spec.parse(raw["spec"])
        except SpecError as exc:
            raise SpecError(exc.message, f"{path}.{exc.path}" if exc.path else f"{path}.spec") from None
    part = raw.get("part")
    if part is not None and not isinstance(part, str):
        raise SpecError(f"part must be a string (a label or check id), got {part!r}", f"{path}.part")
    fail = _number(raw.get("fail", 0.0), f"{path}.fail")
    return FormatGate(parse_reward(raw["reward"], f"{path}.reward"), fail, spec, part)
