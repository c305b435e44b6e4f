"""Bootstrap intervals: coverage on synthetic data with known truth, determinism, edges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adhere.metrics.bootstrap import Interval, bootstrap_mean, bootstrap_ratio, resample_counts

TRIALS = 1000


def test_prompt_level_accuracy_intervals_cover_the_truth_95_percent_of_the_time() -> None:
    """1,000 seeded trials of 100 prompts passing with probability 0.7."""
    rng = np.random.default_rng(20240601)
    truth, prompts = 0.7, 100
    covered = 0
    for trial in range(TRIALS):
        passed = (rng.random(prompts) < truth).astype(np.float64)
        covered += bootstrap_mean(passed, n_resamples=1000, seed=trial).covers(truth)
    assert 930 <= covered <= 970, covered


def test_clustered_ratio_intervals_cover_only_when_resampling_prompts() -> None:
    """Instruction-level accuracy with strongly correlated instructions inside a prompt:
    resampling prompts covers ~95%; resampling instructions as if independent does not
    (which is why the statistics resample units)."""
    rng = np.random.default_rng(7)
    prompts, truth = 200, 0.6  # per-prompt skill ~ Beta(0.6, 0.4): mean 0.6
    covered = naive_covered = 0
    naive_trials = 100
    for trial in range(TRIALS):
        sizes = rng.integers(1, 6, prompts)
        skill = rng.beta(0.6, 0.4, prompts)
        followed = rng.random(int(sizes.sum())) < np.repeat(skill, sizes)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        num = np.add.reduceat(followed.astype(np.float64), starts)
        covered += bootstrap_ratio(num, sizes.astype(np.float64), n_resamples=1000, seed=trial).covers(truth)
        if trial < naive_trials:
            flat = followed.astype(np.float64)
            naive_covered += bootstrap_mean(flat, n_resamples=1000, seed=trial).covers(truth)
    assert 930 <= covered <= 970, covered
    assert naive_covered / naive_trials < 0.88, naive_covered


def test_same_seed_same_interval_and_estimate_is_the_plain_ratio() -> None:
    num = np.array([1, 0, 2, 3, 1, 0, 1], dtype=float)
    den = np.array([1, 1, 3, 3, 2, 1, 1], dtype=float)
    a = bootstrap_ratio(num, den, seed=5)
    assert a == bootstrap_ratio(num, den, seed=5)
    assert a != bootstrap_ratio(num, den, seed=6)
    assert a.estimate == pytest.approx(8 / 12)
    assert a.low <= a.estimate <= a.high and a.low >= 0 and a.high <= 1


def test_more_prompts_narrow_the_interval() -> None:
    rng = np.random.default_rng(1)
    small = bootstrap_mean((rng.random(50) < 0.5).astype(float), n_resamples=500)
    large = bootstrap_mean((rng.random(2000) < 0.5).astype(float), n_resamples=500)
    assert large.half_width < small.half_width / 4


def test_resample_counts_are_multinomial_draws_of_units() -> None:
    counts = resample_counts(7, 500, np.random.default_rng(0))
    assert counts.shape == (500, 7)
    assert (counts.sum(axis=1) == 7).all()
    assert abs(counts.mean() - 1.0) < 0.05


def test_degenerate_inputs() -> None:
    empty = bootstrap_mean([])
    assert math.isnan(empty.estimate) and math.isnan(empty.low) and not empty.defined
    assert empty.to_dict() == {"estimate": None, "low": None, "high": None, "confidence": 0.95}
    constant = bootstrap_mean([1.0] * 30)
    assert (constant.estimate, constant.low, constant.high) == (1.0, 1.0, 1.0)
    zero_den = bootstrap_ratio([0, 0], [0, 0])
    assert math.isnan(zero_den.estimate)
    # A unit with nothing judged (0 / 0) is simply weightless.
    assert bootstrap_ratio([1, 0, 0], [1, 1, 0]).estimate == 0.5


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: bootstrap_ratio([1, 2], [1]), "one length"),
        (lambda: bootstrap_ratio([1], [-1]), ">= 0"),
        (lambda: bootstrap_mean([1, 0], confidence=1.0), "confidence"),
        (lambda: bootstrap_ratio([[1]], [[1]]), "1-d"),
    ],
    ids=["length", "negative", "confidence", "ndim"],
)
def test_invalid_arguments(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_interval_confidence_level_is_respected() -> None:
    data = (np.random.default_rng(3).random(200) < 0.4).astype(float)
    i80 = bootstrap_mean(data, confidence=0.8, seed=1)
    i99 = bootstrap_mean(data, confidence=0.99, seed=1)
    assert isinstance(i80, Interval) and i80.confidence == 0.8
    assert i99.low < i80.low < i80.high < i99.high


def test_too_few_prompts_give_no_interval_rather_than_a_false_certainty() -> None:
    from adhere.metrics.bootstrap import MIN_UNITS

    few = bootstrap_mean([1.0, 0.0, 1.0])
    assert few.estimate == pytest.approx(2 / 3) and math.isnan(few.low) and math.isnan(few.high)
    enough = bootstrap_mean([1.0, 0.0, 1.0, 1.0, 0.0][:MIN_UNITS])
    assert not math.isnan(enough.low)
    assert not math.isnan(bootstrap_mean([1.0, 0.0, 1.0], min_units=1).low)
