"""Code rewards: VeRPO's difficulty-weighted dense test rewards and ACECode's efficiency-aware reward.

Both read a code verdict the way the sandbox reports it: one root per program run, one
child per test (see :func:`adhere.rewards.units`), outcome pass/fail, and evidence with
the failure ``status`` and the run time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field

from ..verdict import Verdict
from ._base import Reward, RewardParams, Rollout, SampleReward, parse_params, reward_kind
from ._outcome import units

__all__ = [
    "AceCode",
    "Verpo",
    "VerpoResult",
    "code_failure",
    "degenerate_group_ratio",
    "verpo",
    "verpo_weights",
]


# -- VeRPO ---------------------------------------------------------------------------------------


def verpo_weights(
    pass_rates: Sequence[float] | np.ndarray, sigma: float = 0.1, alpha: float = 2.0, delta: float = 1e-6
) -> np.ndarray:
    """VeRPO's test weights from the group's pass rate ρⱼ of each test.

    Crowding density N̂(ρⱼ) = Σⱼ′ exp(−(ρⱼ − ρⱼ′)² / 2σ²) (self term included), and
    wⱼ = exp(−α·ρⱼ) / (N̂(ρⱼ) + δ): hard tests (low ρ) weigh more, and tests of the same
    difficulty share their weight so that many near-duplicate easy tests do not dominate.
    """
    rho = np.asarray(pass_rates, dtype=float)
    diff = rho[:, None] - rho[None, :]
    density = np.exp(-(diff**2) / (2.0 * sigma**2)).sum(axis=1)
    weights: np.ndarray = np.exp(-alpha * rho) / (density + delta)
    return weights


@dataclass(frozen=True)
class VerpoResult:
    """Everything VeRPO computes for one rollout group."""

    pass_rates: np.ndarray
    """ρⱼ: each test's pass rate pooled over every turn of every trajectory."""
    weights: np.ndarray
    """wⱼ from :func:`verpo_weights`."""
    turn_rewards: list[np.ndarray]
    """R_turn = Σⱼ wⱼ·p_{t,i,j}, one array (one value per turn) per trajectory."""
    outcomes: np.ndarray
    """R̃ = R_traj·γ^|τ|, with R_traj = 1 when the last turn passes every test."""
    advantages: list[np.ndarray]
    """A = (R̃ − mean R̃) + β·(R_turn − mean R_turn over all turns of the group); no std normalisation."""


def verpo(
    passes: Sequence[Sequence[Sequence[float]] | np.ndarray],
    *,
    sigma: float = 0.1,
    alpha: float = 2.0,
    delta: float = 1e-6,
    beta: float = 1.0,
    gamma: float = 1.0,
) -> VerpoResult:
    """VeRPO on one prompt's rollout group.

    ``passes[i]`` is trajectory i's pass matrix, shape (turns, tests): ``passes[i][t][j]``
    is whether turn t of trajectory i passes test j. Every trajectory has the same tests
    and at least one turn. Defaults σ = 0.1, δ = 1e-6, α = 2, β = 1, γ = 1 are ours
    (METHODS.md: the paper's values were not published).
    """
    mats = [np.atleast_2d(np.asarray(p, dtype=float)) for p in passes]
    if not mats:
        raise ValueError("VeRPO needs at least one trajectory")
    m = mats[0].shape[1]
    if any(x.shape[1] != m or x.shape[0] < 1 for x in mats):
        shapes = [x.shape for x in mats]
        raise ValueError(f"every trajectory needs ≥ 1 turn and the same {m} tests; got shapes {shapes}")
    pooled = np.concatenate(mats, axis=0)
    rho = pooled.mean(axis=0) if m else np.zeros(0)
    w = verpo_weights(rho, sigma, alpha, delta)
    turn_rewards = [x @ w for x in mats]
    outcomes = np.array([float(x[-1].all()) * gamma ** x.shape[0] for x in mats])
    mean_turn = float(np.concatenate(turn_rewards).mean())
    advantages = [(o - outcomes.mean()) + beta * (t - mean_turn) for o, t in zip(outcomes, turn_rewards, strict=True)]
    return VerpoResult(rho, w, turn_rewards, outcomes, advantages)


def degenerate_group_ratio(groups: Iterable[Sequence[float | None]], tol: float = 1e-9) -> float:
    """The share of rollout groups whose rewards are all equal (no learning signal for GRPO).

    Unscorable (None) values are left out; a group with fewer than two scored values is
    degenerate. Outcome-only GRPO sits at 60–70% in multi-turn code tasks (VeRPO).
    Returns NaN for no groups.
    """
    total = degenerate = 0
    for group in groups:
        total += 1
        scored = [v for v in group if v is not None]
        if len(scored) < 2 or max(scored) - min(scored) <= tol:
            degenerate += 1
    return degenerate / total if total else math.nan


class _VerpoParams(RewardParams):
    sigma: float = Field(0.1, gt=0)
    alpha: float = 2.0
    delta: float = Field(1e-6, ge=0)
    beta: float = 1.0
    gamma: float = Field(1.0, gt=0, le=1)
    output: Literal["reward", "advantage"] = "reward"


def _pass_row(verdict: Verdict) -> list[float] | None:
    tests = units(verdict)
    if any(t.unscorable for t in tests):
        return None
    return [1.0 if t.passed else 0.0 for t in tests]


