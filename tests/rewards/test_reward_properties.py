"""Properties of the rewards: bounds, monotonicity where it holds, None exactly when unscorable."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from adhere import Verdict
from adhere.rewards import Rollout, degenerate_group_ratio, overlong_penalty, parse_reward, verpo, verpo_weights

unit = st.floats(0.0, 1.0)
outcome = st.sampled_from([True, False, None])


def conj(oks: list[bool | None]) -> Verdict:
    kids = tuple(Verdict.of(f"c{i}", ok) for i, ok in enumerate(oks))
    failed = any(ok is False for ok in oks)
    return Verdict.of("all", False if failed else (None if None in oks else True), children=kids)


@given(st.lists(outcome, min_size=1, max_size=8))
def test_fraction_bounds_and_none_exactly_when_a_unit_is_unscorable(oks: list[bool | None]) -> None:
    value = parse_reward("fraction")(conj(oks))
    assert (value is None) == (None in oks)
    if value is not None:
        assert 0.0 <= value <= 1.0
        assert value == sum(ok is True for ok in oks) / len(oks)


@given(st.lists(st.booleans(), min_size=1, max_size=8), st.data())
def test_fraction_is_monotone_in_passed_units(oks: list[bool], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(oks) - 1))
    better = [*oks[:i], True, *oks[i + 1 :]]
    before, after = parse_reward("fraction")(conj(oks)), parse_reward("fraction")(conj(better))
    assert before is not None and after is not None and after >= before


@given(outcome, st.floats(-5, 5), st.floats(-5, 5))
def test_binary_values(ok: bool | None, p: float, f: float) -> None:
    value = parse_reward({"binary": {"pass": p, "fail": f}})(Verdict.of("x", ok))
    assert value == {True: p, False: f, None: None}[ok]


@given(unit, unit, st.sampled_from(["cme", "qma"]))
def test_firm_base_bonus_bounds_gate_and_monotonicity(base: float, bonus: float, preset: str) -> None:
    r = parse_reward(
        {
            "base_bonus": {
                "base": {"select": {"part": "b", "reward": "score"}},
                "bonus": {"select": {"part": "m", "reward": "score"}},
                "preset": preset,
            }
        }
    )

    def tree(b: float, m: float) -> Verdict:
        return Verdict(
            "all",
            "pass",
            1.0,
            children=(
                Verdict("x", "pass", b, evidence={"label": "b"}),
                Verdict("y", "pass", m, evidence={"label": "m"}),
            ),
        )

    value = r(tree(base, bonus))
    floor = {"cme": 0.6, "qma": 0.4}[preset]
    assert value is not None
    assert base * floor - 1e-12 <= value <= base + 1e-12  # the bonus modulates within [floor·base, base]
    assert r(tree(0.0, bonus)) == 0.0  # no base, no reward, whatever the bonus
    more_base, more_bonus = r(tree(min(1.0, base + 0.1), bonus)), r(tree(base, min(1.0, bonus + 0.1)))
    assert more_base is not None and more_base >= value - 1e-12
    assert more_bonus is not None and more_bonus >= value - 1e-12


@given(st.lists(st.tuples(st.floats(-2, 2), st.floats(-1, 1)), min_size=1, max_size=5), st.data())
def test_gated_accumulates_until_the_first_closed_gate(parts: list[tuple[float, float]], data: st.DataObject) -> None:
    # each part reads its own labelled leaf's evidence value via `levels`
    decl = {
        "gated": [
            {
                "reward": {"select": {"part": f"p{i}", "reward": {"levels": {"key": "v", "values": {"x": v}}}}},
                "threshold": t,
            }
            for i, (v, t) in enumerate(parts)
        ]
    }
    kids = tuple(Verdict.of("leaf", True, evidence={"label": f"p{i}", "v": "x"}) for i in range(len(parts)))
    value = parse_reward(decl)(Verdict.of("all", True, children=kids))
    expected = 0.0
    for v, t in parts:
        expected += v
        if v < t:
            break
    assert value is not None and math.isclose(value, expected, abs_tol=1e-12)


@given(st.integers(0, 50_000), st.integers(1, 30_000), st.integers(1, 8_000), st.floats(0, 3))
def test_overlong_bounds_and_monotone_in_length(length: int, max_length: int, buffer: int, penalty: float) -> None:
    assume(buffer <= max_length)
    value = overlong_penalty(length, max_length, buffer, penalty)
    assert -penalty - 1e-12 <= value <= 0.0
    assert overlong_penalty(length + 1, max_length, buffer, penalty) <= value + 1e-12
    if length <= max_length - buffer:
        assert value == 0.0


@given(st.floats(1e-4, 10), st.floats(1e-4, 10), st.floats(1e-4, 10))
def test_acecode_correct_in_half_to_one_and_faster_is_better(ref: float, t1: float, t2: float) -> None:
    ace = parse_reward({"acecode": {"ref_time": ref}})

    def run(t: float) -> float:
        value = ace(Verdict.of("code", True, evidence={"time_s": t}))
        assert value is not None
        return value

    a, b = run(t1), run(t2)
    assert 0.5 < a <= 1.0 and 0.5 < b <= 1.0
    if t1 <= t2:
        assert a >= b
    # every failure is below every success, and failures are ordered by severity
    fails = [ace(Verdict.of("code", False, evidence={"status": s})) for s in ("syntax_error", "timeout", "failed")]
    assert fails == sorted(fails) and all(f is not None and f < 0.5 for f in fails)


pass_matrix = st.integers(1, 6).flatmap(
    lambda m: st.lists(
        st.lists(st.lists(st.booleans(), min_size=m, max_size=m), min_size=1, max_size=3), min_size=1, max_size=6
    )
)


@given(pass_matrix)
def test_verpo_invariants(passes: list[list[list[bool]]]) -> None:
    res = verpo(passes)
    assert np.all(res.weights > 0)
    assert np.all((res.pass_rates >= 0) & (res.pass_rates <= 1))
    # advantages are centred over the group's turns when each trajectory has one turn
    if all(len(p) == 1 for p in passes):
        assert abs(sum(a[0] for a in res.advantages)) < 1e-9
    # a turn passing a superset of another turn's tests earns at least as much
    rows = [
        (np.array(t, dtype=bool), tr[k])
        for p, tr in zip(passes, res.turn_rewards, strict=True)
        for k, t in enumerate(p)
    ]
    for a, ra in rows:
        for b, rb in rows:
            if np.all(a >= b):
                assert ra >= rb - 1e-12


@given(st.lists(st.integers(0, 16), min_size=2, max_size=6, unique=True))
def test_verpo_weights_favour_hard_tests_at_equal_density(passed: list[int]) -> None:
    # pass rates of 16 attempts; at a tiny σ every test is alone in its niche, so the weight falls with the rate
    rates = [k / 16 for k in passed]
    w = verpo_weights(rates, sigma=1e-3)
    for i in range(len(rates)):
        for j in range(len(rates)):
            if rates[i] < rates[j]:
                assert w[i] > w[j]


@given(st.lists(st.lists(st.one_of(st.none(), st.floats(-1, 1)), max_size=5), min_size=1, max_size=10))
def test_degenerate_ratio_is_a_share(groups: list[list[float | None]]) -> None:
    assert 0.0 <= degenerate_group_ratio(groups) <= 1.0


@given(st.lists(outcome, min_size=1, max_size=6), st.sampled_from(["binary", "fraction", "score", "acecode", "verpo"]))
def test_score_batch_matches_one_by_one_for_sample_rewards(oks: list[bool | None], decl: str) -> None:
    r = parse_reward(decl)
    rollouts = [Rollout(Verdict.of("x", ok, evidence={"time_s": 0.1, "ref_time_s": 0.1})) for ok in oks]
    assert r.score_batch(rollouts) == [r(x) for x in rollouts]
