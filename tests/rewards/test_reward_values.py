"""Hand-computed reward values from METHODS.md §2–3 (VeRPO, ACECode, G-RA, FIRM, DAPO)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adhere import Spec, Verdict
from adhere.rewards import (
    Rollout,
    code_failure,
    degenerate_group_ratio,
    overlong_penalty,
    parse_reward,
    units,
    verpo,
    verpo_weights,
)


def code_verdict(passes: list[bool], **evidence: object) -> Verdict:
    """A code verdict as the sandbox reports it: a root with one child per test."""
    kids = tuple(Verdict.of(f"test[{i}]", ok) for i, ok in enumerate(passes))
    return Verdict.of("code.tests", all(passes), evidence=evidence, children=kids)


# -- outcome rewards -----------------------------------------------------------------------------


def test_binary_fraction_and_score_read_the_verdict_tree() -> None:
    spec = Spec.parse({"all": [{"check": "punctuation.no_comma"}, {"not": {"check": "punctuation.no_comma"}}]})
    v = spec.evaluate("No commas at all.")  # first passes, the negation fails
    assert parse_reward("binary")(v) == 0.0
    assert parse_reward({"binary": {"pass": 1, "fail": -1}})(v) == -1.0
    assert parse_reward("fraction")(v) == 0.5
    assert parse_reward("score")(v) == v.score


def test_fraction_counts_instructions_not_loose_variants() -> None:
    # a loose node's children are response variants, not units: it counts as one unit
    spec = Spec.parse({"all": [{"loose": {"check": "punctuation.no_comma"}}, {"check": "punctuation.no_comma"}]})
    v = spec.evaluate("a, b")
    assert len(units(v)) == 2
    assert parse_reward("fraction")(v) == 0.0
    wrapped = Spec.parse({"transform": "strip_think", "spec": spec.to_dict()}).evaluate("<think>x</think>ok")
    assert len(units(wrapped)) == 2 and parse_reward("fraction")(wrapped) == 1.0


def test_unscorable_is_none_never_zero() -> None:
    v = Verdict.of("all", None, children=(Verdict.of("a", True), Verdict.of("b", None)))
    for decl in ("binary", "fraction", "score", {"sum": ["binary", "binary"]}, "acecode", "verpo"):
        assert parse_reward(decl)(v) is None, decl
    assert parse_reward({"fraction": {"unscorable": "skip"}})(v) == 1.0
    assert parse_reward({"fraction": {"unscorable": "skip"}})(Verdict.of("x", None)) is None


# -- VeRPO ---------------------------------------------------------------------------------------------

# 4 single-turn trajectories, 3 tests: pass rates ρ = (1, 0.5, 0.25)
PASSES = [[[1, 1, 0]], [[1, 0, 0]], [[1, 1, 1]], [[1, 0, 0]]]


def test_verpo_weights_hand_computed() -> None:
    # σ = 0.1 → 2σ² = 0.02; N̂(ρ) sums exp(−Δρ²/0.02) over tests, self term (=1) included
    n1 = 1 + math.exp(-(0.5**2) / 0.02) + math.exp(-(0.75**2) / 0.02)  # ρ=1 vs 0.5, 0.25
    n2 = 1 + math.exp(-(0.5**2) / 0.02) + math.exp(-(0.25**2) / 0.02)  # ρ=0.5 vs 1, 0.25
    n3 = 1 + math.exp(-(0.75**2) / 0.02) + math.exp(-(0.25**2) / 0.02)  # ρ=0.25 vs 1, 0.5
    expected = [math.exp(-2 * 1.0) / (n1 + 1e-6), math.exp(-2 * 0.5) / (n2 + 1e-6), math.exp(-2 * 0.25) / (n3 + 1e-6)]
    assert verpo_weights([1.0, 0.5, 0.25]) == pytest.approx(expected, rel=1e-12)
    # in numbers: the hardest test weighs ≈ 4.5× the one every trajectory passes
    assert expected == pytest.approx([0.1353347, 0.3523948, 0.5810026], abs=1e-6)


def test_verpo_duplicate_tests_share_their_weight() -> None:
    # two tests of equal difficulty split what one test would get (density = 2 + e^{-12.5})
    w = verpo_weights([0.5, 0.5, 0.0])
    alone = verpo_weights([0.5, 0.0])
    assert w[0] == w[1]
    assert w[0] + w[1] == pytest.approx(alone[0], rel=1e-4)


def test_verpo_turn_rewards_outcomes_and_advantages() -> None:
    res = verpo(PASSES)
    w = verpo_weights([1.0, 0.5, 0.25])
    assert res.pass_rates.tolist() == [1.0, 0.5, 0.25]
    turn = [w[0] + w[1], w[0], w[0] + w[1] + w[2], w[0]]
    assert [t[0] for t in res.turn_rewards] == pytest.approx(turn)
    assert res.outcomes.tolist() == [0.0, 0.0, 1.0, 0.0]  # only trajectory 3 passes everything
    mean_turn = sum(turn) / 4
    expected = [(o - 0.25) + (t - mean_turn) for o, t in zip([0, 0, 1, 0], turn, strict=True)]
    assert [a[0] for a in res.advantages] == pytest.approx(expected)
    assert sum(a[0] for a in res.advantages) == pytest.approx(0.0, abs=1e-12)  # centred, not std-scaled


def test_verpo_multi_turn_pools_pass_rates_and_discounts() -> None:
    # trajectory A: turn 1 passes test 0, turn 2 passes both; trajectory B: one turn passing nothing
    res = verpo([[[1, 0], [1, 1]], [[0, 0]]], gamma=0.9, beta=0.5)
    assert res.pass_rates.tolist() == [2 / 3, 1 / 3]  # pooled over the 3 attempts
    assert res.outcomes.tolist() == pytest.approx([0.9**2, 0.0])  # R̃ = R_traj·γ^|τ|, |τ| = 2 turns
    w = res.weights
    turns_a, turns_b = [w[0], w[0] + w[1]], [0.0]
    mean_turn = (sum(turns_a) + sum(turns_b)) / 3
    mean_out = 0.81 / 2
    assert res.advantages[0] == pytest.approx([(0.81 - mean_out) + 0.5 * (t - mean_turn) for t in turns_a])
    assert res.advantages[1] == pytest.approx([(0 - mean_out) + 0.5 * (0 - mean_turn)])


def test_verpo_reward_kind_reproduces_advantages_after_group_centring() -> None:
    rollouts = [Rollout(code_verdict([bool(x) for x in p[0]]), group="q1") for p in PASSES]
    values = parse_reward("verpo").score_batch(rollouts)
    res = verpo(PASSES)
    assert values == pytest.approx([o + t[0] for o, t in zip(res.outcomes, res.turn_rewards, strict=True)])
    centred = np.array(values) - np.mean(values)  # TRL with scale_rewards="none"
    assert centred.tolist() == pytest.approx([a[0] for a in res.advantages])
    assert parse_reward({"verpo": {"output": "advantage"}}).score_batch(rollouts) == pytest.approx(centred.tolist())


def test_verpo_groups_are_separate_and_unscorable_rollouts_left_out() -> None:
    broken = Verdict.of("code.tests", None, "sandbox died")
    rollouts = [
        Rollout(code_verdict([True, False]), group="a"),
        Rollout(code_verdict([True, True]), group="b"),
        Rollout(broken, group="a"),
        Rollout(code_verdict([False, False]), group="a"),
    ]
    values = parse_reward("verpo").score_batch(rollouts)
    assert values[2] is None
    group_a = verpo([[[1, 0]], [[0, 0]]])
    assert values[0] == pytest.approx(group_a.outcomes[0] + group_a.turn_rewards[0][0])
    assert values[3] == pytest.approx(group_a.turn_rewards[1][0])
    solo = verpo([[[1, 1]]])
    assert values[1] == pytest.approx(1.0 + solo.turn_rewards[0][0])


def test_degenerate_group_ratio() -> None:
    groups = [[1.0, 1.0, 1.0], [0.0, 1.0], [0.0, 0.0, None], [None, 0.5], [0.2, 0.2000001]]
    # degenerate: all-equal, all-equal after dropping None, a single scored value → 3 of 5
    assert degenerate_group_ratio(groups) == 3 / 5
    assert math.isnan(degenerate_group_ratio([]))


# -- ACECode ---------------------------------------------------------------------------------------------


def test_acecode_efficiency_reward() -> None:
    ace = parse_reward({"acecode": {"ref_time": 0.2}})
    assert ace(code_verdict([True, True], time_s=0.4)) == pytest.approx(0.5 + 0.5 * 0.5)  # 2× slower → 0.75
    assert ace(code_verdict([True], time_s=0.1)) == 1.0  # faster than the reference is capped at 1
    assert ace(code_verdict([True], time_s=0.8)) == pytest.approx(0.625)
    # reference time from the verdict when the declaration has none
    assert parse_reward("acecode")(code_verdict([True], time_s=0.5, ref_time_s=0.25)) == 0.75
    # correct code with no timing is unscorable, not full marks
    assert parse_reward("acecode")(code_verdict([True])) is None


def test_acecode_failure_classes() -> None:
    ace = parse_reward("acecode")
    assert ace(code_verdict([True, False])) == -0.3  # a failed test
    assert ace(code_verdict([False], status="syntax_error")) == -1.0
    runtime = Verdict.of(
        "code.tests",
        False,
        children=(Verdict.of("t0", True), Verdict.of("t1", False, evidence={"status": "timeout"})),
    )
    assert code_failure(runtime) == "runtime_error" and ace(runtime) == -0.6
    custom = parse_reward({"acecode": {"wrong_answer": -0.5}})
    assert custom(code_verdict([False])) == -0.5


# -- G-RA ------------------------------------------------------------------------------------------------

# The software-task outcome levels of METHODS.md: no-submit < empty < failing < passing = {−1, −0.5, 0, +1},
# gate open from a non-empty patch (failing or passing: level ≥ 0); dense step reward = fraction of steps passed.
GRA = {
    "gated": [
        {
            "reward": {
                "select": {
                    "part": "outcome",
                    "reward": {
                        "levels": {
                            "key": "patch",
                            "values": {"none": -1, "empty": -0.5, "failing": 0, "passing": 1},
                        }
                    },
                }
            },
            "threshold": 0,
        },
        {"reward": {"select": {"part": "steps", "reward": "fraction"}}},
    ]
}


def agent_verdict(patch: str, steps: list[bool]) -> Verdict:
    outcome = Verdict.of("swe.outcome", patch == "passing", evidence={"label": "outcome", "patch": patch})
    step_kids = tuple(Verdict.of("step", ok) for ok in steps)
    step_node = Verdict.of("all", all(steps), evidence={"label": "steps"}, children=step_kids)
    return Verdict.of("all", patch == "passing" and all(steps), children=(outcome, step_node))


def test_gated_reward_accumulation_software_levels() -> None:
    gra = parse_reward(GRA)
    steps = [True, True, False, True]  # dense step reward 0.75
    assert gra(agent_verdict("none", steps)) == -1.0  # gate closed: steps do not count
    assert gra(agent_verdict("empty", steps)) == -0.5
    assert gra(agent_verdict("failing", steps)) == 0.75  # 0 + 0.75
    assert gra(agent_verdict("passing", steps)) == 1.75  # 1 + 0.75


def test_gated_none_only_when_a_counting_part_is_none() -> None:
    gra = parse_reward({"gated": [{"reward": "binary", "threshold": 1}, {"reward": "acecode"}]})
    assert gra(code_verdict([False])) == 0.0  # gate closed: the unscorable ACECode part cannot matter
    assert gra(code_verdict([True])) is None  # gate open and ACECode has no timing


# -- FIRM --------------------------------------------------------------------------------------------------


def edit_verdict(executed: bool, consistency: list[bool]) -> Verdict:
    ex = Verdict.of("edit.executed", executed, evidence={"label": "execution"})
    kids = tuple(Verdict.of("keep", ok) for ok in consistency)
    cons = Verdict.of("all", all(consistency), evidence={"label": "consistency"}, children=kids)
    return Verdict.of("all", executed and all(consistency), children=(ex, cons))


CME = {
    "base_bonus": {
        "base": {"select": {"part": "execution", "reward": "binary"}},
        "bonus": {"select": {"part": "consistency", "reward": "fraction"}},
        "preset": "cme",
    }
}


def test_firm_cme_worked_example() -> None:
    cme = parse_reward(CME)
    assert cme(edit_verdict(True, [True, False])) == pytest.approx(1 * (0.6 + 0.4 * 0.5))  # 0.8
    assert cme(edit_verdict(True, [True, True])) == 1.0
    assert cme(edit_verdict(True, [False, False])) == pytest.approx(0.6)  # the floor
    # the hack FIRM describes: return the input unchanged → perfect consistency, no execution
    hacked = edit_verdict(False, [True, True])
    assert cme(hacked) == 0.0
    plain_sum = parse_reward(
        {
            "weighted": {
                "parts": [
                    {"weight": 1, "reward": CME["base_bonus"]["base"]},
                    {"weight": 1, "reward": CME["base_bonus"]["bonus"]},
                ],
                "normalize": True,
            }
        }
    )
    assert plain_sum(hacked) == 0.5  # the weighted sum pays the hack half marks


def test_firm_qma_with_a_one_to_five_rating() -> None:
    qma = parse_reward(
        {
            "base_bonus": {
                "base": {"select": {"part": "instructions", "reward": "binary"}},
                "bonus": {"select": {"part": "quality", "reward": {"evidence": {"key": "rating"}}}},
                "preset": "qma",
            }
        }
    )

    def gen(follows: bool, rating: float) -> Verdict:
        inst = Verdict.of("all", follows, evidence={"label": "instructions"})
        quality = Verdict.of("judge.quality", True, evidence={"label": "quality", "rating": rating})
        return Verdict.of("all", follows, children=(inst, quality))

    assert qma(gen(True, 4)) == pytest.approx(0.4 + 0.6 * 0.75)  # (4 − 1)/4 = 0.75 → 0.85
    assert qma(gen(True, 1)) == pytest.approx(0.4)
    assert qma(gen(False, 5)) == 0.0


# -- DAPO overlong, format gate, sums -------------------------------------------------------------------------


def test_dapo_overlong_penalty() -> None:
    # DAPO: L_max = 20480, L_cache = 4096 → no penalty up to 16384 tokens, −1 beyond 20480
    assert overlong_penalty(16384, 20480, 4096) == 0.0
    assert overlong_penalty(18432, 20480, 4096) == -0.5
    assert overlong_penalty(20480, 20480, 4096) == -1.0
    assert overlong_penalty(30000, 20480, 4096) == -1.0
    assert overlong_penalty(110, 100, 20, penalty=0.5) == -0.5
    r = parse_reward({"sum": ["binary", {"overlong": {"max_length": 100, "buffer": 20}}]})
    ok = Verdict.of("x", True)
    assert r(Rollout(ok, length=90)) == pytest.approx(1 - 0.5)
    assert r(Rollout(ok, length=None)) is None  # token length unknown: unscorable, not unpenalised
    chars = parse_reward({"overlong": {"max_length": 10, "buffer": 5, "unit": "chars"}})
    assert chars(Rollout(ok, response="x" * 8)) == pytest.approx(-0.6)
    words = parse_reward({"overlong": {"max_length": 4, "buffer": 2, "unit": "words"}})
    assert words(Rollout(ok, response="one two three")) == pytest.approx(-0.5)


def test_format_gate() -> None:
    gate = parse_reward({"format_gate": {"spec": {"check": "punctuation.no_comma"}, "reward": "binary", "fail": -1}})
    good = Verdict.of("task", True)
    assert gate(Rollout(good, response="fine")) == 1.0
    assert gate(Rollout(good, response="a, b")) == -1.0
    by_part = parse_reward(
        {"format_gate": {"part": "format", "reward": {"select": {"part": "answer", "reward": "binary"}}}}
    )
    tree = Verdict.of(
        "all",
        False,
        children=(
            Verdict.of("fmt", False, evidence={"label": "format"}),
            Verdict.of("ans", True, evidence={"label": "answer"}),
        ),
    )
    assert by_part(tree) == 0.0
    assert by_part(Verdict.of("x", True)) is None  # no part named "format"


def test_weighted_sum() -> None:
    r = parse_reward({"weighted": [{"weight": 0.7, "reward": "binary"}, {"weight": 0.3, "reward": "fraction"}]})
    v = Verdict.of("all", False, children=(Verdict.of("a", True), Verdict.of("b", True), Verdict.of("c", False)))
    assert r(v) == pytest.approx(0.7 * 0 + 0.3 * 2 / 3)