@dataclass(frozen=True)
class Verpo(Reward):
    """VeRPO as a group reward: a rollout's tests are the units of its code verdict.

    ``output="reward"`` (default) gives R̃ + β·mean_t R_turn: for single-turn rollouts a
    trainer that centres rewards per group without dividing by the std (TRL's
    ``scale_rewards="none"``) then reproduces VeRPO's advantage exactly.
    ``output="advantage"`` gives the mean over turns of VeRPO's advantage.
    Rollouts with an unscorable test get None and are left out of the pass rates; a group
    whose rollouts disagree on the number of tests is unscorable as a whole.
    """

    sigma: float = 0.1
    alpha: float = 2.0
    delta: float = 1e-6
    beta: float = 1.0
    gamma: float = 1.0
    output: Literal["reward", "advantage"] = "reward"
    kind = "verpo"

    @property
    def uses_groups(self) -> bool:
        return True

    def score_group(self, rollouts: Sequence[Rollout]) -> list[float | None]:
        mats: dict[int, list[list[float]]] = {}
        for i, r in enumerate(rollouts):
            rows = [_pass_row(v) for v in (r.turns or (r.verdict,))]
            if all(row is not None for row in rows):
                mats[i] = [row for row in rows if row is not None]
        out: list[float | None] = [None] * len(rollouts)
        sizes = {len(row) for rows in mats.values() for row in rows}
        if not mats or len(sizes) != 1:
            return out
        res = verpo(
            [mats[i] for i in mats],
            sigma=self.sigma,
            alpha=self.alpha,
            delta=self.delta,
            beta=self.beta,
            gamma=self.gamma,
        )
        for k, i in enumerate(mats):
            if self.output == "reward":
                out[i] = float(res.outcomes[k] + self.beta * res.turn_rewards[k].mean())
            else:
                out[i] = float(res.advantages[k].mean())
        return out

    def to_dict(self) -> Any:
        defaults = _VerpoParams.model_validate({})
        params = {k: getattr(self, k) for k in _VerpoParams.model_fields if getattr(self, k) != getattr(defaults, k)}
        return {"verpo": params} if params else "verpo"


@reward_kind("verpo")
def _parse_verpo(raw: Any, path: str) -> Reward:
    p = parse_params(_VerpoParams, raw, path, "verpo")
    return Verpo(p.sigma, p.alpha, p.delta, p.beta, p.gamma, p.output)


# -- ACECode ------------------------------------------------------------------------------------------

CodeFailure = Literal["compile_error", "runtime_error", "wrong_answer"]

# Sandbox statuses → the three failure classes of CodeRL-style shaping. Timeouts and
# resource kills are runtime errors [ours].
_STATUS_CLASS: dict[str, CodeFailure] = {
    "compile_error": "compile_error",
    "syntax_error": "compile_error",
    "runtime_error": "runtime_error",
    "error": "runtime_error",
    "exception": "runtime_error",
    "timeout": "runtime_error",
    "memory": "runtime_error",
    "killed": "runtime_error",
    "output_limit": "runtime_error",
    "wrong_answer": "wrong_answer",
    "failed": "wrong_answer",
    "fail": "wrong_answer",
}
_SEVERITY: dict[CodeFailure, int] = {"compile_error": 2, "runtime_error": 1, "wrong_answer": 0}


def code_failure(verdict: Verdict) -> CodeFailure:
    """Why a failed code verdict failed: the most severe failure status in its tree.

    Reads ``evidence["status"]`` of the root and of every test; a failed verdict that
    names no status failed a test (``wrong_answer``).
    """
    worst: CodeFailure = "wrong_answer"
    for v in verdict.walk():
        status = v.evidence.get("status")
        cls = _STATUS_CLASS.get(str(status).lower()) if status is not None else None
        if cls is not None and _SEVERITY[cls] > _SEVERITY[worst]:
            worst = cls
    return worst


def _run_time(verdict: Verdict, key: str) -> float | None:
    value = verdict.evidence.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class _AceCodeParams(RewardParams):
    ref_time: float | None = Field(None, gt=0)
    time_key: str = "time_s"
    ref_time_key: str = "ref_time_s"
    compile_error: float = -1.0
    runtime_error: float = -0.6
    wrong_answer: float = -0.3


@dataclass(frozen=True)
class AceCode(SampleReward):
    """ACECode's efficiency-aware reward.

    Correct code: 0.5 + 0.5·min(t_ref / t_gen, 1). Failures [ours, CodeRL-style]:
    −1 compile error, −0.6 runtime error (timeouts included), −0.3 failed test.
    ``t_gen`` is ``evidence[time_key]`` of the code verdict; ``t_ref`` is ``ref_time``
    or ``evidence[ref_time_key]``. Correct code without both times is unscorable (None).
    """

    ref_time: float | None = None
    time_key: str = "time_s"
    ref_time_key: str = "ref_time_s"
    compile_error: float = -1.0
    runtime_error: float = -0.6
    wrong_answer: float = -0.3
    kind = "acecode"

    def one(self, rollout: Rollout) -> float | None:
        v = rollout.verdict
        if v.unscorable:
            return None
        if v.failed:
            return float(getattr(self, code_failure(v)))
        t_gen = _run_time(v, self.time_key)
        t_ref = self.ref_time if self.ref_time is not None else _run_time(v, self.ref_time_key)
        if t_gen is None or t_ref is None:
            return None
        ratio = 1.0 if t_gen <= 0 else min(t_ref / t_gen, 1.0)
        return 0.5 + 0.5 * ratio

    def to_dict(self) -> Any:
        defaults = _AceCodeParams.model_validate({})
        params = {k: getattr(self, k) for k in _AceCodeParams.model_fields if getattr(self, k) != getattr(defaults, k)}
        return {"acecode": params} if params else "acecode"


@reward_kind("acecode")
def _parse_acecode(raw: Any, path: str) -> Reward:
    p = parse_params(_AceCodeParams, raw, path, "acecode")
    return AceCode(p.ref_time, p.time_key, p.ref_time_key, p.compile_error, p.runtime_error, p.wrong_answer)
