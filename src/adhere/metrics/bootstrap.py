"""Seeded bootstrap confidence intervals with prompt-level resampling.

Every headline metric of a suite is a *ratio over units* (a unit is a prompt or a
task): prompt-level accuracy is (prompts passed) / (prompts judged), instruction-level
accuracy is (instructions followed) / (instructions judged), pass@k is the mean of a
per-task value. Writing each as per-unit numerators and denominators lets one routine
serve them all, and resampling *units* (not rows or instructions) respects the real
dependence: the several instructions or samples of one prompt rise and fall together.

The interval is the percentile bootstrap of the ratio estimator
``sum(w * num) / sum(w * den)`` where ``w`` are multinomial resampling counts. A
resample whose denominator is 0 is dropped. Same ``seed``, same interval. With fewer
than :data:`MIN_UNITS` units judged there is no interval (NaN): a bootstrap of two
prompts would claim a certainty it does not have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_RESAMPLES",
    "MIN_UNITS",
    "Interval",
    "bootstrap_mean",
    "bootstrap_ratio",
    "resample_counts",
]

DEFAULT_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95
MIN_UNITS = 5


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with its confidence interval (``low``/``high`` are NaN when
    there was nothing to resample)."""

    estimate: float
    low: float
    high: float
    confidence: float = DEFAULT_CONFIDENCE

    @property
    def defined(self) -> bool:
        return not math.isnan(self.estimate)

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return None if math.isnan(x) else x

        return {
            "estimate": num(self.estimate),
            "low": num(self.low),
            "high": num(self.high),
            "confidence": self.confidence,
        }


def resample_counts(n_units: int, n_resamples: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """``(n_resamples, n_units)`` multinomial counts: how often each unit was drawn in
    each bootstrap resample (each row sums to ``n_units``)."""
    if n_units == 0:
        return np.zeros((n_resamples, 0))
    draws = rng.integers(0, n_units, size=(n_resamples, n_units))
    draws += np.arange(n_resamples)[:, None] * n_units
    counts = np.bincount(draws.ravel(), minlength=n_resamples * n_units)
    return counts.reshape(n_resamples, n_units).astype(np.float64)


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be within (0, 1), got {confidence!r}")


def percentile_interval(stats: NDArray[np.float64], estimate: float, confidence: float) -> Interval:
    """The percentile interval of bootstrap statistics (NaN resamples ignored)."""
    stats = stats[~np.isnan(stats)]
    if stats.size == 0 or math.isnan(estimate):
        return Interval(estimate, math.nan, math.nan, confidence)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    return Interval(estimate, float(low), float(high), confidence)


def ratio_stats(counts: NDArray[np.float64], num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    """The ratio estimator under each resample (NaN where a resample's denominator is 0)."""
    top = counts @ num
    bottom = counts @ den
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


def bootstrap_ratio(
    num: ArrayLike,
    den: ArrayLike,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
    min_units: int = MIN_UNITS,
) -> Interval:
    """Interval for ``sum(num) / sum(den)``, resampling units (the array positions).

    Raises:
        ValueError: arrays of different shapes, negative denominators, or a
            confidence outside (0, 1).
    """
    _check_confidence(confidence)
    n = np.asarray(num, dtype=np.float64)
    d = np.asarray(den, dtype=np.float64)
    if n.shape != d.shape or n.ndim != 1:
        raise ValueError(f"num and den must be 1-d arrays of one length, got shapes {n.shape} and {d.shape}")
    if (d < 0).any():
        raise ValueError("denominators must be >= 0")
    total = d.sum()
    estimate = float(n.sum() / total) if total > 0 else math.nan
    if int(np.count_nonzero(d)) < max(1, min_units):
        return Interval(estimate, math.nan, math.nan, confidence)
    counts = resample_counts(n.size, n_resamples, np.random.default_rng(seed))
    return percentile_interval(ratio_stats(counts, n, d), estimate, confidence)


def bootstrap_mean(
    values: ArrayLike,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
    min_units: int = MIN_UNITS,
) -> Interval:
    """Interval for the mean of per-unit values (pass@k of each task, ...)."""
    v = np.asarray(values, dtype=np.float64)
    ones = np.ones_like(v)
    return bootstrap_ratio(v, ones, n_resamples=n_resamples, confidence=confidence, seed=seed, min_units=min_units)
