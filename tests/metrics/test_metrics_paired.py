"""Paired bootstrap and permutation test between two runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adhere.metrics.paired import paired_bootstrap, paired_test, permutation_test


def ones(n: int) -> np.ndarray:
    return np.ones(n)


def test_identical_runs_differ_by_nothing() -> None:
    a = (np.random.default_rng(0).random(80) < 0.6).astype(float)
    test = paired_test(a, ones(80), a, ones(80), n_permutations=2000)
    assert test.diff.estimate == 0 and test.diff.low == 0 and test.diff.high == 0
    assert test.p_value == 1.0
    assert test.a == test.b == a.mean()


def test_a_clear_improvement_is_significant_and_its_interval_excludes_zero() -> None:
    rng = np.random.default_rng(1)
    b = (rng.random(300) < 0.5).astype(float)
    a = b.copy()
    a[(b == 0) & (rng.random(300) < 0.4)] = 1.0  # A fixes ~40% of B's failures, breaks nothing
    test = paired_test(a, ones(300), b, ones(300), n_permutations=5000)
    assert test.diff.estimate == pytest.approx(a.mean() - b.mean())
    assert test.diff.low > 0
    assert test.p_value < 0.001
    assert test.p_value >= 1 / 5001  # never 0


def test_permutation_p_values_are_calibrated_under_the_null() -> None:
    """When A and B are exchangeable, p < 0.05 about 5% of the time."""
    rng = np.random.default_rng(2)
    trials, hits = 300, 0
    for trial in range(trials):
        skill = rng.random(60)
        a = (rng.random(60) < skill).astype(float)
        b = (rng.random(60) < skill).astype(float)
        hits += permutation_test(a, ones(60), b, ones(60), n_permutations=400, seed=trial) < 0.05
    assert 0.02 <= hits / trials <= 0.09, hits


def test_paired_is_more_sensitive_than_unpaired_when_prompts_vary() -> None:
    """A small, consistent gain on prompts of very different difficulty: the paired
    interval excludes zero while the two separate intervals overlap."""
    from adhere.metrics.bootstrap import bootstrap_mean

    rng = np.random.default_rng(3)
    b = (rng.random(400) < rng.beta(0.5, 0.5, 400)).astype(float)
    a = b.copy()
    a[np.flatnonzero(b == 0)[:20]] = 1.0
    paired = paired_bootstrap(a, ones(400), b, ones(400))
    ia, ib = bootstrap_mean(a), bootstrap_mean(b)
    assert paired.low > 0
    assert ia.low < ib.high  # unpaired intervals overlap


def test_ratio_metrics_with_different_denominators() -> None:
    num_a, den_a = np.array([2.0, 1.0, 3.0]), np.array([3.0, 1.0, 4.0])
    num_b, den_b = np.array([1.0, 1.0, 1.0]), np.array([3.0, 1.0, 4.0])
    test = paired_test(num_a, den_a, num_b, den_b, n_permutations=999)
    assert test.diff.estimate == pytest.approx(6 / 8 - 3 / 8)
    # The middle unit is tied; of the 4 swap patterns of the others, "none" (+3/8) and
    # "both" (-3/8) reach |T|, one swap gives +-1/8: p = 1/2.
    assert test.p_value == pytest.approx(0.5, abs=0.05)
    assert test.to_dict()["n_units"] == 3


def test_empty_and_mismatched_inputs() -> None:
    empty = paired_test([], [], [], [])
    assert math.isnan(empty.diff.estimate) and math.isnan(empty.p_value)
    assert empty.to_dict()["p_value"] is None
    with pytest.raises(ValueError, match="one length"):
        paired_bootstrap([1], [1], [1, 0], [1, 1])
