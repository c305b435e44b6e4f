"""The reward contract: a function of a verdict tree (and, for group methods, of a rollout group).

A reward never invents a number it could not compute: it returns ``float | None``, and
``None`` means *unscorable* (the verdict was unscorable, a part it reads is missing, a
length it needs is unknown). Adapters decide how a trainer sees ``None`` (TRL: ``None``;
verl/OpenRLHF: a user-chosen fallback plus a flag), never this module.

Every reward scores a *group* (the rollouts of one prompt) as its primitive operation,
so group methods (VeRPO) and per-sample rewards compose through the same combinators.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import SpecError
from ..spec import load_document
from ..verdict import Verdict

__all__ = ["REWARD_KINDS", "Reward", "RewardParams", "Rollout", "parse_reward", "reward_kind"]


@dataclass(frozen=True, slots=True)
class Rollout:
    """One sampled response, as a reward sees it.

    ``verdict`` is the judgement of the response (for multi-turn code tasks, of its last
    turn); ``turns`` optionally holds one verdict per turn (VeRPO's turn rewards read
    them). ``length`` is the completion length in tokens when the trainer knows it.
    ``group`` identifies the prompt: rollouts with equal, non-None ``group`` form one
    rollout group for group rewards.
    """

    verdict: Verdict
    response: str = ""
    prompt: str = ""
    length: int | None = None
    group: Hashable = None
    turns: tuple[Verdict, ...] = ()

    def with_verdict(self, verdict: Verdict) -> Rollout:
        return replace(self, verdict=verdict)


class Reward(ABC):
    """A reward: rollouts → ``float | None``.

    Subclasses implement :meth:`score_group` (one prompt's rollouts → one value each).
    Per-sample rewards subclass :class:`SampleReward` and implement ``one`` instead.
    """

    kind: ClassVar[str] = ""

    @abstractmethod
    def score_group(self, rollouts: Sequence[Rollout]) -> list[float | None]:
        """One value per rollout of one rollout group, in order."""

    @abstractmethod
    def to_dict(self) -> Any:
        """The declaration this reward parses from (``parse_reward(r.to_dict())`` is equivalent)."""

    @property
    def uses_groups(self) -> bool:
        """Whether a rollout's value depends on the other rollouts of its group."""
        return any(c.uses_groups for c in self.parts())

    def parts(self) -> Iterator[Reward]:
        """The sub-rewards of a combinator (none for a leaf reward)."""
        return iter(())

    def __call__(self, x: Verdict | Rollout) -> float | None:
        """Score one verdict (or rollout) on its own; a group reward sees a group of one."""
        rollout = x if isinstance(x, Rollout) else Rollout(x)
        return self.score_group([rollout])[0]

    def score_batch(self, rollouts: Sequence[Rollout]) -> list[float | None]:
        """Score a batch that may mix prompts: rollouts are grouped by ``group`` (order kept).

        A rollout whose ``group`` is None is a group of its own.
        """
        if not self.uses_groups:
            return self.score_group(rollouts)
        out: list[float | None] = [None] * len(rollouts)
        for indices in _group_indices(rollouts):
            values = self.score_group([rollouts[i] for i in indices])
            for i, v in zip(indices, values, strict=True):
                out[i] = v
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_dict()!r})"


def _group_indices(rollouts: Sequence[Rollout]) -> list[list[int]]:
    groups: dict[Hashable, list[int]] = {}
    alone: list[list[int]] = []
    for i, r in enumerate(rollouts):
        if r.group is None:
            alone.append([i])
        else:
            groups.setdefault(r.group, []).append(i)
    return [*groups.values(), *alone]


class SampleReward(Reward):
    """A reward whose value for a rollout depends on that rollout only."""

    @abstractmethod
    def one(self, rollout: Rollout) -> float | None:
        """The value of one rollout."""

    def score_group(self, rollouts: Sequence[Rollout]) -> list[float | None]:
        return [_finite(self.one(r)) for r in rollouts]

    @property
    def uses_groups(self) -> bool:
        return False


def _finite(value: float | None) -> float | None:
    """NaN or infinite values are not rewards: they become unscorable."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


# -- declarations -----------------------------------------------------------------------------


class RewardParams(BaseModel):
    """Base of a reward kind's parameters: strict about unknown keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P", bound=RewardParams)


def parse_params(model: type[P], raw: Any, path: str, kind: str) -> P:
    """Validate a reward's parameters, raising :class:`SpecError` with the exact path."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise SpecError(f"parameters of reward {kind!r} must be an object, got {type(raw).__name__} {raw!r}", path)
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        allowed = ", ".join(f.alias or n for n, f in model.model_fields.items()) or "none"
        raise SpecError(
            f"{err['msg']} (reward {kind!r}; got {err.get('input')!r}; parameters: {allowed})",
            f"{path}.{loc}" if loc else path,
        ) from None


Parser = Callable[[Any, str], Reward]
REWARD_KINDS: dict[str, Parser] = {}
"""Reward kind name → parser of its declaration value (``(value, path) -> Reward``)."""


def reward_kind(name: str) -> Callable[[Parser], Parser]:
    """Register the parser of a reward kind (``{name: value}`` in a declaration)."""

    def deco(fn: Parser) -> Parser:
        if name in REWARD_KINDS and REWARD_KINDS[name] is not fn:
            raise SpecError(f"reward kind {name!r} is registered twice")
        REWARD_KINDS[name] = fn
        return fn

    return deco


def parse_reward(raw: Any, path: str = "reward") -> Reward:
    """Parse a reward declaration (an object, a kind name, or JSON/YAML text) into a :class:`Reward`.

    Forms: ``"binary"`` (a kind with default parameters), ``{"binary": {"fail": -1}}``,
    ``{"sum": ["binary", {"overlong": {...}}]}``; see ``docs/rewards.md``. Errors are
    :class:`SpecError` naming the path inside the declaration.
    """
    _load_builtin_kinds()
    from ..labels import plain

    if isinstance(raw, Reward):
        return raw
    raw = plain(raw)
    if isinstance(raw, str):
        if raw in REWARD_KINDS:
            return REWARD_KINDS[raw](None, f"{path}.{raw}")
        loaded = load_document(raw, path, "reward")
        if isinstance(loaded, str) or loaded is None:
            raise SpecError(_unknown_kind(str(raw)), path)
        return parse_reward(loaded, path)
    if not isinstance(raw, Mapping):
        raise SpecError(f"a reward must be a kind name or an object, got {type(raw).__name__} {raw!r}", path)
    kinds = [k for k in raw if k in REWARD_KINDS]
    if len(kinds) != 1 or len(raw) != 1:
        if len(raw) == 1 and not kinds:
            raise SpecError(_unknown_kind(str(next(iter(raw)))), path)
        raise SpecError(
            f"a reward object has exactly one key, its kind (one of {sorted(REWARD_KINDS)}); got {sorted(raw)}", path
        )
    kind = kinds[0]
    return REWARD_KINDS[kind](raw[kind], f"{path}.{kind}")


def _load_builtin_kinds() -> None:
    import importlib

    importlib.import_module("adhere.rewards._kinds")


def _unknown_kind(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, REWARD_KINDS, n=2, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown reward kind {name!r}{hint} (kinds: {', '.join(sorted(REWARD_KINDS))})"
