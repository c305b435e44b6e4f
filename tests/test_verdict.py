from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adhere import Verdict

outcomes = st.sampled_from(["pass", "fail", "unscorable"])


@st.composite
def verdicts(draw: st.DrawFn, depth: int = 2) -> Verdict:
    outcome = draw(outcomes)
    score = None if outcome == "unscorable" else draw(st.floats(0, 1))
    kids = tuple(draw(st.lists(verdicts(depth=depth - 1), max_size=2))) if depth > 0 else ()
    return Verdict(
        check=draw(st.text(min_size=1, max_size=10)),
        outcome=outcome,
        score=score,
        reason=draw(st.text(max_size=20)),
        evidence=draw(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3)),
        children=kids,
        version=draw(st.sampled_from(["1", "2"])),
    )


@given(verdicts())
def test_round_trip_is_lossless(v: Verdict) -> None:
    assert Verdict.from_dict(v.to_dict()) == v


def test_unscorable_has_no_score() -> None:
    with pytest.raises(ValueError, match="score must be None"):
        Verdict("x.y", "unscorable", 0.0)
    with pytest.raises(ValueError, match="score must be None"):
        Verdict("x.y", "fail", None)
    assert Verdict.of("x.y", None, "timeout").score is None


def test_score_bounds_and_outcomes() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Verdict("x.y", "pass", 1.5)
    with pytest.raises(ValueError, match="outcome"):
        Verdict("x.y", "maybe", 1.0)  # type: ignore[arg-type]


def test_walk_and_leaves() -> None:
    leaf1, leaf2 = Verdict.of("a.b", True), Verdict.of("a.c", False)
    root = Verdict.of("all", False, children=(leaf1, Verdict.of("any", False, children=(leaf2,))))
    assert [v.check for v in root.walk()] == ["all", "a.b", "any", "a.c"]
    assert list(root.leaves()) == [leaf1, leaf2]
