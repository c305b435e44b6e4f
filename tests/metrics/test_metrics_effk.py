"""eff@k (ENAMEL's unbiased estimator) against brute force and against pass@k."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adhere.metrics.effk import eff_at_k, eff_at_k_weights
from adhere.metrics.passk import pass_at_k


def brute_force(scores: list[float], k: int) -> float:
    """E[max of a uniformly random k-subset], by enumerating every subset."""
    subsets = list(itertools.combinations(scores, k))
    return sum(max(s) for s in subsets) / len(subsets)


@given(
    st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=9),
    st.integers(1, 9),
)
def test_equals_the_expected_best_of_k_by_enumeration(scores: list[float], k: int) -> None:
    if k > len(scores):
        with pytest.raises(ValueError, match=f"at least {k} samples"):
            eff_at_k(scores, k)
        return
    assert eff_at_k(scores, k) == pytest.approx(brute_force(scores, k), abs=1e-12)


@given(st.integers(1, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_with_binary_scores_it_is_pass_at_k(ncs: tuple[int, int, int]) -> None:
    n, c, k = ncs
    scores = [1.0] * c + [0.0] * (n - c)
    assert eff_at_k(scores, k) == pytest.approx(pass_at_k(n, c, k), abs=1e-12)


def test_weights_are_the_order_statistic_probabilities() -> None:
    n, k = 12, 4
    weights = eff_at_k_weights(n, k)
    expected = [math.comb(r - 1, k - 1) / math.comb(n, k) if r >= k else 0.0 for r in range(1, n + 1)]
    assert weights.tolist() == pytest.approx(expected, abs=1e-15)
    assert weights.sum() == pytest.approx(1.0)
    # Large n stays finite where the binomials would overflow a float.
    big = eff_at_k_weights(2000, 100)
    assert math.isfinite(big.sum()) and big.sum() == pytest.approx(1.0)


def test_the_papers_example_shape() -> None:
    """eff@1 is the mean score; eff@n is the best score."""
    scores = [0.0, 0.2, 0.9, 0.45]
    assert eff_at_k(scores, 1) == pytest.approx(sum(scores) / 4)
    assert eff_at_k(scores, 4) == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("scores", "k", "message"),
    [([0.5], 0, "at least 1"), ([1.5], 1, "within"), ([math.nan], 1, "finite"), ([], 1, "at least 1")],
)
def test_invalid_inputs(scores: list[float], k: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        eff_at_k(scores, k)
